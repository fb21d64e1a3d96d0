/** WebSocket test helpers: a raw handshake over TCP and hand-built frames for hostile input. */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { Inbox } from './inbox';

/** Completes a WebSocket handshake by hand and returns the socket and the response head. */
export function rawHandshake(port: number, extraHeaders: Record<string, string> = {}, target = '/websocket'): Promise<{ socket: Socket; head: string; status: number; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const headers: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      'Sec-WebSocket-Version': '13',
      ...extraHeaders,
    };
    const lines = Object.entries(headers)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.on('error', reject);
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const head = data.subarray(0, end).toString('latin1');
      resolve({ socket, head, status: Number(head.slice(9, 12)), rest: data.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('end', () => {
      const head = data.toString('latin1');
      resolve({ socket, head, status: Number(head.slice(9, 12)), rest: Buffer.alloc(0) });
    });
    socket.write(`GET ${target} HTTP/1.1\r\n${lines}\r\n`);
  });
}

/** A client frame: masked unless told otherwise. */
export function frame(opcode: number, payload: Buffer, options: { fin?: boolean; masked?: boolean; rsv?: number } = {}): Buffer {
  const fin = options.fin ?? true;
  const masked = options.masked ?? true;
  const first = (fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode;
  let header: Buffer;
  if (payload.length < 126) header = Buffer.from([first, (masked ? 0x80 : 0) | payload.length]);
  else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = (masked ? 0x80 : 0) | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (masked ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([header, mask, body]);
}

/**
 * One message as masked client frames of `size` payload bytes each, built in one buffer (a
 * Buffer per frame would cost the test more memory than the server under test). The first
 * frame carries `opcode`, the rest are continuations, the last has FIN. `lastFrameAt` is where
 * the last frame starts, to send all but it first. With `compressed`, `payload` is the
 * permessage-deflate data and the first frame has RSV1 set.
 */
export function fragmentedMessage(opcode: number, payload: Buffer, size: number, options: { compressed?: boolean } = {}): { wire: Buffer; lastFrameAt: number } {
  const count = Math.max(1, Math.ceil(payload.length / size));
  const headerFor = (length: number): number => (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
  const full = headerFor(size) + size;
  const lastLength = payload.length - (count - 1) * size;
  const wire = Buffer.allocUnsafe((count - 1) * full + headerFor(lastLength) + lastLength);
  const mask = Buffer.from([0x5a, 0xa5, 0x3c, 0xc3]);
  let at = 0;
  let lastFrameAt = 0;
  for (let i = 0; i < count; i++) {
    const part = payload.subarray(i * size, Math.min(payload.length, (i + 1) * size));
    if (i === count - 1) lastFrameAt = at;
    wire[at++] = (i === count - 1 ? 0x80 : 0) | (i === 0 ? opcode | (options.compressed ? 0x40 : 0) : 0);
    if (part.length < 126) wire[at++] = 0x80 | part.length;
    else if (part.length < 65536) {
      wire[at++] = 0x80 | 126;
      wire.writeUInt16BE(part.length, at);
      at += 2;
    } else {
      wire[at++] = 0x80 | 127;
      wire.writeBigUInt64BE(BigInt(part.length), at);
      at += 8;
    }
    mask.copy(wire, at);
    at += 4;
    for (let j = 0; j < part.length; j++) wire[at + j] = part[j] ^ mask[j & 3];
    at += part.length;
  }
  return { wire, lastFrameAt };
}

export interface ServerFrame {
  opcode: number;
  fin: boolean;
  /** RSV1: the payload is compressed (permessage-deflate). */
  compressed: boolean;
  payload: Buffer;
}

/** Reads the server's (unmasked) frames from a raw socket, one at a time, in order. */
export class FrameReader {
  private data: Buffer;
  /** Every frame, parsed as its bytes come (inbox.ts). */
  private readonly frames = new Inbox<ServerFrame>('the server', (f) => `opcode 0x${f.opcode.toString(16)} (${f.payload.length} bytes)`);

  constructor(socket: Socket, initial: Buffer = Buffer.alloc(0)) {
    this.data = initial;
    this.parse();
    socket.on('data', (chunk: Buffer) => {
      this.data = this.data.length === 0 ? chunk : Buffer.concat([this.data, chunk]);
      this.parse();
    });
    socket.on('close', () => this.frames.end('the socket closed'));
  }

  /** The next frame; rejects when the socket closes first or nothing comes within `timeoutMs`. */
  next(timeoutMs = 10_000): Promise<ServerFrame> {
    return this.frames.next(() => true, 'a frame', timeoutMs);
  }

  /** The next frame that is not a ping or pong. */
  async nextData(timeoutMs?: number): Promise<ServerFrame> {
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (frame.opcode !== 0x9 && frame.opcode !== 0xa) return frame;
    }
  }

  private parse(): void {
    for (let frame = this.take(); frame !== undefined; frame = this.take()) this.frames.push(frame);
  }

  private take(): ServerFrame | undefined {
    const data = this.data;
    if (data.length < 2) return undefined;
    let length = data[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) return undefined;
      length = data.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) return undefined;
      length = Number(data.readBigUInt64BE(2));
      offset = 10;
    }
    if (data.length < offset + length) return undefined;
    this.data = data.subarray(offset + length);
    return { opcode: data[0] & 0x0f, fin: (data[0] & 0x80) !== 0, compressed: (data[0] & 0x40) !== 0, payload: data.subarray(offset, offset + length) };
  }
}

/** Reads server frames from a raw socket until a close frame, returning its code. */
export async function readCloseCode(socket: Socket, initial: Buffer = Buffer.alloc(0), timeoutMs = 5000): Promise<number> {
  const reader = new FrameReader(socket, initial);
  for (;;) {
    const frame = await reader.next(timeoutMs).catch(() => {
      throw new Error('no close frame from the server');
    });
    if (frame.opcode === 0x8) return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
  }
}

/** Opens a ws client and waits for it to be open. */
export function openClient(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Resolves with the close code the client sees. */
export function closeCodeOf(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
}

/** Sends each message and collects as many replies with their kind. */
export function echoAll(ws: WebSocket, messages: Array<string | Buffer>): Promise<Array<{ data: Buffer; binary: boolean }>> {
  return new Promise((resolve, reject) => {
    const replies: Array<{ data: Buffer; binary: boolean }> = [];
    const onClose = (code: number): void => reject(new Error(`closed with ${code} after ${replies.length} replies`));
    const onMessage = (data: Buffer, binary: boolean): void => {
      replies.push({ data, binary });
      if (replies.length === messages.length) {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        resolve(replies);
      }
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    for (const message of messages) ws.send(message, { binary: Buffer.isBuffer(message) });
  });
}
