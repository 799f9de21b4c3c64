#!/usr/bin/env node
/**
 * `prosody-active-users`: the headless entry point. It builds the real adapters and hands them to
 * runCli; everything it does is tested in-process through runCli.
 */
import './lean-heap.js';
import { endQuietlyOnClosedOutput } from './cli/closed-output.js';
import { realCliDeps } from './cli/real-cli-deps.js';
import { runCli } from './cli/run-cli.js';
import { showControlsKeepingLines } from './core/terminal-text.js';

endQuietlyOnClosedOutput(process.stdout, process.stderr, (code) => process.exit(code));

runCli(process.argv.slice(2), realCliDeps()).then(
  (code) => {
    process.exitCode = code;
    // Done: whatever still holds the event loop (the socket of a refresh abandoned at SIGTERM)
    // must not keep the process alive. The pause lets the last output drain; unref'd, it never
    // delays an exit that happens on its own.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (e: unknown) => {
    // Unexpected: logged once, here at the edge.
    process.stderr.write(
      `prosody-active-users: unexpected error, please report it: ${showControlsKeepingLines(e instanceof Error ? (e.stack ?? e.message) : String(e))}\n`,
    );
    process.exitCode = 1;
  },
);
