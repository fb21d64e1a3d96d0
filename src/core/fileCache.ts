/**
 * Files of a page (scripts, styles, images) kept in memory, so they are not opened, read into a
 * fresh buffer and closed on every request. The cache never decides *whether* a file may be
 * served: every request still resolves and checks its path (resolve.ts) and stats the file. The
 * cache only answers "are these still the bytes of the file those stats describe?", by comparing
 * device, inode, size, mtime and ctime. A rename, rewrite, chmod or touch changes one of them.
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

function sameFile(a: Identity, b: Identity): boolean {
  return a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.dev === b.dev;
}

export class FileCache {
  private readonly entries = new Map<string, CachedFile>();
  private bytes = 0;

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
    if (entry === undefined) return undefined;
    if (!sameFile(entry, stats)) {
      this.delete(realPath, entry);
      return undefined;
    }
    // Map order is insertion order: re-inserting makes this the most recently used.
    this.entries.delete(realPath);
    this.entries.set(realPath, entry);
    return entry.body;
  }

  /**
   * Reads `realPath` whole. Resolves with its bytes, or undefined when it is no longer the file
   * `stats` describes (changed since the request stat'ed it) so the caller can fall back to
   * streaming. Keeps the bytes when the file is settled (see RACY_MS).
   */
  async load(realPath: string, stats: fs.Stats): Promise<Buffer | undefined> {
    const body = await readWhole(realPath, stats);
    if (body !== undefined && this.settled(stats)) this.store(realPath, body, stats);
    return body;
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
 * open + fstat + read + close on one descriptor: the bytes of `realPath` if the opened file is
 * still the one `expected` describes (checked before anything is allocated), else undefined.
 */
function readWhole(realPath: string, expected: Identity): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    fs.open(realPath, 'r', (openError, fd) => {
      if (openError) return resolve(undefined);
      const finish = (body: Buffer | undefined): void => fs.close(fd, () => resolve(body));
      fs.fstat(fd, (statError, stats) => {
        if (statError || !sameFile(stats, expected)) return finish(undefined);
        // One byte more than expected tells a file that grew from one that did not. Not from
        // the shared pool: a cached slice would pin a whole 8 KiB pool block.
        const body = Buffer.allocUnsafeSlow(expected.size + 1);
        fs.read(fd, body, 0, body.length, 0, (readError, bytesRead) => {
          finish(readError || bytesRead !== expected.size ? undefined : body.subarray(0, bytesRead));
        });
      });
    });
  });
}
