import { type ActivitySource, countSources } from '../core/activity-source.js';
import { describeFailure } from '../core/describe-failure.js';
import type { Result } from '../core/failure.js';
import { formatOpenMetrics } from '../core/format-openmetrics.js';
import { formatJson, formatTable } from '../core/format-report.js';
import { HELP, parseCliOptions } from './cli-options.js';

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
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs the CLI and returns its exit status. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const parsed = parseCliOptions(argv);
  if (!parsed.ok) {
    deps.stderr(`prosody-active-users: ${describeFailure(parsed.failure)}\n`);
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
  let sources: ActivitySource[];
  if (options.db !== undefined) {
    sources = [deps.sqliteSource(options.db)];
  } else if (options.dataDir !== undefined) {
    sources = [deps.internalSource(options.dataDir)];
  } else {
    const found = await deps.discoverSources(options.config);
    if (!found.ok) {
      deps.stderr(`prosody-active-users: ${describeFailure(found.failure)}\n`);
      return EXIT_FAILURE;
    }
    sources = found.value;
  }
  const counted = await countSources(sources, options.at ?? deps.now());
  if (!counted.ok) {
    deps.stderr(`prosody-active-users: ${describeFailure(counted.failure)}\n`);
    return EXIT_FAILURE;
  }
  const report = counted.value;
  const format = { table: formatTable, json: formatJson, openmetrics: formatOpenMetrics }[
    options.format
  ];
  deps.stdout(format(report));
  return EXIT_OK;
}
