/**
 * Why the SSH server would not open a forwarded channel, in words an operator can act on. ssh2
 * reports it as "(SSH) Channel open failure: <the server's text>" with RFC 4254's reason code; the
 * server's text ("open failed") says nothing, the code does.
 */
export function channelRefusal(e: Error & { reason?: unknown }): string {
  const text = e.message.replace(/^\(SSH\) Channel open failure: /, '');
  switch (e.reason) {
    case 1: // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED
      return `the SSH server may not forward there: the key's permitopen or sshd's AllowTcpForwarding / AllowStreamLocalForwarding forbids it (${text})`;
    case 2: // SSH_OPEN_CONNECT_FAILED
      return `nothing answered there on the SSH server's side (${text})`;
    default:
      return text;
  }
}
