import { Duplex } from 'node:stream';
import type { Failure, Result } from '../core/failure.js';

/**
 * A socket-shaped stream over any byte channel opened on demand: a TCP or Unix socket here, or an
 * SSH channel (forwardOut / direct-streamlocal) to a database that listens only on the server.
 * node-postgres calls `connect()` on the stream it is given and waits for 'connect'; mysql2 takes
 * it connected. It counts what it receives and cuts the channel past `maxBytes`, so that a
 * server sending without end is stopped rather than buffered.
 */
export class LazySocket extends Duplex {
  /** Why the channel could not be opened or was cut, when it was. */
  failure: Failure | null = null;
  bytesReceived = 0;
  private inner: Duplex | null = null;

  constructor(
    private readonly open: () => Promise<Result<Duplex>>,
    private readonly maxBytes: number,
    private readonly tooMuch: () => Failure,
    /** False when closing the channel is no longer safe (a dead SSH connection). */
    private readonly canClose: () => boolean = () => true,
  ) {
    super();
  }

  /** Opens the channel; 'connect' or an error follows. Arguments (port, host) are ignored. */
  connect(..._ignored: unknown[]): this {
    void this.open().then(
      (opened) => {
        if (this.destroyed) {
          if (opened.ok && this.canClose()) opened.value.destroy();
          return;
        }
        if (!opened.ok) {
          this.failure = opened.failure;
          this.destroy(new Error(opened.failure.kind));
          return;
        }
        this.attach(opened.value);
        this.emit('connect');
      },
      (e: unknown) => this.destroy(e instanceof Error ? e : new Error(String(e))),
    );
    return this;
  }

  /** Opens the channel and resolves once it is open (for a client that takes a connected stream). */
  connected(): Promise<boolean> {
    return new Promise((resolve) => {
      this.once('connect', () => resolve(true));
      this.once('error', () => resolve(false));
      this.connect();
    });
  }

  private attach(inner: Duplex): void {
    this.inner = inner;
    inner.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.bytesReceived > this.maxBytes) {
        this.failure = this.tooMuch();
        this.destroy(new Error('too much data'));
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.once('end', () => this.push(null));
    inner.once('error', (e: Error) => this.destroy(e));
    inner.once('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _write(
    chunk: Buffer,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.inner === null) callback(new Error('not connected'));
    else this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.inner !== null && this.canClose()) this.inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const inner = this.inner;
    this.inner = null;
    try {
      if (inner !== null && this.canClose()) inner.destroy();
    } catch {
      // The SSH connection went away meanwhile: its channels went with it.
    }
    callback(error);
  }

  // What node-postgres expects of a net.Socket; nothing to do over a channel.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
