/**
 * The CLI's stdout, bounded: lines are written while the stream takes them; while it is full
 * (a stalled pipe, a reader that went away) they are counted and dropped instead of queued, and
 * one line says how many once it drains.
 */
import type { Writable } from 'node:stream';

/** The longest line written; longer ones are cut (our lines are far shorter; this makes the bound hold). */
export const MAX_LINE = 4096;

export class LineWriter {
  private blocked = false;
  private dropped = 0;
  private broken = false;

  /**
   * Bytes this writer queues in memory never exceed the stream's highWaterMark (16 KiB for
   * stdout) plus one line: the first write the stream answers with `false` is the last until
   * 'drain'. A TTY is written synchronously by Node on POSIX, so nothing queues there at all.
   */
  constructor(private readonly stream: Writable) {
    // EPIPE and the like: whoever read our output is gone; the server goes on serving.
    stream.on('error', () => {
      this.broken = true;
    });
  }

  line(text: string): void {
    if (this.broken) return;
    if (this.blocked) {
      this.dropped++;
      return;
    }
    const cut = text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text;
    if (!this.stream.write(cut + '\n')) {
      this.blocked = true;
      this.stream.once('drain', () => this.drained());
    }
  }

  /** Resolves once every queued byte is handed to the OS, or after `limitMs` if the reader is stalled. */
  settle(limitMs: number): Promise<void> {
    if (this.broken || this.stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, limitMs);
      // A write's callback runs once everything before it is written.
      this.stream.write('', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private drained(): void {
    this.blocked = false;
    if (this.dropped === 0) return;
    const count = this.dropped;
    this.dropped = 0;
    this.line(`(${count} ${count === 1 ? 'line' : 'lines'} dropped while output was blocked)`);
  }
}
