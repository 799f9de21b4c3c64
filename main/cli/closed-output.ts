/**
 * A reader that goes away (`| head -c 10`) makes the next write to stdout fail with EPIPE. Tools
 * written in C die of SIGPIPE there, which the shell reports as 128 + 13; Node ignores SIGPIPE and
 * raises an 'error' event instead, which left unhandled ends in a stack trace. This ends the program
 * the way a shell expects: quietly, with that status.
 */

/** The status a shell shows for a program ended by SIGPIPE. */
export const EXIT_BROKEN_PIPE = 141;

interface Output {
  on(event: 'error', listener: (e: NodeJS.ErrnoException) => void): unknown;
}

/** Makes a closed stdout end the process with EXIT_BROKEN_PIPE, and a closed stderr be ignored. */
export function endQuietlyOnClosedOutput(
  stdout: Output,
  stderr: Output,
  exit: (code: number) => never,
): void {
  stdout.on('error', (e) => {
    // Another write error (EIO on a vanished terminal, ENOSPC on a full disk) can be said on stderr.
    if (e.code !== 'EPIPE') {
      try {
        process.stderr.write(
          `prosody-active-users: cannot write the output (${e.code ?? e.message}).\n`,
        );
      } catch {
        // stderr is gone too: the status says enough.
      }
      exit(1);
    }
    exit(EXIT_BROKEN_PIPE);
  });
  // Nowhere left to say anything: the exit status carries the outcome.
  stderr.on('error', () => undefined);
}
