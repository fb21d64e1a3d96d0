/**
 * Live reload's channel at /__echo-preview/reload (a WebSocket on the server's own port, never
 * an endpoint client; the tag that loads its client is inject.ts's). A batch of changed files
 * becomes one message: swap the stylesheets when only CSS changed, else reload every page. The channel also tells each page
 * the origins of the editor's own panels (`parents`): the only parents its client tells where it is.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { RESERVED_PREFIX } from '../reserved';
import { WsAcceptor, type Door } from '../ws/accept';
import { closeAllForShutdown, Liveness } from '../ws/liveness';

export const RELOAD_CHANNEL_PATH = `${RESERVED_PREFIX}reload`;

/** The largest message the channel takes (its client sends none): beyond it, close 1009. */
export const RELOAD_MAX_PAYLOAD = 1024;
/** How far file times may lag behind Date.now() (Linux's coarse clock ticks every 1-10 ms). */
const COARSE_CLOCK_MS = 20;
/** How many entries the restart check looks at before it answers "changed" to be safe. */
const MAX_SCANNED = 200_000;

/** Names editors leave behind while saving by rename (vim's 4913 and `~`, JetBrains, `.tmp`). */
const LEFTOVER = /(?:~|\.tmp|\.swp|\.swx|\.bak|___jb_(?:tmp|old)___)$|^\d+$/i;

export type ReloadMessage =
  | { type: 'hello'; instance: string; now: number; stale: boolean; parents: string[] }
  /** The editor's panel origins changed (a panel registered its origin, or went). */
  | { type: 'parents'; parents: string[] }
  | { type: 'reload'; now: number; paths: string[] }
  | { type: 'css'; now: number; paths: string[] };

export class ReloadChannel {
  /** Differs in every server run, so a page that reconnects can tell a restart from a blip. */
  readonly instance = randomBytes(12).toString('base64url');
  private readonly acceptor = new WsAcceptor({ maxPayload: RELOAD_MAX_PAYLOAD, perMessageDeflate: false });
  private readonly clients = new Set<WebSocket>();
  /** Drops a page that stopped answering pings (a sleeping laptop, a killed tab). */
  private readonly liveness: Liveness;
  /** Server time of the last change that was announced (0: none this run). */
  private lastChangeAt = 0;
  private newestOnDisk: Promise<number> | undefined;
  /** Messages sent (for tests and diagnostics). */
  sent = 0;

  constructor(
    private readonly realRoot: string,
    /** True for root-relative paths the watcher ignores (so the restart check skips them too). */
    private readonly ignores: (relative: string) => boolean,
    heartbeatMs: number,
    /**
     * The origins of the editor's own panels (its preview among them): a page in a frame tells
     * only a parent of one of these origins where it is, never a site that frames it.
     */
    private readonly parents: () => string[] = () => [],
  ) {
    this.liveness = new Liveness(heartbeatMs);
  }

  /** Pages connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Completes the handshake; the caller has checked Host, `door` admits (own Origin). `search` is the query (`?instance=…&since=…`). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, search: string, door: Door): void {
    this.acceptor.accept(req, socket, head, door, (ws) => {
      this.clients.add(ws);
      this.liveness.watch(ws);
      ws.on('message', () => undefined); // the client sends nothing; anything it does is ignored
      ws.once('close', () => this.clients.delete(ws));
      void this.greet(ws, new URLSearchParams(search));
    });
  }

  /** Announces a batch of changed real paths (from the watcher or the editor's buffers). */
  async announce(realPaths: readonly string[]): Promise<void> {
    const exists = await Promise.all(realPaths.map((p) => fs.promises.lstat(p).then(() => true, () => false)));
    const present = realPaths.filter((_, i) => exists[i]);
    // A save by rename leaves a temporary name that is gone by now: it is no change of its own.
    const relevant = realPaths.filter((p, i) => exists[i] || !isLeftover(p, present));
    if (relevant.length === 0) return;
    this.lastChangeAt = Date.now();
    const paths = relevant.map((p) => this.urlPath(p));
    const cssOnly = relevant.every((p) => p.toLowerCase().endsWith('.css'));
    this.broadcast({ type: cssOnly ? 'css' : 'reload', now: this.lastChangeAt, paths });
  }

  /** The editor's panel origins changed: every page hears the new list. */
  parentsChanged(): void {
    this.broadcast({ type: 'parents', parents: this.parents() });
  }

  /** Closes every page's channel with 1001 (they reconnect to the next run) and resolves when they are gone. */
  async close(): Promise<void> {
    this.liveness.stop();
    await closeAllForShutdown(this.clients);
    await this.acceptor.close();
  }

  private async greet(ws: WebSocket, query: URLSearchParams): Promise<void> {
    const since = Number(query.get('since'));
    let stale = false;
    if (query.has('instance') && Number.isFinite(since)) {
      // File times come from the kernel's coarse clock, a few ms behind Date.now(): a margin,
      // so a change just after the page's last news is not missed (at worst one extra reload).
      stale = this.lastChangeAt > since || (query.get('instance') !== this.instance && (await this.newestChange()) > since - COARSE_CLOCK_MS);
    }
    this.send(ws, { type: 'hello', instance: this.instance, now: Date.now(), stale, parents: this.parents() });
  }

  /**
   * The newest ctime under the root (files and folders, what the watcher does not ignore), read
   * once per run: what a page that was open before this run compares with its last news.
   */
  private newestChange(): Promise<number> {
    this.newestOnDisk ??= newestCtime(this.realRoot, this.ignores);
    return this.newestOnDisk;
  }

  private broadcast(message: ReloadMessage): void {
    for (const ws of this.clients) this.send(ws, message);
  }

  private send(ws: WebSocket, message: ReloadMessage): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    this.sent++;
    ws.send(JSON.stringify(message));
  }

  /** `/a b/c.css` for `<root>/a b/c.css`: the decoded URL path the page compares with its links. */
  private urlPath(realPath: string): string {
    return '/' + path.relative(this.realRoot, realPath).split(path.sep).join('/');
  }
}

/** A temporary name from a save by rename: a known leftover name, or an existing file's name plus something. */
function isLeftover(realPath: string, present: readonly string[]): boolean {
  const name = path.basename(realPath);
  return LEFTOVER.test(name) || present.some((p) => path.dirname(p) === path.dirname(realPath) && name.startsWith(path.basename(p)));
}

async function newestCtime(root: string, ignores: (relative: string) => boolean): Promise<number> {
  let newest = 0;
  let scanned = 0;
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
      newest = Math.max(newest, (await fs.promises.lstat(dir)).ctimeMs);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (ignores(path.relative(root, full).split(path.sep).join('/'))) continue;
      if (++scanned > MAX_SCANNED) return Infinity; // too big to check: say "changed", one reload
      if (entry.isDirectory()) queue.push(full);
      else newest = Math.max(newest, await fs.promises.lstat(full).then((s) => s.ctimeMs, () => 0));
    }
  }
  return newest;
}

/**
 * True when `origin` is the origin of the request's own Host (which the Host guard accepted): the
 * page and the channel are on one origin as the browser sees it, as behind a port forwarder
 * (`https://name-8080.app.github.dev`) or a path-prefix proxy that keeps the Host.
 */
export function originIsHost(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined || host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin.trim().replace(/\/$/, '') && url.host === host.trim().toLowerCase();
  } catch {
    return false;
  }
}
