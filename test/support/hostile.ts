/**
 * Hostile WebSocket input by class, as hand-built frames, with the close code RFC 6455 asks the
 * receiver to answer with; and the check that a server still serves after each one.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { get } from './http';
import { echoAll, frame, openClient, rawHandshake, readCloseCode } from './ws';

export interface HostileCase {
  name: string;
  /** The bytes sent right after the handshake. */
  wire: Buffer;
  /** The close code the server must answer with. */
  code: number;
}

/** A masked client frame header that announces a 64-bit payload length and sends no payload. */
function lengthOnly(opcode: number, length: bigint): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x80 | opcode;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(length, 2);
  randomBytes(4).copy(header, 10);
  return header;
}

function close(payload: Buffer): Buffer {
  return frame(0x8, payload);
}

function closeCode(code: number, reason: Buffer = Buffer.alloc(0)): Buffer {
  const payload = Buffer.alloc(2 + reason.length);
  payload.writeUInt16BE(code, 0);
  reason.copy(payload, 2);
  return close(payload);
}

/**
 * Every hostile class, for a path whose largest message is `limit` bytes. Oversize: 1009;
 * invalid UTF-8 (in a message or a close reason): 1007; any other protocol error: 1002.
 */
export function hostileFrames(limit: number): HostileCase[] {
  const over = Buffer.alloc(limit + 1, 0x78);
  const half = Math.ceil(over.length / 2);
  const cases: HostileCase[] = [
    // Too big.
    { name: 'a text message one byte over the limit', wire: frame(0x1, over), code: 1009 },
    { name: 'a binary message one byte over the limit', wire: frame(0x2, over), code: 1009 },
    { name: 'a message over the limit in two fragments', wire: Buffer.concat([frame(0x1, over.subarray(0, half), { fin: false }), frame(0x0, over.subarray(half))]), code: 1009 },
    { name: 'a 64-bit length of 2^40 with no payload', wire: lengthOnly(0x2, 2n ** 40n), code: 1009 },
    { name: 'a 64-bit length above 2^53 - 1', wire: lengthOnly(0x1, 2n ** 63n + 5n), code: 1009 },
    // Invalid UTF-8.
    { name: 'invalid UTF-8 in a text frame', wire: frame(0x1, Buffer.from([0xc3, 0x28])), code: 1007 },
    { name: 'an overlong UTF-8 encoding', wire: frame(0x1, Buffer.from([0xc0, 0xaf])), code: 1007 },
    { name: 'a surrogate encoded in UTF-8', wire: frame(0x1, Buffer.from([0xed, 0xa0, 0x80])), code: 1007 },
    { name: 'a code point above U+10FFFF', wire: frame(0x1, Buffer.from([0xf4, 0x90, 0x80, 0x80])), code: 1007 },
    {
      name: 'a UTF-8 sequence cut between fragments and never finished',
      wire: Buffer.concat([frame(0x1, Buffer.from([0x61, 0xe2, 0x82]), { fin: false }), frame(0x0, Buffer.from([0x41]))]),
      code: 1007,
    },
    { name: 'invalid UTF-8 in a close reason', wire: closeCode(1000, Buffer.from([0xff, 0xfe])), code: 1007 },
    // Framing.
    { name: 'an unmasked frame', wire: frame(0x1, Buffer.from('hi'), { masked: false }), code: 1002 },
    { name: 'RSV1 without an extension', wire: frame(0x1, Buffer.from('hi'), { rsv: 4 }), code: 1002 },
    { name: 'RSV2', wire: frame(0x1, Buffer.from('hi'), { rsv: 2 }), code: 1002 },
    { name: 'RSV3', wire: frame(0x2, Buffer.from('hi'), { rsv: 1 }), code: 1002 },
    { name: 'a fragmented ping', wire: frame(0x9, Buffer.from('p'), { fin: false }), code: 1002 },
    { name: 'a fragmented close', wire: Buffer.concat([frame(0x8, Buffer.from([0x03, 0xe8]), { fin: false })]), code: 1002 },
    { name: 'a ping over 125 bytes', wire: frame(0x9, Buffer.alloc(126, 0x70)), code: 1002 },
    { name: 'a pong over 125 bytes', wire: frame(0xa, Buffer.alloc(200, 0x70)), code: 1002 },
    { name: 'a close frame over 125 bytes', wire: closeCode(1000, Buffer.alloc(124, 0x72)), code: 1002 },
    { name: 'a continuation with no message started', wire: frame(0x0, Buffer.from('x')), code: 1002 },
    { name: 'a text frame inside a fragmented message', wire: Buffer.concat([frame(0x1, Buffer.from('a'), { fin: false }), frame(0x1, Buffer.from('b'))]), code: 1002 },
    { name: 'a binary frame inside a fragmented text message', wire: Buffer.concat([frame(0x1, Buffer.from('a'), { fin: false }), frame(0x2, Buffer.from('b'))]), code: 1002 },
    { name: 'a close payload of 1 byte', wire: close(Buffer.from([0x03])), code: 1002 },
  ];
  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    cases.push({ name: `reserved opcode 0x${opcode.toString(16)}`, wire: frame(opcode, Buffer.from('x')), code: 1002 });
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
    cases.push({ name: `close code ${code}`, wire: closeCode(code), code: 1002 });
  }
  return cases;
}

/** The seven, as one list: what took the reload channel down. */
export const NAMED_SEVEN = [
  'a text message one byte over the limit',
  'invalid UTF-8 in a text frame',
  'an unmasked frame',
  'reserved opcode 0x3',
  'RSV1 without an extension',
  'a fragmented ping',
  'close code 1005',
];

/**
 * Opens `target` by hand (with `headers`), sends `wire` and resolves with the server's close
 * code. The raw socket is destroyed afterwards.
 */
export async function closeCodeFor(port: number, target: string, headers: Record<string, string>, wire: Buffer): Promise<number> {
  const { socket, status, rest } = await rawHandshake(port, headers, target);
  try {
    assert.equal(status, 101, `the handshake on ${target} is accepted`);
    socket.on('error', () => undefined); // the server may reset once it has closed
    const code = readCloseCode(socket, rest);
    socket.write(wire);
    return await code;
  } finally {
    socket.destroy();
  }
}

/**
 * The server at `port` still serves a file over HTTP and echoes on `echoPath`: on `echo`, a
 * client that was open all along, when given, else on a new one.
 */
export async function assertServing(port: number, echoPath = '/websocket', what = '', echo?: WebSocket): Promise<void> {
  const page = await get(port, '/');
  assert.equal(page.status, 200, `HTTP still answers ${what}`);
  const ws = echo ?? (await openClient(`ws://127.0.0.1:${port}${echoPath}`));
  try {
    const [reply] = await echoAll(ws, ['still here']);
    assert.equal(reply.data.toString(), 'still here', `the echo still answers ${what}`);
  } finally {
    if (echo === undefined) ws.terminate();
  }
}
