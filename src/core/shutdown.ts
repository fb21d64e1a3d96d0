/**
 * How a running server ends: the watchers stop, every WebSocket closes with 1001 (endpoints,
 * inspector feeds, reload channels), the capture is let go, idle connections end, and whatever is
 * still open after a moment is cut, so the port (and the inspector's) is really free when it resolves.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Capture } from './capture/capture';
import type { InspectorPort } from './inspector/port';
import type { InspectorServer } from './inspector/server';
import type { ReloadChannel } from './reload/channel';
import type { EndpointHub } from './ws/hub';

/** How long in-flight responses get before the connections left are cut. */
const RESPONSE_GRACE_MS = 500;

/** What a running server has open. */
export interface Running {
  readonly server: Server;
  readonly hub: EndpointHub;
  readonly inspector: InspectorServer | undefined;
  readonly inspectorPort: InspectorPort | undefined;
  readonly capture: Capture;
  readonly reload: ReloadChannel | undefined;
  /** Stops the folder watcher and the config file's watch: first thing, at each call. */
  readonly stopWatching: () => void;
}

/** The server's connections, as they come and go (Node keeps no list of its own). */
export function trackConnections(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** RunningServer.close: ends it all once; every call resolves when the ports are free. */
export function closer(running: Running, sockets: Set<Socket>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    running.stopWatching();
    closing ??= shutdown(running, sockets);
    return closing;
  };
}

async function shutdown({ server, hub, inspector, inspectorPort, capture, reload }: Running, sockets: Set<Socket>): Promise<void> {
  const closed = Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), inspectorPort?.close()]);
  await Promise.all([hub.shutdown(), inspector?.close(), reload?.close()]);
  capture.dispose();
  server.closeIdleConnections();
  // Give in-flight responses a moment, then cut whatever is left so the port really frees.
  const cut = setTimeout(() => {
    for (const socket of sockets) socket.destroy();
  }, RESPONSE_GRACE_MS);
  await closed;
  clearTimeout(cut);
}
