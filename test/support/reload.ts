/** The live reload channel from a test: a ws client with the page's own Origin and its messages in order. */
import WebSocket from 'ws';
import type { ReloadMessage } from '../../src/core/reload/channel';
import { messagesOf, type WsInbox } from './inbox';

export interface ReloadClient {
  ws: WebSocket;
  /** Every message of the channel (inbox.ts), for waits `next` does not cover. */
  inbox: WsInbox<ReloadMessage>;
  /** The next message not yet taken (waits for it; fails after `timeoutMs`). */
  next(timeoutMs?: number): Promise<ReloadMessage>;
  /** Messages received and not yet taken. */
  readonly queued: readonly ReloadMessage[];
  close(): Promise<void>;
}

export async function openReloadChannel(port: number, query = ''): Promise<ReloadClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/__echo-preview/reload${query}`, { origin: `http://127.0.0.1:${port}` });
  const inbox = messagesOf(ws, 'the reload channel', (data) => JSON.parse(String(data)) as ReloadMessage);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    inbox,
    get queued() {
      return inbox.queued;
    },
    // A bound that fails a broken build, not a pace: a passing test never waits for it, and a machine
    // with both cores busy may take seconds to work through a storm's backlog.
    next: (timeoutMs = 15_000) => inbox.next(timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}
