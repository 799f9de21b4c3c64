/**
 * A real OpenSSH ssh-agent for tests: its own socket in a temporary directory (never the user's
 * SSH_AUTH_SOCK), keys added with ssh-add, stopped and removed by stop(). Throws when the programs
 * are missing: a test that needs the agent fails rather than skips.
 *
 * `ssh-agent -D` stays in the foreground (OpenSSH ≥ 8.8; Debian 12 has 9.2), so the test owns the
 * process and no agent is left behind; `ssh-add -l` exits 1 ("no identities") once the agent
 * answers, 2 while it cannot be reached.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshAgent {
  /** The agent's socket: SSH_AUTH_SOCK for a client. */
  socket: string;
  /** ssh-add: loads these private key files, in this order. */
  add(...privateKeyPaths: string[]): Promise<void>;
  /** `ssh-add -l`: the fingerprints of the keys held, in order. */
  list(): Promise<string[]>;
  stop(): Promise<void>;
}

const INSTALL = 'install openssh-client (test/setup-system.sh)';

export async function startSshAgent(): Promise<SshAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'pau-agent-'));
  const socket = join(dir, 'agent.sock');
  const child: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let spawnError: NodeJS.ErrnoException | undefined;
  child.on('error', (e: NodeJS.ErrnoException) => (spawnError = e));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SSH_AUTH_SOCK: socket };
  const sshAdd = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      execFile('ssh-add', args, { env, timeout: 10_000 }, (error, stdout, err) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(`ssh-add is not installed: ${INSTALL}`));
        } else resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr: err });
      });
    });

  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (spawnError) {
        throw new Error(
          spawnError.code === 'ENOENT'
            ? `ssh-agent is not installed: ${INSTALL}`
            : spawnError.message,
        );
      }
      if (child.exitCode !== null) throw new Error(`ssh-agent exited: ${stderr.trim()}`);
      const probe = await sshAdd(['-l']);
      if (probe.code === 0 || probe.code === 1) break;
      if (Date.now() > deadline) throw new Error(`ssh-agent did not answer: ${probe.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    socket,
    async add(...paths) {
      for (const path of paths) {
        const added = await sshAdd([path]);
        if (added.code !== 0) throw new Error(`ssh-add ${path}: ${added.stderr.trim()}`);
      }
    },
    async list() {
      const listed = await sshAdd(['-l']);
      if (listed.code === 1) return [];
      if (listed.code !== 0) throw new Error(`ssh-add -l: ${listed.stderr.trim()}`);
      return listed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ')[1] ?? '');
    },
    stop,
  };
}
