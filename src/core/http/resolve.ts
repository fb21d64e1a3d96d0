/**
 * The one place that maps a request path to a file: decode, reject what is malformed, refuse
 * dot segments and hidden names, then follow symlinks and check that the real path is inside
 * the real root (as a prefix plus separator, so `/root-evil` is not inside `/root`). Then open
 * it and prove the descriptor is what was checked, so nothing swapped in between is served.
 */
import { close, constants, existsSync, fstat as fstatCallback, open, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';

export interface ResolvedEntry {
  ok: true;
  kind: 'file' | 'directory';
  realPath: string;
  /** lstat of `realPath` when it was checked: the identity the opened descriptor must have. */
  stats: Stats;
}

export type Resolved = ResolvedEntry | { ok: false; status: 400 | 403 | 404; reason: string };

/** A request path decoded into segments. */
export interface DecodedPath {
  ok: true;
  segments: string[];
  /**
   * The path ends in a separator or a "." segment (`/app.js/`, `/app.js/.`, `/app.js%2f`): it
   * names a directory, so a file there is not found.
   */
  directoryForm: boolean;
}

export interface ResolveOptions {
  /** Serve names starting with a dot (.git, .env). Off by default. */
  dotfiles: boolean;
  /** Files never served whatever their name, by real path (the active config file). */
  isWithheld?: (realPath: string) => boolean;
}

/**
 * Decodes the path part of a request target into its segments, or says why it can't.
 * `pathname` is everything before `?`, still percent-encoded.
 */
export function decodePathSegments(pathname: string): DecodedPath | { ok: false; status: 400 | 403; reason: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { ok: false, status: 400, reason: 'The path has malformed percent-encoding.' };
  }
  if (decoded.includes('\0')) return { ok: false, status: 400, reason: 'The path contains a NUL byte.' };
  // A backslash is a separator on Windows; treat it as one everywhere so '..\\' can't slip by.
  const parts = decoded.split(/[\\/]+/);
  const last = parts[parts.length - 1];
  const segments = parts.filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, status: 403, reason: 'The path climbs out with "..".' };
  return { ok: true, segments, directoryForm: last === '' || last === '.' };
}

export function isHiddenSegment(segment: string): boolean {
  return segment.startsWith('.');
}

/** True when `candidate` (a real path) is `root` itself or lies below it. */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return candidate.startsWith(prefix);
}

const NOT_FOUND = { ok: false, status: 404, reason: 'Not found.' } as const;

/**
 * The root joined with decoded segments: the real path they name if no symlink is on the way.
 * Undefined when a hidden name is among them (and dotfiles are off): not found, whatever is there.
 * Only resolveInsideRoot may decide that it is the real path; the file cache trusts it only
 * for a path that realpath returned exactly and the watcher has seen no change to since.
 */
export function joinedPath(realRoot: string, segments: readonly string[], options: ResolveOptions): string | undefined {
  if (!options.dotfiles && segments.some(isHiddenSegment)) return undefined;
  return path.join(realRoot, ...segments);
}

/**
 * Resolves decoded segments against `realRoot` (already passed through realpath). Symlinks are
 * followed, and the target must stay inside the root and must not be hidden. With
 * `directoryForm`, only a directory is found there.
 */
export async function resolveInsideRoot(realRoot: string, segments: readonly string[], options: ResolveOptions, directoryForm = false): Promise<Resolved> {
  const joined = joinedPath(realRoot, segments, options);
  if (joined === undefined) return NOT_FOUND;
  let realPath: string;
  try {
    realPath = await fs.realpath(joined);
  } catch (error) {
    return fsErrorToRefusal(error);
  }
  if (!isInside(realRoot, realPath)) {
    return { ok: false, status: 403, reason: 'The path leads outside the served folder.' };
  }
  if (!options.dotfiles && path.relative(realRoot, realPath).split(path.sep).some(isHiddenSegment)) return NOT_FOUND;
  if (options.isWithheld?.(realPath) === true) return NOT_FOUND;
  let stats: Stats;
  try {
    // lstat: realPath holds no symlink, so one here now means the tree changed under us.
    stats = await fs.lstat(realPath);
  } catch (error) {
    return fsErrorToRefusal(error);
  }
  if (stats.isFile()) return directoryForm ? NOT_FOUND : { ok: true, kind: 'file', realPath, stats };
  if (stats.isDirectory()) return { ok: true, kind: 'directory', realPath, stats };
  // FIFOs, sockets and devices would hang or leak; they are not web content.
  return NOT_FOUND;
}

/** An entry opened for reading, with the stats of the descriptor itself. The caller closes `fd`. */
export interface OpenedEntry {
  fd: number;
  stats: Stats;
}

/**
 * Never follow a symlink in the last component (the checked path holds none), and never wait
 * on a FIFO that was swapped in (it is then refused by its type).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Where the kernel shows the path of an open descriptor (Linux). There the check is exact even
 * when a folder above the file is swapped for a symlink during the request. Elsewhere the
 * device and inode check stands with a second realpath, which narrows that race but cannot
 * close it without openat(), which Node does not offer.
 */
const DESCRIPTOR_PATHS = existsSync('/proc/self/fd') ? '/proc/self/fd/' : undefined;

/**
 * Opens what resolveInsideRoot found and proves the descriptor is that entry: the same device,
 * inode and type as was checked, and, where the kernel tells (Linux), still at the checked real
 * path. Undefined when the tree changed between the check and the open (a symlink swapped in,
 * a file replaced): the caller resolves again. Everything served comes from this descriptor,
 * with headers from its own stats.
 */
export async function openResolved(entry: ResolvedEntry): Promise<OpenedEntry | undefined> {
  const fd = await openDescriptor(entry.realPath).catch(() => undefined);
  if (fd === undefined) return undefined;
  const stats = await fstat(fd).catch(() => undefined);
  if (stats !== undefined && (await isCheckedEntry(fd, stats, entry))) return { fd, stats };
  await closeDescriptor(fd);
  return undefined;
}

async function isCheckedEntry(fd: number, stats: Stats, entry: ResolvedEntry): Promise<boolean> {
  const sameType = entry.kind === 'file' ? stats.isFile() : stats.isDirectory();
  if (!sameType || stats.dev !== entry.stats.dev || stats.ino !== entry.stats.ino) return false;
  if (DESCRIPTOR_PATHS !== undefined) return (await fs.readlink(DESCRIPTOR_PATHS + fd).catch(() => undefined)) === entry.realPath;
  // No kernel to ask: at least the checked path must still lead, without a symlink, to itself.
  return (await fs.realpath(entry.realPath).catch(() => undefined)) === entry.realPath;
}

/** A path that names the opened directory itself (Linux), so a listing reads what was checked. */
export function pathOfDescriptor(fd: number, fallback: string): string {
  return DESCRIPTOR_PATHS === undefined ? fallback : DESCRIPTOR_PATHS + fd;
}

function openDescriptor(realPath: string): Promise<number> {
  return new Promise((resolve, reject) => open(realPath, OPEN_FLAGS, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function fstat(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstatCallback(fd, (error, stats) => (error ? reject(error) : resolve(stats))));
}

export function closeDescriptor(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

function fsErrorToRefusal(error: unknown): Resolved {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return { ok: false, status: 403, reason: 'Permission denied.' };
  return NOT_FOUND;
}
