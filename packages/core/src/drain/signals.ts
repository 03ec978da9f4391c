/**
 * Run a shutdown function on the first SIGTERM/SIGINT, exit 0 when it resolves (1 if it throws), and
 * exit 1 at once on a second signal, so an operator pressing Ctrl-C twice is never stuck.
 */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOptions {
  signals?: readonly NodeJS.Signals[];
  /** Defaults to `process`; tests pass an EventEmitter. */
  source?: SignalSource;
  /** Defaults to `process.exit`. */
  exit?: (code: number) => void;
  onError?: (err: unknown) => void;
}

export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => Promise<void>, options: ShutdownOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const source: SignalSource = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (shuttingDown) return exit(1);
    shuttingDown = true;
    shutdown(signal).then(
      () => exit(0),
      (err: unknown) => {
        options.onError?.(err);
        exit(1);
      },
    );
  };
  for (const s of signals) source.on(s, listener);
  return () => {
    for (const s of signals) source.off(s, listener);
  };
}
