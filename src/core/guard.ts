/**
 * The one place that decides who may talk to the server: the Host allowlist (against DNS
 * rebinding) for every request, the cross-site rule (Sec-Fetch) for every request, and the
 * Origin allowlist for WebSocket upgrades.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * True for names that always mean this machine: localhost and its subdomains (RFC 6761; browsers
 * resolve them to loopback themselves, and editors forward ports as `<port>.localhost`),
 * 127.0.0.0/8 and ::1.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** True for bind addresses that listen on every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * Splits a Host header (or URL authority) into a lower-case host name without brackets and a
 * port. Returns undefined for a value that is not a plain `name[:port]`.
 */
export function parseAuthority(value: string): { name: string; port: number | undefined } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.\-_]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!match) return undefined;
  let name = match[1].toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1); // 'localhost.' is 'localhost'
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name, port };
}

export interface GuardOptions {
  /** The address the server is bound to. */
  host: string;
  /** Extra host names the user allowed in the Host header (e.g. a tunnel or LAN name). */
  allowedHosts?: readonly string[];
  /** Extra origins the user allowed for WebSocket upgrades, exactly as browsers send them. */
  allowedOrigins?: readonly string[];
  /** Serve cross-site `no-cors` loads too (another site's `<script src>`, `<img>`, `<object>`). Default off. */
  allowCrossSite?: boolean;
  /** How the person opens each check up, in the words of the front door they use (flag or setting). */
  advice?: RefusalAdvice;
}

/** One sentence per check, appended to its refusal: e.g. "Start with --allow-host <name> to accept it." */
export interface RefusalAdvice {
  host: string;
  origin: string;
  crossSite: string;
}

/** The core's own words, for callers that name no front door. */
export const DEFAULT_ADVICE: RefusalAdvice = {
  host: 'Add the name to the allowedHosts option to accept it.',
  origin: 'Add the origin to the allowedOrigins option to accept it.',
  crossSite: 'Set the allowCrossSite option to let other sites load files from this server.',
};

/** The request headers the cross-site rule reads (browsers send them; no page can forge them). */
export interface FetchMetadata {
  'sec-fetch-site'?: string;
  'sec-fetch-mode'?: string;
  'sec-fetch-dest'?: string;
}

export type Verdict = { ok: true } | { ok: false; status: number; reason: string };

const ALLOWED: Verdict = { ok: true };

export class Guard {
  private readonly hosts = new Set<string>();
  /** Origins configured at start: allowed for the server's whole life. */
  private readonly origins = new Set<string>();
  /** Origins granted at run time, with how many grants are still held. */
  private readonly granted = new Map<string, number>();
  private port = 0;
  /** Called whenever an origin is granted or its last grant revoked. */
  onGrantsChanged: () => void = () => undefined;
  /** The inspector's own port (`--inspect`): its page is ours too, on an origin of its own. */
  private inspectorPort: number | undefined;
  private readonly advice: RefusalAdvice;
  private readonly allowCrossSite: boolean;

  constructor(options: GuardOptions) {
    this.advice = options.advice ?? DEFAULT_ADVICE;
    this.allowCrossSite = options.allowCrossSite ?? false;
    for (const name of options.allowedHosts ?? []) this.hosts.add(normaliseHostName(name));
    for (const origin of options.allowedOrigins ?? []) this.origins.add(normaliseOrigin(origin));
    const bound = options.host.toLowerCase();
    if (!isLoopbackHost(bound)) {
      // Listening beyond loopback was opted into: the bound address itself is a fine Host,
      // and for a wildcard bind so is every address of this machine (IP literals cannot be
      // used for DNS rebinding).
      if (isWildcardHost(bound)) {
        for (const list of Object.values(networkInterfaces())) {
          for (const info of list ?? []) this.hosts.add(info.address.toLowerCase());
        }
      } else {
        this.hosts.add(normaliseHostName(bound));
      }
    }
  }

  /** Called once the port is known (it may have been 0 until listening). */
  setPort(port: number): void {
    this.port = port;
  }

  /**
   * The port of the inspector's own origin (`--inspect`). Its page may open the endpoints (its own
   * client) like a page of ours, and only it may open the feed (checkOwnOrigin with this port).
   */
  setInspectorPort(port: number): void {
    this.inspectorPort = port;
  }

  /** The origins granted at run time (the editor's own panels and forwarded addresses), normalised. */
  grantedOrigins(): string[] {
    return [...this.granted.keys()];
  }

  /** Accepts one more name in the Host header, e.g. the host the editor forwards the port through. */
  allowHost(name: string): void {
    this.hosts.add(normaliseHostName(name));
  }

  /**
   * Allows one more exact origin for WebSocket upgrades, e.g. the editor's webview origin, until
   * the returned function is called (an origin also configured, or granted again, stays allowed).
   */
  allowOrigin(origin: string): () => void {
    const key = normaliseOrigin(origin);
    const held = this.granted.get(key) ?? 0;
    this.granted.set(key, held + 1);
    if (held === 0) this.onGrantsChanged();
    let revoked = false;
    return () => {
      if (revoked) return;
      revoked = true;
      const left = (this.granted.get(key) ?? 1) - 1;
      if (left > 0) this.granted.set(key, left);
      else {
        this.granted.delete(key);
        this.onGrantsChanged();
      }
    };
  }

  /**
   * `hostHeader` is the request's Host (or the authority of an absolute-form target); pass the
   * request's `rawHeaders` too, because Node keeps only the first of several Host lines in
   * `req.headers.host`, and a request with more than one is malformed (RFC 9112 section 3.2).
   */
  checkHost(hostHeader: string | undefined, rawHeaders?: readonly string[]): Verdict {
    if (rawHeaders !== undefined && countHostHeaders(rawHeaders) > 1) {
      return { ok: false, status: 400, reason: 'The request has more than one Host header.' };
    }
    if (hostHeader === undefined || hostHeader === '') {
      return { ok: false, status: 400, reason: 'The request has no Host header.' };
    }
    const authority = parseAuthority(hostHeader);
    if (authority && (isLoopbackHost(authority.name) || this.hosts.has(authority.name))) return ALLOWED;
    return {
      ok: false,
      status: 403,
      reason:
        `Host "${hostHeader.slice(0, 100)}" is not allowed: only loopback names are accepted. ${this.advice.host}`,
    };
  }

  /**
   * Refuses what lets another site read our files or learn which exist:
   * - a cross-site `no-cors` load: a page on any website using `<script src>` (then reading the
   *   globals it defines), `<img>` or `<link>` on this server, or probing which files exist
   *   through their load and error events;
   * - a cross-site `<object>` or `<embed>` (destination `object` or `embed`, in whatever mode:
   *   Chromium loads them as navigations), whose load and error events tell the same.
   * The refusal is the same whether or not the file exists. Everything else is served:
   * navigations of documents and frames (`navigate` mode, top level or in an iframe, so links
   * from anywhere and previews in an iframe work), typed-in URLs and bookmarks (`none`),
   * same-site and same-origin loads, and `cors` mode loads (fetch, module scripts), which the
   * browser lets no other site read because we send no CORS headers. Requests without these
   * headers (non-browser clients, old browsers) are not a page of another site reading: served.
   */
  checkFetchSite(headers: FetchMetadata): Verdict {
    if (this.allowCrossSite || !isToken(headers['sec-fetch-site'], 'cross-site')) return ALLOWED;
    if (!isToken(headers['sec-fetch-mode'], 'no-cors') && !isPluginDestination(headers['sec-fetch-dest'])) return ALLOWED;
    return {
      ok: false,
      status: 403,
      reason: `A page on another site may not load files from this server. ${this.advice.crossSite}`,
    };
  }

  checkOrigin(origin: string | undefined): Verdict {
    // Clients that are not browsers send no Origin; browsers always do on upgrades.
    if (origin === undefined) return ALLOWED;
    const value = origin.trim().toLowerCase();
    // Webviews (vscode-webview://<id>) are no exception: any extension's webview has such an
    // origin, so only the one our panel reports is accepted, through allowOrigin().
    if (this.origins.has(value) || this.granted.has(value)) return ALLOWED;
    if (this.isOwnOrigin(value, this.port)) return ALLOWED;
    if (this.inspectorPort !== undefined && this.isOwnOrigin(value, this.inspectorPort)) return ALLOWED;
    return {
      ok: false,
      status: 403,
      reason:
        `Origin "${origin.slice(0, 200)}" is not allowed: only pages served by this server may connect. ${this.advice.origin}`,
    };
  }

  /**
   * For the server's own sockets (the reload channel; the inspector's feed, with the inspector's
   * port): only a page this server served on `port` may connect, so no configured or granted
   * origin counts, and a request without Origin (which no browser sends on a WebSocket handshake)
   * is refused too.
   */
  checkOwnOrigin(origin: string | undefined, port = this.port): Verdict {
    if (origin !== undefined && this.isOwnOrigin(origin.trim().toLowerCase(), port)) return ALLOWED;
    return {
      ok: false,
      status: 403,
      reason: origin === undefined ? 'This socket needs an Origin header: only pages served by this server may connect.' : `Origin "${origin.slice(0, 200)}" is not allowed: only pages served by this server may connect.`,
    };
  }

  /** An origin of a page this server itself served: http://<loopback or allowed host>:<port>. */
  private isOwnOrigin(origin: string, port: number): boolean {
    const match = /^http:\/\/(.+)$/.exec(origin);
    if (!match) return false;
    const authority = parseAuthority(match[1]);
    if (!authority) return false;
    if ((authority.port ?? 80) !== port) return false;
    return isLoopbackHost(authority.name) || this.hosts.has(authority.name);
  }
}

/**
 * How many Host lines a request had, from Node's `rawHeaders` (name, value, name, value, ...).
 * Allocates nothing for the usual names ('Host', 'host'); any other spelling is lower-cased.
 */
export function countHostHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')) count++;
  }
  return count;
}

/** `<object>` and `<embed>` destinations, ignoring case and surrounding spaces. */
function isPluginDestination(dest: string | undefined): boolean {
  return isToken(dest, 'object') || isToken(dest, 'embed');
}

/** A header value equal to `token`, ignoring case and surrounding spaces (exact values cost nothing). */
function isToken(value: string | undefined, token: string): boolean {
  return value !== undefined && (value === token || value.trim().toLowerCase() === token);
}

function normaliseOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

function normaliseHostName(name: string): string {
  const parsed = parseAuthority(name);
  return parsed ? parsed.name : name.trim().toLowerCase();
}
