/** Liveness of every WebSocket the server holds: a heartbeat that pings, drops a peer that missed its pong, and the one graceful close. */
import { WebSocket } from 'ws';

/** How long a peer gets to answer a closing handshake we start before it is cut off. */
const CLOSE_GRACE_MS = 1000;

/** How one watched peer is pinged and dropped. */
export interface WatchOptions {
  /** Sends the ping; default `ws.ping()`. A socket whose frames are recorded pings through the tap. */
  readonly ping?: () => void;
  /** What happens to a peer that missed its pong; default `ws.terminate()`. */
  readonly dead?: () => void;
  /**
   * True while we are not reading the peer (the proxy holds back an upstream its page reads too
   * slowly): its pong may be waiting unread, so it is neither pinged nor judged that round.
   */
  readonly unread?: () => boolean;
}

/** One watched peer. Its owner calls `heard` when the peer sends a message; a pong counts by itself. */
export class Watched {
  /** Heard from since the last ping (a pong or a message). */
  alive = true;

  constructor(
    readonly ws: WebSocket,
    readonly options: WatchOptions,
  ) {}

  heard(): void {
    this.alive = true;
  }
}

/**
 * One heartbeat for a set of peers (the endpoints' clients, the proxy's upstreams, the inspector
 * feeds, the reload channel's pages). Each round pings every peer heard from since the last one
 * and drops every peer that was not: a dead peer goes within two intervals. The timer runs only
 * while a peer is watched; a peer is forgotten when its socket closes.
 */
export class Liveness {
  private readonly peers = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  /** Watches `ws` until it closes. */
  watch(ws: WebSocket, options: WatchOptions = {}): Watched {
    const peer = new Watched(ws, options);
    this.peers.add(peer);
    ws.on('pong', () => peer.heard());
    ws.once('close', () => this.forget(peer));
    this.timer ??= setInterval(() => this.beat(), this.intervalMs).unref();
    return peer;
  }

  /** Stops the heartbeat (at shutdown; the owner closes its sockets). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private forget(peer: Watched): void {
    this.peers.delete(peer);
    if (this.peers.size === 0) this.stop();
  }

  /** One round. A peer that is closing is not pinged, but one that never finishes closing is dropped too. */
  private beat(): void {
    for (const peer of [...this.peers]) {
      const { ws, options } = peer;
      if (options.unread?.()) continue;
      if (peer.alive) {
        peer.alive = false;
        if (ws.readyState === WebSocket.OPEN) {
          if (options.ping === undefined) ws.ping();
          else options.ping();
        }
        continue;
      }
      this.forget(peer);
      if (options.dead === undefined) ws.terminate();
      else options.dead();
    }
  }
}

/**
 * Starts the closing handshake with `code` and `reason`, and cuts the connection off if the peer
 * has not answered within CLOSE_GRACE_MS. Resolves when the socket has closed.
 */
export function closeGracefully(ws: WebSocket, code: number, reason: string): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const cutOff = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    ws.once('close', () => {
      clearTimeout(cutOff);
      resolve();
    });
    ws.close(code, reason);
  });
}

/** Closes every socket with 1001 Going Away, as a server does when it stops; resolves when all have closed. */
export async function closeAllForShutdown(sockets: Iterable<WebSocket>): Promise<void> {
  await Promise.all([...sockets].map((ws) => closeGracefully(ws, 1001, 'Server shutting down')));
}
