/**
 * The static file code (src/core/http/static.ts) on its own HTTP server, for tests that need a file
 * cache they configured (no racy window, so files are kept at once) or that they can observe.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FileCache } from '../../src/core/http/fileCache';
import { serveStatic } from '../../src/core/http/static';

/** A cache that keeps files at once (no racy window), so tests need not wait for files to settle. */
export const eagerCache = (maxFile = 1024, maxTotal = 4096): FileCache => new FileCache(maxFile, maxTotal, -Infinity);

export async function startStaticServer(realRoot: string, cache: FileCache): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const pathname = query === -1 ? url : url.slice(0, query);
    serveStatic(req, res, pathname, query === -1 ? '' : url.slice(query), { realRoot, dotfiles: false, cache }).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
