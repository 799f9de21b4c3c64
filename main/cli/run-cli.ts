import { dbRecipe } from '../sources/db-recipe.js';
import { join } from 'node:path';
import { describeFailure } from '../core/describe-failure.js';
import { openMetricsChunks } from '../core/format-openmetrics.js';
import { formatFetch, formatJson, formatTable } from '../core/format-report.js';
import { liveRecipe } from '../core/live-recipe.js';
import { forcedCommandLine } from '../ssh/remote-query-command.js';
import { type SourceDeps, countOnce, withAccountCache } from '../monitor/open-sources.js';
import { ACCOUNT_CACHE_FILE } from '../sources/account-cache.js';
import { HELP, parseCliOptions, sourceSpecOf } from './cli-options.js';
import { monitorProfileOf } from './monitor-profile.js';
import { showControls } from '../core/terminal-text.js';
import { terminalWriters } from './terminal-output.js';
import { runHistory } from './run-history.js';
import { type MonitorCliDeps, runWatch } from './run-watch.js';

/** Everything the CLI touches, passed in so that tests drive it in-process. */
export interface CliDeps extends SourceDeps, MonitorCliDeps {
  version: string;
  /** Unix seconds. */
  now(): number;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves once stdout takes more (a slow reader); absent or undefined: at once. */
  stdoutDrained?(): Promise<void> | undefined;
  /** True when stderr is a terminal: progress on long copies is shown there even without -v. */
  stderrIsTTY: boolean;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs the CLI and returns its exit status. */
export async function runCli(argv: readonly string[], given: CliDeps): Promise<number> {
  const deps = terminalWriters(given);
  const parsed = parseCliOptions(argv);
  const complain = (text: string) => deps.stderr(`prosody-active-users: ${showControls(text)}\n`);
  if (!parsed.ok) {
    complain(describeFailure(parsed.failure));
    return EXIT_USAGE;
  }
  const options = parsed.value;
  if (options.help) {
    deps.stdout(HELP);
    return EXIT_OK;
  }
  if (options.version) {
    deps.stdout(`prosody-active-users ${deps.version}\n`);
    return EXIT_OK;
  }
  if (options.printDbRecipe) {
    const target = options.sql ?? options.ssh?.sql;
    if (target !== undefined) {
      deps.stdout(dbRecipe(target, 'PUBLIC-KEY'));
      return EXIT_OK;
    }
  }
  if (options.printForcedCommand) {
    const line = forcedCommandLine(options.ssh?.remoteDb ?? '', 'PUBLIC-KEY');
    if (line === null) {
      complain(
        'the remote database path must be absolute and use only letters, digits and ._/+@,=- . Run with --help to see the options.',
      );
      return EXIT_USAGE;
    }
    deps.stdout(`${line}\n`);
    return EXIT_OK;
  }
  if (options.printLiveRecipe) {
    const who =
      /^([A-Za-z0-9._-]{1,64})@/.exec(options.ssh?.target ?? '')?.[1] ?? 'MONITOR-ACCOUNT';
    deps.stdout(liveRecipe(who));
    return EXIT_OK;
  }
  if (options.command === 'history') return runHistory(options, deps, deps.exact);
  if (options.watch) return runWatch(options, deps);
  const verbose = options.verbose
    ? (text: string) => deps.stderr(`${showControls(text)}\n`)
    : () => undefined;
  const progress =
    options.verbose || deps.stderrIsTTY
      ? (text: string) => deps.stderr(`${showControls(text)}\n`)
      : () => undefined;
  let spec = sourceSpecOf(options);
  if (options.profile !== undefined) {
    const dir = deps.stateDir(options.stateDir);
    const settings = await deps.loadSettings(dir);
    if (!settings.ok) {
      complain(describeFailure(settings.failure));
      return EXIT_FAILURE;
    }
    const profile = monitorProfileOf(options, settings.value, join(dir, 'settings.json'));
    if (!profile.ok) {
      complain(describeFailure(profile.failure));
      return EXIT_USAGE;
    }
    spec = profile.value.spec;
  }
  if (options.stateDir !== undefined || options.profile !== undefined) {
    const dir = deps.stateDir(options.stateDir);
    const exposed = deps.stateFolderWarning(dir);
    if (exposed) complain(`warning: ${exposed}`);
    spec = withAccountCache(spec, join(dir, ACCOUNT_CACHE_FILE));
  }
  // --at is a past moment: only what the records can tell about it (README, "Counting as of --at").
  const counted = await countOnce(spec, deps, options.at ?? deps.now(), verbose, progress, {
    pastMoment: options.at !== undefined,
  });
  if (!counted.ok) {
    complain(describeFailure(counted.failure));
    return counted.failure.kind === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
  }
  const report = counted.value;
  for (const fetch of report.fetches) verbose(formatFetch(fetch));
  if (options.format === 'table') deps.stdout(formatTable(report));
  else if (options.format === 'json') deps.exact(formatJson(report));
  else {
    // Written as it is made, at the reader's pace: 100 k hosts as one string took 650 MB.
    for (const chunk of openMetricsChunks(report)) {
      deps.exact(chunk);
      await deps.stdoutDrained?.();
    }
  }
  return EXIT_OK;
}
