// Client-side token bucket (client-go's flowcontrol): `burst` requests at once, then `qps`.
// Each caller reserves a token, going into debt when none is left, so waits are FIFO by
// construction and no queue or polling is needed.
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Requests let through at once / made to wait: what tests assert on. */
  readonly stats = { immediate: 0, delayed: 0 };

  constructor(readonly qps: number, readonly burst: number, private readonly now: () => number = () => performance.now()) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token; returns how long the caller must wait for it (0 = now). */
  reserve(): number {
    if (!(this.qps > 0) || !Number.isFinite(this.qps)) {
      this.stats.immediate++;
      return 0;
    }
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.qps) / 1000);
    this.last = t;
    this.tokens -= 1;
    if (this.tokens >= 0) {
      this.stats.immediate++;
      return 0;
    }
    this.stats.delayed++;
    return (-this.tokens * 1000) / this.qps;
  }

  /** Requests currently waiting for a token. */
  get waiting(): number {
    return this.waiters;
  }

  private waiters = 0;

  async acquire(): Promise<void> {
    const ms = this.reserve();
    if (ms <= 0) return;
    this.waiters++;
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      this.waiters--;
    }
  }
}
