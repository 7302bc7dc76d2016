/**
 * consul-template's wait: after a change, fire once no further change came for `minMs`, but no
 * later than `maxMs` after the first change of the burst. A burst of 50 changes fires once.
 */
import type { Clock } from './clock.ts';
import type { WaitSpec } from './duration.ts';

export class Debouncer {
  private firstAt: number | null = null;
  private timer: unknown = null;

  constructor(
    private readonly wait: WaitSpec,
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {}

  /** Records a change; (re)arms the timer. */
  poke(): void {
    const now = this.clock.now();
    if (this.firstAt === null) this.firstAt = now;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    const quietAt = now + this.wait.minMs;
    const latestAt = this.firstAt + this.wait.maxMs;
    const delay = Math.max(0, Math.min(quietAt, latestAt) - now);
    this.timer = this.clock.setTimeout(() => this.flush(), delay);
  }

  /** Whether a change is waiting. */
  get pending(): boolean {
    return this.firstAt !== null;
  }

  /** Fires now if a change is waiting. */
  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.firstAt === null) return;
    this.firstAt = null;
    this.fire();
  }

  cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.firstAt = null;
  }
}
