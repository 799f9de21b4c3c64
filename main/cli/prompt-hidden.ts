import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { showControls } from '../core/terminal-text.js';

/**
 * Asks for a secret on the terminal without echoing it. Null when there is no terminal to ask on
 * (cron, CI), so callers fall back to environment variables or give up with a clear message.
 */
export function promptHidden(question: string): Promise<string | null> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return Promise.resolve(null);
  // The question names a host and a key path from ssh_config: shown, never acted on.
  process.stderr.write(showControls(question));
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      resolve(null);
    });
  });
}
