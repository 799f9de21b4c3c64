/**
 * When the command stream is held back (issue 14, row 6): a server faster than the count would
 * otherwise have every host's listing held at once. The stream is held while two hosts it walked
 * are complete and not yet counted (the one being counted and the next); it goes on when one is
 * counted, whenever the count waits for the stream (a host out of order, or after hosts it skips),
 * and for good once the count is over. Whoever holds it waits for release().
 */
export class StreamHold {
  private counted = 0;
  private waiting = 0;
  private draining = false;
  private gate: (() => void) | null = null;

  /** `walked`: the hosts whose walk the stream has ended, as it goes on. */
  constructor(private readonly walked: ReadonlySet<string>) {}

  /** After a chunk: a promise to wait for before the next, or null to go on. */
  afterChunk(): Promise<void> | null {
    if (this.draining || this.waiting > 0 || this.walked.size - this.counted < 2) return null;
    this.release();
    return new Promise<void>((resolve) => (this.gate = resolve));
  }

  /** The count waits for the stream (for `complete`: whether what it waits for is here). */
  waitStarts(complete: boolean): void {
    this.waiting++;
    if (!complete) this.release();
  }

  waitEnds(): void {
    this.waiting--;
  }

  /** The count is done with `host`. */
  hostCounted(host: string): void {
    if (!this.walked.has(host)) return;
    this.counted++;
    this.release();
  }

  /** The count is over (or a new one starts): the stream is never held again. */
  drain(): void {
    this.draining = true;
    this.release();
  }

  /** Lets the stream go on. */
  release(): void {
    const open = this.gate;
    this.gate = null;
    open?.();
  }
}
