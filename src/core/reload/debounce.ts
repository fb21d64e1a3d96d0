/** Batches of items handed over once changes go quiet (or at the latest after a maximum wait), bounded in size. */

/**
 * Collects items and hands them over once quiet for `quietMs`, or `maxWaitMs` after the first.
 * Adding is O(1) (one timer per batch, never one per item). With `bound`, a batch holds at most
 * `bound.max` distinct items: past that it is `bound.whole` alone (for the watcher: the root, one
 * reload of every page), so no storm of distinct paths grows it.
 */
export class Debouncer<T> {
  private pending = new Set<T>();
  private timer: NodeJS.Timeout | undefined;
  private firstAt = 0;
  private lastAt = 0;
  private whole = false;

  constructor(
    private readonly quietMs: number,
    private readonly maxWaitMs: number,
    private readonly flush: (items: readonly T[]) => void,
    private readonly bound?: { max: number; whole: T },
  ) {}

  add(items: Iterable<T>): void {
    for (const item of items) {
      if (this.whole) break;
      this.pending.add(item);
      if (this.bound !== undefined && this.pending.size > this.bound.max) {
        this.pending = new Set([this.bound.whole]);
        this.whole = true;
      }
    }
    this.lastAt = Date.now();
    if (this.timer !== undefined) return; // it fires at the first deadline and looks at lastAt then
    this.firstAt = this.lastAt;
    this.timer = setTimeout(() => this.fire(), Math.min(this.quietMs, this.maxWaitMs));
  }

  private fire(): void {
    const now = Date.now();
    const due = Math.min(this.lastAt + this.quietMs, this.firstAt + this.maxWaitMs);
    if (now < due) {
      this.timer = setTimeout(() => this.fire(), due - now);
      return;
    }
    this.timer = undefined;
    const items = [...this.pending];
    this.pending = new Set();
    this.whole = false;
    if (items.length > 0) this.flush(items);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
