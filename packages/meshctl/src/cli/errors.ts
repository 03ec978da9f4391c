/** A mistake on the command line: the message says what to type instead; exit code 2 like most CLIs. */
export class CliUsageError extends Error {
  readonly code = 'CLI_USAGE';
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
