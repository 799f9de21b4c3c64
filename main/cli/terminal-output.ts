import { showControlsKeepingLines } from '../core/terminal-text.js';

interface Writers {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * The CLI's writers for human-readable text: every control character a terminal would act on is
 * shown escaped, whatever path the text took to get here; line feeds are kept, as the writers are
 * given whole lines. One-line messages built from untrusted text also pass through showControls,
 * so that a line feed inside a value cannot start a fake line. `exact` is stdout as it is, for the
 * machine formats, which escape on their own terms.
 */
export function terminalWriters<T extends Writers>(deps: T): T & { exact(text: string): void } {
  return {
    ...deps,
    stdout: (text: string) => deps.stdout(showControlsKeepingLines(text)),
    stderr: (text: string) => deps.stderr(showControlsKeepingLines(text)),
    exact: (text: string) => deps.stdout(text),
  };
}
