/**
 * The one place that maps a request path to a file: decode, reject what is malformed, refuse
 * dot segments and hidden names, then follow symlinks and check that the real path is inside
 * the real root (as a prefix plus separator, so `/root-evil` is not inside `/root`).
 */
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';

export type Resolved =
  | { ok: true; kind: 'file' | 'directory'; realPath: string; stats: Stats }
  | { ok: false; status: 400 | 403 | 404; reason: string };

export interface ResolveOptions {
  /** Serve names starting with a dot (.git, .env). Off by default. */
  dotfiles: boolean;
}

/**
 * Decodes the path part of a request target into its segments, or says why it can't.
 * `pathname` is everything before `?`, still percent-encoded.
 */
export function decodePathSegments(pathname: string): { ok: true; segments: string[] } | { ok: false; status: 400 | 403; reason: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { ok: false, status: 400, reason: 'The path has malformed percent-encoding.' };
  }
  if (decoded.includes('\0')) return { ok: false, status: 400, reason: 'The path contains a NUL byte.' };
  // A backslash is a separator on Windows; treat it as one everywhere so '..\\' can't slip by.
  const segments = decoded.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, status: 403, reason: 'The path climbs out with "..".' };
  return { ok: true, segments };
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
 * Resolves decoded segments against `realRoot` (already passed through realpath). Symlinks are
 * followed, and the target must stay inside the root and must not be hidden.
 */
export async function resolveInsideRoot(realRoot: string, segments: readonly string[], options: ResolveOptions): Promise<Resolved> {
  if (!options.dotfiles && segments.some(isHiddenSegment)) return NOT_FOUND;
  const joined = path.join(realRoot, ...segments);
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
  let stats: Stats;
  try {
    stats = await fs.stat(realPath);
  } catch (error) {
    return fsErrorToRefusal(error);
  }
  if (stats.isFile()) return { ok: true, kind: 'file', realPath, stats };
  if (stats.isDirectory()) return { ok: true, kind: 'directory', realPath, stats };
  // FIFOs, sockets and devices would hang or leak; they are not web content.
  return NOT_FOUND;
}

function fsErrorToRefusal(error: unknown): Resolved {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return { ok: false, status: 403, reason: 'Permission denied.' };
  return NOT_FOUND;
}
