/**
 * The endpoint hub: every WebSocket client of every endpoint, whatever its reply mode
 * (endpoints/). It owns the handshake, a message size limit, backpressure, the clients' liveness
 * (liveness.ts), a shutdown that closes every client with 1001, and the client API (push, close,
 * ping) the inspector drives. Every frame in and out passes the tap (tap.ts) on its way; a mode
 * only decides what to answer (endpoints/types.ts). Upgrade routing and the Origin check happen
 * before this (upgrade.ts, guard.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import { MAX_CLOSE_REASON_BYTES, isSendableCloseCode } from '../../shared/protocol';
import type { Capture, ClientControl, ClientInfo } from '../capture/capture';
import { modeOf } from '../endpoints';
import type { Admission, Endpoint, EndpointClient, EndpointConfig, EndpointContext, EndpointMode, EndpointSpec, Handshake, LegControl } from '../endpoints/types';
import type { ServerEvents } from '../events/events';
import { CAN_COALESCE, coalesceFragments } from './fragments';
import { closeAllForShutdown, Liveness } from './liveness';
import { Tap, type TappedSocket } from './tap';
import { WsAcceptor, type Door, type Refusal } from './accept';
import { isWsPath } from './paths';

export interface HubOptions {
  /** Largest message accepted, in bytes, however it is fragmented; beyond it: close 1009. */
  maxMessageSize: number;
  /** permessage-deflate; off by default because it costs far more CPU than it saves on loopback. */
  compression: boolean;
  /** How often idle clients are pinged; a client that has not answered by the next round is dropped. */
  heartbeatMs: number;
  /** How long a proxy's upstream gets to answer its handshake (then 504). */
  upstreamTimeoutMs: number;
}

/** Stop reading from a sender while this much of what it caused is still waiting to be written. */
const WRITE_HIGH_WATER = 1024 * 1024;

/** A handshake for a path that has no endpoint (any more). */
const NO_ENDPOINT: Refusal = { status: 404, reason: 'There is no WebSocket endpoint at this path.', what: 'path' };

/** One path's endpoint and its clients; the slot outlives a change of mode, so its clients stay. */
interface Slot {
  readonly path: string;
  mode: EndpointMode;
  endpoint: Endpoint;
  readonly clients: Map<number, Client>;
  readonly context: EndpointContext;
  /** Removed from the config: its clients are closing, its endpoint is disposed. */
  retired: boolean;
}

/**
 * The endpoints and their clients. Clients are registered in the capture always (one small record
 * per connection); their frames only while someone looks (tap.ts).
 */
export class EndpointHub implements ClientControl {
  private readonly acceptor: WsAcceptor;
  /** Each socket's capture id, for its error reports. */
  private readonly ids = new WeakMap<WebSocket, number>();
  private readonly slots = new Map<string, Slot>();
  private readonly clients = new Map<number, Client>();
  /** Connections a mode owns that the client API reaches too (the proxy's upstream legs), by capture id. */
  private readonly legs = new Map<number, LegControl>();
  private readonly heartbeatMs: number;
  private readonly upstreamTimeoutMs: number;
  private readonly liveness: Liveness;
  private readonly tap: Tap;
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  /** The client whose message is being handled, and the clients it made us write too much to. */
  private dispatching: Client | undefined;
  private readonly congested = new Set<Client>();
  readonly maxMessageSize: number;

  constructor(
    options: HubOptions,
    private readonly events: ServerEvents,
    capture: Capture,
  ) {
    this.tap = new Tap(events, capture);
    this.liveness = new Liveness(options.heartbeatMs);
    this.maxMessageSize = options.maxMessageSize;
    this.heartbeatMs = options.heartbeatMs;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs;
    this.acceptor = new WsAcceptor({
      maxPayload: options.maxMessageSize,
      // Any number of fragments, as long as the message stays within maxPayload; fragments.ts
      // keeps that in bounded memory. (Without it, ws's cap of 16,384 stays.)
      ...(CAN_COALESCE ? { maxFragments: 0 } : {}),
      perMessageDeflate: options.compression ? { threshold: 1024 } : false,
      // The endpoint's choice (accept), else the first one offered, as ws does by itself.
      handleProtocols: (offered: Set<string>, req: IncomingMessage) => {
        const chosen = this.chosenProtocol.get(req);
        if (chosen !== undefined) return chosen === '' ? false : chosen;
        return offered.values().next().value ?? false;
      },
    }, (error, ws) => {
      // ws has already chosen the close code (1002, 1007, 1009); the server carries on.
      if (events.active) events.emit({ type: 'error', message: `client #${this.ids.get(ws) ?? '?'}: ${error.message}`, error });
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The endpoints now, in config order. */
  get endpoints(): readonly { path: string; mode: EndpointMode }[] {
    return [...this.slots.values()].map(({ path, mode }) => ({ path, mode }));
  }

  /** The configured path a request path (as sent, percent-encoded) is, or undefined. */
  route(requestPathname: string): string | undefined {
    if (this.slots.has(requestPathname)) return requestPathname;
    for (const path of this.slots.keys()) if (isWsPath(requestPathname, path)) return path;
    return undefined;
  }

  /**
   * Makes the endpoints these specs describe, keeping every client connected whose path stays:
   * the same mode is reconfigured in place, a new mode takes over the path's clients. Clients of
   * a path no longer configured are closed with 1001.
   */
  apply(specs: readonly EndpointSpec[]): void {
    const wanted = new Set(specs.map((spec) => spec.path));
    for (const slot of [...this.slots.values()]) {
      if (wanted.has(slot.path)) continue;
      this.slots.delete(slot.path);
      slot.retired = true;
      this.safely(slot, () => slot.endpoint.dispose());
      for (const client of slot.clients.values()) client.close(1001, 'This endpoint was removed from the config');
    }
    const kept = new Map(this.slots);
    this.slots.clear(); // re-inserted in the config's order
    for (const { path, config } of specs) {
      const slot = kept.get(path);
      if (slot === undefined) {
        const context = this.contextFor(path, () => created);
        const created: Slot = { path, mode: config.mode, endpoint: this.create(config, context), clients: new Map(), context, retired: false };
        this.slots.set(path, created);
        continue;
      }
      this.slots.set(path, slot);
      if (slot.mode === config.mode) {
        this.safely(slot, () => slot.endpoint.reconfigure(config));
        continue;
      }
      this.safely(slot, () => slot.endpoint.dispose());
      slot.mode = config.mode;
      slot.endpoint = this.create(config, slot.context);
      for (const client of slot.clients.values()) this.safely(slot, () => slot.endpoint.opened(client, true));
    }
  }

  /**
   * Completes the handshake for the endpoint at `path` (from route) once `door` admits it (the
   * Origin rule) and then the endpoint's accept, if it has one; a refusal is answered with its
   * HTTP status (accept.ts), and an endpoint's own refusal is in the capture too, so the inspector
   * shows it and why. ws answers a malformed handshake before any of this.
   */
  handleUpgrade(path: string, req: IncomingMessage, socket: Duplex, head: Buffer, door: Door): void {
    const handshake: Handshake = {
      target: req.url ?? '',
      protocols: offeredProtocols(req.headers['sec-websocket-protocol']),
      headers: req.headers,
      origin: req.headers.origin,
      remote: req.socket.remoteAddress ?? '',
    };
    const admit = (): Refusal | undefined | Promise<Refusal | undefined> => {
      const first = door.admit?.();
      if (first instanceof Promise) return first.then((refusal) => refusal ?? this.admit(path, req, handshake));
      return first ?? this.admit(path, req, handshake);
    };
    this.acceptor.accept(req, socket, head, { admit, refused: door.refused }, (ws) => {
      const current = this.slots.get(path); // admitted in this same turn, so still there
      if (current === undefined) return void ws.terminate();
      this.accept(current, ws, socket, req, handshake);
    });
  }

  /** The endpoint's own say on a handshake (its accept), with the path still configured when it has decided. */
  private admit(path: string, req: IncomingMessage, handshake: Handshake): Refusal | undefined | Promise<Refusal | undefined> {
    const slot = this.slots.get(path);
    if (slot === undefined) return NO_ENDPOINT;
    const { endpoint } = slot;
    if (endpoint.accept === undefined) return undefined;
    /** A refused handshake: in the capture (through the tap), and a `refused` event unless it is an error already reported (5xx). */
    const refused = (status: number, reason: string): Refusal => {
      this.tap.refused(pageInfo(path, req, handshake, undefined), status, reason);
      return { status, reason, what: status >= 500 ? undefined : 'path' };
    };
    const decide = (admission: Admission): Refusal | undefined => {
      if ('refuse' in admission) return refused(admission.refuse.status, admission.refuse.reason);
      if (admission.protocol !== undefined) this.chosenProtocol.set(req, admission.protocol);
      return this.slots.has(path) ? undefined : NO_ENDPOINT; // the config may have changed meanwhile
    };
    const fail = (error: unknown): Refusal => {
      slot.context.report(`${path}: accepting a client failed: ${String(error)}`, error);
      return refused(500, 'The endpoint failed to accept this client.');
    };
    try {
      const admission = endpoint.accept(handshake);
      // As in the synchronous case: a throw while deciding fails this client only.
      if (admission instanceof Promise) return admission.then(decide).catch(fail);
      return decide(admission);
    } catch (error) {
      return fail(error);
    }
  }

  private create(config: EndpointConfig, context: EndpointContext): Endpoint {
    const definition = modeOf(config.mode);
    if (definition === undefined) throw new Error(`mode ${config.mode} is not available in this build`); // config.ts refuses it first
    return definition.create(config, context);
  }

  /** The context of the endpoint at `path`; `slot` is its slot (whose mode may change), for `contain`. */
  private contextFor(path: string, slot: () => Slot): EndpointContext {
    const report = (message: string, error?: unknown): void => {
      if (this.events.active) this.events.emit({ type: 'error', message, error });
    };
    return {
      path,
      maxMessageSize: this.maxMessageSize,
      clients: () => this.openClientsOf(path),
      sendAll: (data, binary, except) => {
        const slot = this.slots.get(path);
        if (slot === undefined) return 0;
        const payload = typeof data === 'string' ? Buffer.from(data) : data; // one buffer for all: ws does not copy it
        let sent = 0;
        for (const client of slot.clients.values()) {
          if (client !== except && client.send(payload, binary)) sent++;
        }
        return sent;
      },
      report,
      contain: (call) => {
        try {
          call();
        } catch (error) {
          report(`${path} (${slot().mode}): ${String(error)}`, error);
        }
      },
      heartbeatMs: this.heartbeatMs,
      upstreamTimeoutMs: this.upstreamTimeoutMs,
      tapUpstream: (ws, url, peer) => this.tap.upstream(ws, path, url, peer.id),
      control: (id, leg) => {
        this.legs.set(id, leg);
        return {
          dispose: () => {
            if (this.legs.get(id) === leg) this.legs.delete(id);
          },
        };
      },
    };
  }

  private *openClientsOf(path: string): IterableIterator<EndpointClient> {
    const slot = this.slots.get(path);
    if (slot === undefined) return;
    for (const client of slot.clients.values()) if (client.isOpen) yield client;
  }

  /** Runs one call into a mode; a throw is logged and the server carries on (the context's `contain`, which the mode's timers use too). */
  private safely(slot: Slot, call: () => void): void {
    slot.context.contain(call);
  }

  private accept(slot: Slot, ws: WebSocket, socket: Duplex, req: IncomingMessage, handshake: Handshake): void {
    if (CAN_COALESCE && !coalesceFragments(ws, this.maxMessageSize)) {
      // Cannot happen with the ws this was built with; never hold fragments without a bound.
      ws.terminate();
      return;
    }
    const line = this.tap.page(ws, pageInfo(slot.path, req, handshake, ws.protocol === '' ? undefined : ws.protocol));
    const { id } = line;
    this.ids.set(ws, id);
    const client = new Client(line, socket, handshake, this);
    slot.clients.set(id, client);
    this.clients.set(id, client);
    const peer = this.liveness.watch(ws, { ping: () => line.ping() });
    line.opened();
    this.safely(slot, () => slot.endpoint.opened(client, false));

    ws.on('message', (data: RawData, isBinary: boolean) => {
      peer.heard();
      // With the default binaryType and no fragments list, data is one Buffer.
      const payload = data as Buffer;
      line.received(payload, isBinary);
      const current = this.slots.get(slot.path);
      if (current !== slot) return; // its endpoint was removed; the client is closing
      this.dispatching = client;
      this.safely(slot, () => slot.endpoint.message(client, payload, isBinary));
      this.dispatching = undefined;
      this.holdBackSender(client);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      slot.clients.delete(id);
      this.clients.delete(id);
      const text = reason.toString();
      line.closed(code, text);
      if (!slot.retired) this.safely(slot, () => slot.endpoint.closed(client, code, text));
    });
  }

  /** Called by a client's send: note a recipient that the message being handled has backed up. */
  noteWrite(client: Client): void {
    if (this.dispatching !== undefined && client.bufferedAmount > WRITE_HIGH_WATER) this.congested.add(client);
  }

  /** A peer that sends faster than its recipients read must not make us buffer without bound. */
  private holdBackSender(sender: Client): void {
    if (this.congested.size === 0) return;
    for (const recipient of this.congested) {
      sender.pause();
      recipient.onDrain(() => sender.resume());
    }
    this.congested.clear();
  }

  // ---- The client API (ClientControl): what the inspector asks for ------------------------------

  send(id: number, data: string | Buffer, binary: boolean): boolean {
    const client = this.clients.get(id);
    if (client !== undefined) return client.send(data, binary);
    return this.legs.get(id)?.send(typeof data === 'string' ? Buffer.from(data) : data, binary) ?? false;
  }

  sendToEndpoint(path: string, data: string | Buffer, binary: boolean): number {
    return this.slots.get(path)?.context.sendAll(data, binary) ?? 0;
  }

  close(id: number, code: number, reason: string): boolean {
    checkClose(code, reason);
    return (this.clients.get(id) ?? this.legs.get(id))?.close(code, reason) ?? false;
  }

  ping(id: number): boolean {
    const client = this.clients.get(id);
    if (client === undefined) return this.legs.get(id)?.ping() ?? false;
    if (!client.isOpen) return false;
    client.line.ping();
    return true;
  }

  /** Closes every client with 1001, disposes every endpoint and resolves when all clients are gone. */
  async shutdown(): Promise<void> {
    this.liveness.stop();
    await closeAllForShutdown([...this.clients.values()].map((client) => client.ws));
    for (const slot of this.slots.values()) {
      slot.retired = true;
      this.safely(slot, () => slot.endpoint.dispose());
    }
    this.slots.clear();
    await this.acceptor.close();
  }
}

/** One connected client: what a mode sends through (EndpointClient); its frames pass the tap. */
class Client implements EndpointClient {
  readonly id: number;
  readonly ws: WebSocket;
  private pauses = 0;

  constructor(
    readonly line: TappedSocket,
    private readonly socket: Duplex,
    readonly handshake: Handshake,
    private readonly hub: EndpointHub,
  ) {
    this.id = line.id;
    this.ws = line.ws;
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  send(data: Buffer | string, binary: boolean): boolean {
    if (!this.isOpen) return false;
    this.line.send(typeof data === 'string' ? Buffer.from(data) : data, binary);
    this.hub.noteWrite(this);
    return true;
  }

  close(code: number, reason: string): boolean {
    checkClose(code, reason);
    if (!this.isOpen) return false;
    this.ws.close(code, reason); // recorded by the tap
    return true;
  }

  pause(): void {
    if (this.pauses++ === 0) this.ws.pause();
  }

  resume(): void {
    if (this.pauses === 0) return;
    if (--this.pauses === 0 && this.isOpen) this.ws.resume();
  }

  onDrain(callback: () => void): void {
    const { socket } = this;
    if (socket.writableLength <= WRITE_HIGH_WATER || socket.destroyed) return callback();
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      callback();
    };
    socket.on('drain', done);
    socket.on('close', done);
  }
}

function checkClose(code: number, reason: string): void {
  if (!isSendableCloseCode(code)) throw new RangeError(`close code ${code} cannot be sent: use 1000–1003, 1007–1014 or 3000–4999`);
  if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) throw new RangeError(`a close reason is at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
}

/** The subprotocols of a Sec-WebSocket-Protocol header, in order. */
/** What the capture keeps of a page client's handshake at `path`. */
function pageInfo(path: string, req: IncomingMessage, handshake: Handshake, protocol: string | undefined): ClientInfo {
  return { endpoint: path, target: handshake.target, host: req.headers.host, origin: handshake.origin, remote: handshake.remote, userAgent: req.headers['user-agent'], protocol };
}

function offeredProtocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}
