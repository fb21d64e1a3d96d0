/** Helpers for the script and proxy tests: a server started on a config file, and clients whose inbox listens from the start. */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer, type ServerOptions } from '../../src/core/server';
import { PYTHON } from './endpoints';
import { REPO_ROOT, tempDir } from './http';
import { messagesOf, type WsInbox } from './inbox';
import { liveBytes } from './memory';

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

/** A ws client with an inbox (inbox.ts) listening from the start, since a greeting can come with the handshake's answer, and its close. */
export interface ModeClient {
  ws: WebSocket;
  inbox: WsInbox;
  closed: Promise<{ code: number; reason: string }>;
}

export function openWithInbox(url: string, options: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<ModeClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const inbox = messagesOf(ws);
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.once('close', (code: number, reason: Buffer) => done({ code, reason: reason.toString() })));
    ws.once('open', () => resolve({ ws, inbox, closed }));
    ws.once('error', reject);
  });
}

/** The text of the next `count` messages. */
export async function texts(inbox: WsInbox, count = 1): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await inbox.next(10_000)).text);
  return out;
}

/** The first ```json block of docs/config.md's section under `heading` (e.g. `### script`): the documented config, as outside checkers use it. */
export function documentedExample(heading: string): string {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'config.md'), 'utf8');
  const start = doc.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`docs/config.md has no ${heading} section`);
  const block = /```json\n([\s\S]*?)\n```/.exec(doc.slice(start));
  if (block === null) throw new Error(`docs/config.md's ${heading} section has no json example`);
  return block[1];
}

const PYCLIENT = path.join(REPO_ROOT, 'test', 'support', 'pyclient-modes.py');

/** Runs pyclient-modes.py (Debian's python3-websockets) with `args` and resolves with the JSON lines it printed. */
export function runPython(args: string[]): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [PYCLIENT, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolve(
        stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
    });
  });
}

/**
 * Reads `bytes` from a paused socket one chunk every `paceMs` (far slower than loopback, which
 * is the point) and resolves with the most this process's live memory grew meanwhile, sampled
 * every 64 chunks.
 */
export function readSlowly(socket: Socket, bytes: number, paceMs = 1): Promise<number> {
  const baseline = liveBytes();
  let peak = 0;
  let received = 0;
  let chunks = 0;
  return new Promise((resolve) => {
    const read = (): void => {
      const chunk = socket.read() as Buffer | null;
      if (chunk !== null) {
        received += chunk.length;
        if (++chunks % 64 === 0) peak = Math.max(peak, liveBytes() - baseline);
      }
      if (received >= bytes) resolve(peak);
      else setTimeout(read, paceMs);
    };
    read();
  });
}
