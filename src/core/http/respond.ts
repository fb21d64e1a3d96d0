/**
 * How the server answers when it answers itself: error pages, generated documents, and refusals
 * written straight to a raw socket (an upgrade or CONNECT no HTTP response object belongs to).
 * Status lines come from Node's own `http.STATUS_CODES`.
 */
import { STATUS_CODES, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STRICT_CSP, escapeHtml, page } from './html';

/**
 * Every response carries `X-Content-Type-Options: nosniff`. Header objects are written out as
 * literals that include it rather than spread from a shared object: V8 builds `{ ...shared, ... }`
 * on a slow path (~4 µs against ~40 ns for a literal), which was 5 % of a small-file request.
 */
export const NOSNIFF = 'nosniff';

/** The methods the server answers (`Allow` on OPTIONS and on every 405). */
export const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';

/** `404 Not Found`: a status with its reason phrase. */
function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Error'}`;
}

/** Body length of each response, for the request event (writeHead headers can't be read back). */
const BODY_LENGTH = Symbol('bodyLength');
type MeasuredResponse = ServerResponse & { [BODY_LENGTH]?: number };

export function bodyLengthOf(res: ServerResponse): number {
  return (res as MeasuredResponse)[BODY_LENGTH] ?? 0;
}

/**
 * writeHead that remembers the body length it announces. (A symbol-keyed property rather than a
 * WeakMap: a WeakMap entry per response cost ~1 µs of the static hot path, mostly in GC.)
 */
export function head(res: ServerResponse, status: number, headers: OutgoingHttpHeaders): void {
  if (res.req.method !== 'HEAD' && status !== 304) (res as MeasuredResponse)[BODY_LENGTH] = Number(headers['Content-Length'] ?? 0);
  res.writeHead(status, headers);
}

/** An escaped HTML error page that can run nothing. */
export function sendError(res: ServerResponse, status: number, reason: string, extra?: OutgoingHttpHeaders): void {
  const title = statusLine(status);
  const body = page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(reason)}</p>`);
  const headers: OutgoingHttpHeaders = {
    'X-Content-Type-Options': NOSNIFF,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Content-Security-Policy': STRICT_CSP,
    'Cache-Control': 'no-store',
  };
  head(res, status, extra === undefined ? headers : Object.assign(headers, extra));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * A page or document the server made (listings, its own JSON): never cached by the browser as
 * a file would be, and with a CSP when it is HTML.
 */
export function sendGenerated(res: ServerResponse, contentType: string, body: string, csp?: string, extra?: OutgoingHttpHeaders): void {
  const headers: OutgoingHttpHeaders = {
    'X-Content-Type-Options': NOSNIFF,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  };
  if (csp !== undefined) headers['Content-Security-Policy'] = csp;
  head(res, 200, extra === undefined ? headers : Object.assign(headers, extra));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The headers of a plain-text refusal (its body is `refusalBody`): what ws's and our raw answers carry. */
export function refusalHeaders(extra?: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': NOSNIFF, ...extra };
}

/** The body of a plain-text refusal: the reason on a line of its own. */
export function refusalBody(reason: string): string {
  return reason + '\n';
}

/** Refuses on a raw socket (an upgrade, CONNECT) with a real HTTP response instead of leaving it hanging. */
export function refuseRaw(socket: Duplex, status: number, reason: string, extra?: OutgoingHttpHeaders): void {
  if (!socket.writable) return void socket.destroy();
  const body = refusalBody(reason);
  const headers: OutgoingHttpHeaders = { ...extra, Connection: 'close', ...refusalHeaders(), 'Content-Length': Buffer.byteLength(body) };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${String(value)}\r\n`);
  socket.end(`HTTP/1.1 ${statusLine(status)}\r\n${lines.join('')}\r\n${body}`);
}

/** Answers malformed HTTP (Node's parser refused it) with a bare status when the socket still takes it. */
export function refuseMalformed(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${statusLine(status)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
