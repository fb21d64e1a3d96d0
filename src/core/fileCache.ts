/**
 * Files of a page (scripts, styles, images) kept in memory, so they are not opened, read into a
 * fresh buffer and closed on every request. The cache never decides *whether* a file may be
 * served: every request still resolves and checks its path (resolve.ts) and stats the file. The
 * cache only answers "are these still the bytes of the file those stats describe?", by comparing
 * device, inode, size, mtime and ctime. A rename, rewrite, chmod or touch changes one of them.
 * It only ever holds bytes read from a descriptor that resolve.ts opened and verified, so an
 * entry is always the content of a file that was inside the root when it was read.
 */
import * as fs from 'node:fs';

/**
 * Files up to this size are kept; larger ones are streamed from disk every time. Unminified
 * bundles and images of a page under development are often 0.5-2 MiB, and for those the copy
 * out of the page cache is most of the cost of a request (see BENCHMARKS.md).
 */
export const CACHE_MAX_FILE_BYTES = 2 * 1024 * 1024;
/** The whole cache stays under this; the least recently used files go first. */
export const CACHE_MAX_TOTAL_BYTES = 16 * 1024 * 1024;
/**
 * A file modified this recently is served from a fresh read but not kept: file times have a
 * coarse tick, so a second same-size write within one tick would leave every stat field as it
 * was. Once a file is older than this, any later write gets a newer mtime.
 */
export const RACY_MS = 2000;

export interface CachedFile {
  readonly body: Buffer;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

type Identity = Pick<fs.Stats, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>;

/** True when two stats describe the same file with the same content, as far as stats can tell. */
export function sameFile(a: Identity, b: Identity): boolean {
  return a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.dev === b.dev;
}

/**
 * True when an open descriptor's bytes are unchanged: the same file (device and inode, which
 * never change for a descriptor) with the same size and mtime. Every write moves mtime, so this
 * is what streaming re-checks. ctime is left out on purpose: it also moves when the file is
 * renamed over or unlinked (its link count), chmod-ed or linked, none of which touch its bytes.
 * (A write whose mtime is then put back is not seen, but it would leave the ETag as it was too.)
 */
export function sameContent(a: Identity, b: Identity): boolean {
  return a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size && a.dev === b.dev;
}

export class FileCache {
  private readonly entries = new Map<string, CachedFile>();
  private bytes = 0;
  /** Lookups answered from memory, and lookups that had to read the file (for tests and diagnostics). */
  hits = 0;
  misses = 0;
  /** True while a watcher covers the root and is healthy (watch.ts sets it). */
  watching = false;

  constructor(
    private readonly maxFileBytes = CACHE_MAX_FILE_BYTES,
    private readonly maxTotalBytes = CACHE_MAX_TOTAL_BYTES,
    private readonly racyMs = RACY_MS,
  ) {}

  /** Bytes held now (for tests and diagnostics). */
  get size(): number {
    return this.bytes;
  }

  /** True for files this cache would hold (the caller reads those whole instead of streaming). */
  fits(stats: fs.Stats): boolean {
    return stats.size <= this.maxFileBytes;
  }

  /** The bytes of `realPath` when what is cached is still the file `stats` describes. */
  get(realPath: string, stats: fs.Stats): Buffer | undefined {
    const entry = this.entries.get(realPath);
    if (entry === undefined || !sameFile(entry, stats)) {
      if (entry !== undefined) this.delete(realPath, entry);
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Map order is insertion order: re-inserting makes this the most recently used.
    this.entries.delete(realPath);
    this.entries.set(realPath, entry);
    return entry.body;
  }

  /**
   * Reads the whole file from `fd`, whose own stats are `stats`. Resolves with its bytes, or
   * undefined when the file changed while it was read (then the bytes would not be the file
   * those stats describe, and the caller starts over). Keeps the bytes as those of `realPath`
   * when the file is settled (see RACY_MS).
   */
  async read(realPath: string, fd: number, stats: fs.Stats): Promise<Buffer | undefined> {
    const body = await readWhole(fd, stats);
    if (body !== undefined && this.settled(stats)) this.store(realPath, body, stats);
    return body;
  }

  /** Forgets what is cached for these files (the watcher saw them change), or everything. */
  invalidate(realPaths: readonly string[] | 'all'): void {
    if (realPaths === 'all') {
      this.entries.clear();
      this.bytes = 0;
      return;
    }
    for (const realPath of realPaths) {
      const entry = this.entries.get(realPath);
      if (entry !== undefined) this.delete(realPath, entry);
    }
  }

  private settled(stats: fs.Stats): boolean {
    const now = Date.now();
    return now - stats.mtimeMs > this.racyMs && now - stats.ctimeMs > this.racyMs;
  }

  private store(realPath: string, body: Buffer, stats: fs.Stats): void {
    const old = this.entries.get(realPath);
    if (old !== undefined) this.delete(realPath, old);
    this.entries.set(realPath, { body, dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs });
    this.bytes += body.length;
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxTotalBytes) break;
      this.delete(key, entry);
    }
  }

  private delete(realPath: string, entry: CachedFile): void {
    this.entries.delete(realPath);
    this.bytes -= entry.body.length;
  }
}

/**
 * read + fstat on an open descriptor: its bytes if the file is still the one `expected`
 * describes after the read (so no write landed in between), else undefined.
 */
function readWhole(fd: number, expected: Identity): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    // One byte more than expected tells a file that grew from one that did not. Not from the
    // shared pool: a cached slice would pin a whole 8 KiB pool block.
    const body = Buffer.allocUnsafeSlow(expected.size + 1);
    fs.read(fd, body, 0, body.length, 0, (readError, bytesRead) => {
      if (readError || bytesRead !== expected.size) return resolve(undefined);
      fs.fstat(fd, (statError, after) => resolve(statError || !sameFile(after, expected) ? undefined : body.subarray(0, bytesRead)));
    });
  });
}
