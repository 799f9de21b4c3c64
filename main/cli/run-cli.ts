import { type ActivitySource, countSources } from '../core/activity-source.js';
import { describeFailure } from '../core/describe-failure.js';
import type { Result } from '../core/failure.js';
import { formatOpenMetrics } from '../core/format-openmetrics.js';
import { formatFetch, formatJson, formatTable } from '../core/format-report.js';
import { forcedCommandLine } from '../ssh/remote-query-command.js';
import { HELP, type SshCliOptions, parseCliOptions } from './cli-options.js';

/** Sources on a server over SSH, and how to hang up afterwards. */
export interface RemoteSources {
  sources: ActivitySource[];
  close(): void;
}

/** Everything the CLI touches, passed in so that tests drive it in-process. */
export interface CliDeps {
  version: string;
  /** Unix seconds. */
  now(): number;
  stdout(text: string): void;
  stderr(text: string): void;
  sqliteSource(path: string): ActivitySource;
  internalSource(dir: string): ActivitySource;
  discoverSources(configPath: string): Promise<Result<ActivitySource[]>>;
  /** True when stderr is a terminal: progress on long copies is shown there even without -v. */
  stderrIsTTY: boolean;
  sshSources(
    options: SshCliOptions,
    onStep: (step: string) => void,
    onProgress: (text: string) => void,
  ): Promise<Result<RemoteSources>>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs the CLI and returns its exit status. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const parsed = parseCliOptions(argv);
  const complain = (text: string) => deps.stderr(`prosody-active-users: ${text}\n`);
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
  const verbose = options.verbose ? (text: string) => deps.stderr(`${text}\n`) : () => undefined;
  let sources: ActivitySource[];
  let remote: RemoteSources | null = null;
  if (options.ssh !== undefined) {
    const progress =
      options.verbose || deps.stderrIsTTY
        ? (text: string) => deps.stderr(`${text}\n`)
        : () => undefined;
    const opened = await deps.sshSources(options.ssh, verbose, progress);
    if (!opened.ok) {
      complain(describeFailure(opened.failure));
      return opened.failure.kind === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
    }
    remote = opened.value;
    sources = remote.sources;
  } else if (options.db !== undefined) {
    sources = [deps.sqliteSource(options.db)];
  } else if (options.dataDir !== undefined) {
    sources = [deps.internalSource(options.dataDir)];
  } else {
    const found = await deps.discoverSources(options.config);
    if (!found.ok) {
      complain(describeFailure(found.failure));
      return EXIT_FAILURE;
    }
    sources = found.value;
  }
  try {
    const counted = await countSources(sources, options.at ?? deps.now());
    if (!counted.ok) {
      complain(describeFailure(counted.failure));
      return counted.failure.kind === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
    }
    const report = counted.value;
    for (const fetch of report.fetches) verbose(formatFetch(fetch));
    const format = { table: formatTable, json: formatJson, openmetrics: formatOpenMetrics }[
      options.format
    ];
    deps.stdout(format(report));
    return EXIT_OK;
  } finally {
    remote?.close();
  }
}
