import { statSync } from 'node:fs';

/**
 * One line when other users can reach the state folder (mode beyond 0700 on a POSIX system):
 * it holds every account's JID and last activity. The folder is made 0700 when the monitor
 * creates it; one that already existed is left as the operator set it, and they are told.
 */
export function stateFolderWarning(dir: string, platform: NodeJS.Platform): string | null {
  if (platform === 'win32') return null;
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch {
    return null;
  }
  if ((mode & 0o077) === 0) return null;
  const octal = mode.toString(8).padStart(3, '0');
  return `The state folder ${dir} is open to other users (mode ${octal}) and holds every account's last activity: chmod 700 ${dir}.`;
}
