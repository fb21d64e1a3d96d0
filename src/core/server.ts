/**
 * startServer(options): one port, HTTP for the folder's files and WebSocket endpoints (an echo
 * on one path, or the endpoints of the config file, each with its reply mode), with a capture of
 * their traffic for the inspector (and, with `inspector`, the inspector itself, on a port of its
 * own: inspectorPort.ts). Every request passes the Host guard and the cross-site rule; a WebSocket
 * handshake on the WebSocket path also passes the Origin guard, one on the inspector's feed the
 * own-origin rule of the inspector's port. Any other request is an ordinary one.
 */
import { createServer, ServerResponse, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import * as path from 'node:path';
import { finished, type Duplex } from 'node:stream';
import type { Capture, ClientControl } from './capture/capture';
import type { ConfigState } from './config/state';
import { ServerEvents, type Disposable } from './events/events';
import { Guard, isWildcardHost } from './guard';
import { FileCache } from './http/fileCache';
import { InspectorPort } from './inspector/port';
import { InspectorServer } from './inspector/server';
import { RELOAD_CHANNEL_PATH, ReloadChannel, originIsHost } from './reload/channel';
import { EndpointHub } from './ws/hub';
import type { ContentOverlay, StaticOptions } from './http/static';
import { answerClientError, lastResponseOn, pipeline, refuseConnect } from './http/pipeline';
import { endpointPaths } from './http/steps/endpoints';
import { builtinRoutes, staticFiles } from './http/steps/files';
import { guardRequest } from './http/steps/guard';
import { inspectorPage } from './http/steps/inspector';
import { allowedMethods, pathTarget } from './http/steps/methods';
import { parseTarget, remoteOf } from './http/target';
import { refuseRaw } from './http/respond';
import { watchFolder, type LiveReloadState } from './reload/live';
import { loadConfig } from './config/load';
import { StartError, resolveOptions, type ServerOptions } from './options';
import { guardUpgradeSocket } from './ws/accept';

export type { ContentOverlay, LiveReloadState };
export { DEFAULTS, MAX_MESSAGE_SIZE, StartError, type ServerOptions, type StartErrorCode } from './options';


export interface RunningServer {
  /** `http://<host>:<port>/`, with the real bound port. */
  readonly url: string;
  /** `ws://<host>:<port><wsPath>`. */
  readonly wsUrl: string;
  /** `ws://<host>:<port>` followed by any endpoint path: its URL. */
  readonly wsOrigin: string;
  readonly port: number;
  readonly host: string;
  /** The served folder after realpath. */
  readonly root: string;
  /** The first endpoint's path: the `wsPath` option without a config file. */
  readonly wsPath: string;
  /** The config in force: its file, the endpoints with their modes, and a refused edit. */
  readonly config: ConfigState;
  /** Called whenever the config state changes (applied, refused, file removed), listener on `events` or not. */
  onConfig(listener: (state: ConfigState) => void): Disposable;
  readonly events: ServerEvents;
  /**
   * Every client and, while someone subscribes, every frame in and out (the tap in socket.ts).
   * Inactive until a subscriber attaches: then the echo path records nothing and allocates nothing.
   * Client ids here are the ids of the events and the CLI's lines.
   */
  readonly capture: Capture;
  /** Push, close and ping clients by capture id; what is sent shows as 'out' frames in the capture. */
  readonly clients: ClientControl;
  /** `http://<host>:<inspector's own port>/__echo-preview/inspector/<token>/` with `inspector`; undefined without. */
  readonly inspectorUrl: string | undefined;
  /** The inspector's usual port (the server's + 1) when it was not free: the inspector is on another this run. */
  readonly inspectorPortWanted: number | undefined;
  /** WebSocket clients connected now. */
  readonly clientCount: number;
  /**
   * Accepts one more origin for WebSocket upgrades (e.g. the editor's webview origin). Origins
   * granted so are also the only parents a framed page's reload client tells where it is.
   */
  allowOrigin(origin: string): Disposable;
  /** Accepts one more name in the Host header (e.g. where the editor forwards the port). */
  allowHost(name: string): void;
  /** Live reload's state; undefined when it is off. */
  readonly liveReload: LiveReloadState | undefined;
  /** The overlay's content of these real paths changed: refresh the cache and reload the pages (as a save would). */
  changed(realPaths: readonly string[]): void;
  /** Closes every WebSocket with 1001, ends every connection and resolves once the port is free. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const o = await resolveOptions(options);
  const { port, host, wsPath, maxMessageSize, capture, liveReload, root: realRoot } = o;
  const events = new ServerEvents();
  const guard = new Guard(o.guard);
  const cache = new FileCache();
  const withheld = new Set<string>();
  const staticOptions: StaticOptions = {
    realRoot,
    dotfiles: o.dotfiles,
    cache,
    injectReload: liveReload,
    overlay: o.overlay,
    isWithheld: (real) => withheld.has(real),
  };
  // Made once the port is ours (below); the config is read first, so a broken one fails the start.
  // eslint-disable-next-line prefer-const -- assigned below, once the port is ours; read by closures made before
  let hub: EndpointHub | undefined;
  const config = await loadConfig(o, wsPath, events, withheld, (endpoints) => hub?.apply(endpoints));

  const server = createServer({ requireHostHeader: false });
  // The inspector's own port hands its connections to this server (inspector/port.ts).
  const inspectorPort = o.inspector && new InspectorPort(server, guard);
  const onRequest = pipeline(
    [guardRequest(guard, events), allowedMethods, pathTarget],
    [
      inspectorPage(inspectorPort),
      endpointPaths(() => hub),
      builtinRoutes({ files: staticOptions, endpoints: () => config.source.state.endpoints, reload: liveReload }),
      staticFiles(staticOptions),
    ],
    events,
  );
  server.on('request', onRequest);

  // Node hands every request with `Connection: upgrade` and an Upgrade header here.
  const onUpgrade = (endpoint: EndpointHub, reload: ReloadChannel | undefined, req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    guardUpgradeSocket(socket);
    // Requests pipelined before this one are answered first, in order (RFC 9112 9.3.2). Node has
    // taken its own listeners off the socket, so the earlier response is told of drain and close here.
    const earlier = lastResponseOn(socket);
    if (earlier !== undefined && !earlier.writableFinished && !earlier.destroyed) {
      const relayDrain = (): boolean => earlier.emit('drain');
      const abandon = (): void => void earlier.destroy();
      socket.on('drain', relayDrain);
      socket.once('close', abandon);
      finished(earlier, () => {
        socket.off('drain', relayDrain);
        socket.off('close', abandon);
        if (!socket.destroyed) onUpgrade(endpoint, reload, req, socket, head);
      });
      return;
    }
    if (!offersWebSocket(req.headers.upgrade)) return serveIgnoringUpgrade(req, socket as Socket, onRequest);
    const refuse = (status: number, what: 'host' | 'origin' | 'path', reason: string): void => {
      if (events.active) events.emit({ type: 'refused', what, detail: reason, remote: remoteOf(req) });
      refuseRaw(socket, status, reason);
    };
    const target = parseTarget(req.url ?? '');
    const hostVerdict = guard.checkHost(target?.authority ?? req.headers.host, req.rawHeaders);
    if (!hostVerdict.ok) return refuse(hostVerdict.status, 'host', hostVerdict.reason);
    const handshakeProblem = checkHandshake(req);
    if (handshakeProblem !== undefined) {
      if (events.active) events.emit({ type: 'refused', what: 'handshake', detail: handshakeProblem.reason, remote: remoteOf(req) });
      return refuseRaw(socket, handshakeProblem.status, handshakeProblem.reason, handshakeProblem.headers);
    }
    if (inspectorPort?.has(req)) return inspectorPort.upgrade(req, socket, head, target?.pathname, refuse);
    if (reload !== undefined && target !== undefined && target.pathname === RELOAD_CHANNEL_PATH) {
      const ownVerdict = guard.checkOwnOrigin(req.headers.origin);
      const sameOrigin = ownVerdict.ok || originIsHost(req.headers.origin, target.authority ?? req.headers.host);
      if (!sameOrigin) return refuse(ownVerdict.status, 'origin', ownVerdict.reason);
      req.headers.upgrade = 'websocket';
      return reload.handleUpgrade(req, socket, head, target.search);
    }
    // A WebSocket handshake for a path with no endpoint: the service is not there (RFC 6455
    // 4.2.2), so 404 with the path that has one, rather than the file that may live there.
    const endpointPath = target && endpoint.route(target.pathname);
    if (endpointPath === undefined) {
      const paths = endpoint.endpoints.map((e) => e.path);
      return refuse(404, 'path', `There is no WebSocket endpoint at this path; use ${paths.length === 1 ? paths[0] : `one of ${paths.join(', ')}`}.`);
    }
    const origin = req.headers.origin;
    const originVerdict = guard.checkOrigin(origin);
    if (!originVerdict.ok) return refuse(originVerdict.status, 'origin', originVerdict.reason);
    // The client may offer several protocols (RFC 9110 7.8); we choose websocket, the one ws reads.
    req.headers.upgrade = 'websocket';
    endpoint.handleUpgrade(endpointPath, req, socket, head, (status, reason, reported) => (reported ? refuseRaw(socket, status, reason) : refuse(status, 'path', reason)));
  };

  server.on('connect', refuseConnect);
  server.on('clientError', answerClientError);

  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  // The inspector's port is taken first, and given back if the server's own port fails: a failed
  // start leaves neither bound.
  const inspectorPortWanted = inspectorPort && (await inspectorPort.bind(port, o.inspector?.port, (at) => listen(inspectorPort.listener, at, host, "The inspector's port")));
  if (inspectorPort) guard.setInspectorPort(inspectorPort.port);
  try {
    await listen(server, port, host);
  } catch (error) {
    await inspectorPort?.close();
    throw error;
  }
  const boundPort = (server.address() as AddressInfo).port;
  // Made once the port is ours, so a failed listen leaves no heartbeat timer or ws server behind.
  // (Nothing reaches the server before this: no connection is read until this turn ends.)
  const { heartbeatMs } = o;
  const echo = new EndpointHub({ maxMessageSize, compression: o.compression, heartbeatMs, upstreamTimeoutMs: o.upstreamTimeoutMs }, events, capture);
  hub = echo;
  echo.apply(config.endpoints);
  // The inspector reads this list at each page: kept current with the config.
  const inspectorPaths = echo.endpoints.map((e) => e.path);
  config.source.onConfig(() => inspectorPaths.splice(0, inspectorPaths.length, ...echo.endpoints.map((e) => e.path)));
  config.source.watch();
  const inspector =
    o.inspector && new InspectorServer({ folder: path.basename(realRoot), ...o.inspector }, capture, echo, inspectorPaths, maxMessageSize, heartbeatMs, boundPort);
  if (inspectorPort) inspectorPort.inspector = inspector;
  const reload = liveReload ? new ReloadChannel(realRoot, (relative) => o.ignoreRules.ignores(relative), heartbeatMs, () => guard.grantedOrigins()) : undefined;
  guard.onGrantsChanged = () => reload?.parentsChanged(); // the editor's panels: the only parents pages talk to
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => onUpgrade(echo, reload, req, socket, head));
  // After the upgrade listener: a page reconnecting during the folder's first walk is answered.
  const watched = reload && (await watchFolder(realRoot, o.reloadIgnore, o.dotfiles, cache, reload, events));
  guard.setPort(boundPort);
  const shownHost = displayHost(host);
  const url = `http://${shownHost}:${boundPort}/`;

  const wsOrigin = `ws://${shownHost}:${boundPort}`;
  const firstPath = (): string => echo.endpoints[0]?.path ?? wsPath;
  let closing: Promise<void> | undefined;
  return {
    url,
    get wsUrl() {
      return wsOrigin + firstPath();
    },
    wsOrigin,
    port: boundPort,
    host,
    root: realRoot,
    get wsPath() {
      return firstPath();
    },
    get config() {
      return config.source.state;
    },
    onConfig: (listener) => config.source.onConfig(listener),
    events,
    capture,
    clients: echo,
    inspectorUrl: inspector && inspectorPort && `http://${shownHost}:${inspectorPort.port}${inspector.path}`,
    inspectorPortWanted,
    get clientCount() {
      return echo.clientCount;
    },
    allowOrigin: (origin: string) => ({ dispose: guard.allowOrigin(origin) }),
    allowHost: (name: string) => guard.allowHost(name),
    liveReload: watched?.state,
    changed: (realPaths: readonly string[]) => {
      cache.invalidate(realPaths);
      watched?.watcher.report(realPaths);
    },
    close: () => {
      watched?.watcher.close();
      config.source.dispose();
      closing ??= shutdown(server, echo, inspector, inspectorPort, capture, sockets, reload);
      return closing;
    },
  };
}

function listen(server: NetServer, port: number, host: string, what = 'Port'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(listenErrorToStartError(error, port, host, what));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function listenErrorToStartError(error: NodeJS.ErrnoException, port: number, host: string, what: string): StartError {
  switch (error.code) {
    case 'EADDRINUSE':
      return new StartError('PORT_IN_USE', `${what} ${port} on ${host} is already in use.`);
    case 'EACCES':
      return new StartError('PORT_FORBIDDEN', `Not allowed to listen on ${what.toLowerCase()} ${port} on ${host}.`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartError('HOST_UNAVAILABLE', `Cannot listen on ${host}: this machine has no such address.`);
    default:
      return new StartError('HOST_UNAVAILABLE', `Cannot listen on ${host}:${port}: ${error.message}`);
  }
}

/** The host part of the URL people click: loopback for wildcard binds, brackets for IPv6. */
function displayHost(host: string): string {
  if (isWildcardHost(host)) return host === '::' ? '[::1]' : '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * What RFC 6455 4.2.1 asks of a handshake, checked here so every refusal is ours (with nosniff
 * and Allow) rather than ws's bare one: GET, version 13 (ws would also take the draft's 8), and
 * a key of 16 bytes in base64.
 */
function checkHandshake(req: IncomingMessage): { status: number; reason: string; headers?: OutgoingHttpHeaders } | undefined {
  if (req.method !== 'GET') {
    return { status: 405, reason: `A WebSocket handshake is a GET request, not ${String(req.method).slice(0, 20)}.`, headers: { Allow: 'GET' } };
  }
  if (req.headers['sec-websocket-version'] !== '13') {
    return { status: 426, reason: 'Only WebSocket version 13 (RFC 6455) is spoken here.', headers: { 'Sec-WebSocket-Version': '13' } };
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !/^[+/0-9A-Za-z]{21}[AQgw]==$/.test(key)) {
    return { status: 400, reason: 'The Sec-WebSocket-Key header must be 16 bytes in base64.' };
  }
  return undefined;
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
function serveIgnoringUpgrade(req: IncomingMessage, socket: Socket, onRequest: (req: IncomingMessage, res: ServerResponse) => void): void {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => socket.destroySoon());
  onRequest(req, res);
}

async function shutdown(
  server: Server,
  endpoint: EndpointHub,
  inspector: InspectorServer | undefined,
  inspectorPort: InspectorPort | undefined,
  capture: Capture,
  sockets: Set<Socket>,
  reload: ReloadChannel | undefined,
): Promise<void> {
  const closed = Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), inspectorPort?.close()]);
  await Promise.all([endpoint.shutdown(), inspector?.close(), reload?.close()]);
  capture.dispose();
  server.closeIdleConnections();
  // Give in-flight responses a moment, then cut whatever is left so the port really frees.
  const cut = setTimeout(() => {
    for (const socket of sockets) socket.destroy();
  }, 500);
  await closed;
  clearTimeout(cut);
}
