/**
 * The WebSocket endpoint: exact echo with a message size limit, backpressure, a heartbeat that
 * drops dead peers, and a shutdown that closes every client with 1001.
 * Upgrade routing and the Origin check happen before this (server.ts, guard.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { ServerEvents } from './events';
import { CAN_COALESCE, coalesceFragments } from './fragments';

export interface EndpointOptions {
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
  id: number;
  alive: boolean;
  socket: Duplex;
}

export class EchoEndpoint {
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<WebSocket, Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 1;
  private readonly maxMessageSize: number;

  constructor(options: EndpointOptions, private readonly events: ServerEvents) {
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
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, origin: string | undefined): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, origin, req.socket.remoteAddress ?? ''));
  }

  private accept(ws: WebSocket, socket: Duplex, origin: string | undefined, remote: string): void {
    if (CAN_COALESCE && !coalesceFragments(ws, this.maxMessageSize)) {
      // Cannot happen with the ws this was built with; never hold fragments without a bound.
      ws.terminate();
      return;
    }
    const client: Client = { id: this.nextId++, alive: true, socket };
    this.clients.set(ws, client);
    const events = this.events;
    if (events.active) events.emit({ type: 'client-open', id: client.id, origin, remote });

    ws.on('message', (data: RawData, isBinary: boolean) => {
      client.alive = true;
      // With the default binaryType and no fragments list, data is one Buffer.
      const payload = data as Buffer;
      if (events.active) {
        const kind = isBinary ? 'binary' : 'text';
        events.emit({ type: 'frame', id: client.id, direction: 'in', size: payload.length, kind });
        events.emit({ type: 'frame', id: client.id, direction: 'out', size: payload.length, kind });
      }
      ws.send(payload, isBinary ? AS_BINARY : AS_TEXT);
      this.applyBackpressure(ws, socket);
    });
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('error', (error: Error) => {
      // ws has already chosen the close code (1002, 1007, 1009); the server carries on.
      if (events.active) events.emit({ type: 'error', message: `client #${client.id}: ${error.message}`, error });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.clients.delete(ws);
      if (events.active) events.emit({ type: 'client-close', id: client.id, code, reason: reason.toString() });
    });
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
    for (const [ws, client] of this.clients) {
      if (!client.alive) {
        ws.terminate();
        continue;
      }
      client.alive = false;
      ws.ping();
    }
  }

  /** Closes every client with 1001 and resolves when all of them are gone. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    const closing = [...this.clients.keys()].map(
      (ws) =>
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
