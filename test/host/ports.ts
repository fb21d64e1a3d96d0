/** Loopback ports for tests that check what a server took and gave back (no editor needed). */
import { createServer, type Server } from 'node:net';

/** True when nothing listens on `port` at 127.0.0.1: binding it succeeds. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** A port the system just gave out and took back: free now. */
export async function freePort(): Promise<number> {
  const server = await listenOn(0);
  if (!server) throw new Error('no free port');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Holds `count` consecutive ports (found by trying bases the system hands out) until release().
 * Lets a test take the configured port and every fallback after it.
 */
export async function holdConsecutivePorts(count: number): Promise<{ first: number; release(): Promise<void> }> {
  for (let tries = 0; tries < 50; tries++) {
    const first = await freePort();
    if (first + count > 65535) continue;
    const held: Server[] = [];
    for (let port = first; port < first + count; port++) {
      const server = await listenOn(port);
      if (!server) break;
      held.push(server);
    }
    const release = async (): Promise<void> => {
      await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
    };
    if (held.length === count) return { first, release };
    await release();
  }
  throw new Error(`found no ${count} consecutive free ports`);
}
