/**
 * How to give the monitoring SSH account the live view, and what that gives away. Prosody's admin
 * socket has no read-only mode: opening it is being Prosody's administrator.
 */
export const LIVE_RECIPE_HINT =
  'To count open sessions as Prosody does, give the SSH account access to Prosody\u2019s admin socket: run with --print-live-recipe to see how, and its risk.';

/** The risk, in one sentence (also in the README). */
export const LIVE_RISK =
  "Risk: whoever can open Prosody's admin socket is a full Prosody administrator (it can run any Lua inside the server as the prosody user), so grant it only to a key you guard like root's.";

/** The recipe, for an account named `account` (shown as given, or a placeholder). */
export function liveRecipe(account: string): string {
  return `How to give ${account} the live view (online now, open sessions counted, module health):

${LIVE_RISK}

On the server, as root:
  1. Load the admin shell (Debian's default config does): in /etc/prosody/prosody.cfg.lua,
       modules_enabled = { ...; "admin_shell"; }   -- it brings mod_admin_socket along
  2. Let the prosody group connect to the socket, whichever module loads first: in the global
     section of the same file
       umask = "007"
     and for the service (systemctl edit prosody):
       [Service]
       UMask=0007
     Prosody then creates its files group-writable, the socket included. (Or put the socket
     elsewhere with admin_socket = "/path/prosody.sock" and pass --admin-socket PATH.)
  3. Put the account in that group:  adduser ${account} prosody
  4. Restart Prosody:  systemctl restart prosody
  5. Let this key forward to a socket: if its authorized_keys line starts with "restrict",
     write "restrict,port-forwarding,..." (the forced command still applies to everything
     else); and keep TCP forwarding off for the account in /etc/ssh/sshd_config:
       Match User ${account}
           AllowTcpForwarding no
           AllowStreamLocalForwarding local

Nothing is installed and no command runs: the tool opens the socket through the SSH connection
(OpenSSH's streamlocal forwarding) and asks one read-only question. Without this access the stored
records' figures keep working; only users online now with older records are missed.
`;
}
