/**
 * Upgrade routing: Node hands every request with `Connection: upgrade` here. Requests pipelined
 * before it are answered first; an Upgrade other than websocket is an ordinary request; the Host
 * guard refuses a stranger; then the path decides: the inspector's port serves only its feed, the
 * reload channel is for the server's own pages, a configured path goes to its endpoint (after the
 * Origin guard), and any other path is 404. Each of those hands the handshake to its ws server
 * (accept.ts), whose hooks refuse what is malformed or not admitted.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { finished, type Duplex } from 'node:stream';
import type { ServerEvents } from '../events/events';
import type { Guard } from '../guard';
import { lastResponseOn } from '../http/pipeline';
import { refuseRaw } from '../http/respond';
import { authorityOf, parseTarget, remoteOf } from '../http/target';
import type { InspectorPort } from '../inspector/port';
import { RELOAD_CHANNEL_PATH, originIsHost, type ReloadChannel } from '../reload/channel';
import { guardUpgradeSocket, originRefusal, refuseUpgrade, type Refusal } from './accept';
import type { EndpointHub } from './hub';

export interface UpgradeRoutes {
  readonly guard: Guard;
  readonly events: ServerEvents;
  readonly hub: EndpointHub;
  readonly reload: ReloadChannel | undefined;
  readonly inspectorPort: InspectorPort | undefined;
  /** The request pipeline, for a request whose Upgrade we do not speak. */
  readonly serve: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Node's `upgrade` listener for these routes. */
export function upgradeRouter(routes: UpgradeRoutes): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { guard, events, hub, reload, inspectorPort } = routes;
  const route = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    guardUpgradeSocket(socket);
    if (waitsForEarlier(socket, () => route(req, socket, head))) return;
    if (!offersWebSocket(req.headers.upgrade)) return serveIgnoringUpgrade(req, socket as Socket, routes.serve);
    const refused = (refusal: Refusal): void => {
      if (refusal.what !== undefined && events.active) events.emit({ type: 'refused', what: refusal.what, detail: refusal.reason, remote: remoteOf(req) });
    };
    const target = parseTarget(req.url ?? '');
    const hostVerdict = guard.checkHost(authorityOf(req, target), req.rawHeaders);
    if (!hostVerdict.ok) {
      refused({ status: hostVerdict.status, reason: hostVerdict.reason, what: 'host' });
      return refuseRaw(socket, hostVerdict.status, hostVerdict.reason);
    }
    // The client may offer several protocols (RFC 9110 7.8); we choose websocket, the one ws reads.
    req.headers.upgrade = 'websocket';
    if (inspectorPort?.has(req)) return inspectorPort.upgrade(req, socket, head, target?.pathname, refused);
    if (reload !== undefined && target !== undefined && target.pathname === RELOAD_CHANNEL_PATH) {
      const admit = (): Refusal | undefined => {
        const ownVerdict = guard.checkOwnOrigin(req.headers.origin);
        return ownVerdict.ok || originIsHost(req.headers.origin, authorityOf(req, target)) ? undefined : originRefusal(ownVerdict);
      };
      return reload.handleUpgrade(req, socket, head, target.search, { admit, refused });
    }
    // A WebSocket handshake for a path with no endpoint: the service is not there (RFC 6455
    // 4.2.2), so 404 with the path that has one, rather than the file that may live there.
    const endpointPath = target && hub.route(target.pathname);
    if (endpointPath === undefined) {
      const paths = hub.endpoints.map((e) => e.path);
      const reason = `There is no WebSocket endpoint at this path; use ${paths.length === 1 ? paths[0] : `one of ${paths.join(', ')}`}.`;
      return refuseUpgrade(req, socket, head, { status: 404, reason, what: 'path' }, refused);
    }
    hub.handleUpgrade(endpointPath, req, socket, head, { admit: () => originRefusal(guard.checkOrigin(req.headers.origin)), refused });
  };
  return route;
}

/**
 * Requests pipelined before this one are answered first, in order (RFC 9112 9.3.2): true when
 * one is still being answered, and `then` runs once it is. Node has taken its own listeners off
 * the socket, so the earlier response is told of drain and close here.
 */
function waitsForEarlier(socket: Duplex, then: () => void): boolean {
  const earlier = lastResponseOn(socket);
  if (earlier === undefined || earlier.writableFinished || earlier.destroyed) return false;
  const relayDrain = (): boolean => earlier.emit('drain');
  const abandon = (): void => void earlier.destroy();
  socket.on('drain', relayDrain);
  socket.once('close', abandon);
  finished(earlier, () => {
    socket.off('drain', relayDrain);
    socket.off('close', abandon);
    if (!socket.destroyed) then();
  });
  return true;
}

/**
 * True when the Upgrade header offers websocket among its protocols (a comma-separated list,
 * RFC 9110 7.8; names compare case-insensitively). `h2c`, `TLS/1.0` and the like are not ours.
 */
function offersWebSocket(upgrade: string | undefined): boolean {
  if (upgrade === undefined) return false;
  return upgrade.split(',').some((protocol) => protocol.trim().toLowerCase() === 'websocket');
}

/**
 * Answers a request whose Upgrade we do not speak as an ordinary request: a server may ignore
 * an Upgrade header (RFC 9110 7.8), so `curl --http2` gets its file over HTTP/1.1. Node has
 * already taken its HTTP parser off this socket, so the response closes the connection.
 */
function serveIgnoringUpgrade(req: IncomingMessage, socket: Socket, serve: (req: IncomingMessage, res: ServerResponse) => void): void {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => socket.destroySoon());
  serve(req, res);
}
