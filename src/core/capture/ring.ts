/**
 * The capture's frame log: a FIFO of frames held within a byte budget. Previews are copied into
 * append-only chunks (never a view on the sender's buffer); when the budget is spent the oldest
 * frames are dropped and counted.
 */
import type { Direction, FrameKind } from '../../shared/protocol';

/**
 * What one frame costs beyond its preview bytes: the entry object, its slot in the queue and the
 * boxed time. Measured with `process.memoryUsage().heapUsed` over 100,000 entries on Node 20
 * (about 155 bytes), rounded up so the budget errs on the side of less memory.
 */
export const ENTRY_OVERHEAD_BYTES = 192;

/** Largest chunk the previews are copied into; smaller budgets get smaller chunks. */
const MAX_CHUNK_BYTES = 1024 * 1024;

/** A chunk of preview bytes and how many live frames still point into it. */
interface Chunk {
  readonly bytes: Buffer;
  live: number;
}

/** One captured frame. Immutable once recorded. */
export class CapturedFrame {
  constructor(
    /** Increases by one for every frame, across clients. */
    readonly seq: number,
    readonly client: number,
    readonly dir: Direction,
    readonly kind: FrameKind,
    /** Epoch ms with a sub-millisecond fraction. */
    readonly time: number,
    /** The whole payload's size, also when the preview is cut. */
    readonly size: number,
    readonly truncated: boolean,
    /** Message bytes of every frame before this one since the last clear (for missed-bytes counts). */
    readonly sizeBefore: number,
    private readonly chunk: Chunk | undefined,
    private readonly offset: number,
    /** Bytes in the preview. */
    readonly previewLength: number,
    readonly code?: number,
    readonly reason?: string,
  ) {}

  /** The first bytes of the payload: a view on the ring's own copy. */
  get preview(): Buffer {
    return this.chunk ? this.chunk.bytes.subarray(this.offset, this.offset + this.previewLength) : EMPTY;
  }

  /** The preview decoded as text (`utf8`) or written as `base64`, without a Buffer view in between. */
  previewString(encoding: 'utf8' | 'base64'): string {
    return this.chunk ? this.chunk.bytes.toString(encoding, this.offset, this.offset + this.previewLength) : '';
  }

  /** True when `other`'s preview has the same bytes as this one's (an echo's answer to its message). */
  samePreview(other: CapturedFrame): boolean {
    if (other.previewLength !== this.previewLength) return false;
    if (!this.chunk || !other.chunk) return this.previewLength === 0;
    return this.chunk.bytes.compare(other.chunk.bytes, other.offset, other.offset + other.previewLength, this.offset, this.offset + this.previewLength) === 0;
  }

  /** @internal The ring's accounting: this frame has left the ring. */
  release(): Chunk | undefined {
    if (this.chunk) this.chunk.live--;
    return this.chunk;
  }
}

const EMPTY = Buffer.alloc(0);

export class FrameRing {
  readonly chunkBytes: number;
  /** Frames in order; `undefined` before `head` (dropped, waiting for compaction). */
  private entries: Array<CapturedFrame | undefined> = [];
  private head = 0;
  private current: Chunk | undefined;
  private used = 0;
  private heldChunks = 0;
  /** The seq the next frame gets; seqs stay contiguous, so frame n is at head + (n - firstSeq). */
  nextSeq = 1;
  droppedFrames = 0;
  droppedBytes = 0;
  /** Message bytes of every frame recorded since the last clear. */
  totalSize = 0;

  /**
   * @param budgetBytes what the ring may hold: preview chunks plus ENTRY_OVERHEAD_BYTES per frame.
   * @param previewBytes the largest preview one frame keeps.
   */
  constructor(
    readonly budgetBytes: number,
    readonly previewBytes: number,
  ) {
    this.chunkBytes = Math.max(previewBytes, Math.min(MAX_CHUNK_BYTES, Math.floor(budgetBytes / 8)));
  }

  /** Frames in the ring now. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** The seq of the oldest frame held (equal to nextSeq when the ring is empty). */
  get firstSeq(): number {
    return this.nextSeq - this.length;
  }

  /** Bytes accounted against the budget now. */
  get usedBytes(): number {
    return this.heldChunks * this.chunkBytes + this.length * ENTRY_OVERHEAD_BYTES;
  }

  /** Message bytes of every frame before `seq` (seq between firstSeq and nextSeq). */
  sizeBefore(seq: number): number {
    const entry = this.entries[this.head + (seq - this.firstSeq)];
    return entry ? entry.sizeBefore : this.totalSize;
  }

  /**
   * Records one frame, copying `previewLength` bytes of `data`, then drops the oldest frames
   * until the ring is within its budget again. Returns the frame.
   */
  push(
    client: number,
    dir: Direction,
    kind: FrameKind,
    time: number,
    size: number,
    data: Buffer | undefined,
    previewLength: number,
    code?: number,
    reason?: string,
  ): CapturedFrame {
    let chunk: Chunk | undefined;
    let offset = 0;
    if (data !== undefined && previewLength > 0) {
      chunk = this.current;
      if (chunk === undefined || this.used + previewLength > this.chunkBytes) chunk = this.newChunk();
      offset = this.used;
      data.copy(chunk.bytes, offset, 0, previewLength);
      this.used += previewLength;
      chunk.live++;
    }
    // A close frame's payload is whole in its code and reason; any other is cut if the preview is short.
    const truncated = kind !== 'close' && previewLength < size;
    const frame = new CapturedFrame(
      this.nextSeq++, client, dir, kind, time, size, truncated, this.totalSize,
      chunk, offset, previewLength, code, reason,
    );
    this.totalSize += size;
    this.entries.push(frame);
    while (this.usedBytes > this.budgetBytes && this.length > 1) this.dropOldest();
    return frame;
  }

  /** Up to `maxFrames` frames from `fromSeq` on, stopping early once `maxPreviewBytes` is reached. */
  slice(fromSeq: number, maxFrames = Infinity, maxPreviewBytes = Infinity): CapturedFrame[] {
    const start = this.head + Math.max(0, fromSeq - this.firstSeq);
    const end = Math.min(this.entries.length, start + maxFrames);
    const frames: CapturedFrame[] = [];
    let bytes = 0;
    for (let i = start; i < end; i++) {
      const frame = this.entries[i] as CapturedFrame;
      bytes += frame.previewLength;
      if (frames.length > 0 && bytes > maxPreviewBytes) break;
      frames.push(frame);
    }
    return frames;
  }

  /** Drops every frame and resets the counts; seqs go on increasing. */
  clear(): void {
    this.entries = [];
    this.head = 0;
    this.current = undefined;
    this.used = 0;
    this.heldChunks = 0;
    this.droppedFrames = 0;
    this.droppedBytes = 0;
    this.totalSize = 0;
  }

  private newChunk(): Chunk {
    // The chunk being left stops counting once no frame points into it.
    if (this.current && this.current.live === 0) this.heldChunks--;
    // allocUnsafeSlow: a chunk of its own, not a slice of Node's shared pool. Never reused, so a
    // preview someone still holds never changes under them.
    this.current = { bytes: Buffer.allocUnsafeSlow(this.chunkBytes), live: 0 };
    this.used = 0;
    this.heldChunks++;
    return this.current;
  }

  private dropOldest(): void {
    const frame = this.entries[this.head] as CapturedFrame;
    this.entries[this.head++] = undefined;
    const chunk = frame.release();
    if (chunk && chunk.live === 0 && chunk !== this.current) this.heldChunks--;
    this.droppedFrames++;
    this.droppedBytes += frame.size;
    // Compact now and then, so dropping stays O(1) amortised and the array does not grow forever.
    if (this.head >= 4096 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
