/** THE tap: the one place that records WebSocket traffic, every frame of every mode and leg, into the capture and the events. */
import { WebSocket } from 'ws';
import type { Capture, ClientInfo } from '../capture/capture';
import type { ServerEvents } from '../events/events';

/*
 * The rule: nothing but this module writes to the capture's clients and frames (`openClient`,
 * `frame`, `closeFrame`, `closeClient`, `refuseClient`) or emits `client-open`, `frame` and
 * `client-close` events. Whoever owns a WebSocket hands it to the tap once, `page` for an
 * endpoint's client (hub.ts) and `upstream` for the proxy's upstream leg (endpoints/proxy.ts,
 * through EndpointContext.tapUpstream), and from then on:
 * - in: calls `received` first thing in its one 'message' listener (before it answers, so the
 *   capture shows a message before its reply);
 * - out: sends and pings through `send` and `ping`, never `ws.send`/`ws.ping`;
 * - closing: calls `ws.close()` as it likes (ws calls it itself too: the tap wraps it);
 * - gone: calls `closed` in its 'close' listener, after its own bookkeeping.
 * Pings, pongs and close frames crossing the wire either way the tap sees by itself.
 *
 * A page client's connection and data frames are also events (the log, the CLI, the status bar);
 * an upstream leg is in the capture only. Free when unused: every record is behind
 * `capture.active` / `events.active`, so with no inspector and no log a message costs two boolean
 * checks and allocates nothing here.
 */

/** Send options, shared by every send (ws copies them, so one object each is enough). */
const AS_BINARY = { binary: true } as const;
const AS_TEXT = { binary: false } as const;

export class Tap {
  constructor(
    private readonly events: ServerEvents,
    private readonly capture: Capture,
  ) {}

  /** A page client whose handshake completed: in the capture from now on; its `opened` tells the events. */
  page(ws: WebSocket, info: ClientInfo): TappedSocket {
    return new TappedSocket(ws, this.capture.openClient(info), this.capture, this.events, info);
  }

  /** The proxy's connection to `url` for page client `peer` of `endpoint`: a client of its own in the capture, marked as the upstream leg. */
  upstream(ws: WebSocket, endpoint: string, url: string, peer: number): TappedSocket {
    const { host } = new URL(url);
    const info: ClientInfo = {
      endpoint,
      target: url,
      host,
      origin: undefined,
      remote: host,
      userAgent: undefined,
      protocol: ws.protocol === '' ? undefined : ws.protocol,
      leg: 'upstream',
      peer,
    };
    return new TappedSocket(ws, this.capture.openClient(info), this.capture, undefined, info);
  }

  /** A handshake that was answered with an HTTP status instead, and why: the inspector shows it. */
  refused(info: ClientInfo, status: number, reason: string): void {
    this.capture.refuseClient(info, status, reason);
  }
}

/** One recorded connection, a page's or an upstream's, as its owner sends and receives through it. */
export class TappedSocket {
  constructor(
    readonly ws: WebSocket,
    /** The capture's id: the one id the log, the CLI and the inspector show. */
    readonly id: number,
    private readonly capture: Capture,
    /** A page client's events; none for an upstream leg. */
    private readonly events: ServerEvents | undefined,
    private readonly info: ClientInfo,
  ) {
    tapPingPong(ws, id, capture);
    tapCloseFrames(ws, id, capture);
  }

  /** The owner has registered the client (so a listener of the event counts it). */
  opened(): void {
    const { events } = this;
    if (events !== undefined && events.active) events.emit({ type: 'client-open', id: this.id, origin: this.info.origin, remote: this.info.remote });
  }

  /** One whole message arrived. */
  received(payload: Buffer, isBinary: boolean): void {
    const { events, capture } = this;
    if (events !== undefined && events.active) events.emit({ type: 'frame', id: this.id, direction: 'in', size: payload.length, kind: isBinary ? 'binary' : 'text' });
    if (capture.active) capture.frame(this.id, 'in', isBinary ? 'binary' : 'text', payload, payload.length);
  }

  /** Sends one message (the caller has checked that the socket is open); `written` as ws's send callback. */
  send(payload: Buffer, binary: boolean, written?: (error?: Error) => void): void {
    const { events, capture } = this;
    if (events !== undefined && events.active) events.emit({ type: 'frame', id: this.id, direction: 'out', size: payload.length, kind: binary ? 'binary' : 'text' });
    if (capture.active) capture.frame(this.id, 'out', binary ? 'binary' : 'text', payload, payload.length);
    this.ws.send(payload, binary ? AS_BINARY : AS_TEXT, written);
  }

  /** Sends a ping (the caller has checked that the socket is open). */
  ping(): void {
    if (this.capture.active) this.capture.frame(this.id, 'out', 'ping', undefined, 0);
    this.ws.ping();
  }

  /** The socket has closed: the client's record ends. */
  closed(code: number, reason: string): void {
    this.capture.closeClient(this.id, code, reason);
    const { events } = this;
    if (events !== undefined && events.active) events.emit({ type: 'client-close', id: this.id, code, reason });
  }
}

/** Pings and pongs both ways. ws answers a ping by itself; that pong is recorded as sent. */
function tapPingPong(ws: WebSocket, id: number, capture: Capture): void {
  ws.on('ping', (data: Buffer) => {
    if (!capture.active) return;
    capture.frame(id, 'in', 'ping', data, data.length);
    // ws has already answered, unless the socket is closing (then it sends no pong).
    if (ws.readyState === WebSocket.OPEN) capture.frame(id, 'out', 'pong', data, data.length);
  });
  ws.on('pong', (data: Buffer) => {
    if (capture.active) capture.frame(id, 'in', 'pong', data, data.length);
  });
}

/**
 * Records the close frames of one connection as they cross the wire, both ways, whoever starts
 * the closing handshake: the peer (ws answers with the same code), us (a protocol error, the
 * inspector, the owner, shutdown).
 * - Out: `ws.close()` is what ws itself calls for each of those, so this instance's close is
 *   wrapped; it records only a call that sends a frame (the socket was still open).
 * - In: ws tells only when the socket has closed (too late to keep the order: the peer's close
 *   comes before our answer). Its receiver (ws 8.23.0, pinned: see fragments.ts) emits 'conclude' when the frame is
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
