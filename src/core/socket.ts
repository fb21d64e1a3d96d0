/**
 * The WebSocket endpoint: exact echo with a message size limit, backpressure, a heartbeat that
 * drops dead peers, a shutdown that closes every client with 1001, and the client API
 * (push, close, ping) the inspector drives. Every frame in and out passes the tap here.
 * Upgrade routing and the Origin check happen before this (server.ts, guard.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { MAX_CLOSE_REASON_BYTES, isSendableCloseCode } from '../protocol';
import type { Capture, ClientControl } from './capture';
import type { ServerEvents } from './events';
import { CAN_COALESCE, coalesceFragments } from './fragments';

export interface EndpointOptions {
  /** The endpoint's path as configured (decoded), e.g. `/websocket`: what clients are listed under. */
  path: string;
  /** Largest message accepted, in bytes, however it is fragmented; beyond it: close 1009. */
  maxMessageSize: number;
  /** permessage-deflate; off by default because it costs far more CPU than it saves on loopback. */
  compression: boolean;
  /** How often idle clients are pinged; a client that has not answered by the next round is dropped. */
  heartbeatMs: number;
}

/** Send options, shared by every echo (ws copies them, so one object each is enough). */
const AS_BINARY = { binary: true } as const;
const AS_TEXT = { binary: false } as const;

/** Stop reading from a client while this much of its echo is still waiting to be written. */
const WRITE_HIGH_WATER = 1024 * 1024;
/** How long a client gets to answer the closing handshake at shutdown before it is cut off. */
const CLOSE_GRACE_MS = 1000;

interface Client {
  /** The capture's id for it: the one id the log, the CLI and the inspector all show. */
  readonly id: number;
  readonly ws: WebSocket;
  readonly socket: Duplex;
  alive: boolean;
}

/**
 * The tap. Frames are recorded only `if (capture.active)`, so with no inspector attached the
 * echo path costs one boolean check and allocates nothing for capture. Clients are registered
 * (openClient/closeClient) always: one small record per connection.
 */
export class EchoEndpoint implements ClientControl {
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<number, Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxMessageSize: number;
  readonly path: string;

  constructor(
    options: EndpointOptions,
    private readonly events: ServerEvents,
    private readonly capture: Capture,
  ) {
    this.path = options.path;
    this.maxMessageSize = options.maxMessageSize;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxMessageSize,
      // Any number of fragments, as long as the message stays within maxPayload; fragments.ts
      // keeps that in bounded memory. (Without it, ws's cap of 16,384 stays.)
      ...(CAN_COALESCE ? { maxFragments: 0 } : {}),
      perMessageDeflate: options.compression ? { threshold: 1024 } : false,
    });
    this.heartbeat = setInterval(() => this.checkLiveness(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Completes the handshake (ws answers a malformed one with an HTTP status) and starts echoing. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, req));
  }

  private accept(ws: WebSocket, socket: Duplex, req: IncomingMessage): void {
    if (CAN_COALESCE && !coalesceFragments(ws, this.maxMessageSize)) {
      // Cannot happen with the ws this was built with; never hold fragments without a bound.
      ws.terminate();
      return;
    }
    const { events, capture } = this;
    const origin = req.headers.origin;
    const remote = req.socket.remoteAddress ?? '';
    const id = capture.openClient({
      endpoint: this.path,
      target: req.url ?? '',
      host: req.headers.host,
      origin,
      remote,
      userAgent: req.headers['user-agent'],
      protocol: ws.protocol === '' ? undefined : ws.protocol,
    });
    const client: Client = { id, ws, socket, alive: true };
    this.clients.set(id, client);
    tapCloseFrames(ws, id, capture);
    if (events.active) events.emit({ type: 'client-open', id, origin, remote });

    ws.on('message', (data: RawData, isBinary: boolean) => {
      client.alive = true;
      // With the default binaryType and no fragments list, data is one Buffer.
      const payload = data as Buffer;
      if (events.active) {
        const kind = isBinary ? 'binary' : 'text';
        events.emit({ type: 'frame', id, direction: 'in', size: payload.length, kind });
        events.emit({ type: 'frame', id, direction: 'out', size: payload.length, kind });
      }
      if (capture.active) {
        const kind = isBinary ? 'binary' : 'text';
        capture.frame(id, 'in', kind, payload, payload.length);
        capture.frame(id, 'out', kind, payload, payload.length);
      }
      ws.send(payload, isBinary ? AS_BINARY : AS_TEXT);
      this.applyBackpressure(ws, socket);
    });
    ws.on('ping', (data: Buffer) => {
      if (!capture.active) return;
      capture.frame(id, 'in', 'ping', data, data.length);
      // ws has already answered, unless the socket is closing (then it sends no pong).
      if (ws.readyState === WebSocket.OPEN) capture.frame(id, 'out', 'pong', data, data.length);
    });
    ws.on('pong', (data: Buffer) => {
      client.alive = true;
      if (capture.active) capture.frame(id, 'in', 'pong', data, data.length);
    });
    ws.on('error', (error: Error) => {
      // ws has already chosen the close code (1002, 1007, 1009); the server carries on.
      if (events.active) events.emit({ type: 'error', message: `client #${id}: ${error.message}`, error });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.clients.delete(id);
      const text = reason.toString();
      capture.closeClient(id, code, text);
      if (events.active) events.emit({ type: 'client-close', id, code, reason: text });
    });
  }

  // ---- The client API (ClientControl): what the inspector asks for ------------------------------

  send(id: number, data: string | Buffer, binary: boolean): boolean {
    const client = this.openClient(id);
    if (client === undefined) return false;
    this.push(client, typeof data === 'string' ? Buffer.from(data) : data, binary);
    return true;
  }

  sendToEndpoint(path: string, data: string | Buffer, binary: boolean): number {
    if (path !== this.path) return 0;
    const payload = typeof data === 'string' ? Buffer.from(data) : data; // one buffer for all: ws does not copy it
    let sent = 0;
    for (const client of this.clients.values()) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      this.push(client, payload, binary);
      sent++;
    }
    return sent;
  }

  close(id: number, code: number, reason: string): boolean {
    if (!isSendableCloseCode(code)) throw new RangeError(`close code ${code} cannot be sent: use 1000–1003, 1007–1014 or 3000–4999`);
    if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) throw new RangeError(`a close reason is at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
    const client = this.openClient(id);
    if (client === undefined) return false;
    client.ws.close(code, reason); // recorded by tapCloseFrames
    return true;
  }

  ping(id: number): boolean {
    const client = this.openClient(id);
    if (client === undefined) return false;
    this.sendPing(client);
    return true;
  }

  private openClient(id: number): Client | undefined {
    const client = this.clients.get(id);
    return client !== undefined && client.ws.readyState === WebSocket.OPEN ? client : undefined;
  }

  /** A message the server sends of its own accord: through the tap like an echo. */
  private push(client: Client, payload: Buffer, binary: boolean): void {
    const kind = binary ? 'binary' : 'text';
    if (this.events.active) this.events.emit({ type: 'frame', id: client.id, direction: 'out', size: payload.length, kind });
    if (this.capture.active) this.capture.frame(client.id, 'out', kind, payload, payload.length);
    client.ws.send(payload, binary ? AS_BINARY : AS_TEXT);
  }

  private sendPing(client: Client): void {
    if (this.capture.active) this.capture.frame(client.id, 'out', 'ping', undefined, 0);
    client.ws.ping();
  }

  /** A peer that sends faster than it reads must not make us buffer without bound. */
  private applyBackpressure(ws: WebSocket, socket: Duplex): void {
    if (socket.writableLength <= WRITE_HIGH_WATER || ws.isPaused) return;
    ws.pause();
    socket.once('drain', () => {
      if (ws.readyState === WebSocket.OPEN) ws.resume();
    });
  }

  private checkLiveness(): void {
    for (const client of this.clients.values()) {
      if (!client.alive) {
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      if (client.ws.readyState === WebSocket.OPEN) this.sendPing(client);
    }
  }

  /** Closes every client with 1001 and resolves when all of them are gone. */
  async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    const closing = [...this.clients.values()].map(
      ({ ws }) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(1001, 'Server shutting down');
          setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
        }),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/**
 * Records the close frames of one client as they cross the wire, both ways, whoever starts the
 * closing handshake: the peer (ws answers with the same code), the server (a protocol error,
 * the inspector, shutdown).
 * - Out: `ws.close()` is what ws itself calls for each of those, so this instance's close is
 *   wrapped; it records only a call that sends a frame (the socket was still open).
 * - In: ws tells only when the socket has closed (too late to keep the order: the peer's close
 *   comes before our answer). Its receiver (ws 8.x, pinned) emits 'conclude' when the frame is
 *   read; our listener goes first, so the peer's close is recorded before ws answers it. If a ws
 *   upgrade changes that, the close event records it instead (with a later time).
 */
function tapCloseFrames(ws: WebSocket, id: number, capture: Capture): void {
  ws.close = (code?: number, reason?: string | Buffer): void => {
    const sends = ws.readyState === WebSocket.OPEN;
    WebSocket.prototype.close.call(ws, code, reason);
    // Without a code, ws sends a close frame with no payload: no status (1005), no reason.
    if (sends && capture.active) capture.closeFrame(id, 'out', code ?? 1005, code === undefined || reason === undefined ? '' : reason.toString());
  };
  const receiver = (ws as unknown as { _receiver?: { prependListener?: unknown } })._receiver;
  if (receiver !== undefined && typeof receiver.prependListener === 'function') {
    (receiver as NodeJS.EventEmitter).prependListener('conclude', (code: number, reason: Buffer) => {
      if (capture.active) capture.closeFrame(id, 'in', code, reason.toString());
    });
  } else {
    ws.once('close', (code: number, reason: Buffer) => {
      // 1006: the connection ended without a close frame.
      if (code !== 1006 && capture.active) capture.closeFrame(id, 'in', code, reason.toString());
    });
  }
}
