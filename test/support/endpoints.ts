/** Clients for endpoint tests: a ws inbox that loses nothing between awaits, a Python client, and config changes awaited. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type WebSocket from 'ws';
import type { ConfigState } from '../../src/core/config/state';
import type { RunningServer } from '../../src/core/server';
import { REPO_ROOT } from './http';

export interface Message {
  text: string;
  binary: boolean;
}

/** Every message a ws client gets, in order; `next()` waits for the next one not yet taken. */
export class Inbox {
  private readonly queue: Message[] = [];
  private readonly waiting: Array<{ resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  private closed: string | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const message = { text: data.toString(), binary };
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(message);
      else this.queue.push(message);
    });
    ws.on('close', (code: number) => {
      this.closed = `the client closed (${code}) before the next message`;
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(this.closed));
    });
  }

  /** The next message; rejects if none comes within `timeoutMs` (a failing test then says so, rather than hang). */
  next(timeoutMs = 5000): Promise<Message> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed !== undefined) return Promise.reject(new Error(this.closed));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (message: Message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }

  /** Messages received and not taken. */
  get pending(): number {
    return this.queue.length;
  }
}

/** Resolves with the next config state the server reports. */
export function nextConfig(server: RunningServer): Promise<ConfigState> {
  return new Promise((resolve) => {
    const subscription = server.onConfig((state) => {
      subscription.dispose();
      resolve(state);
    });
  });
}

export const PYTHON = '/usr/bin/python3';
const PYTHON_CLIENT = path.join(REPO_ROOT, 'test', 'support', 'ws_client.py');

/** A client written in Python (Debian's python3-websockets), driven line by line (ws_client.py). */
export interface PythonClient {
  send(text: string): void;
  recv(): Promise<Message>;
  /** Closes with 1000 and resolves with the process's exit code. */
  close(): Promise<number | null>;
}

export function pythonClient(url: string): Promise<PythonClient> {
  const child = spawn(PYTHON, [PYTHON_CLIENT, url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const queued = lines.shift();
      if (queued !== undefined) return resolve(queued);
      waiting.push(resolve);
      void exit.then((code) => reject(new Error(`the Python client exited (${code}): ${stderr}`)));
    });
  const command = (line: string): void => void child.stdin.write(line + '\n');
  return nextLine().then((first) => {
    if (first !== 'open') throw new Error(`the Python client did not connect: ${first} ${stderr}`);
    return {
      send: (text: string) => command(`send ${text}`),
      recv: async () => {
        command('recv');
        const line = await nextLine();
        if (line.startsWith('error')) throw new Error(`the Python client: ${line}`);
        const parsed = JSON.parse(line) as { text?: string; binary?: string };
        return parsed.text !== undefined ? { text: parsed.text, binary: false } : { text: Buffer.from(parsed.binary ?? '', 'hex').toString(), binary: true };
      },
      close: () => {
        command('close');
        return exit;
      },
    };
  });
}
