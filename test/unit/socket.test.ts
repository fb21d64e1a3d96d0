/** The WebSocket endpoint with real clients: echo, limits, fragments, origins, liveness, shutdown. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ServerEvent } from '../../src/core/events/events';
import { injectReloadScript } from '../../src/core/reload/inject';
import { CAN_COALESCE } from '../../src/core/ws/fragments';
import { startServer, type RunningServer } from '../../src/core/server';
import { REPO_ROOT, rawRequest } from '../support/http';
import { liveBytes } from '../support/memory';
import { pollUntil } from '../support/poll';
import { FrameReader, closeCodeOf, echoAll, fragmentedMessage, frame, openClient, rawHandshake, readCloseCode } from '../support/ws';
import * as path from 'node:path';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');

describe('WebSocket echo', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ root: DEMO, port: 0 });
  });
  after(() => server.close());

  it('echoes text as text and binary as the same bytes, in order', async () => {
    const ws = await openClient(server.wsUrl);
    const messages: Array<string | Buffer> = [];
    for (let i = 0; i < 200; i++) messages.push(i % 2 ? randomBytes(i * 7) : `message ${i} — ünïcødé ✓`);
    messages.push('', Buffer.alloc(0));
    const replies = await echoAll(ws, messages);
    replies.forEach((reply, i) => {
      const sent = messages[i];
      assert.equal(reply.binary, Buffer.isBuffer(sent), `kind of reply ${i}`);
      assert.deepEqual(reply.data, Buffer.isBuffer(sent) ? sent : Buffer.from(sent), `bytes of reply ${i}`);
    });
    ws.close();
  });

  it('serves 50 concurrent clients, each getting only its own echoes', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => openClient(server.wsUrl)));
    const results = await Promise.all(clients.map((ws, c) => echoAll(ws, Array.from({ length: 20 }, (_, i) => `client ${c} message ${i}`))));
    results.forEach((replies, c) => replies.forEach((r, i) => assert.equal(r.data.toString(), `client ${c} message ${i}`)));
    clients.forEach((ws) => ws.close());
  });

  it('reassembles a fragmented message and echoes it whole', async () => {
    const { socket, status, rest } = await rawHandshake(server.port);
    assert.equal(status, 101);
    const parts = ['frag', 'men', 'ted ✓'];
    socket.write(Buffer.concat([
      frame(0x1, Buffer.from(parts[0]), { fin: false }),
      frame(0x9, Buffer.from('ping in between')), // control frames may interleave
      frame(0x0, Buffer.from(parts[1]), { fin: false }),
      frame(0x0, Buffer.from(parts[2]), { fin: true }),
    ]));
    const text = await new Promise<string>((resolve) => {
      let data = rest;
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        // Skip the pong, find the text frame.
        let offset = 0;
        while (offset + 2 <= data.length) {
          const length = data[offset + 1] & 0x7f;
          if (offset + 2 + length > data.length) break;
          if ((data[offset] & 0x0f) === 0x1) return resolve(data.subarray(offset + 2, offset + 2 + length).toString());
          offset += 2 + length;
        }
      });
    });
    assert.equal(text, parts.join(''));
    socket.destroy();
  });

  it('closes with 1007 on invalid UTF-8 and keeps serving others', async () => {
    const { socket, rest } = await rawHandshake(server.port);
    socket.write(frame(0x1, Buffer.from([0xc3, 0x28, 0xff])));
    assert.equal(await readCloseCode(socket, rest), 1007);
    socket.destroy();
    const ws = await openClient(server.wsUrl);
    assert.equal((await echoAll(ws, ['still here']))[0].data.toString(), 'still here');
    ws.close();
  });

  it('closes with 1002 on protocol errors (unmasked frame, reserved bits, unknown opcode)', async () => {
    for (const bad of [frame(0x1, Buffer.from('x'), { masked: false }), frame(0x1, Buffer.from('x'), { rsv: 2 }), frame(0x3, Buffer.from('x'))]) {
      const { socket, rest } = await rawHandshake(server.port);
      socket.write(bad);
      assert.equal(await readCloseCode(socket, rest), 1002);
      socket.destroy();
    }
    const ws = await openClient(server.wsUrl);
    assert.equal((await echoAll(ws, ['alive']))[0].data.toString(), 'alive');
    ws.close();
  });

  it('refuses upgrades on other paths with 404 and bad Host with 403', async () => {
    const other = await rawHandshake(server.port, {}, '/other');
    assert.equal(other.status, 404);
    other.socket.destroy();
    const query = await rawHandshake(server.port, {}, '/websocket?x=1');
    assert.equal(query.status, 101, 'a query string does not change the path');
    query.socket.destroy();
    const absolute = await rawHandshake(server.port, {}, `http://127.0.0.1:${server.port}/websocket`);
    assert.equal(absolute.status, 101, 'absolute-form target');
    absolute.socket.destroy();
    const host = await rawHandshake(server.port, { Host: 'evil.example' });
    assert.equal(host.status, 403);
    host.socket.destroy();
  });

  it('refuses handshakes RFC 6455 does not allow with its own answer: method, version and key', async () => {
    const handshake = (method: string, version: string | undefined, key: string | undefined): string =>
      `${method} /websocket HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      (version === undefined ? '' : `Sec-WebSocket-Version: ${version}\r\n`) +
      (key === undefined ? '' : `Sec-WebSocket-Key: ${key}\r\n`) +
      '\r\n';
    const good = 'dGhlIHNhbXBsZSBub25jZQ==';
    const cases: Array<[string, string | undefined, string | undefined, number, Record<string, string>]> = [
      ['HEAD', '13', good, 405, { allow: 'GET' }],
      ['POST', '13', good, 405, { allow: 'GET' }],
      ['PUT', '13', good, 405, { allow: 'GET' }],
      ['GET', '8', good, 426, { 'sec-websocket-version': '13' }],
      ['GET', '7', good, 426, { 'sec-websocket-version': '13' }],
      ['GET', undefined, good, 426, { 'sec-websocket-version': '13' }],
      ['GET', '13', undefined, 400, {}],
      ['GET', '13', 'short==', 400, {}],
      ['GET', '13', 'dGhlIHNhbXBsZSBub25jZQ', 400, {}],
      ['GET', '13', 'dGhlIHNhbXBsZSBub25jZR==', 400, {}],
      ['GET', '13', 'dGhlIHNhbXBsZSBub25jZQ==x', 400, {}],
    ];
    for (const [method, version, key, status, headers] of cases) {
      const what = `${method} version ${String(version)} key ${String(key)}`;
      const res = await rawRequest(server.port, handshake(method, version, key));
      assert.equal(res.status, status, what);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
      for (const [name, value] of Object.entries(headers)) assert.equal(res.headers[name], value, `${what}: ${name}`);
    }
    const ok = await rawHandshake(server.port);
    assert.equal(ok.status, 101, 'a proper handshake still works');
    ok.socket.destroy();
  });

  it('refuses what ws itself finds malformed (a bad subprotocol list) as it refuses the rest: 400, nosniff, plain text, a refused event', async () => {
    const events: ServerEvent[] = [];
    const subscription = server.events.on((e) => events.push(e));
    try {
      for (const offered of ['a, a', 'a b', 'x, {y}']) {
        const request =
          `GET /websocket HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${offered}\r\n\r\n`;
        const res = await rawRequest(server.port, request);
        assert.equal(res.status, 400, offered);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', offered);
        assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', offered);
      }
      const refused = events.filter((e) => e.type === 'refused' && e.what === 'handshake');
      assert.equal(refused.length, 3, 'one refused event each');
    } finally {
      subscription.dispose();
    }
  });

  it('negotiates no compression by default', async () => {
    const ws = await openClient(server.wsUrl, { perMessageDeflate: true });
    assert.equal(ws.extensions, '');
    ws.close();
  });
});

describe('WebSocket origin rule', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ root: DEMO, port: 0, allowedOrigins: ['https://tunnel.example', 'vscode-webview://0panel0'] });
  });
  after(() => server.close());

  const statusFor = async (origin: string | undefined): Promise<number> => {
    const { socket, status } = await rawHandshake(server.port, origin === undefined ? {} : { Origin: origin });
    socket.destroy();
    return status;
  };

  it('accepts no Origin, its own origin and configured origins (a webview only when configured)', async () => {
    for (const origin of [
      undefined,
      `http://127.0.0.1:${server.port}`,
      `http://localhost:${server.port}`,
      `http://[::1]:${server.port}`,
      'https://tunnel.example',
      'vscode-webview://0panel0',
      'VSCODE-WEBVIEW://0Panel0',
    ]) {
      assert.equal(await statusFor(origin), 101, String(origin));
    }
  });

  it('refuses foreign origins with 403 before upgrading', async () => {
    for (const origin of [
      'http://evil.example',
      `http://evil.example:${server.port}`,
      `http://127.0.0.1:${server.port + 1}`,
      'http://127.0.0.1',
      `https://127.0.0.1:${server.port}`,
      'null',
      'file://',
      'vscode-webview://',
      'vscode-webview://1a2b3c4d', // another extension's webview
      'vscode-webview://0panel0.evil',
      'vscode-webview://0panel',
      `http://127.0.0.1:${server.port}.evil.example`,
    ]) {
      assert.equal(await statusFor(origin), 403, origin);
    }
  });

  it('accepts an origin added at run time, a webview panel included', async () => {
    for (const origin of ['http://127.0.0.1:9999', 'vscode-webview://5e6f7a8b']) {
      assert.equal(await statusFor(origin), 403, origin);
      server.allowOrigin(origin);
      assert.equal(await statusFor(origin), 101, origin);
    }
    assert.equal(await statusFor('vscode-webview://other'), 403, 'only the panel that was added');
  });

  it('takes a run-time origin back when its grant is disposed, keeping configured and still-held ones', async () => {
    const panel = 'vscode-webview://7a7a7a7a';
    const first = server.allowOrigin(panel);
    const second = server.allowOrigin(panel);
    first.dispose();
    first.dispose(); // a second dispose of the same grant takes nothing more
    assert.equal(await statusFor(panel), 101, 'another grant of the same origin is still held');
    second.dispose();
    assert.equal(await statusFor(panel), 403, 'no grant left');
    server.allowOrigin('vscode-webview://0panel0').dispose();
    assert.equal(await statusFor('vscode-webview://0panel0'), 101, 'a configured origin is not taken back by a grant');
  });
});

describe('WebSocket limits', () => {
  it('accepts a message of exactly the limit however fragmented, and closes 1009 beyond it', async () => {
    const server = await startServer({ root: DEMO, port: 0, maxMessageSize: 1024 });
    try {
      const ws = await openClient(server.wsUrl);
      const exact = randomBytes(1024);
      assert.deepEqual((await echoAll(ws, [exact]))[0].data, exact);
      // The same size in 16 fragments of 64 bytes.
      const { socket, rest } = await rawHandshake(server.port);
      const parts = [];
      for (let i = 0; i < 16; i++) parts.push(frame(i === 0 ? 0x2 : 0x0, exact.subarray(i * 64, (i + 1) * 64), { fin: i === 15 }));
      socket.write(Buffer.concat(parts));
      const echoed = await new Promise<Buffer>((resolve) => {
        let data = rest;
        socket.on('data', (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          if (data.length >= 4 + 1024) resolve(data.subarray(4, 4 + 1024));
        });
      });
      assert.deepEqual(echoed, exact);
      socket.destroy();
      // One byte over, sent as fragments that are each small.
      const over = await rawHandshake(server.port);
      over.socket.write(Buffer.concat([frame(0x2, Buffer.alloc(600), { fin: false }), frame(0x0, Buffer.alloc(425), { fin: true })]));
      assert.equal(await readCloseCode(over.socket, over.rest), 1009);
      over.socket.destroy();
      const big = await openClient(server.wsUrl);
      const closed = closeCodeOf(big);
      big.send(Buffer.alloc(1025));
      assert.equal(await closed, 1009);
      ws.close();
    } finally {
      await server.close();
    }
  });

  it('runs on the exact ws whose internals ws/fragments.ts and ws/tap.ts rely on (pinned in package.json)', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const installed = (JSON.parse(readFileSync(require.resolve('ws/package.json'), 'utf8')) as { version: string }).version;
    assert.match(manifest.dependencies.ws, /^\d+\.\d+\.\d+$/, 'ws is pinned to one exact version, not a range');
    assert.equal(installed, manifest.dependencies.ws, 'the installed ws is the pinned one');
    assert.equal(CAN_COALESCE, true, 'its receiver still has the internals fragments.ts wraps');
  });

  it('echoes a 4 MiB message sent as 65,536 fragments of 64 bytes (Autobahn 9.3.1, 9.4.1)', async () => {
    const server = await startServer({ root: DEMO, port: 0 });
    try {
      for (const [opcode, payload] of [
        [0x2, randomBytes(4 * 1024 * 1024)],
        [0x1, Buffer.from('ü✓ fragmented text '.repeat(4 * 1024 * 1024 / 32).slice(0, 4 * 1024 * 1024 - 64))],
      ] as const) {
        const { socket, rest } = await rawHandshake(server.port);
        const reader = new FrameReader(socket, rest);
        const { wire } = fragmentedMessage(opcode, payload, 64);
        socket.write(wire);
        const echo = await reader.nextData();
        assert.equal(echo.opcode, opcode, echo.opcode === 0x8 ? `refused with close ${echo.payload.readUInt16BE(0)}` : `opcode ${echo.opcode}`);
        assert.ok(echo.payload.equals(payload), `echo of ${payload.length} bytes is exact`);
        socket.destroy();
      }
    } finally {
      await server.close();
    }
  });

  it('echoes a message of one-byte fragments up to the limit, holding at most twice its size meanwhile', async () => {
    // The bound: while a fragmented message is in, the server holds it in one buffer of at most
    // max(4 KiB, 2 x the bytes so far) (src/core/fragments.ts). Without that, each fragment is
    // its own Buffer object (~100 bytes each): 262,144 fragments would hold ~25 MB.
    const limit = 256 * 1024;
    const server = await startServer({ root: DEMO, port: 0, maxMessageSize: limit });
    try {
      const multiByte = Buffer.from('ü✓'.repeat(Math.floor(limit / 10))); // 2 + 3 bytes each
      const payload = Buffer.concat([multiByte, Buffer.alloc(limit - multiByte.length, 'x')]);
      assert.equal(payload.length, limit);
      const { wire, lastFrameAt } = fragmentedMessage(0x1, payload, 1);
      const ping = frame(0x9, Buffer.from('after the fragments'));
      const { socket, rest } = await rawHandshake(server.port);
      const reader = new FrameReader(socket, rest);
      const before = liveBytes();
      // All fragments but the last, then a ping: its pong proves the server has read them all.
      socket.write(Buffer.concat([wire.subarray(0, lastFrameAt), ping]));
      const pong = await reader.next();
      assert.equal(pong.opcode, 0xa, 'pong');
      const held = liveBytes() - before;
      const bound = 2 * limit + 128 * 1024; // the buffer, plus room for the socket's own chunks
      assert.ok(held <= bound, `holds ${held} bytes for a ${limit}-byte message in progress; the bound is ${bound}`);
      socket.write(wire.subarray(lastFrameAt));
      const echo = await reader.nextData();
      assert.equal(echo.opcode, 0x1);
      assert.ok(echo.payload.equals(payload), 'the echo is exact, multi-byte characters split across fragments included');
      // And one byte more, however fragmented, is refused with 1009.
      const over = await rawHandshake(server.port);
      over.socket.write(fragmentedMessage(0x2, Buffer.alloc(limit + 1, 7), 1).wire);
      assert.equal(await readCloseCode(over.socket, over.rest), 1009);
      over.socket.destroy();
      socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('echoes a compressed message sent in one-byte fragments', async () => {
    const server = await startServer({ root: DEMO, port: 0, compression: true });
    try {
      // Each compressed fragment costs the server one inflate call: a few thousand keep this quick.
      const text = Array.from({ length: 300 }, (_, i) => `${i.toString(36)} ${randomBytes(2).toString('hex')} ✓`).join('\n');
      const deflated = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH });
      const compressed = deflated.subarray(0, deflated.length - 4); // without the 00 00 ff ff tail (RFC 7692)
      assert.ok(compressed.length > 1000, `${compressed.length} one-byte fragments`);
      const { socket, rest } = await rawHandshake(server.port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
      const reader = new FrameReader(socket, rest);
      socket.write(fragmentedMessage(0x1, compressed, 1, { compressed: true }).wire);
      const echo = await reader.nextData();
      assert.equal(echo.opcode, 0x1, `a text reply, not ${echo.opcode}`);
      const body = !echo.compressed ? echo.payload : inflateRawSync(Buffer.concat([echo.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH });
      assert.equal(body.toString(), text);
      socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('defaults to a 16 MiB limit', async () => {
    const server = await startServer({ root: DEMO, port: 0 });
    try {
      const ws = await openClient(server.wsUrl);
      const exact = Buffer.alloc(16 * 1024 * 1024, 1);
      const [reply] = await echoAll(ws, [exact]);
      assert.equal(reply.data.length, exact.length);
      const closed = closeCodeOf(ws);
      ws.send(Buffer.alloc(16 * 1024 * 1024 + 1));
      assert.equal(await closed, 1009);
    } finally {
      await server.close();
    }
  });

  it('stops reading from a client that floods without reading, serves others, and resumes when it reads', async () => {
    const server = await startServer({ root: DEMO, port: 0 });
    let framesIn = 0;
    server.events.on((e) => {
      if (e.type === 'frame' && e.direction === 'in' && e.size === 64 * 1024) framesIn++; // the flood's frames
    });
    try {
      const { socket } = await rawHandshake(server.port);
      socket.pause(); // never read the echoes
      const total = 1024;
      const chunk = frame(0x2, Buffer.alloc(64 * 1024, 3));
      for (let i = 0; i < total; i++) socket.write(chunk); // 64 MiB: more than the kernel's buffers hold
      let drained = false;
      socket.once('drain', () => (drained = true));
      // No event says "the server stopped reading", so watch its count of frames read settle.
      // Without backpressure it reads all 64 MiB (buffering every echo) within a fraction of a second.
      await pollUntil(
        (() => {
          let last = -1;
          let same = 0;
          return () => {
            assert.ok(framesIn < total && !drained, `the server read all ${total} frames while the client read nothing`);
            same = framesIn === last ? same + 1 : 0;
            last = framesIn;
            return same >= 10;
          };
        })(),
        'the server to stop reading from the flooding client',
      );
      assert.ok(framesIn > 0 && framesIn * 64 * 1024 <= 32 * 1024 * 1024, `${framesIn} frames read before pausing`);
      const ws = await openClient(server.wsUrl);
      assert.equal((await echoAll(ws, ['fair share']))[0].data.toString(), 'fair share');
      ws.close();
      // Once the client reads, every echo arrives: reading resumed and nothing was lost.
      const expected = total * (10 + 64 * 1024);
      let received = 0;
      await new Promise<void>((resolve) => {
        socket.on('data', (data: Buffer) => {
          received += data.length;
          if (received >= expected) resolve();
        });
        socket.resume();
      });
      assert.equal(received, expected);
      assert.equal(framesIn, total);
      socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('offers permessage-deflate when compression is enabled', async () => {
    const server = await startServer({ root: DEMO, port: 0, compression: true });
    try {
      const ws = await openClient(server.wsUrl, { perMessageDeflate: true });
      assert.match(ws.extensions, /permessage-deflate/);
      const text = 'compress me '.repeat(1000);
      assert.equal((await echoAll(ws, [text]))[0].data.toString(), text);
      ws.close();
    } finally {
      await server.close();
    }
  });
});

describe('WebSocket liveness and shutdown', () => {
  it('drops a peer that stops answering pings and keeps one that answers', { timeout: 10_000 }, async () => {
    const server = await startServer({ root: DEMO, port: 0, heartbeatMs: 100 });
    try {
      const live = await openClient(server.wsUrl); // ws answers pings by itself
      const { socket } = await rawHandshake(server.port); // never answers
      let pings = 0;
      live.on('ping', () => pings++);
      await new Promise<void>((resolve) => socket.on('close', () => resolve()));
      // The dead peer goes on the round after the one it left unanswered; the live one was pinged meanwhile.
      assert.ok(pings >= 1, `the live client was pinged (${pings})`);
      assert.equal(live.readyState, WebSocket.OPEN);
      assert.equal((await echoAll(live, ['alive']))[0].data.toString(), 'alive');
      live.close();
    } finally {
      await server.close();
    }
  });

  it('closes clients with 1001 and frees the port before close() resolves', async () => {
    const server = await startServer({ root: DEMO, port: 0 });
    const clients = await Promise.all([openClient(server.wsUrl), openClient(server.wsUrl)]);
    const codes = Promise.all(clients.map(closeCodeOf));
    await server.close();
    assert.deepEqual(await codes, [1001, 1001]);
    assert.equal(server.clientCount, 0);
    // The port can be bound again at once.
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(server.port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  });
});

describe('server events', () => {
  it('reports requests, clients with their origin, frames with size and kind, and refusals', async () => {
    const server = await startServer({ root: DEMO, port: 0 });
    const events: ServerEvent[] = [];
    const subscription = server.events.on((e) => events.push(e));
    try {
      const res = await fetch(server.url);
      await res.text();
      const origin = `http://127.0.0.1:${server.port}`;
      const ws = await openClient(server.wsUrl, { origin });
      await echoAll(ws, ['hello', Buffer.from([1, 2, 3])]);
      const closed = closeCodeOf(ws);
      ws.close(1000, 'bye');
      await closed;
      const secondRequest = new Promise<void>((resolve) => {
        let seen = 0;
        const watch = server.events.on((e) => {
          if (e.type === 'request' && ++seen === 1) {
            watch.dispose();
            resolve();
          }
        });
      });
      await fetch(`${server.url}index.html`).then((r) => r.text());
      await secondRequest; // its event comes when the response finishes, maybe after the body arrived
      const request = events.find((e) => e.type === 'request');
      assert.deepEqual(request && { ...request, durationMs: 0, remote: '' }, { type: 'request', method: 'GET', path: '/', status: 200, bytes: injectReloadScript((await import('node:fs')).readFileSync(path.join(DEMO, 'index.html')))?.length, durationMs: 0, remote: '' });
      const open = events.find((e) => e.type === 'client-open');
      assert.equal(open?.type === 'client-open' && open.origin, origin);
      const frames = events.filter((e) => e.type === 'frame').map((e) => e.type === 'frame' && `${e.direction}:${e.kind}:${e.size}`);
      assert.deepEqual(frames, ['in:text:5', 'out:text:5', 'in:binary:3', 'out:binary:3']);
      const close = events.find((e) => e.type === 'client-close');
      assert.deepEqual(close && { ...close }, { type: 'client-close', id: open?.type === 'client-open' ? open.id : -1, code: 1000, reason: 'bye' });
      subscription.dispose();
      const before = events.length;
      await fetch(server.url).then((r) => r.text());
      assert.equal(events.length, before, 'no events after dispose');
    } finally {
      await server.close();
    }
  });
});
