/**
 * The request pipeline: every HTTP request passes these steps in order, and the first that
 * answers ends it. The checks run on every request; the routes only on a GET or HEAD of a path.
 * A step that throws is answered 500 here; with a listener on `events`, each answer is a
 * `request` event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerEvents } from '../events/events';
import { ALLOWED_METHODS, bodyLengthOf, refuseMalformed, refuseRaw, sendError } from './respond';
import { authorityOf, parseTarget, remoteOf, type RequestTarget } from './target';

/** One request on its way through the steps. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Undefined when the target is not a path (the `pathTarget` check answers those). */
  readonly target: RequestTarget | undefined;
}

/** An exchange that passed the checks: a GET or HEAD of a path, from a host we serve. */
export interface Routed extends Exchange {
  readonly target: RequestTarget;
  /** Its host as the Host guard accepted it. */
  readonly authority: string;
}

/** A check every request passes: true when it answered (refused) the request. */
export type Check = (exchange: Exchange) => boolean;
/** A route: true (or a promise of true) when it answered the request; false hands it on. */
export type Route = (exchange: Routed) => boolean | Promise<boolean>;

const MAX_LOGGED_PATH = 200;

/** Each connection's latest response, so an upgrade pipelined behind it waits its turn (ws/upgrade.ts). */
const LAST_RESPONSE = Symbol('lastResponse');
type TrackedSocket = Duplex & { [LAST_RESPONSE]?: ServerResponse };

/** The response the connection of `socket` answered last, if it had one. */
export function lastResponseOn(socket: Duplex): ServerResponse | undefined {
  return (socket as TrackedSocket)[LAST_RESPONSE];
}

/** The request listener that runs `checks`, then `routes`, in order. */
export function pipeline(checks: readonly Check[], routes: readonly Route[], events: ServerEvents): (req: IncomingMessage, res: ServerResponse) => void {
  const run = async (exchange: Exchange): Promise<void> => {
    for (const check of checks) if (check(exchange)) return;
    // pathTarget, the last check, answered every exchange without a path.
    const routed = exchange as Routed;
    for (const route of routes) {
      const answered = route(routed);
      if (answered === true || (answered !== false && (await answered))) return;
    }
  };
  return (req, res) => {
    (req.socket as TrackedSocket)[LAST_RESPONSE] = res;
    const started = events.active ? performance.now() : 0;
    if (events.active) res.once('finish', () => emitRequest(events, req, res, started));
    const target = parseTarget(req.url ?? '');
    const exchange: Routed = { req, res, target: target as RequestTarget, authority: authorityOf(req, target) ?? '' };
    run(exchange).catch((error: unknown) => failed(events, req, res, error));
  };
}

/** A step threw: 500 while nothing was sent, else the response is cut off. */
function failed(events: ServerEvents, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (events.active) events.emit({ type: 'error', message: `request ${req.method} failed: ${String(error)}`, error });
  if (!res.headersSent) sendError(res, 500, 'The server failed to answer this request.');
  else res.destroy();
}

function emitRequest(events: ServerEvents, req: IncomingMessage, res: ServerResponse, started: number): void {
  events.emit({
    type: 'request',
    method: req.method ?? '',
    path: (req.url ?? '').slice(0, MAX_LOGGED_PATH),
    status: res.statusCode,
    bytes: bodyLengthOf(res),
    durationMs: performance.now() - started,
    remote: remoteOf(req),
  });
}

/**
 * CONNECT is not an upgrade but Node hands it over the same way; like any method we do not
 * serve, it gets 405 (Node would drop the connection without a word).
 */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  refuseRaw(socket, 405, 'Method CONNECT is not allowed here.', { Allow: ALLOWED_METHODS });
}

/** Malformed HTTP (Node's parser refused it): 400 (431 for headers too large) when we still can. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  refuseMalformed(socket, error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400);
}
