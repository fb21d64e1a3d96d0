/**
 * Files of a page (scripts, styles, images) kept in memory, so they are not opened, read into a
 * fresh buffer and closed on every request. The cache never decides *whether* a file may be
 * served: every request still resolves and checks its path (resolve.ts) and stats the file. The
 * cache only answers "are these still the bytes of the file those stats describe?", by comparing
 * device, inode, size, mtime and ctime. A rename, rewrite, chmod or touch changes one of them.
 * It only ever holds bytes read from a descriptor that resolve.ts opened and verified, so an
 * entry is always the content of a file that was inside the root when it was read.
 *
 * While a watcher covers the root (`watching`), a file whose real path was checked and found
 * unchanged since the last change anywhere under the root (`invalidate`) is served without the
 * per-request realpath and stat: see `fresh`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

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
/**
 * While watching, a checked file is served without a stat for at most this long; then it is
 * checked again once. The watcher is what keeps entries fresh (it reports a new folder again
 * once its watch is in place, so what was written there before is seen too); this only bounds
 * how long an event it could not see at all can leave bytes stale. It is long on purpose: a
 * page reloaded a few seconds after the last look should not have to check every file again.
 */
export const RECHECK_MS = 60_000;

export interface CachedFile {
  readonly body: Buffer;
  /** The stats the bytes were read or last checked under: what headers are made from. */
  readonly stats: fs.Stats;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  /** The generation in which a check that began found this real path unchanged (-1: never). */
  vouchedIn: number;
  /** When that check was (Date.now()). */
  vouchedAt: number;
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
  /** Of the hits, those served without a stat because the watcher vouched for them. */
  freshHits = 0;
  /** Moves on at every invalidation: a check that began in an older generation vouches for nothing. */
  private generation = 0;
  private watched = false;

  constructor(
    private readonly maxFileBytes = CACHE_MAX_FILE_BYTES,
    private readonly maxTotalBytes = CACHE_MAX_TOTAL_BYTES,
    private readonly racyMs = RACY_MS,
    private readonly recheckMs = RECHECK_MS,
  ) {}

  /** Bytes held now (for tests and diagnostics). */
  get size(): number {
    return this.bytes;
  }

  /**
   * True while a watcher covers the root and is healthy: then `fresh` may answer without a stat.
   * Any change of it starts a new generation, so nothing checked before the watcher was (or
   * while it was not) looking is trusted without a stat.
   */
  get watching(): boolean {
    return this.watched;
  }

  set watching(value: boolean) {
    if (value === this.watched) return;
    this.watched = value;
    this.generation++;
  }

  /**
   * Whether the watcher sees changes to this real path (it may skip ignored folders such as
   * node_modules or configured globs). Asked once per check, at `vouch`; a path it does not
   * cover is checked on every request.
   */
  covers: (realPath: string) => boolean = () => true;

  /** Take this before checking a path, and hand it to `vouch` once the check passed. */
  get epoch(): number {
    return this.generation;
  }

  /**
   * Something under the root changed (the watcher's events, the editor's unsaved buffers): the
   * bytes of these real paths, and of anything below them, are dropped, and no entry is served
   * without a stat until it has been checked again. Every entry, not only these: a folder
   * renamed or swapped for a symlink changes what the paths below it lead to, and a watcher
   * names only the folder.
   */
  invalidate(realPaths: readonly string[] | 'all'): void {
    this.generation++;
    if (realPaths === 'all') {
      this.entries.clear();
      this.bytes = 0;
      return;
    }
    if (realPaths.length === 0 || this.entries.size === 0) return;
    const changed = new Set(realPaths);
    for (const [key, entry] of this.entries) {
      if (underAny(key, changed)) this.delete(key, entry);
    }
  }

  /**
   * Marks the entry of `realPath` as checked by a check that began at `epoch`: realpath gave
   * this very path (so no symlink is on it, and a watcher of the root sees every change to it
   * or the folders above it) and the file's stats matched the entry. No-op when nothing is kept
   * for it or a change came in since the check began.
   */
  vouch(realPath: string, epoch: number): void {
    const entry = this.entries.get(realPath);
    if (entry === undefined || epoch !== this.generation || !this.watched || !this.covers(realPath)) return;
    entry.vouchedIn = epoch;
    entry.vouchedAt = Date.now();
  }

  /**
   * While watching: the stats of `candidate`'s entry if a check vouched for it in the current
   * generation, less than RECHECK_MS ago; then it is served as checked, without realpath or
   * stat. `candidate` must be the joined path of a request (root plus its decoded segments,
   * hidden names already refused): as it equals a real path that realpath returned, it holds no
   * symlink, and nothing on it changed since, or the watcher would have said so.
   */
  fresh(candidate: string): fs.Stats | undefined {
    if (!this.watched) return undefined;
    const entry = this.entries.get(candidate);
    if (entry === undefined || entry.vouchedIn !== this.generation || Date.now() - entry.vouchedAt > this.recheckMs) return undefined;
    this.freshHits++;
    return entry.stats;
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

  private settled(stats: fs.Stats): boolean {
    const now = Date.now();
    return now - stats.mtimeMs > this.racyMs && now - stats.ctimeMs > this.racyMs;
  }

  private store(realPath: string, body: Buffer, stats: fs.Stats): void {
    const old = this.entries.get(realPath);
    if (old !== undefined) this.delete(realPath, old);
    this.entries.set(realPath, {
      body,
      stats,
      dev: stats.dev,
      ino: stats.ino,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      ctimeMs: stats.ctimeMs,
      vouchedIn: -1,
      vouchedAt: 0,
    });
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

/** True when `file` is one of `paths` or lies below one of them. */
function underAny(file: string, paths: ReadonlySet<string>): boolean {
  for (let at = file.length; at > 0; at = file.lastIndexOf(path.sep, at - 1)) {
    if (paths.has(file.slice(0, at))) return true;
  }
  return false;
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
