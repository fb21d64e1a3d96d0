/** Helpers for the reply-mode tests: a server started on a config file, and a client's messages in order. */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer, type ServerOptions } from '../../src/core/server';
import { tempDir } from './http';

/** Starts a server on port 0 whose `.echo-preview.json` is `config`; `cleanup` closes it and removes the folder. */
export async function serveConfig(config: unknown, options: Partial<ServerOptions> = {}): Promise<{ server: RunningServer; dir: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = tempDir('echo-preview-modes-');
  writeFileSync(path.join(dir, '.echo-preview.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  try {
    const server = await startServer({ root: dir, port: 0, ...options });
    return {
      server,
      dir,
      cleanup: async () => {
        await server.close();
        cleanup();
      },
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** Every message a client receives, in order, as text; `next(n)` waits for the next n of them. */
export class Inbox {
  private readonly received: string[] = [];
  private taken = 0;
  private waiter: (() => void) | undefined;
  private closed: { code: number; reason: string } | undefined;
  readonly closedPromise: Promise<{ code: number; reason: string }>;

  constructor(ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.received.push(data.toString());
      this.waiter?.();
    });
    this.closedPromise = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString() };
        resolve(this.closed);
        this.waiter?.();
      }),
    );
  }

  /** The next `count` messages; rejects if the socket closes first or after `timeoutMs`. */
  next(count = 1, timeoutMs = 10_000): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out waiting for ${count} message(s); got ${JSON.stringify(this.received.slice(this.taken))}`));
      }, timeoutMs);
      const check = (): void => {
        if (this.received.length - this.taken >= count) {
          clearTimeout(timer);
          this.waiter = undefined;
          const out = this.received.slice(this.taken, this.taken + count);
          this.taken += count;
          resolve(out);
        } else if (this.closed !== undefined) {
          clearTimeout(timer);
          this.waiter = undefined;
          reject(new Error(`closed with ${this.closed.code} ${this.closed.reason} after ${JSON.stringify(this.received.slice(this.taken))}`));
        }
      };
      this.waiter = check;
      check();
    });
  }

  /** Messages received and not yet taken by `next`. */
  get unread(): string[] {
    return this.received.slice(this.taken);
  }
}

/** Opens a ws client with its inbox listening from the start (a greeting can come with the handshake's answer). */
export function openWithInbox(url: string, options: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<{ ws: WebSocket; inbox: Inbox }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const inbox = new Inbox(ws);
    ws.once('open', () => resolve({ ws, inbox }));
    ws.once('error', reject);
  });
}
