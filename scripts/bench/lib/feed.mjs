// One inspector feed subscriber, as the inspector UI is one: it opens the feed with the page's
// Origin, sends {"type":"ready"}, then reads and discards every message (counting bytes only).
import { WebSocket } from 'ws';

const INSPECTOR_URL = /\(inspector: (http:\/\/127\.0\.0\.1:(\d+)\/\S+\/)\)/;

/** The inspector page's URL in the CLI's ready line, or an error naming what was printed. */
export function inspectorUrlOf(readyLine) {
  const match = INSPECTOR_URL.exec(readyLine ?? '');
  if (!match) throw new Error(`no inspector URL in the ready line: ${readyLine}`);
  return new URL(match[1]);
}

/**
 * Subscribes to the feed of the inspector at `pageUrl` and resolves once its first message (the
 * snapshot) has arrived, so capture is on. Resolves with `{ bytes(), close() }`.
 */
export function attachFeed(pageUrl) {
  const feedUrl = `ws://${pageUrl.host}${pageUrl.pathname}feed`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(feedUrl, { headers: { Origin: pageUrl.origin }, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    let bytes = 0;
    let settled = false;
    const fail = (error) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(new Error(`inspector feed ${feedUrl}: ${error.message ?? error}`));
    };
    ws.once('open', () => ws.send(JSON.stringify({ type: 'ready' })));
    ws.once('unexpected-response', (_req, res) => fail(new Error(`refused with HTTP ${res.statusCode}`)));
    ws.once('error', fail);
    ws.once('close', (code) => fail(new Error(`closed (${code}) before the snapshot`)));
    ws.on('message', (data) => {
      bytes += data.length;
      if (settled) return;
      settled = true;
      resolve({
        bytes: () => bytes,
        alive: () => ws.readyState === WebSocket.OPEN,
        close: () =>
          new Promise((done) => {
            if (ws.readyState === WebSocket.CLOSED) return done();
            ws.once('close', done);
            ws.close(1000);
          }),
      });
    });
  });
}
