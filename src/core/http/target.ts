/** What every step reads of a request first: its target split into authority, path and query, and who sent it. */
import type { IncomingMessage } from 'node:http';

export interface RequestTarget {
  /** The host of an absolute-form target, which then stands instead of the Host header. */
  authority: string | undefined;
  pathname: string;
  search: string;
}

/**
 * Splits a request target into its path and query. Origin-form (`/path?q`) is what browsers
 * send; absolute-form (`http://host/path?q`) must be accepted too (RFC 9112, 3.2.2), and its
 * host replaces the Host header. Undefined for any other form.
 */
export function parseTarget(url: string): RequestTarget | undefined {
  let authority: string | undefined;
  let rest = url;
  const absolute = /^https?:\/\/([^/?#]*)/i.exec(url);
  if (absolute) {
    authority = absolute[1];
    rest = url.slice(absolute[0].length);
    if (!rest.startsWith('/')) rest = '/' + rest;
  } else if (!url.startsWith('/')) {
    return undefined;
  }
  const end = rest.search(/[?#]/);
  if (end === -1) return { authority, pathname: rest, search: '' };
  return { authority, pathname: rest.slice(0, end), search: rest[end] === '?' ? rest.slice(end).split('#')[0] : '' };
}

/** The host a request names: its absolute-form authority, else its Host header. */
export function authorityOf(req: IncomingMessage, target: RequestTarget | undefined): string | undefined {
  return target?.authority ?? req.headers.host;
}

export function remoteOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}
