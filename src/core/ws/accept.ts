/**
 * The one door for every WebSocket the product accepts or opens: each ws server is made here
 * and completes its handshakes here, the proxy's upstream connections are opened here, and each
 * socket, raw or WebSocket, gets its error handling once, before it can emit anything.
 *
 * What a socket error does: ws has already started closing the socket with the code the error
 * calls for (1009 message too big, 1007 invalid UTF-8, 1002 any other protocol error; it does so
 * whether or not anyone listens, but without a listener the 'error' event ends the process).
 * Here the error is handed to the path's reporter, if it has one (the endpoints report to the
 * server's events; the live reload channel and the inspector feed have no log), and nothing is
 * thrown: not by ws, not by the reporter, not by the code a path runs when it accepts a socket.
 *
 * How a handshake is refused: ws checks what RFC 6455 asks of it (GET, the key, the version, the
 * subprotocol and extension headers) and tells us through its `wsClientError` hook, where the
 * refusal gets our own status, reason and headers (ws's own answer has neither nosniff nor Allow).
 * Then its `verifyClient` hook runs the two checks ws does not make (below), then the path's own
 * `admit` (the Origin rule, an endpoint's accept); a refusal there is written by ws with our
 * status, reason and headers. `handleProtocols` stays the hub's (the endpoint's chosen subprotocol).
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ClientOptions, type ServerOptions } from 'ws';
import type { Verdict } from '../guard';
import { refusalBody, refusalHeaders, refuseRaw } from '../http/respond';

/** Told of an error of `ws` (ws is already closing it); a throw here is swallowed. */
export type WsErrorReporter = (error: Error, ws: WebSocket) => void;

/** ws's server options, less what this module decides: no server of its own, no client set. */
export type AcceptOptions = Omit<ServerOptions, 'noServer' | 'server' | 'port' | 'host' | 'backlog' | 'path' | 'clientTracking' | 'verifyClient'>;

/** A refused handshake: its HTTP status, the reason the client reads, and headers of its own. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly headers?: OutgoingHttpHeaders;
  /** What the `refused` event names; undefined when it is reported already (an endpoint's 5xx is an error event). */
  readonly what: 'handshake' | 'host' | 'origin' | 'path' | undefined;
}

/** A guard's Origin verdict as a handshake's refusal: undefined when it admits. */
export function originRefusal(verdict: Verdict): Refusal | undefined {
  return verdict.ok ? undefined : { status: verdict.status, reason: verdict.reason, what: 'origin' };
}

/** What a path asks of a well-formed handshake: undefined admits it. */
export type Admit = () => Refusal | undefined | Promise<Refusal | undefined>;

/** One handshake's way in: the path's admission, and who is told of a refusal (before it is answered). */
export interface Door {
  readonly admit?: Admit;
  readonly refused: (refusal: Refusal) => void;
}

const KEY_REASON = 'The Sec-WebSocket-Key header must be 16 bytes in base64.';
const VERSION_13: Refusal = {
  status: 426,
  reason: 'Only WebSocket version 13 (RFC 6455) is spoken here.',
  headers: { 'Sec-WebSocket-Version': '13' },
  what: 'handshake',
};

/**
 * Our answer to a handshake ws found malformed, by the message of ws 8.23.0's `wsClientError`
 * (which carries no status). A message not named here keeps ws's status, 400, and its words.
 * Should a ws upgrade reword one, socket.test's handshake cases fail (405 and 426 become 400).
 */
function malformedRefusal(message: string, req: IncomingMessage): Refusal {
  switch (message) {
    case 'Invalid HTTP method':
      return { status: 405, reason: `A WebSocket handshake is a GET request, not ${String(req.method).slice(0, 20)}.`, headers: { Allow: 'GET' }, what: 'handshake' };
    case 'Missing or invalid Sec-WebSocket-Key header':
      return { status: 400, reason: KEY_REASON, what: 'handshake' };
    case 'Missing or invalid Sec-WebSocket-Version header':
      return VERSION_13;
    default:
      return { status: 400, reason: message, what: 'handshake' };
  }
}

/**
 * What RFC 6455 4.2.1 asks and ws lets through, so kept here: ws also takes the draft's version
 * 8 (and any value `+` reads as 13 or 8, such as `013`), and a key of 22 base64 characters whose
 * last one carries bits beyond the 16 bytes (`…R==`), which is not 16 bytes in base64.
 */
function beyondWs(req: IncomingMessage): Refusal | undefined {
  if (req.headers['sec-websocket-version'] !== '13') return VERSION_13;
  if (!/[AQgw]==$/.test(req.headers['sec-websocket-key'] ?? '')) return { status: 400, reason: KEY_REASON, what: 'handshake' };
  return undefined;
}

type VerifyCallback = (verified: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void;

/** Internal Error (RFC 6455 7.4.1): the code for a path whose own accepting code failed. */
const INTERNAL_ERROR = 1011;

/** Raw sockets that already have their error listener (an upgrade may pass here twice). */
const guardedSockets = new WeakSet<Duplex>();

/**
 * Gives the raw socket of an upgrade request its error listener, once: an error (a reset, a
 * write after the peer left) destroys it, during the handshake and after it. Call it first
 * thing with every socket an upgrade hands over, even one that will be refused.
 */
export function guardUpgradeSocket(socket: Duplex): void {
  if (guardedSockets.has(socket)) return;
  guardedSockets.add(socket);
  socket.on('error', () => socket.destroy());
}

/** One path's ws server: handshakes completed with the socket's errors handled. */
export class WsAcceptor {
  private readonly wss: WebSocketServer;
  private readonly doors = new WeakMap<IncomingMessage, Door>();

  constructor(
    options: AcceptOptions,
    private readonly report?: WsErrorReporter,
  ) {
    this.wss = new WebSocketServer({
      ...options,
      noServer: true,
      clientTracking: false,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => this.verify(info.req, done),
    });
    this.wss.on('wsClientError', (error: Error, socket: Duplex, req: IncomingMessage) => {
      const refusal = malformedRefusal(error.message, req);
      this.doors.get(req)?.refused(refusal);
      refuseRaw(socket, refusal.status, refusal.reason, refusal.headers);
    });
  }

  /**
   * Completes the handshake of a request the caller has routed and guarded (Host), once ws found
   * it well-formed and `door.admit` admitted it, and hands over the open socket; otherwise
   * answers with the refusal's HTTP status after telling `door.refused`.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, door: Door, accepted: (ws: WebSocket) => void): void {
    guardUpgradeSocket(socket);
    this.doors.set(req, door);
    try {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        handleErrors(ws, this.report);
        try {
          accepted(ws);
        } catch (error) {
          tell(this.report, error instanceof Error ? error : new Error(String(error)), ws);
          if (ws.readyState === WebSocket.OPEN) ws.close(INTERNAL_ERROR);
        }
      });
    } catch {
      // ws throws only for a socket it was already handed: never ours to keep.
      socket.destroy();
    }
  }

  /** ws's verifyClient: what ws does not check, then the path's admission; `done` answers. */
  private verify(req: IncomingMessage, done: VerifyCallback): void {
    const door = this.doors.get(req);
    const decide = (refusal: Refusal | undefined): void => {
      if (refusal === undefined) return done(true);
      door?.refused(refusal);
      done(false, refusal.status, refusalBody(refusal.reason), refusalHeaders(refusal.headers));
    };
    const own = beyondWs(req);
    if (own !== undefined || door?.admit === undefined) return decide(own);
    const admission = door.admit();
    if (admission instanceof Promise) admission.then(decide, () => req.socket.destroy());
    else decide(admission);
  }

  /** Stops accepting; resolves at once (the caller closes its own sockets). */
  close(): Promise<void> {
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/**
 * A client connection (the proxy's upstream leg) with its errors handled from the start. The
 * caller may listen for 'error' too, to react (a failed connect, a failed leg); it never has to.
 * Throws, as ws does, only for arguments ws refuses (an invalid URL or subprotocol list).
 */
export function openWebSocket(url: string, protocols: string[], options: ClientOptions, report?: WsErrorReporter): WebSocket {
  const ws = new WebSocket(url, protocols, options);
  handleErrors(ws, report);
  return ws;
}

function handleErrors(ws: WebSocket, report: WsErrorReporter | undefined): void {
  ws.on('error', (error: Error) => {
    // ws has moved the socket to CLOSING with its code; should a future ws not, close it here.
    if (ws.readyState === WebSocket.OPEN) ws.close(INTERNAL_ERROR);
    tell(report, error, ws);
  });
}

function tell(report: WsErrorReporter | undefined, error: Error, ws: WebSocket): void {
  if (report === undefined) return;
  try {
    report(error, ws);
  } catch {
    // A faulty reporter must not turn a closed socket into a crash.
  }
}

/** Refuses a handshake for a path nobody serves, once ws found it well-formed (a malformed one gets that refusal first). */
export function refuseUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, refusal: Refusal, refused: (refusal: Refusal) => void): void {
  nowhere ??= new WsAcceptor({ perMessageDeflate: false });
  nowhere.accept(req, socket, head, { admit: () => refusal, refused }, (ws) => ws.terminate());
}

/** The ws server of refuseUpgrade: it accepts nobody, so one serves every server in the process. */
let nowhere: WsAcceptor | undefined;
