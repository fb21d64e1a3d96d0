/**
 * startServer as a whole: which WebSocket paths it accepts and how it matches them, what it
 * answers under its reserved prefix, and that a failed start leaves nothing running.
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENDPOINTS_PATH } from '../../src/core/http/builtin';
import { StartError, startServer, type RunningServer } from '../../src/core/server';
import { REPO_ROOT, get, tempDir } from '../support/http';
import { echoAll, openClient, rawHandshake } from '../support/ws';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');

/** Starts with `wsPath` and returns the refusal (a StartError) or undefined if it started. */
async function refusalFor(wsPath: string): Promise<StartError | undefined> {
  try {
    const server = await startServer({ root: DEMO, port: 0, wsPath });
    await server.close();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof StartError, String(error));
    return error;
  }
}

describe('the WebSocket path option', () => {
  it('refuses anything but one plain absolute path, saying which path and what is wrong', async () => {
    const controls = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, 0x80, 0x85, 0x9b, 0x9f].map((c) => String.fromCharCode(c));
    const spaces = [' ', '\t', '\u00a0', '\u1680', '\u2003', '\u2028', '\u2029', '\u202f', '\u3000'];
    const invisible = ['\u00ad', '\u200b', '\u200e', '\u2066', '\ufeff'];
    const unencoded = ['<', '>', '[', ']', '{', '}', '|', '^'];
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['websocket', /must start with "\/"/],
      ['//evil.example/ws', /must not start with "\/\/"/],
      ['/a;b', /semicolon/],
      ["/ws'; script-src *", /single quote|semicolon|white space|space/],
      ['/a,b', /comma/],
      ['/a"b', /double quote/],
      ["/a'b", /single quote/],
      ['/a`b', /backtick/],
      ['/ws?x=1', /"\?"/],
      ['/ws#top', /"#"/],
      ['/a\\b', /backslash/],
      ['/ws-%C3%BC', /"%" \(write the path decoded/],
      ['/a/../b', /"\.\."/],
      ['/./ws', /"\."/],
      ['/ws/..', /"\.\."/],
      ['/\ud800x', /surrogate/],
      ['/' + 'x'.repeat(2000), /longer than/],
      ...controls.map((c): [string, RegExp] => [`/ws${c}x`, /control character \(U\+[0-9A-F]{4}\)/]),
      ...spaces.map((c): [string, RegExp] => [`/ws${c}x`, c === '\t' ? /control character/ : /space/]),
      ...invisible.map((c): [string, RegExp] => [`/ws${c}x`, /invisible formatting character|white space/]),
      ...unencoded.map((c): [string, RegExp] => [`/ws${c}x`, /cannot hold as it is/]),
    ];
    for (const [wsPath, problem] of cases) {
      const error = await refusalFor(wsPath);
      assert.ok(error, `${JSON.stringify(wsPath)} was accepted`);
      assert.equal(error.code, 'INVALID_OPTION');
      assert.match(error.message, problem, JSON.stringify(wsPath));
      assert.ok(error.message.startsWith(`The WebSocket path ${JSON.stringify(wsPath.slice(0, 3)).slice(0, -1)}`), `names the path: ${error.message}`);
      // eslint-disable-next-line no-control-regex -- control characters are what this looks for
      assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(error.message), 'the message itself prints no control character');
    }
  });

  it('accepts plain paths, non-ASCII ones included', async () => {
    for (const wsPath of ['/ws', '/websocket', '/ws/', '/a/b/c', '/ws-ü', '/чат', '/聊天', '/ws~x_y.z-1', '/echo@1:2', "/a!$&()*+=", '/..x/.y', '/']) {
      assert.equal(await refusalFor(wsPath), undefined, wsPath);
    }
  });
});

describe('a non-ASCII WebSocket path', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ root: DEMO, port: 0, wsPath: '/ws-ü' });
  });
  after(() => server.close());

  it('is matched on the decoded request path, however it was encoded', async () => {
    const ws = await openClient(`ws://127.0.0.1:${server.port}/ws-ü`); // the client encodes it: /ws-%C3%BC
    assert.equal((await echoAll(ws, ['grüß dich']))[0].data.toString(), 'grüß dich');
    ws.close();
    for (const target of ['/ws-%C3%BC', '/ws-%c3%bc', '/%77s-%C3%BC', '/ws-%C3%BC?x=1']) {
      const { socket, status } = await rawHandshake(server.port, {}, target);
      socket.destroy();
      assert.equal(status, 101, target);
    }
    for (const target of ['/websocket', '/ws-u', '/ws-%C3', '/ws-%C3%BC/', '/ws-%FC']) {
      const { socket, status } = await rawHandshake(server.port, {}, target);
      socket.destroy();
      assert.equal(status, 404, target);
    }
  });

  it('answers a plain GET on it with 426, however it was encoded', async () => {
    for (const target of ['/ws-%C3%BC', '/ws-%c3%bc']) {
      const res = await get(server.port, target);
      assert.equal(res.status, 426, target);
      assert.equal(res.headers.upgrade, 'websocket');
    }
    assert.equal((await get(server.port, '/ws-%FC')).status, 400, 'malformed UTF-8 is a bad path, not the endpoint');
  });

  it('takes a handshake whose Upgrade offers websocket among other protocols', async () => {
    for (const upgrade of ['websocket', 'WebSocket', 'foo, websocket', 'websocket, h2c']) {
      const { socket, status } = await rawHandshake(server.port, { Upgrade: upgrade }, '/ws-%C3%BC');
      socket.destroy();
      assert.equal(status, 101, upgrade);
    }
  });
});

describe(`${ENDPOINTS_PATH}`, () => {
  it('lists the WebSocket endpoints, for GET and HEAD, however the path is encoded', async () => {
    for (const [wsPath, expected] of [
      [undefined, '/websocket'],
      ['/ws', '/ws'],
      ['/ws-ü', '/ws-ü'],
    ] as const) {
      const server = await startServer({ root: DEMO, port: 0, wsPath });
      try {
        for (const target of [ENDPOINTS_PATH, '/__echo-preview/endpoints%2Ejson', '/__echo-preview//endpoints.json']) {
          const res = await get(server.port, target);
          assert.equal(res.status, 200, target);
          assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
          assert.equal(res.headers['x-content-type-options'], 'nosniff');
          assert.deepEqual(JSON.parse(res.body.toString()), { endpoints: [{ path: expected, mode: 'echo' }] });
        }
        const head = await get(server.port, ENDPOINTS_PATH, {}, 'HEAD');
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        assert.ok(Number(head.headers['content-length']) > 0);
        assert.equal((await get(server.port, ENDPOINTS_PATH, { 'Content-Length': '0' }, 'POST')).status, 405);
        assert.equal((await get(server.port, '/__echo-preview/endpoints.json/')).status, 404, 'only that exact file');
        assert.equal((await get(server.port, '/__echo-preview/other.json')).status, 404);
      } finally {
        await server.close();
      }
    }
  });

  it("never shadows a file of the user's at the same path", async () => {
    const { dir, cleanup } = tempDir();
    mkdirSync(path.join(dir, '__echo-preview'));
    writeFileSync(path.join(dir, '__echo-preview', 'endpoints.json'), '{"mine":true}');
    const server = await startServer({ root: dir, port: 0 });
    try {
      const res = await get(server.port, ENDPOINTS_PATH);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), '{"mine":true}');
    } finally {
      await server.close();
      cleanup();
    }
  });
});

describe('a failed start', () => {
  let blocker: Server;
  let port: number;
  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('leaves no timer, handle or socket server behind, however often it fails', async () => {
    // Timers the server makes are unref'd, so getActiveResourcesInfo() alone would not show them.
    const liveTimers = new Set<number>();
    const hook = createHook({
      init: (id, type) => void (type === 'Timeout' && liveTimers.add(id)),
      destroy: (id) => void liveTimers.delete(id),
    }).enable();
    // Listening sockets and ref'd timers (sockets and file requests of earlier tests come and go).
    const handles = (): string[] => process.getActiveResourcesInfo().filter((type) => type === 'TCPServerWrap' || type === 'Timeout');
    const handlesBefore = handles();
    try {
      for (let i = 0; i < 11; i++) {
        await assert.rejects(startServer({ root: DEMO, port, heartbeatMs: 60_000 }), (error: unknown) => error instanceof StartError && error.code === 'PORT_IN_USE');
      }
      await new Promise((resolve) => setImmediate(resolve)); // destroy hooks of cleared timers run after the current turn
      assert.equal(liveTimers.size, 0, `${liveTimers.size} timers still live after 11 failed starts`);
      assert.deepEqual(handles(), handlesBefore);
    } finally {
      hook.disable();
    }
  });
});

/** Writes `request` in one go and collects what comes back until `done(received)` or the server closes. */
function pipelined(port: number, request: string, done: (received: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer; got: ${received.slice(0, 400)}`));
    }, 5000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (done(received)) finish();
    });
    socket.on('end', finish);
    socket.on('error', reject);
    socket.write(request);
  });
}

describe('requests pipelined before an upgrade', () => {
  let server: RunningServer;
  let big: string;
  const work = tempDir();
  before(async () => {
    // Big enough to be streamed in several chunks, so its response is still going when the upgrade arrives.
    big = 'x'.repeat(3 * 1024 * 1024);
    writeFileSync(path.join(work.dir, 'big.txt'), big);
    writeFileSync(path.join(work.dir, 'small.txt'), 'small');
    server = await startServer({ root: work.dir, port: 0 });
  });
  after(async () => {
    await server.close();
    work.cleanup();
  });
  const host = (): string => `Host: 127.0.0.1:${server.port}\r\n`;
  const handshake = (target: string): string =>
    `GET ${target} HTTP/1.1\r\n${host()}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  const statusLines = (text: string): string[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);

  it('answers each earlier request in order, then the ignored Upgrade, and keeps serving', async () => {
    for (const first of ['/small.txt', '/big.txt', '/missing.txt']) {
      for (const protocol of ['h2c', 'foo', 'TLS/1.0']) {
        const text = await pipelined(
          server.port,
          `GET ${first} HTTP/1.1\r\n${host()}\r\nGET /small.txt HTTP/1.1\r\n${host()}Connection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`,
          (received) => received.endsWith('\r\n\r\nsmall') && statusLines(received).length === 2,
        );
        assert.deepEqual(statusLines(text), [first === '/missing.txt' ? '404' : '200', '200'], `${first} then Upgrade: ${protocol}`);
        if (first === '/big.txt') assert.ok(text.includes(big), 'the first body is whole, before the second response');
      }
    }
    assert.equal((await get(server.port, '/small.txt')).status, 200, 'the server is still up');
  });

  it('answers earlier requests before the 101 of a WebSocket handshake, and before a refused one', async () => {
    const accepted = await pipelined(server.port, `GET /big.txt HTTP/1.1\r\n${host()}\r\n${handshake('/websocket')}`, (r) => r.includes('101 Switching Protocols'));
    assert.deepEqual(statusLines(accepted), ['200', '101']);
    assert.ok(accepted.indexOf(big) < accepted.indexOf('101 Switching'), 'the file comes first, whole');
    const refused = await pipelined(server.port, `GET /small.txt HTTP/1.1\r\n${host()}\r\n${handshake('/small.txt')}`, (r) => statusLines(r).length === 2);
    assert.deepEqual(statusLines(refused), ['200', '404']);
  });
});
