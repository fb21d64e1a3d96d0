/**
 * Every WebSocket the server accepts or opens has its errors handled (core/ws/accept.ts): hostile
 * frames of every class on each path (an endpoint, the live reload channel, the inspector feed)
 * close that socket with the code RFC 6455 asks for, against the CLI as a child process, so a
 * crash of the process is what turns a test red; the endpoint's errors reach the events; a
 * compressed endpoint's inflate errors; connections reset during and after the handshake; and
 * hostile frames from a proxy's upstream.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import type { ServerEvent } from '../../src/core/events/events';
import { feedMaxPayload } from '../../src/core/inspector/server';
import { RELOAD_CHANNEL_PATH, RELOAD_MAX_PAYLOAD } from '../../src/core/reload/channel';
import { startServer } from '../../src/core/server';
import { startCli, type CliRun } from '../support/cli';
import { tempDir } from '../support/http';
import { NAMED_SEVEN, assertServing, closeCodeFor, hostileFrames } from '../support/hostile';
import { fakeInstall, inspectorUrlOf } from '../support/inspector';
import { openWithInbox, serveConfig } from '../support/modes';
import { pollUntil } from '../support/poll';
import { frame, openClient, rawHandshake } from '../support/ws';

const MAX_MESSAGE = 4096;

/** A CLI run serving a folder with a page, with --inspect, a small message limit and its own paths. */
async function startHostileCli(): Promise<{ run: CliRun; feedPath: string; own: string; inspector: { port: number; origin: string }; cleanup: () => void }> {
  const install = fakeInstall();
  const folder = tempDir();
  writeFileSync(path.join(folder.dir, 'index.html'), '<!DOCTYPE html><title>t</title><p>page</p>\n');
  const run = await startCli([folder.dir, '--port', '0', '--inspect', '--max-message-size', String(MAX_MESSAGE)], { script: install.cli });
  const { url } = inspectorUrlOf(run.ready);
  return {
    run,
    feedPath: `${new URL(url).pathname}feed`,
    own: `http://127.0.0.1:${run.port}`,
    // The inspector has its own port (its own origin): its feed is there.
    inspector: { port: Number(new URL(url).port), origin: new URL(url).origin },
    cleanup: () => {
      run.child.kill('SIGKILL');
      install.cleanup();
      folder.cleanup();
    },
  };
}

/** Sends every hostile case to `target`, checking its close code and that the CLI still serves after each. */
async function attack(run: CliRun, port: number, target: string, headers: Record<string, string>, limit: number): Promise<void> {
  const cases = hostileFrames(limit);
  assert.ok(NAMED_SEVEN.every((name) => cases.some((c) => c.name === name)), 'the issue’s seven are in the corpus');
  // One echo client open throughout (a new one each time would triple the connections).
  const echo = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
  for (const hostile of cases) {
    try {
      assert.equal(await closeCodeFor(port, target, headers, hostile.wire), hostile.code, `${target}: ${hostile.name}`);
      await assertServing(run.port, '/websocket', `after ${hostile.name} on ${target}`, echo);
    } catch (error) {
      const exit = run.child.exitCode ?? run.child.signalCode;
      const state = exit === null ? 'still running' : `exited (${exit})`;
      throw new Error(`${target}: ${hostile.name}: ${(error as Error).message}\nthe CLI is ${state}; its stderr:\n${run.stderr().slice(0, 1500)}`);
    }
  }
  echo.terminate();
  await assertServing(run.port, '/websocket', `after every hostile frame on ${target}`);
  assert.equal(run.child.exitCode, null, 'the CLI is still running');
  assert.doesNotMatch(run.stderr(), /Unhandled|Error:/, 'and printed no crash');
}

describe('hostile frames on every WebSocket path of the CLI', { timeout: 60_000 }, () => {
  // A CLI run each, so that one path's crash does not fail the others.
  const paths: Array<[string, (cli: Awaited<ReturnType<typeof startHostileCli>>) => [number, string, Record<string, string>, number]]> = [
    ['the live reload channel', (cli) => [cli.run.port, RELOAD_CHANNEL_PATH, { Origin: cli.own }, RELOAD_MAX_PAYLOAD]],
    ['an endpoint', (cli) => [cli.run.port, '/websocket', {}, MAX_MESSAGE]],
    ['the inspector feed', (cli) => [cli.inspector.port, cli.feedPath, { Origin: cli.inspector.origin }, feedMaxPayload(MAX_MESSAGE)]],
  ];
  for (const [what, target] of paths) {
    it(`${what} closes each with its code (1009, 1007, 1002) and the server keeps serving`, { timeout: 20_000 }, async () => {
      const cli = await startHostileCli();
      try {
        await attack(cli.run, ...target(cli));
      } finally {
        cli.cleanup();
      }
    });
  }
});

describe('WebSocket errors in a running server', { timeout: 60_000 }, () => {
  it('reports an endpoint client’s protocol error as an error event naming the client', { timeout: 20_000 }, async () => {
    const { dir, cleanup } = tempDir();
    writeFileSync(path.join(dir, 'index.html'), '<p>x</p>');
    const server = await startServer({ root: dir, port: 0 });
    const events: ServerEvent[] = [];
    const listening = server.events.on((event) => events.push(event));
    try {
      assert.equal(await closeCodeFor(server.port, '/websocket', {}, frame(0x1, Buffer.from([0xff]))), 1007);
      await pollUntil(() => events.some((e) => e.type === 'client-close'), 'the client’s close event');
      const opened = events.find((e): e is Extract<ServerEvent, { type: 'client-open' }> => e.type === 'client-open');
      assert.ok(opened);
      const errors = events.filter((e): e is Extract<ServerEvent, { type: 'error' }> => e.type === 'error').map((e) => e.message);
      assert.deepEqual(errors, [`client #${opened.id}: Invalid WebSocket frame: invalid UTF-8 sequence`]);
      await assertServing(server.port);
    } finally {
      listening.dispose();
      await server.close();
      cleanup();
    }
  });

  it('closes a compressed endpoint’s client on bad deflate data (1007), a deflate bomb (1009) and RSV1 where it may not be (1002)', { timeout: 20_000 }, async () => {
    const { dir, cleanup } = tempDir();
    writeFileSync(path.join(dir, 'index.html'), '<p>x</p>');
    const server = await startServer({ root: dir, port: 0, compression: true, maxMessageSize: MAX_MESSAGE });
    const deflated = (data: Buffer): Buffer => {
      const raw = deflateRawSync(data, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
      return raw.subarray(0, raw.length - 4); // without the 00 00 ff ff tail (RFC 7692 7.2.1)
    };
    const cases: Array<[string, Buffer, number]> = [
      ['data that is not deflate', frame(0x1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), { rsv: 4 }), 1007],
      ['a bomb that inflates past the limit', frame(0x2, deflated(Buffer.alloc(MAX_MESSAGE * 64)), { rsv: 4 }), 1009],
      ['invalid UTF-8 once inflated', frame(0x1, deflated(Buffer.from([0xc3, 0x28])), { rsv: 4 }), 1007],
      ['RSV1 on a continuation', Buffer.concat([frame(0x1, deflated(Buffer.from('ab')), { fin: false, rsv: 4 }), frame(0x0, Buffer.from('x'), { rsv: 4 })]), 1002],
      ['RSV1 on a ping', frame(0x9, Buffer.from('p'), { rsv: 4 }), 1002],
    ];
    try {
      for (const [name, wire, code] of cases) {
        assert.equal(await closeCodeFor(server.port, '/websocket', { 'Sec-WebSocket-Extensions': 'permessage-deflate' }, wire), code, name);
        await assertServing(server.port, '/websocket', `after ${name}`);
      }
    } finally {
      await server.close();
      cleanup();
    }
  });

  it('survives connections reset during and after the handshake, on every path', { timeout: 20_000 }, async () => {
    // A proxy endpoint whose upstream never answers keeps its client's handshake pending.
    const silent = createServer();
    const upgraded = new Set<Socket>(); // closeAllConnections() does not reach upgraded sockets
    silent.on('upgrade', (_req: IncomingMessage, raw: Socket) => {
      upgraded.add(raw);
      raw.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const upstream = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const token = 'A'.repeat(24);
    const assets = tempDir();
    writeFileSync(path.join(assets.dir, 'inspector.js'), '');
    writeFileSync(path.join(assets.dir, 'inspector.css'), '');
    const served = await serveConfig(
      { endpoints: { '/websocket': { mode: 'echo' }, '/pending': { mode: 'proxy', upstream } } },
      { inspector: { token, assets: { script: path.join(assets.dir, 'inspector.js'), style: path.join(assets.dir, 'inspector.css') } } },
    );
    const { server } = served;
    writeFileSync(path.join(served.dir, 'index.html'), '<p>x</p>');
    const own = { Origin: `http://127.0.0.1:${server.port}` };
    try {
      // During: the upgrade request is in, the answer is not (the proxy is still connecting).
      for (let i = 0; i < 5; i++) {
        const { connect } = await import('node:net');
        const socket = connect(server.port, '127.0.0.1');
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write(`GET /pending HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${'a'.repeat(22)}==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
        socket.resetAndDestroy();
      }
      // After: open on each path, start a message, and reset.
      const inspector = new URL(server.inspectorUrl!);
      const paths = [
        [server.port, '/websocket', {}],
        [server.port, RELOAD_CHANNEL_PATH, own],
        [Number(inspector.port), `/__echo-preview/inspector/${token}/feed`, { Origin: inspector.origin }],
      ] as const;
      for (const [port, target, headers] of paths) {
        for (let i = 0; i < 5; i++) {
          const { socket, status } = await rawHandshake(port, headers, target);
          assert.equal(status, 101, target);
          socket.write(frame(0x1, Buffer.from('partial'), { fin: false }));
          socket.resetAndDestroy();
        }
      }
      await assertServing(server.port);
    } finally {
      for (const raw of upgraded) raw.destroy();
      await served.cleanup();
      await new Promise((resolve) => silent.close(resolve));
      assets.cleanup();
    }
  });
});

describe('hostile frames from a proxy’s upstream', { timeout: 60_000 }, () => {
  /** Server frames (unmasked unless said) that the proxy's ws client must refuse. */
  const serverFrame = (opcode: number, payload: Buffer, options: { fin?: boolean; masked?: boolean; rsv?: number } = {}): Buffer => frame(opcode, payload, { masked: false, ...options });
  const closeWith = (code: number): Buffer => {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    return serverFrame(0x8, payload);
  };
  const bad: Array<[string, Buffer]> = [
    ['a masked frame', frame(0x1, Buffer.from('hi'), { masked: true })],
    ['invalid UTF-8', serverFrame(0x1, Buffer.from([0xc3, 0x28]))],
    ['a message over the limit', serverFrame(0x2, Buffer.alloc(MAX_MESSAGE + 1))],
    ['a reserved opcode', serverFrame(0x3, Buffer.from('x'))],
    ['RSV1 without an extension', serverFrame(0x1, Buffer.from('x'), { rsv: 4 })],
    ['a fragmented ping', serverFrame(0x9, Buffer.from('p'), { fin: false })],
    ['a continuation with no start', serverFrame(0x0, Buffer.from('x'))],
    ['close code 1005', closeWith(1005)],
    ['not a frame at all', Buffer.from([0xff, 0x7f])],
  ];

  it('closes the page with 1011 naming the failure, logs it, and keeps serving, whether it comes with the handshake or mid-session', { timeout: 20_000 }, async () => {
    // Each connection takes the next plan: the bytes, sent with the 101 or after the page's first message.
    const plans: Array<{ wire: Buffer; withHandshake: boolean }> = [];
    const upgraded = new Set<Socket>(); // closeAllConnections() does not reach upgraded sockets
    const upstream = createServer();
    upstream.on('upgrade', (req: IncomingMessage, raw: Socket) => {
      upgraded.add(raw);
      raw.on('error', () => undefined);
      const plan = plans.shift();
      const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      const head = Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      if (plan === undefined) return void raw.destroy();
      if (plan.withHandshake) return void raw.write(Buffer.concat([head, plan.wire]));
      raw.write(head);
      raw.once('data', () => raw.write(plan.wire));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const served = await serveConfig(
      { endpoints: { '/websocket': { mode: 'echo' }, '/live': { mode: 'proxy', upstream: `ws://127.0.0.1:${(upstream.address() as AddressInfo).port}/` } } },
      { maxMessageSize: MAX_MESSAGE },
    );
    writeFileSync(path.join(served.dir, 'index.html'), '<p>x</p>');
    const errors: string[] = [];
    const listening = served.server.events.on((event) => {
      if (event.type === 'error') errors.push(event.message);
    });
    try {
      for (const withHandshake of [true, false]) {
        for (const [name, wire] of bad) {
          const what = `${name} ${withHandshake ? 'with the handshake' : 'mid-session'}`;
          plans.push({ wire, withHandshake });
          const before = errors.length;
          const page = await openWithInbox(`ws://127.0.0.1:${served.server.port}/live`);
          if (!withHandshake) page.ws.send('hello');
          const closed = await page.closed;
          assert.equal(closed.code, 1011, what);
          assert.match(closed.reason, /^Upstream failed: /, what);
          assert.ok(errors.slice(before).some((e) => /^proxy \/live: upstream ws:\/\/127\.0\.0\.1:\d+\/ failed for client #\d+: /.test(e)), `${what}: ${errors.slice(before).join('\n')}`);
          await assertServing(served.server.port, '/websocket', `after ${what}`);
        }
      }
    } finally {
      listening.dispose();
      for (const raw of upgraded) raw.destroy();
      await served.cleanup();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});


