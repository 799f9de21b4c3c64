/**
 * A small seeded pseudo-random generator for the benchmark's data: a Weyl sequence (step by the
 * golden ratio) scrambled by a 32-bit avalanche mix. Not for cryptography; its only jobs are to be
 * fast and to give the same data for the same seed on every machine.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform integer in [0, 2^32). */
  u32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** A uniform number in [0, 1), with 53 random bits. */
  next(): number {
    return ((this.u32() >>> 5) * 67_108_864 + (this.u32() >>> 6)) / 9_007_199_254_740_992;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** An exponentially distributed number with this mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
