/** Test helpers: raw HTTP over TCP (so hostile paths reach the server unnormalised) and temp trees. */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Everything the server sent, for "no byte leaked" checks. */
  raw: Buffer;
}

/** Sends `request` as-is and reads until the server closes or one full response has arrived. */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    /** The whole response's length once its head is in (undefined: not yet, or no length to go by). */
    let expected: number | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms; got ${received} bytes: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      // Only the head is parsed, once: joining every chunk on each one is quadratic in a download.
      expected ??= expectedLength(chunks.length === 1 ? chunk : Buffer.concat(chunks));
      if (expected !== undefined && received >= expected) finish();
    });
    socket.on('end', finish);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(request);
  });
}

/** A GET with the given target and extra header lines, Host defaulting to loopback. */
export function get(port: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  const all = { Host: `127.0.0.1:${port}`, Connection: 'close', ...headers };
  const lines = Object.entries(all)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return rawRequest(port, `${method} ${target} HTTP/1.1\r\n${lines}\r\n`);
}

/** The length of the whole response (head and body) once its head has arrived, or undefined. */
function expectedLength(data: Buffer): number | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = data.subarray(0, end).toString('latin1');
  if (/^HTTP\/1\.1 (1\d\d|204|304)/.test(head)) return 0;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return length ? end + 4 + Number(length[1]) : Infinity;
}

export function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`incomplete response: ${JSON.stringify(raw.toString('latin1').slice(0, 300))}`);
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: raw.subarray(end + 4), raw };
}

/** A fresh temp folder (realpath'd) removed by the returned cleanup. */
export function tempDir(prefix = 'echo-preview-'): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
