/**
 * The inspector as the CLI serves it (`--inspect`): the UI page and its two files at a reserved
 * path that carries a random per-run token, and the feed socket there, which sends the page
 * capture snapshots and batches and carries its requests back to the capture and the clients.
 *
 * It answers on a port of its own, where nothing else is (inspectorPort.ts routes there); who may
 * open the feed is guard.ts's (checkOwnOrigin on that port). What this module adds: the token,
 * the page, the feed.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import { CONFIG_ELEMENT_ID, MAX_SAVED_LIST_BYTES, type HostMessage, type InspectorConfig } from '../../shared/protocol';
import { RESERVED_PREFIX } from '../reserved';
import type { Capture, CaptureBatch, ClientControl } from '../capture/capture';
import type { Disposable } from '../events/events';
import { readFeedRequest, UNKNOWN_REQUEST_ID } from './request';
import { answerSavedRequest, memoryStore, type SavedMessageStore } from './saved';
import { parseAuthority } from '../guard';
import { escapeHtml } from '../http/html';
import { applyInspectorRequest, batchMessageJson } from '../capture/feed';
import { decodePathSegments } from '../http/resolve';
import { NOSNIFF, sendError, sendGenerated } from '../http/respond';
import { WsAcceptor, type Door } from '../ws/accept';
import { closeAllForShutdown, Liveness, type Watched } from '../ws/liveness';

/** Answers one request for the inspector's page or files; `authority` is its host as the Host guard accepted it. */
export type InspectorAnswer = (res: ServerResponse, authority: string) => Promise<void>;

/** Where the inspector lives: `/__echo-preview/inspector/<token>/`. */
export const INSPECTOR_PREFIX = `${RESERVED_PREFIX}inspector/`;
const PREFIX_SEGMENTS = INSPECTOR_PREFIX.split('/').filter((s) => s !== '');

/** A token as `newInspectorToken` makes them: base64url, at least 128 bits. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,}$/;

/** A fresh per-run token: 18 random bytes, base64url (24 characters, 144 bits). */
export function newInspectorToken(): string {
  return randomBytes(18).toString('base64url');
}

export function isInspectorToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** The UI bundle and its stylesheet, as installed. */
export interface InspectorAssets {
  script: string;
  style: string;
}

/**
 * Next to the bundle that runs this code: dist/inspector.js beside dist/cli.js, and
 * media/inspector/inspector.css one folder up (the layout of the repository and the package).
 */
export const INSTALLED_ASSETS: InspectorAssets = {
  script: path.join(__dirname, 'inspector.js'),
  style: path.join(__dirname, '..', 'media', 'inspector', 'inspector.css'),
};

export interface InspectorOptions {
  /** The per-run secret in the inspector's path (see newInspectorToken). */
  token: string;
  /** Where the UI's files are read from. Default INSTALLED_ASSETS. */
  assets?: InspectorAssets;
  /** Echo Preview's version, for the UI's HAR export. */
  version?: string;
  /** The served folder's name, for the UI's title and its saved messages. */
  folder?: string;
  /**
   * Its own port (startServer; inspectorPort.ts): default (and 0) a new free port each run.
   * Taken: the start fails. It must differ from the server's.
   */
  port?: number;
  /** Where the UI's saved messages are kept (the CLI: a file per folder); default: in memory, for this run. */
  saved?: SavedMessageStore;
}

/** Stop handing the feed batches while this much of what it was sent is still unwritten. */
const FEED_HIGH_WATER = 1024 * 1024;

/**
 * The feed's largest message: a push arrives as base64 in JSON, 4/3 of the message, plus the
 * request around it; a storeSaved brings the saved list, up to MAX_SAVED_LIST_BYTES.
 */
export function feedMaxPayload(maxMessageSize: number): number {
  return Math.max(Math.ceil(maxMessageSize / 3) * 4, MAX_SAVED_LIST_BYTES) + 64 * 1024;
}

export class InspectorServer {
  /** `/__echo-preview/inspector/<token>/`: the page. */
  readonly path: string;
  private readonly token: Buffer;
  private readonly assets: InspectorAssets;
  private readonly acceptor: WsAcceptor;
  private readonly saved: SavedMessageStore;
  private readonly feeds = new Set<FeedSession>();
  /** Drops a feed whose page stopped answering pings (a closed laptop lid, a killed tab). */
  private readonly liveness: Liveness;

  constructor(
    private readonly options: InspectorOptions,
    private readonly capture: Capture,
    private readonly control: ClientControl,
    /** The endpoint paths (decoded), for the page's config and CSP. */
    private readonly endpoints: readonly string[],
    /** Largest message a client may be pushed, so the feed takes a push request of that size. */
    maxMessageSize: number,
    heartbeatMs: number,
    /** The server's own port, where the folder and the endpoints are (the page is on another). */
    private readonly serverPort: number,
  ) {
    if (!isInspectorToken(options.token)) throw new RangeError('the inspector token must be at least 22 base64url characters');
    this.token = Buffer.from(options.token);
    this.path = `${INSPECTOR_PREFIX}${options.token}/`;
    this.assets = options.assets ?? INSTALLED_ASSETS;
    this.saved = options.saved ?? memoryStore();
    this.acceptor = new WsAcceptor({ maxPayload: feedMaxPayload(maxMessageSize), perMessageDeflate: false });
    this.liveness = new Liveness(heartbeatMs);
  }

  /**
   * What the inspector answers at these decoded path segments: the page at `<token>/` (a
   * redirect there from `<token>`), and `<token>/inspector.js`, `<token>/inspector.css`.
   * Undefined for every other path, a wrong token included: the folder's files answer those.
   */
  route(segments: readonly string[], directoryForm: boolean): InspectorAnswer | undefined {
    const rest = this.afterToken(segments);
    if (rest === undefined) return undefined;
    if (rest.length === 0) return directoryForm ? (res, authority) => this.servePage(res, authority) : (res) => this.redirectToPage(res);
    if (rest.length !== 1 || directoryForm) return undefined;
    if (rest[0] === 'inspector.js') return (res) => this.serveAsset(res, this.assets.script, 'text/javascript; charset=utf-8');
    if (rest[0] === 'inspector.css') return (res) => this.serveAsset(res, this.assets.style, 'text/css; charset=utf-8');
    return undefined;
  }

  /** True for exactly `<token>/feed` (a wrong token is any other path: 404, revealing nothing). */
  isFeed(pathname: string): boolean {
    if (!pathname.includes('__echo-preview') && !pathname.includes('%')) return false;
    const decoded = decodePathSegments(pathname);
    if (!decoded.ok || decoded.directoryForm) return false;
    const rest = this.afterToken(decoded.segments);
    return rest !== undefined && rest.length === 1 && rest[0] === 'feed';
  }

  /** Completes the feed's handshake; the caller has checked Host, `door` admits (Origin). Not an endpoint client, never captured. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, door: Door): void {
    this.acceptor.accept(req, socket, head, door, (ws) => {
      const feed = new FeedSession(ws, this.capture, this.control, this.saved, this.liveness.watch(ws));
      this.feeds.add(feed);
      ws.once('close', () => this.feeds.delete(feed));
    });
  }

  /** Closes every feed with 1001 and resolves when they are gone. */
  async close(): Promise<void> {
    this.liveness.stop();
    for (const feed of this.feeds) feed.unsubscribe();
    await closeAllForShutdown([...this.feeds].map((feed) => feed.ws));
    await this.acceptor.close();
  }

  /** The segments after `__echo-preview/inspector/<token>`, if the token is this run's. */
  private afterToken(segments: readonly string[]): readonly string[] | undefined {
    const n = PREFIX_SEGMENTS.length;
    if (segments.length <= n || !PREFIX_SEGMENTS.every((s, i) => segments[i] === s)) return undefined;
    // Constant time, so the token cannot be guessed a character at a time (its length is no secret).
    const given = Buffer.from(segments[n]);
    if (given.length !== this.token.length || !timingSafeEqual(given, this.token)) return undefined;
    return segments.slice(n + 1);
  }

  private async servePage(res: ServerResponse, authority: string): Promise<void> {
    if (!(await exists(this.assets.script))) return notBuilt(res);
    const host = canonicalAuthority(authority);
    const feedUrl = `ws://${host.authority}${this.path}feed`;
    // The folder and its endpoints, under the name the page was opened by, on the server's port.
    const server = `${host.name}:${this.serverPort}`;
    const endpoints = this.endpoints.map((wsPath) => ({ path: wsPath, url: `ws://${server}${encodeURI(wsPath)}` }));
    const config: InspectorConfig = { host: 'cli', feedUrl, endpoints, pageUrl: `http://${server}/`, version: this.options.version, folder: this.options.folder };
    const csp =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
      `connect-src ${[feedUrl, ...endpoints.map((e) => e.url)].join(' ')}; ` +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    sendGenerated(res, 'text/html; charset=utf-8', inspectorPage(config), csp, {
      // The token is in the URL: keep the page out of caches and out of Referer headers.
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    });
  }

  private async redirectToPage(res: ServerResponse): Promise<void> {
    res.writeHead(301, { 'X-Content-Type-Options': NOSNIFF, Location: this.path, 'Content-Length': 0, 'Cache-Control': 'no-store' });
    res.end();
  }

  private async serveAsset(res: ServerResponse, file: string, contentType: string): Promise<void> {
    let body: string;
    try {
      body = await fs.readFile(file, 'utf8');
    } catch {
      return notBuilt(res);
    }
    sendGenerated(res, contentType, body, undefined, { 'Referrer-Policy': 'no-referrer' });
  }

}

/** The page: the app's root, its config as data, and the bundle and stylesheet beside it. */
function inspectorPage(config: InspectorConfig): string {
  // JSON inside <script>: `<` escaped so no value can end the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<title>Echo Preview inspector</title>\n<link rel="stylesheet" href="inspector.css">\n</head>\n<body>\n' +
    '<div id="app"></div>\n' +
    `<script type="application/json" id="${escapeHtml(CONFIG_ELEMENT_ID)}">${json}</script>\n` +
    '<script src="inspector.js"></script>\n</body>\n</html>\n'
  );
}

function notBuilt(res: ServerResponse): void {
  sendError(res, 503, 'The inspector UI is not built: run npm run build.');
}

function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** A Host value rebuilt from its parsed parts, so nothing but a name and a port reaches the CSP. */
function canonicalAuthority(authority: string): { name: string; authority: string } {
  const parsed = parseAuthority(authority);
  if (parsed === undefined) return { name: '127.0.0.1', authority: '127.0.0.1' };
  const name = parsed.name.includes(':') ? `[${parsed.name}]` : parsed.name;
  return { name, authority: parsed.port === undefined ? name : `${name}:${parsed.port}` };
}

/**
 * One inspector page's feed: on `ready`, a snapshot, then every batch after it; each request
 * validated, carried out, and answered. The capture waits for the socket to take each batch
 * once it holds FEED_HIGH_WATER, so a slow inspector is sent no more than it reads (the
 * capture's cursor costs nothing; frames that leave the ring meanwhile are reported missed).
 */
class FeedSession {
  private subscription: Disposable | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly capture: Capture,
    private readonly control: ClientControl,
    private readonly saved: SavedMessageStore,
    private readonly peer: Watched,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data as Buffer, isBinary));
    ws.once('close', () => this.unsubscribe());
  }

  /**
   * A malformed request (feedRequest.ts) is answered with an error result on this feed, which
   * stays open: one bad request from a UI bug does not cut the inspector off. Nothing else happens.
   */
  private onMessage(data: Buffer, isBinary: boolean): void {
    this.peer.heard();
    const read = readFeedRequest(data, isBinary);
    if (!read.ok) return this.fail(read.requestId, read.error);
    const { request } = read;
    if (request.type === 'loadSaved' || request.type === 'storeSaved') {
      void answerSavedRequest(request, this.saved).then((reply) => this.send(reply));
      return;
    }
    try {
      const reply = applyInspectorRequest(request, this.capture, this.control);
      if (reply !== undefined) this.send(reply);
      // After the snapshot, every change that follows it (and none it already holds).
      if (request.type === 'ready') this.subscribe();
    } catch (error) {
      this.fail('requestId' in request ? request.requestId : UNKNOWN_REQUEST_ID, error instanceof Error ? error.message : 'the request failed');
    }
  }

  private subscribe(): void {
    this.unsubscribe();
    this.subscription = this.capture.subscribe((batch) => this.sendBatch(batch), { replay: false });
  }

  unsubscribe(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
  }

  private sendBatch(batch: CaptureBatch): Promise<void> | undefined {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return undefined;
    const json = batchMessageJson(batch);
    if (ws.bufferedAmount + json.length <= FEED_HIGH_WATER) {
      ws.send(json);
      return undefined;
    }
    // The next batch waits until this one (and all before it) is written out.
    return new Promise((resolve) => ws.send(json, () => resolve()));
  }

  private send(message: HostMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private fail(requestId: number, error: string): void {
    this.send({ type: 'result', requestId, ok: false, error });
  }
}
