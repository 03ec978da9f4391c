// istio-cni: the CNI plugin executable. Kept to node built-ins so it starts fast on every pod.
import { runPlugin } from './run-plugin';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const outcome = await runPlugin({ env: process.env, stdin: await readStdin() });
process.stdout.write(outcome.stdout, () => process.exit(outcome.exitCode));
