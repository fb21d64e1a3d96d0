/** Clients for endpoint tests: a Python client, and config changes awaited. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { ConfigState } from '../../src/core/config/state';
import type { RunningServer } from '../../src/core/server';
import { REPO_ROOT } from './http';
import { linesOf, type WsMessage } from './inbox';

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
  recv(): Promise<WsMessage>;
  /** Closes with 1000 and resolves with the process's exit code. */
  close(): Promise<number | null>;
}

export function pythonClient(url: string): Promise<PythonClient> {
  const child = spawn(PYTHON, [PYTHON_CLIENT, url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = linesOf(child.stdout, 'the Python client');
  void exit.then((code) => lines.end(`the Python client exited (${code}): ${stderr}`));
  const nextLine = (): Promise<string> => lines.next(15_000);
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
