/**
 * ssh-agent as ssh2 sees it, with its keys offered in OpenSSH's order (agent-key-order.ts): the
 * agent's copies of the identity files first, the rest after them or, with IdentitiesOnly, not at
 * all. Signing goes to the real agent unchanged; the private keys never leave it.
 */
import {
  BaseAgent,
  type IdentityCallback,
  type KnownPublicKeys,
  type ParsedKey,
  type SignCallback,
  type SigningRequestOptions,
  createAgent,
  utils,
} from 'ssh2';
import { orderAgentKeys } from './agent-key-order.js';

type AgentKey = ParsedKey | Buffer | string;
type Listed = KnownPublicKeys<AgentKey>[number];

/** The public key blob of a key an agent lists (a ParsedKey for OpenSSH's agent). */
function blobOf(key: Listed): Buffer {
  if (typeof key === 'object' && !Buffer.isBuffer(key)) {
    if ('getPublicSSH' in key && typeof key.getPublicSSH === 'function') return key.getPublicSSH();
    if ('pubKey' in key) return blobOf(key.pubKey as Listed);
    return Buffer.alloc(0);
  }
  const parsed = utils.parseKey(key);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  return first === undefined || first instanceof Error ? Buffer.alloc(0) : first.getPublicSSH();
}

export class OrderedAgent extends BaseAgent<AgentKey> {
  private readonly inner: BaseAgent<AgentKey>;
  private readonly held = new Set<string>();

  /** `socket`: SSH_AUTH_SOCK, or Windows' OpenSSH agent pipe (ssh2 picks the agent kind). */
  constructor(
    socket: string,
    private readonly identityBlobs: readonly Buffer[],
    private readonly identitiesOnly: boolean,
  ) {
    super();
    this.inner = createAgent(socket) as BaseAgent<AgentKey>;
  }

  /** Whether the agent held this identity file's key (and so already offered it). */
  holds(blob: Buffer): boolean {
    return this.held.has(blob.toString('base64'));
  }

  getIdentities(cb: IdentityCallback<AgentKey>): void {
    this.inner.getIdentities((err, keys) => {
      if (err || keys === undefined) return cb(err);
      const ordered = orderAgentKeys(keys, blobOf, this.identityBlobs, this.identitiesOnly);
      const wanted = new Set(this.identityBlobs.map((b) => b.toString('base64')));
      for (const key of keys) {
        const id = blobOf(key).toString('base64');
        if (wanted.has(id)) this.held.add(id);
      }
      cb(undefined, ordered);
    });
  }

  sign(pubKey: AgentKey, data: Buffer, options: SigningRequestOptions, cb?: SignCallback): void;
  sign(pubKey: AgentKey, data: Buffer, cb: SignCallback): void;
  sign(
    pubKey: AgentKey,
    data: Buffer,
    options: SigningRequestOptions | SignCallback,
    cb?: SignCallback,
  ): void {
    if (typeof options === 'function') this.inner.sign(pubKey, data, options);
    else this.inner.sign(pubKey, data, options, cb);
  }
}
