/**
 * How to give the monitoring SSH account the live view, and what that gives away. Prosody's admin
 * socket has no read-only mode: opening it is being Prosody's administrator.
 */
export const LIVE_RECIPE_HINT =
  'To count open sessions as Prosody does, give the SSH account access to Prosody\u2019s admin socket: run with --print-live-recipe to see how, and its risk.';

/** The recipe, for an account named `account` (shown as given, or a placeholder). */
export function liveRecipe(account: string): string {
  return `How to give ${account} the live view (online now, open sessions counted, module health):

Risk: whoever can open Prosody's admin socket is a full Prosody administrator (it runs any Lua
inside the server as the prosody user), so grant it only to a key you guard like root's.

On the server, as root:
  1. Load the admin shell (Debian's default config does): in /etc/prosody/prosody.cfg.lua,
     modules_enabled = { ...; "admin_shell"; }   -- it brings mod_admin_socket along
  2. Let the prosody group connect to the socket: in the global section of the same file,
     umask = "007"   -- Prosody creates its files group-writable, the socket included
     (or put the socket elsewhere with admin_socket = "/path/prosody.sock" and run this tool
     with --admin-socket /path/prosody.sock)
  3. Put the account in that group:  adduser ${account} prosody
  4. Restart Prosody:  systemctl restart prosody
  5. Keep SSH forwarding to sockets allowed for this key: no "restrict" or "no-port-forwarding"
     in its authorized_keys line, and AllowStreamLocalForwarding not "no" in sshd_config.

Nothing is installed and no command runs: the tool opens the socket through the SSH connection
(OpenSSH streamlocal forwarding) and asks one read-only question. Without this access the stored
records' figures keep working; only users online now with older records are missed.
`;
}
