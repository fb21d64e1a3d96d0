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
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ClientOptions, type ServerOptions } from 'ws';

/** Told of an error of `ws` (ws is already closing it); a throw here is swallowed. */
export type WsErrorReporter = (error: Error, ws: WebSocket) => void;

/** ws's server options, less what this module decides: no server of its own, no client set. */
export type AcceptOptions = Omit<ServerOptions, 'noServer' | 'server' | 'port' | 'host' | 'backlog' | 'path' | 'clientTracking'>;

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

  constructor(
    options: AcceptOptions,
    private readonly report?: WsErrorReporter,
  ) {
    this.wss = new WebSocketServer({ ...options, noServer: true, clientTracking: false });
  }

  /**
   * Completes the handshake of a request the caller has routed and guarded, and hands over the
   * open socket. ws answers a malformed handshake with an HTTP status of its own.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, accepted: (ws: WebSocket) => void): void {
    guardUpgradeSocket(socket);
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
