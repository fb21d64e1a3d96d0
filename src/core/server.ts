/**
 * startServer(options): one port, HTTP for the folder's files and WebSocket endpoints (an echo
 * on one path, or the endpoints of the config file, each with its reply mode), with a capture of
 * their traffic for the inspector (and, with `inspector`, the inspector itself, on a port of its
 * own: inspector/port.ts). This file only wires the parts together, listens and hands back
 * close(): options are checked in options.ts, requests pass http/pipeline.ts, upgrades
 * ws/upgrade.ts, and shutdown.ts ends it all.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import * as path from 'node:path';
import type { Capture, ClientControl } from './capture/capture';
import { loadConfig } from './config/load';
import type { ConfigState } from './config/state';
import { ServerEvents, type Disposable } from './events/events';
import { Guard, isWildcardHost } from './guard';
import { FileCache } from './http/fileCache';
import { answerClientError, pipeline, refuseConnect } from './http/pipeline';
import type { ContentOverlay, StaticOptions } from './http/static';
import { endpointPaths } from './http/steps/endpoints';
import { builtinRoutes, staticFiles } from './http/steps/files';
import { guardRequest } from './http/steps/guard';
import { inspectorPage } from './http/steps/inspector';
import { allowedMethods, pathTarget } from './http/steps/methods';
import { InspectorPort } from './inspector/port';
import { InspectorServer } from './inspector/server';
import { StartError, resolveOptions, type ServerOptions } from './options';
import { ReloadChannel } from './reload/channel';
import { watchFolder, type LiveReloadState } from './reload/watchFolder';
import { closer, trackConnections } from './shutdown';
import { EndpointHub } from './ws/hub';
import { upgradeRouter } from './ws/upgrade';

export type { ContentOverlay, LiveReloadState };
export { DEFAULTS } from './defaults';
export { MAX_MESSAGE_SIZE, StartError, type ServerOptions, type StartErrorCode } from './options';

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
   * Every client and, while someone subscribes, every frame in and out (the tap in ws/tap.ts).
   * Inactive until a subscriber attaches: then the echo path records nothing and allocates nothing.
   * Client ids here are the ids of the events and the CLI's lines.
   */
  readonly capture: Capture;
  /** Push, close and ping clients by capture id; what is sent shows as 'out' frames in the capture. */
  readonly clients: ClientControl;
  /** `http://<host>:<inspector's own port>/__echo-preview/inspector/<token>/` with `inspector`; undefined without. */
  readonly inspectorUrl: string | undefined;
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
  const { port, host, capture, root } = o;
  const events = new ServerEvents();
  const guard = new Guard(o.guard);
  const cache = new FileCache();
  const withheld = new Set<string>();
  const files: StaticOptions = { realRoot: root, dotfiles: o.dotfiles, cache, injectReload: o.liveReload, overlay: o.overlay, isWithheld: (real) => withheld.has(real) };
  // Made once the port is ours (below); the config is read first, so a broken one fails the start.
  // eslint-disable-next-line prefer-const -- assigned below, once the port is ours; read by closures made before
  let hub: EndpointHub | undefined;
  const config = await loadConfig(o, events, withheld, (endpoints) => hub?.apply(endpoints));

  const server = createServer({ requireHostHeader: false });
  // The inspector's own port hands its connections to this server (inspector/port.ts).
  const inspectorPort = o.inspector && new InspectorPort(server, guard);
  const onRequest = pipeline(
    // Every request: the Host and cross-site guard, GET/HEAD (OPTIONS says so), a path as target.
    [guardRequest(guard, events), allowedMethods, pathTarget],
    // Then the first route that answers: the inspector's own port, a plain GET on a WebSocket
    // path (426), the server's reserved paths, the folder.
    [
      inspectorPage(inspectorPort),
      endpointPaths(() => hub),
      builtinRoutes({ files, endpoints: () => config.source.state.endpoints, reload: o.liveReload }),
      staticFiles(files),
    ],
    events,
  );
  server.on('request', onRequest);
  server.on('connect', refuseConnect);
  server.on('clientError', answerClientError);
  const sockets = trackConnections(server);

  // The inspector's port is taken first, and given back if the server's own port fails: a failed
  // start leaves neither bound.
  if (inspectorPort) await inspectorPort.bind(port, o.inspector?.port, (at) => listen(inspectorPort.listener, at, host, "The inspector's port"));
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
  const { heartbeatMs, maxMessageSize } = o;
  const endpointHub = new EndpointHub({ maxMessageSize, compression: o.compression, heartbeatMs, upstreamTimeoutMs: o.upstreamTimeoutMs }, events, capture);
  hub = endpointHub;
  endpointHub.apply(config.endpoints);
  // The inspector reads this list at each page: kept current with the config.
  const inspectorPaths = endpointHub.endpoints.map((e) => e.path);
  config.source.onConfig(() => inspectorPaths.splice(0, inspectorPaths.length, ...endpointHub.endpoints.map((e) => e.path)));
  const inspector = o.inspector && new InspectorServer({ folder: path.basename(root), ...o.inspector }, capture, endpointHub, inspectorPaths, maxMessageSize, heartbeatMs, boundPort);
  if (inspectorPort) inspectorPort.inspector = inspector;
  const reload = o.liveReload ? new ReloadChannel(root, (relative) => o.ignoreRules.ignores(relative), heartbeatMs, () => guard.grantedOrigins()) : undefined;
  guard.onGrantsChanged = () => reload?.parentsChanged(); // the editor's panels: the only parents pages talk to
  server.on('upgrade', upgradeRouter({ guard, events, hub: endpointHub, reload, inspectorPort, serve: onRequest }));
  // After the upgrade listener: a page reconnecting during the folder's first walk is answered.
  const watched = await watchFolder({ root, rules: o.ignoreRules, cache, reload, events, config: config.source });
  guard.setPort(boundPort);
  const shownHost = displayHost(host);
  const wsOrigin = `ws://${shownHost}:${boundPort}`;
  const firstPath = (): string => endpointHub.endpoints[0]?.path ?? o.wsPath;
  const stopWatching = (): void => {
    watched.watcher.close();
    config.source.dispose();
  };
  return {
    url: `http://${shownHost}:${boundPort}/`,
    get wsUrl() {
      return wsOrigin + firstPath();
    },
    wsOrigin,
    port: boundPort,
    host,
    root,
    get wsPath() {
      return firstPath();
    },
    get config() {
      return config.source.state;
    },
    onConfig: (listener) => config.source.onConfig(listener),
    events,
    capture,
    clients: endpointHub,
    inspectorUrl: inspector && inspectorPort && `http://${shownHost}:${inspectorPort.port}${inspector.path}`,
    get clientCount() {
      return endpointHub.clientCount;
    },
    allowOrigin: (origin: string) => ({ dispose: guard.allowOrigin(origin) }),
    allowHost: (name: string) => guard.allowHost(name),
    liveReload: watched.state,
    changed: (realPaths: readonly string[]) => {
      cache.invalidate(realPaths);
      watched.watcher.report(realPaths);
    },
    close: closer({ server, hub: endpointHub, inspector, inspectorPort, capture, reload, stopWatching }, sockets),
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
