/**
 * GET/HEAD file serving: index.html or a listing for directories, caching validators,
 * conditional requests, single byte ranges, and streams that are torn down when the client goes.
 * Every body comes from the cache or from a descriptor that resolve.ts proved to be the checked
 * file, under headers made from that descriptor's own stats.
 */
import * as fs from 'node:fs';
import type { Stats } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { sameContent, type FileCache } from './fileCache';
import { STRICT_CSP } from './html';
import { renderListing } from './listing';
import { contentTypeFor } from './mime';
import { NOSNIFF, head, sendError, sendGenerated } from './respond';
import { INJECTED_ETAG_SUFFIX, contentEtag, planReloadInjection, type ReloadInjection } from '../reload/inject';
import { closeDescriptor, decodePathSegments, joinedPath, openResolved, pathOfDescriptor, resolveInsideRoot, type DecodedPath, type ResolveOptions, type ResolvedEntry } from './resolve';

export interface StaticOptions extends ResolveOptions {
  /** The served folder after realpath. */
  realRoot: string;
  /** Bytes of small files, reused while their stats are unchanged. */
  cache: FileCache;
  /** Add the live reload script to HTML pages (up to the cache's file size; larger ones stream as they are). */
  injectReload?: boolean;
  /** Content to serve instead of a checked file's (the editor's unsaved buffers). */
  overlay?: ContentOverlay;
}

/** The editor's unsaved buffers: bytes for a real path, served instead of the file's after the same checks. */
export interface ContentOverlay {
  read(realPath: string): Buffer | undefined;
}

/**
 * Read size for streamed (larger) files. Node's 64 KiB default costs a thread-pool round trip
 * and a socket write per 64 KiB; 256 KiB cuts that fourfold for a bounded 256 KiB per download.
 */
const STREAM_CHUNK_BYTES = 256 * 1024;

/**
 * How often a request starts over when the file changes between being checked and being read
 * (a save that replaces it, a symlink swapped in): a saving editor settles within one retry.
 */
const MAX_ATTEMPTS = 3;

/** What serving a checked entry came to: answered, or the tree changed under us (start over). */
const SERVED = true;
const CHANGED = false;
type Outcome = typeof SERVED | typeof CHANGED;

/** Serves the request target `pathname` (still percent-encoded) with `search` kept for redirects. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string, search: string, options: StaticOptions): Promise<void> {
  const decoded = decodePathSegments(pathname);
  if (!decoded.ok) return sendError(res, decoded.status, decoded.reason);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if ((await serveOnce(req, res, pathname, search, decoded, options)) === SERVED) return;
  }
  sendError(res, 503, 'The file kept changing while it was being read; try again.', { 'Retry-After': '1' });
}

async function serveOnce(req: IncomingMessage, res: ServerResponse, pathname: string, search: string, decoded: DecodedPath, options: StaticOptions): Promise<Outcome> {
  const { segments } = decoded;
  const { cache } = options;
  // While the watcher vouches for it, a file checked before is served as it was checked (see FileCache.fresh).
  const epoch = cache.epoch;
  const candidate = cache.watching && !decoded.directoryForm ? joinedPath(options.realRoot, segments, options) : undefined;
  const fresh = candidate === undefined ? undefined : cache.fresh(candidate);
  if (fresh !== undefined && candidate !== undefined) return serveFile(req, res, { ok: true, kind: 'file', realPath: candidate, stats: fresh }, options, segments.length - 1);
  const found = await resolveInsideRoot(options.realRoot, segments, options, decoded.directoryForm);
  if (!found.ok) {
    sendError(res, found.status, found.reason);
    return SERVED;
  }
  if (found.kind === 'file') return serveFile(req, res, found, options, segments.length - 1, epoch);

  const canonical = '/' + segments.map(encodeURIComponent).join('/') + (segments.length > 0 ? '/' : '');
  if (!pathname.endsWith('/')) {
    // Built from the decoded segments, so the Location is always a single-slash path on this
    // host: '//evil.example' and '/\evil.example' can't become absolute redirects.
    const query = /^\?[\x21-\x7e]*$/.test(search) ? search : '';
    head(res, 301, { 'X-Content-Type-Options': NOSNIFF, Location: canonical + query, 'Content-Length': 0 });
    res.end();
    return SERVED;
  }
  const index = await resolveInsideRoot(options.realRoot, [...segments, 'index.html'], options);
  if (index.ok && index.kind === 'file') return serveFile(req, res, index, options, segments.length, epoch);
  const dir = await openResolved(found);
  if (dir === undefined) return CHANGED;
  // Read through the descriptor where the kernel allows, so the listing is of what was checked.
  const html = await renderListing(pathOfDescriptor(dir.fd, found.realPath), canonical, options.dotfiles).catch(() => undefined);
  await closeDescriptor(dir.fd);
  if (html === undefined) return CHANGED; // the folder went away while it was read
  sendGenerated(res, 'text/html; charset=utf-8', html, STRICT_CSP);
  return SERVED;
}

export function etagFor(stats: Stats): string {
  return `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
}

/** Weak comparison of an entity tag list (`If-None-Match`, `If-Match`) with our tag. */
function etagListMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const ours = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === ours);
}

/** True when the date header is valid and the file was not modified after it (1 s resolution). */
function notModifiedSince(header: string, mtimeMs: number | undefined): boolean {
  const since = Date.parse(header);
  return mtimeMs !== undefined && !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

type Precondition = 200 | 304 | 412;

/** RFC 9110 section 13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
function evaluatePreconditions(req: IncomingMessage, etag: string, mtimeMs: number | undefined): Precondition {
  const h = req.headers;
  if (h['if-match'] !== undefined) {
    if (!etagListMatches(h['if-match'], etag)) return 412;
  } else if (h['if-unmodified-since'] !== undefined && mtimeMs !== undefined) {
    const since = Date.parse(h['if-unmodified-since']);
    if (!Number.isNaN(since) && !notModifiedSince(h['if-unmodified-since'], mtimeMs)) return 412;
  }
  if (h['if-none-match'] !== undefined) {
    if (etagListMatches(h['if-none-match'], etag)) return 304;
  } else if (h['if-modified-since'] !== undefined) {
    if (notModifiedSince(h['if-modified-since'], mtimeMs)) return 304;
  }
  return 200;
}

export type ByteRange = { start: number; end: number };

/**
 * Parses a Range header for a file of `size` bytes: a single satisfiable range, 'unsatisfiable',
 * or undefined to ignore the header (malformed, other units, or several ranges: we send it all).
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return undefined;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return { start, end };
}

/**
 * If-Range (RFC 9110 section 13.1.5): the range applies only while the validator matches by
 * the strong comparison. Our entity tags are weak, and a weak tag never matches strongly, so an
 * entity-tag If-Range (weak, or with the W/ stripped) always gets the whole file. A date
 * matches when it is exactly the file's Last-Modified.
 */
function ifRangeAllows(req: IncomingMessage, mtimeMs: number | undefined): boolean {
  const header = req.headers['if-range'];
  if (header === undefined) return true;
  const value = String(header);
  if (value.includes('"') || mtimeMs === undefined) return false;
  return Date.parse(value) === Math.floor(mtimeMs / 1000) * 1000;
}

/** The status, headers and byte range of a response with a body, once preconditions passed. */
interface BodyPlan {
  status: number;
  headers: OutgoingHttpHeaders;
  range: ByteRange;
}

/**
 * What a response describes: a file's bytes as they are on disk, or bytes made from them (a page
 * with the reload script) or given instead of them (an unsaved buffer, which has no date).
 */
interface Representation {
  size: number;
  etag: string;
  mtimeMs: number | undefined;
}

function fileRepresentation(stats: Stats): Representation {
  return { size: stats.size, etag: etagFor(stats), mtimeMs: stats.mtimeMs };
}

/**
 * Bytes already in hand (an injected page, an unsaved buffer) under their own validators.
 * `reloadOff`: why an HTML page is served without the reload script (told in a header).
 */
function serveBytes(req: IncomingMessage, res: ServerResponse, realPath: string, body: Buffer, representation: Representation, reloadOff?: string): Outcome {
  const plan = planResponse(req, res, realPath, representation, reloadOff);
  if (plan !== undefined) sendBody(res, plan, body.subarray(plan.range.start, plan.range.end + 1));
  return SERVED;
}

/** Injected pages by the cached bytes they were made from (and the URL's depth), so a cached page is injected once. */
const injectedPages = new WeakMap<Buffer, { depth: number; page: ReloadInjection }>();

function injected(body: Buffer, depth: number): ReloadInjection {
  const known = injectedPages.get(body);
  if (known !== undefined && known.depth === depth) return known.page;
  const page = planReloadInjection(body, depth);
  injectedPages.set(body, { depth, page });
  return page;
}

/**
 * Serves a checked file: from the cache while its bytes are still this file's, otherwise from
 * a descriptor opened and verified by resolve.ts, with every header computed from that
 * descriptor's stats (never from an earlier look at the path). An unsaved buffer of the editor
 * stands in for the file's bytes; an HTML page (up to the cache's size) gets the reload script,
 * and its Content-Length, ETag (never the file's own) and ranges are those of the injected page.
 * `checkedAt`: the cache epoch when the check of `found` began, so the cache may vouch for it
 * (absent when the cache already did).
 */
async function serveFile(req: IncomingMessage, res: ServerResponse, found: ResolvedEntry, options: StaticOptions, depth: number, checkedAt?: number): Promise<Outcome> {
  const { cache } = options;
  const inject = options.injectReload === true && contentTypeFor(found.realPath).startsWith('text/html');
  const unsaved = options.overlay?.read(found.realPath);
  if (unsaved !== undefined) {
    const page = inject ? planReloadInjection(unsaved, depth) : undefined;
    const body = page?.page ?? unsaved;
    return serveBytes(req, res, found.realPath, body, { size: body.length, etag: contentEtag(body), mtimeMs: undefined }, page?.skipped);
  }
  const cached = cache.fits(found.stats) ? cache.get(found.realPath, found.stats) : undefined;
  if (cached !== undefined) {
    if (checkedAt !== undefined) cache.vouch(found.realPath, checkedAt);
    return serveFileBytes(req, res, found.realPath, cached, found.stats, inject ? depth : undefined);
  }
  const file = await openResolved(found);
  if (file === undefined) return CHANGED;
  try {
    if (cache.fits(file.stats)) {
      if (inject) {
        const body = await cache.read(found.realPath, file.fd, file.stats);
        if (body === undefined) return CHANGED;
        if (checkedAt !== undefined) cache.vouch(found.realPath, checkedAt);
        return serveFileBytes(req, res, found.realPath, body, file.stats, depth);
      }
      const plan = planResponse(req, res, found.realPath, fileRepresentation(file.stats));
      if (plan === undefined) return SERVED;
      const body = await cache.read(found.realPath, file.fd, file.stats);
      if (body === undefined) return CHANGED;
      if (checkedAt !== undefined) cache.vouch(found.realPath, checkedAt);
      sendBody(res, plan, body.subarray(plan.range.start, plan.range.end + 1));
      return SERVED;
    }
    const plan = planResponse(req, res, found.realPath, fileRepresentation(file.stats));
    if (plan === undefined) return SERVED;
    return await streamFile(res, file.fd, file.stats, plan);
  } finally {
    await closeDescriptor(file.fd);
  }
}

/** A file's bytes, as they are or (with the page's `depth`) as a page with the reload script, under an ETag of its own. */
function serveFileBytes(req: IncomingMessage, res: ServerResponse, realPath: string, body: Buffer, stats: Stats, depth: number | undefined): Outcome {
  const page = depth === undefined ? undefined : injected(body, depth);
  if (page?.page === undefined) return serveBytes(req, res, realPath, body, fileRepresentation(stats), page?.skipped);
  const etag = etagFor(stats).replace(/"$/, `${INJECTED_ETAG_SUFFIX}"`);
  return serveBytes(req, res, realPath, page.page, { size: page.page.length, etag, mtimeMs: stats.mtimeMs });
}

/**
 * Answers what needs no body (412, 304, 416, HEAD, an empty file) and returns undefined, or
 * returns how to send the body.
 */
function planResponse(req: IncomingMessage, res: ServerResponse, realPath: string, representation: Representation, reloadOff?: string): BodyPlan | undefined {
  const { size, etag, mtimeMs } = representation;
  const headers: OutgoingHttpHeaders = {
    'X-Content-Type-Options': NOSNIFF,
    'Content-Type': contentTypeFor(realPath),
    'Cache-Control': 'no-cache',
    ETag: etag,
    'Accept-Ranges': 'bytes',
  };
  if (mtimeMs !== undefined) headers['Last-Modified'] = new Date(mtimeMs).toUTCString();
  if (reloadOff !== undefined) headers['X-Echo-Preview-Reload'] = `off: ${reloadOff}`;
  const precondition = evaluatePreconditions(req, etag, mtimeMs);
  if (precondition === 412) return void sendError(res, 412, 'A precondition of the request did not hold.');
  if (precondition === 304) {
    head(res, 304, headers);
    res.end();
    return undefined;
  }

  let status = 200;
  let range: ByteRange = { start: 0, end: size - 1 };
  const rangeHeader = req.headers.range;
  if (rangeHeader !== undefined && ifRangeAllows(req, mtimeMs)) {
    const parsed = parseRange(rangeHeader, size);
    if (parsed === 'unsatisfiable') {
      return void sendError(res, 416, 'The requested range is outside the file.', { 'Content-Range': `bytes */${size}` });
    }
    if (parsed) {
      status = 206;
      range = parsed;
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    }
  }
  const length = size === 0 ? 0 : range.end - range.start + 1;
  headers['Content-Length'] = length;
  if (req.method === 'HEAD' || length === 0) {
    head(res, status, headers);
    res.end();
    return undefined;
  }
  return { status, headers, range };
}

function sendBody(res: ServerResponse, plan: BodyPlan, body: Buffer): void {
  if (res.destroyed) return;
  head(res, plan.status, plan.headers);
  res.end(body);
}

/**
 * Streams the planned range from the verified descriptor, checking after each read that the
 * descriptor's content is still the one the headers describe (its fstat size and mtime
 * unchanged), so no byte written after the headers were made is sent under them. A save that
 * renames a new file over this one leaves the descriptor's bytes as they were: that download
 * completes with the old content, as its headers say. A change before the first chunk goes out starts
 * the request over; a change or a shrink after that cuts the response off rather than ending
 * it, so the client sees it is incomplete. The caller closes `fd`.
 */
async function streamFile(res: ServerResponse, fd: number, stats: Stats, plan: BodyPlan): Promise<Outcome> {
  let position = plan.range.start;
  while (position <= plan.range.end) {
    // A fresh buffer each time: the socket may hold on to the last one until it is written.
    const chunk = Buffer.allocUnsafe(Math.min(STREAM_CHUNK_BYTES, plan.range.end - position + 1));
    const bytesRead = await readAt(fd, chunk, position);
    const intact = bytesRead > 0 && (await unchanged(fd, stats));
    if (res.destroyed) return SERVED; // the client went away meanwhile
    if (!res.headersSent) {
      if (!intact) return CHANGED;
      head(res, plan.status, plan.headers);
    } else if (!intact) {
      res.destroy();
      return SERVED;
    }
    position += bytesRead;
    if (!res.write(chunk.subarray(0, bytesRead))) await drained(res);
  }
  res.end();
  return SERVED;
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve) => fs.read(fd, buffer, 0, buffer.length, position, (error, bytesRead) => resolve(error ? -1 : bytesRead)));
}

/** True while the descriptor's bytes are still those `stats` describe (see sameContent). */
function unchanged(fd: number, stats: Stats): Promise<boolean> {
  return new Promise((resolve) => fs.fstat(fd, (error, now) => resolve(!error && sameContent(now, stats))));
}

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
