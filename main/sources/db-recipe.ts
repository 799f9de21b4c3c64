import { ENGINE_NAMES, type SqlServerTarget } from './sql-server-target.js';

/** SQL identifiers and literals from a URL, quoted for the recipe the operator pastes. */
const pgIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const myIdent = (s: string) => `\`${s.replace(/`/g, '``')}\``;
const myString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** What the operator replaces in a MySQL recipe when the database runs on another machine. */
export const SSH_SERVER_PLACEHOLDER = 'SSH-SERVER-ADDRESS';

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * The least-privilege setup for reading `target` over SSH: an authorized_keys line that may only
 * forward to the database (never a shell: every command is /bin/false), and a role that may only
 * SELECT the prosody table. OpenSSH's permitopen limits TCP forwarding only; it has no per-key limit
 * for Unix sockets, so a socket needs an account of its own (its file permissions are the limit).
 */
export function dbRecipe(target: Omit<SqlServerTarget, 'password'>, publicKey: string): string {
  const key = publicKey.trim();
  const lines: string[] = [];
  if ('tcp' in target.endpoint) {
    const { host, port } = target.endpoint.tcp;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    lines.push(
      '# ~/.ssh/authorized_keys on the server: this key may only forward to the database',
      `restrict,port-forwarding,permitopen="${hostPart}:${port}",command="/bin/false" ${key}`,
    );
  } else {
    lines.push(
      '# ~/.ssh/authorized_keys of an account used only for this: OpenSSH cannot limit a key to one',
      '# Unix socket (permitopen covers TCP only), so the account\u2019s file permissions are the limit;',
      '# sshd_config needs AllowStreamLocalForwarding local (or yes) for it.',
      `restrict,port-forwarding,command="/bin/false" ${key}`,
    );
  }
  lines.push('', `# ${ENGINE_NAMES[target.engine]}: a role that may only read the prosody table`);
  if (target.engine === 'postgresql') {
    const role = pgIdent(target.user);
    lines.push(
      `CREATE ROLE ${role} LOGIN PASSWORD 'CHANGE-ME';  -- or no password: peer authentication over the socket, as the SSH account's name`,
      `GRANT CONNECT ON DATABASE ${pgIdent(target.database)} TO ${role};`,
      `\\connect ${pgIdent(target.database)}`,
      `GRANT USAGE ON SCHEMA public TO ${role};`,
      `GRANT SELECT ON TABLE prosody TO ${role};`,
      `ALTER ROLE ${role} SET default_transaction_read_only = on;`,
    );
  } else {
    // sshd opens the forwarded connection, so MySQL sees it come from the SSH server: from its
    // loopback when the database runs there, else from an address only the operator knows.
    const tcpHost = 'tcp' in target.endpoint ? target.endpoint.tcp.host : undefined;
    const from =
      tcpHost === undefined
        ? "'localhost'"
        : tcpHost === '::1'
          ? "'::1'"
          : isLoopback(tcpHost)
            ? "'127.0.0.1'"
            : `'${SSH_SERVER_PLACEHOLDER}'`;
    const user = `${myString(target.user)}@${from}`;
    if (tcpHost !== undefined && !isLoopback(tcpHost)) {
      lines.push(
        `# ${SSH_SERVER_PLACEHOLDER}: the SSH server's address as ${tcpHost} sees it (connections come from there)`,
      );
    }
    lines.push(
      `CREATE USER ${user} IDENTIFIED BY 'CHANGE-ME';  -- or IDENTIFIED VIA unix_socket (MariaDB), as the SSH account's name`,
      `GRANT SELECT ON ${myIdent(target.database)}.\`prosody\` TO ${user};`,
    );
  }
  return `${lines.join('\n')}\n`;
}
