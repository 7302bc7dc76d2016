/** An unbounded FIFO that one consumer awaits: events, resync ticks and the end of a session. */
export class WorkQueue<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.waiter?.();
    this.waiter = undefined;
  }

  /** The next item; undefined once `signal` aborts. */
  async next(signal: AbortSignal): Promise<T | undefined> {
    while (this.items.length === 0) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiter = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
    return this.items.shift();
  }

  get length(): number {
    return this.items.length;
  }
}
