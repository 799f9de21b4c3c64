/**
 * better-sqlite3 for Electron, next to the one for Node. Runs under Node: from `npm start`
 * (start-app.ts), from electron-builder's beforePack hook (electron-builder.yml), or by hand:
 *
 *   node dist/main/tools/native-modules.js
 *
 * A native module is built for one ABI: node_modules/better-sqlite3 keeps the build for the Node
 * that runs the CLI and the tests, and this tool puts a second build, for Electron's ABI, in
 * `dist/electron-native/better_sqlite3.node`, with a stamp saying what it was built for. The app
 * hands that file to better-sqlite3 (its `nativeBinding` option). Nothing under node_modules is
 * changed; electron-builder's own rebuild, which would rebuild node_modules in place for Electron
 * and break the Node build, is turned off (`npmRebuild: false`).
 *
 * How: a copy of the better-sqlite3 package (without its build) in a staging folder, where
 * prebuild-install fetches the prebuilt binary that better-sqlite3 publishes for this Electron
 * version, platform and architecture (`--runtime=electron --target=<version>`), or, when there is
 * none, node-gyp compiles it against Electron's headers
 * (`--target=<version> --dist-url=https://electronjs.org/headers`: Electron's guide "Native Node
 * Modules", manual build). Both need the network; compiling also needs a C++ toolchain and Python.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where the Electron build goes, relative to the project. */
export const NATIVE_DIR = join('dist', 'electron-native');
export const NATIVE_BINARY = 'better_sqlite3.node';
export const NATIVE_STAMP = 'better_sqlite3.json';
/** Electron's headers, for node-gyp. */
export const ELECTRON_HEADERS_URL = 'https://electronjs.org/headers';

/** What a build is for. */
export interface NativeTarget {
  electronVersion: string;
  /** Electron's NODE_MODULE_VERSION (node_modules/electron/abi_version). */
  abi: string;
  betterSqlite3Version: string;
  platform: NodeJS.Platform;
  arch: string;
}

/** What the stamp next to the binary records. */
export interface NativeStamp extends NativeTarget {
  /** How the binary was obtained. */
  method: 'prebuilt' | 'compiled';
}

export type BuildDecision = { build: false } | { build: true; reason: string };

export interface NativePaths {
  dir: string;
  binary: string;
  stamp: string;
  /** The staging copy of the package (removed after a build). */
  staging: string;
}

export function nativePaths(projectDir: string): NativePaths {
  const dir = join(projectDir, NATIVE_DIR);
  return {
    dir,
    binary: join(dir, NATIVE_BINARY),
    stamp: join(dir, NATIVE_STAMP),
    staging: join(dir, '.staging', 'node_modules', 'better-sqlite3'),
  };
}

/** The target from the installed packages' files (their text passed in). */
export function parseTarget(input: {
  electronPackageJson: string;
  electronAbiVersion: string;
  betterSqlite3PackageJson: string;
  platform: NodeJS.Platform;
  arch: string;
}): NativeTarget {
  const version = (json: string, what: string): string => {
    const v = (JSON.parse(json) as { version?: unknown }).version;
    if (typeof v !== 'string' || v === '') throw new Error(`no version in ${what}'s package.json`);
    return v;
  };
  const abi = input.electronAbiVersion.trim();
  if (!/^\d+$/.test(abi)) throw new Error(`electron's abi_version is not a number: ${abi}`);
  return {
    electronVersion: version(input.electronPackageJson, 'electron'),
    abi,
    betterSqlite3Version: version(input.betterSqlite3PackageJson, 'better-sqlite3'),
    platform: input.platform,
    arch: input.arch,
  };
}

/** Reads the target from node_modules. */
export function readTarget(
  projectDir: string,
  platform: NodeJS.Platform,
  arch: string,
): NativeTarget {
  const modules = join(projectDir, 'node_modules');
  return parseTarget({
    electronPackageJson: readFileSync(join(modules, 'electron', 'package.json'), 'utf8'),
    electronAbiVersion: readFileSync(join(modules, 'electron', 'abi_version'), 'utf8'),
    betterSqlite3PackageJson: readFileSync(join(modules, 'better-sqlite3', 'package.json'), 'utf8'),
    platform,
    arch,
  });
}

/** Whether the binary must be (re)built for `target`, and why, from the stamp and the file. */
export function buildDecision(
  target: NativeTarget,
  stamp: unknown,
  binaryPresent: boolean,
): BuildDecision {
  if (!binaryPresent) return { build: true, reason: 'it is not built yet' };
  if (typeof stamp !== 'object' || stamp === null) {
    return { build: true, reason: 'there is no record of what the present one was built for' };
  }
  const s = stamp as Partial<Record<keyof NativeTarget, unknown>>;
  if (s.electronVersion !== target.electronVersion || s.abi !== target.abi) {
    return {
      build: true,
      reason: `the present one is for Electron ${String(s.electronVersion)} (ABI ${String(s.abi)})`,
    };
  }
  if (s.betterSqlite3Version !== target.betterSqlite3Version) {
    return {
      build: true,
      reason: `the present one is better-sqlite3 ${String(s.betterSqlite3Version)}`,
    };
  }
  if (s.platform !== target.platform || s.arch !== target.arch) {
    return {
      build: true,
      reason: `the present one is for ${String(s.platform)}-${String(s.arch)}`,
    };
  }
  return { build: false };
}

/** prebuild-install's arguments for the target. */
export function prebuildInstallArgs(target: NativeTarget): string[] {
  return [
    '--runtime=electron',
    `--target=${target.electronVersion}`,
    `--platform=${target.platform}`,
    `--arch=${target.arch}`,
    '--verbose',
  ];
}

/** node-gyp's arguments to compile against Electron's headers. */
export function nodeGypArgs(target: NativeTarget): string[] {
  return [
    'rebuild',
    '--release',
    `--target=${target.electronVersion}`,
    `--arch=${target.arch}`,
    `--dist-url=${ELECTRON_HEADERS_URL}`,
  ];
}

/** electron-builder's Arch enum (builder-util) as Node's arch names. */
const BUILDER_ARCH: Record<number, string> = { 0: 'ia32', 1: 'x64', 2: 'armv7l', 3: 'arm64' };

/** Node's arch name for electron-builder's arch (a number, or already a name). */
export function archName(arch: number | string): string {
  if (typeof arch === 'string') return arch === 'armv7l' ? 'arm' : arch;
  const name = BUILDER_ARCH[arch];
  if (name === undefined)
    throw new Error(`no single architecture for electron-builder arch ${arch}`);
  return name === 'armv7l' ? 'arm' : name;
}

/** Runs a command; the exit status (null when it could not start). */
export type Run = (
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
) => number | null;

export interface EnsureOptions {
  projectDir: string;
  platform: NodeJS.Platform;
  arch: string;
  log(line: string): void;
  run?: Run;
  env?: NodeJS.ProcessEnv;
}

const defaultRun: Run = (command, args, options) =>
  spawnSync(command, args, { ...options, stdio: 'inherit' }).status;

/** A module's file, resolved from the project (null when it is not installed). */
function resolveFrom(projectDir: string, request: string): string | null {
  try {
    return require.resolve(request, { paths: [projectDir] });
  } catch {
    return null;
  }
}

/**
 * Makes sure dist/electron-native holds better-sqlite3 for this Electron: nothing to do when the
 * stamp matches, else a prebuilt binary, else a compiled one. Says what it does through `log`.
 * True when the binary is in place.
 */
export function ensureElectronNativeModules(options: EnsureOptions): boolean {
  const { projectDir, log } = options;
  const run = options.run ?? defaultRun;
  const env = options.env ?? process.env;
  const paths = nativePaths(projectDir);
  const target = readTarget(projectDir, options.platform, options.arch);
  const what = `better-sqlite3 ${target.betterSqlite3Version} for Electron ${target.electronVersion} (${target.platform}-${target.arch}, ABI ${target.abi})`;

  let stamp: unknown = null;
  try {
    stamp = JSON.parse(readFileSync(paths.stamp, 'utf8'));
  } catch {
    // No stamp, or a broken one: rebuilt below.
  }
  const decision = buildDecision(target, stamp, existsSync(paths.binary));
  if (!decision.build) {
    log(`${what} is ready in ${NATIVE_DIR}.`);
    return true;
  }
  log(`Preparing ${what}, because ${decision.reason}.`);

  const packageDir = dirname(
    resolveFrom(projectDir, 'better-sqlite3/package.json') ??
      join(projectDir, 'node_modules', 'better-sqlite3', 'package.json'),
  );
  rmSync(join(paths.dir, '.staging'), { recursive: true, force: true });
  mkdirSync(dirname(paths.staging), { recursive: true });
  // The package without its Node build: the staging folder sits under the project, so the
  // package's own dependencies (bindings, prebuild-install) still resolve from node_modules.
  cpSync(packageDir, paths.staging, {
    recursive: true,
    filter: (source) => source !== join(packageDir, 'build'),
  });
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    npm_config_runtime: 'electron',
    npm_config_target: target.electronVersion,
    npm_config_disturl: ELECTRON_HEADERS_URL,
    npm_config_arch: target.arch,
    npm_config_platform: target.platform,
  };
  delete childEnv.ELECTRON_RUN_AS_NODE;
  const built = join(paths.staging, 'build', 'Release', NATIVE_BINARY);

  let method: NativeStamp['method'] | null = null;
  const prebuild = resolveFrom(projectDir, 'prebuild-install/bin.js');
  if (prebuild !== null) {
    log(
      `Fetching the prebuilt binary that better-sqlite3 publishes for Electron ${target.electronVersion}…`,
    );
    const status = run(process.execPath, [prebuild, ...prebuildInstallArgs(target)], {
      cwd: paths.staging,
      env: childEnv,
    });
    if (status === 0 && existsSync(built)) method = 'prebuilt';
  }
  if (method === null) {
    // npm tells scripts where its own node-gyp is; else the one installed with the project.
    const nodeGyp = env.npm_config_node_gyp ?? resolveFrom(projectDir, 'node-gyp/bin/node-gyp.js');
    if (nodeGyp === null) {
      log(
        'No prebuilt binary could be fetched, and node-gyp was not found to compile one: run this through npm (npm start, npm run dist), which brings node-gyp.',
      );
    } else {
      log(
        `No prebuilt binary could be fetched: compiling against Electron ${target.electronVersion}'s headers (needs a C++ compiler, make and Python)…`,
      );
      const status = run(process.execPath, [nodeGyp, ...nodeGypArgs(target)], {
        cwd: paths.staging,
        env: childEnv,
      });
      if (status === 0 && existsSync(built)) method = 'compiled';
    }
  }
  if (method === null) {
    rmSync(join(paths.dir, '.staging'), { recursive: true, force: true });
    log(
      `Could not prepare ${what}: check the internet connection (prebuilt binaries come from GitHub, Electron's headers from electronjs.org), or install a C++ toolchain and Python, then try again.`,
    );
    return false;
  }
  mkdirSync(paths.dir, { recursive: true });
  cpSync(built, paths.binary);
  const record: NativeStamp = { ...target, method };
  writeFileSync(paths.stamp, `${JSON.stringify(record, null, 2)}\n`);
  rmSync(join(paths.dir, '.staging'), { recursive: true, force: true });
  log(
    `${what} is ready in ${NATIVE_DIR} (${method === 'prebuilt' ? 'prebuilt' : 'compiled here'}).`,
  );
  return true;
}

/** The project: the nearest folder above `from` with a package.json. */
export function findProjectDir(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * electron-builder's beforePack hook (`beforePack: dist/main/tools/native-modules.js`): the build
 * for the platform and architecture being packed, before the app's files are copied.
 */
export default async function beforePack(context: {
  electronPlatformName: string;
  arch: number;
  packager: { projectDir?: string; info?: { projectDir: string } };
}): Promise<void> {
  const projectDir =
    context.packager.info?.projectDir ?? context.packager.projectDir ?? findProjectDir(__dirname);
  const ok = ensureElectronNativeModules({
    projectDir,
    platform: context.electronPlatformName as NodeJS.Platform,
    arch: archName(context.arch),
    log: (line) => console.log(`  • ${line}`),
  });
  if (!ok) throw new Error(`better-sqlite3 for Electron could not be prepared (see above)`);
}

if (require.main === module) {
  const ok = ensureElectronNativeModules({
    projectDir: findProjectDir(__dirname),
    platform: process.platform,
    arch: process.arch,
    log: (line) => console.log(line),
  });
  process.exitCode = ok ? 0 : 1;
}
