import fs from 'node:fs';
import path from 'node:path';
import { LocalNetError } from './errors';
import { procStartTime } from './processes';

export const LOCK_FILE_NAME = 'state.lock';
export const LOCK_WAIT_TIMEOUT_MS = 60_000;
const LOCK_POLL_MS = 20;

/**
 * Cross-process mutex over the state file (one `meshctl local` invocation may run while another is still up):
 * an O_EXCL lock file holding `<pid> <start time>`; a lock whose holder is gone is stolen.
 */
export async function acquireStateLock(stateDir: string, timeoutMs = LOCK_WAIT_TIMEOUT_MS): Promise<() => void> {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, LOCK_FILE_NAME);
  const me = `${process.pid} ${procStartTime(process.pid) ?? ''}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(file, me, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === me) fs.rmSync(file);
        } catch {
          // Already removed (down deletes the state dir contents).
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (holderGone(file)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new LocalNetError('LOCAL_NET_LOCKED', `state lock ${file} is held by another meshctl; wait or remove it`);
    }
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

function holderGone(file: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return false; // released meanwhile: retry the create
  }
  const [pid, start] = text.split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return true;
  return procStartTime(n) !== start;
}
