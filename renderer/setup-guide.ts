/**
 * First run: a short guide to a monitoring account that can read Prosody's activity data and
 * nothing else (the README's "A least-privilege monitoring account", shortened).
 */
import { type Child, h } from './dom.js';

const code = (text: string) => h('code', null, text);

export function setupGuide(): Child {
  return h(
    'section',
    { class: 'guide', 'aria-labelledby': 'guide-heading', id: 'setup-guide' },
    h('h3', { id: 'guide-heading' }, 'A least-privilege monitoring account'),
    h(
      'p',
      null,
      'The app reads only the login and logout times Prosody already keeps (mod_lastlog2, or mod_account_activity on Prosody 13) and installs nothing on the server. Give it an account that can do that and nothing more:',
    ),
    h(
      'ol',
      null,
      h(
        'li',
        null,
        'On the server, as root, create the account in the prosody group:',
        h(
          'pre',
          null,
          code(
            'useradd --system --create-home --home-dir /var/lib/prosody-monitor \\\n        --shell /bin/sh --groups prosody prosody-monitor',
          ),
        ),
      ),
      h(
        'li',
        null,
        'On this computer, print the line that lets your key run only the count:',
        h(
          'pre',
          null,
          code(
            'prosody-active-users --print-forced-command --remote-db /var/lib/prosody/prosody.sqlite',
          ),
        ),
        'Put it into ',
        code('/var/lib/prosody-monitor/.ssh/authorized_keys'),
        ' with ',
        code('PUBLIC-KEY'),
        ' replaced by your public key. That key then runs one read-only query: no shell, no forwarding, no SFTP. (Internal storage: ',
        code('restrict,command="/usr/lib/openssh/sftp-server -R"'),
        ' instead.)',
      ),
      h(
        'li',
        null,
        'Add the server below as ',
        code('prosody-monitor@your-server'),
        ' with the same database path, and press Test connection. Keep the key in ssh-agent: then no password or passphrase is stored at all.',
      ),
    ),
  );
}
