/** The live reload channel from a test: a ws client with the page's own Origin and its messages in order. */
import WebSocket from 'ws';
import type { ReloadMessage } from '../../src/core/reload/channel';

export interface ReloadClient {
  ws: WebSocket;
  /** The next message not yet taken (waits for it; fails after `timeoutMs`). */
  next(timeoutMs?: number): Promise<ReloadMessage>;
  /** Messages received and not yet taken. */
  readonly queued: readonly ReloadMessage[];
  close(): Promise<void>;
}

export async function openReloadChannel(port: number, query = ''): Promise<ReloadClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/__echo-preview/reload${query}`, { origin: `http://127.0.0.1:${port}` });
  const queued: ReloadMessage[] = [];
  const waiting: Array<(message: ReloadMessage) => void> = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as ReloadMessage;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queued.push(message);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    queued,
    next: (timeoutMs = 5000) => {
      const ready = queued.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reload message within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}
