/** WebSocket test helpers: a raw handshake over TCP and hand-built frames for hostile input. */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

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

/** Reads server frames from a raw socket until a close frame, returning its code. */
export function readCloseCode(socket: Socket, initial: Buffer = Buffer.alloc(0), timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    let data = initial;
    const timer = setTimeout(() => reject(new Error('no close frame from the server')), timeoutMs);
    const scan = (): void => {
      while (data.length >= 2) {
        let length = data[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (data.length < 4) return;
          length = data.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (data.length < 10) return;
          length = Number(data.readBigUInt64BE(2));
          offset = 10;
        }
        if (data.length < offset + length) return;
        if ((data[0] & 0x0f) === 0x8) {
          clearTimeout(timer);
          resolve(length >= 2 ? data.readUInt16BE(offset) : 1005);
          return;
        }
        data = data.subarray(offset + length);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      scan();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error('socket closed without a close frame'));
    });
    scan();
  });
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
    const onMessage = (data: Buffer, binary: boolean): void => {
      replies.push({ data, binary });
      if (replies.length === messages.length) {
        ws.off('message', onMessage);
        resolve(replies);
      }
    };
    ws.on('message', onMessage);
    ws.once('close', (code: number) => reject(new Error(`closed with ${code} after ${replies.length} replies`)));
    for (const message of messages) ws.send(message, { binary: Buffer.isBuffer(message) });
  });
}
