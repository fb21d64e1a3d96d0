/**
 * The proxy mode against a real upstream WebSocket server started in the test: both directions,
 * subprotocol and query passthrough (also with a Python client), close codes when the upstream
 * is down, closes or fails, bounded memory with a slow upstream and with a slow page, local
 * rules in front, the upstream leg in the capture and in the client API, the heartbeat on the
 * upstream leg, and the loopback-only setting.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { execPath } from 'node:process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import type { ClientDTO } from '../../src/shared/protocol';
import { clientName } from '../../src/webview/inspector/names';
import { StartError } from '../../src/core/server';
import type { ServerEvent } from '../../src/core/events/events';
import { EventSummary } from '../../src/core/events/summary';
import { startCli, type CliRun } from '../support/cli';
import { REPO_ROOT, get, tempDir } from '../support/http';
import { nextConfig } from '../support/endpoints';
import { messagesOf, type WsInbox } from '../support/inbox';
import { openWithInbox, readSlowly, documentedExample, runPython, serveConfig, texts } from '../support/modes';
import { pollUntil } from '../support/poll';
import { rawHandshake } from '../support/ws';

type Served = Awaited<ReturnType<typeof serveConfig>>;

/** A real upstream: a ws server on port 0 (with these ws options) that records each connection's request and agrees on the last subprotocol offered. */
async function startUpstream(
  onConnection: (ws: WebSocket, req: IncomingMessage) => void = () => {},
  options: ServerOptions = {},
): Promise<{ wss: WebSocketServer; port: number; requests: IncomingMessage[]; close: () => Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (offered) => [...offered].pop() ?? false, ...options });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws, req) => {
    requests.push(req);
    onConnection(ws, req);
  });
  const close = async (): Promise<void> => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  };
  return { wss, port: (wss.address() as AddressInfo).port, requests, close };
}

/** An upstream that answers the handshake by hand and then reads one chunk per `pace` call, so it is as slow as the test makes it. */
async function startSlowUpstream(): Promise<{ port: number; socket: Promise<Socket>; close: () => Promise<void> }> {
  const server: Server = createServer();
  let resolveSocket: (socket: Socket) => void = () => {};
  const socket = new Promise<Socket>((resolve) => (resolveSocket = resolve));
  server.on('upgrade', (req: IncomingMessage, raw: Socket) => {
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    raw.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    raw.pause();
    resolveSocket(raw);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    socket,
    close: async () => {
      (await Promise.race([socket, Promise.resolve(undefined)]))?.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A TCP server that accepts connections and never says a word: an upstream that never answers the handshake. */
async function startSilentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** How the server answers a WebSocket handshake that it refuses: status and body, as a ws client sees them; fails if it opens. */
function handshakeAnswer(url: string, protocols: string[] = []): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${url} opened`));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, body: body.trimEnd() });
      });
    });
    ws.once('error', (error) => reject(error));
  });
}

/** A ws upstream in a process of its own (so a test can kill it): prints its port, answers "hi" with "up:hi". */
const UPSTREAM_PROCESS = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
wss.on('listening', () => process.stdout.write(wss.address().port + '\\n'));
wss.on('connection', (ws) => ws.on('message', (data) => ws.send('up:' + data)));
`;

/** The CLI's error lines so far. */
function errorLines(run: CliRun): string[] {
  return run.stdout().split('\n').filter((line) => line.startsWith('error: '));
}

/** Resolves once the CLI has logged a request for `/marker`: every line of what happened before it is printed by then. */
async function logged(run: CliRun, marker: string): Promise<void> {
  await get(run.port, `/${marker}`);
  await run.waitFor((out) => out.includes(`GET /${marker} 404`), `the ${marker} line`);
}

function proxyConfig(upstream: string, extra: object = {}): unknown {
  return { endpoints: { '/live': { mode: 'proxy', upstream, ...extra } } };
}

/** The capture's clients; the capture records frames only while someone subscribes. */
function clientsOf(served: Served): ClientDTO[] {
  return served.server.capture.snapshot().clients;
}

describe('proxy', { timeout: 120_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  async function serve(config: unknown, options = {}): Promise<Served> {
    const served = await serveConfig(config, options);
    cleanups.push(served.cleanup);
    return served;
  }
  async function upstream(onConnection?: (ws: WebSocket, req: IncomingMessage) => void, options?: ServerOptions): Promise<Awaited<ReturnType<typeof startUpstream>>> {
    const started = await startUpstream(onConnection, options);
    cleanups.push(started.close);
    return started;
  }

  it('forwards both ways, with the subprotocols offered and the query string, and marks the upstream leg in the capture', async () => {
    const up = await upstream((ws) => {
      ws.send('welcome from upstream');
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `upstream got ${data.toString()}`, { binary: isBinary }));
    });
    const served = await serve(proxyConfig(`ws://127.0.0.1:${up.port}/socket?token=abc`));
    const feed = served.server.capture.subscribe(() => {});
    try {
      const { ws, inbox } = await openWithInbox(`ws://127.0.0.1:${served.server.port}/live?room=1&name=a%20b`, {}, ['chat.v2', 'chat.v1']);
      assert.equal(ws.protocol, 'chat.v1', 'the upstream chose the last one offered');
      assert.equal(up.requests[0].url, '/socket?token=abc&room=1&name=a%20b');
      assert.deepEqual(up.requests[0].headers['sec-websocket-protocol']?.split(',').map((p) => p.trim()), ['chat.v2', 'chat.v1']);
      assert.deepEqual(await texts(inbox), ['welcome from upstream']);
      ws.send('hello');
      ws.send(Buffer.from([0, 1, 2, 0x7f]));
      assert.deepEqual(await inbox.next(), { text: 'upstream got hello', binary: false });
      assert.deepEqual(await inbox.next(), { text: '\x00\x01\x02\x7f', binary: true });
      const [page, leg] = clientsOf(served);
      assert.equal(page.leg, undefined);
      assert.deepEqual([leg.leg, leg.peer, leg.endpoint, leg.target, leg.protocol], ['upstream', page.id, '/live', `ws://127.0.0.1:${up.port}/socket?token=abc&room=1&name=a%20b`, 'chat.v1']);
      assert.equal(clientName(leg, undefined), `↔ upstream of #${page.id}`, 'the inspector marks the leg');
      assert.notEqual(clientName(page, undefined), clientName(leg, undefined));
      await pollUntil(() => clientsOf(served)[1].framesIn === 3 && clientsOf(served)[1].framesOut === 2, 'the upstream leg counts 3 in, 2 out');
      const frames = served.server.capture.snapshot().frames.filter((f) => f.kind === 'text');
      assert.deepEqual(
        frames.map((f) => [f.client === leg.id ? 'upstream' : 'page', f.dir, f.preview.toString()]),
        [
          ['upstream', 'in', 'welcome from upstream'],
          ['page', 'out', 'welcome from upstream'],
          ['page', 'in', 'hello'],
          ['upstream', 'out', 'hello'],
          ['upstream', 'in', 'upstream got hello'],
          ['page', 'out', 'upstream got hello'],
        ],
      );
      ws.close(4002, 'page leaves');
      const closed = await new Promise<[number, string]>((resolve) => up.wss.clients.forEach((c) => c.once('close', (code, reason) => resolve([code, reason.toString()]))));
      assert.deepEqual(closed, [4002, 'page leaves'], 'the page’s close code went upstream');
    } finally {
      feed.dispose();
    }
  });

  it('records every frame of both legs through the one tap, close frames both ways included, when the upstream ends the conversation', async () => {
    const up = await upstream((ws) => ws.on('message', () => ws.close(4000, 'upstream done')));
    const served = await serve(proxyConfig(`ws://127.0.0.1:${up.port}/`));
    const feed = served.server.capture.subscribe(() => {});
    try {
      const page = await openWithInbox(`ws://127.0.0.1:${served.server.port}/live`);
      page.ws.send('bye please');
      assert.deepEqual(await page.closed, { code: 4000, reason: 'upstream done' });
      const [pageClient, leg] = clientsOf(served);
      await pollUntil(() => clientsOf(served).every((c) => c.state === 'closed'), 'both legs closed in the capture');
      const frames = served.server.capture
        .snapshot()
        .frames.filter((f) => f.kind !== 'ping' && f.kind !== 'pong')
        .map((f) => `${f.client === leg.id ? 'upstream' : f.client === pageClient.id ? 'page' : '?'} ${f.dir} ${f.kind} ${f.kind === 'close' ? `${f.code} ${f.reason}` : f.preview.toString()}`);
      assert.deepEqual(frames, [
        'page in text bye please',
        'upstream out text bye please',
        'upstream in close 4000 upstream done',
        'upstream out close 4000 upstream done', // ws's answer
        'page out close 4000 upstream done',
        'page in close 4000 upstream done', // the page's answer
      ]);
    } finally {
      feed.dispose();
    }
  });

  it('answers the page’s handshake 502 or 504 naming the upstream (down, refusing with 4xx or 5xx, silent), never open; one error each, and the refusal in the capture', async () => {
    const down = await startUpstream();
    await down.close();
    const refusing = async (status: number): Promise<number> => {
      const server = createServer((_req, res) => res.writeHead(status).end());
      server.on('upgrade', (_req, socket: Socket) => socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\n\r\n`));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
      return (server.address() as AddressInfo).port;
    };
    const silent = await startSilentServer();
    cleanups.push(silent.close);
    const cases: Array<[string, number, number, RegExp]> = [
      ['/down', down.port, 502, /unreachable: connect ECONNREFUSED/],
      ['/forbidden', await refusing(403), 502, /refused the WebSocket handshake: it answered HTTP 403/],
      ['/failing', await refusing(500), 502, /refused the WebSocket handshake: it answered HTTP 500/],
      ['/silent', silent.port, 504, /did not answer the WebSocket handshake within 0\.3 s/],
    ];
    const served = await serve({ endpoints: Object.fromEntries(cases.map(([endpoint, port]) => [endpoint, { mode: 'proxy', upstream: `ws://127.0.0.1:${port}/up` }])) }, { upstreamTimeoutMs: 300 });
    const events: ServerEvent[] = [];
    const listening = served.server.events.on((event: ServerEvent) => events.push(event));
    const feed = served.server.capture.subscribe(() => {});
    try {
      for (const [endpoint, port, status, why] of cases) {
        const upstream = `ws://127.0.0.1:${port}/up?room=1`;
        const answer = await handshakeAnswer(`ws://127.0.0.1:${served.server.port}${endpoint}?room=1`, ['v1']);
        assert.equal(answer.status, status, endpoint);
        assert.ok(answer.body.startsWith(`Upstream ${upstream} `), answer.body);
        assert.match(answer.body, why);
        const errors = events.filter((e) => e.type === 'error' && e.message.includes(`proxy ${endpoint}: `));
        assert.equal(errors.length, 1, `one error for ${endpoint}: ${JSON.stringify(errors)}`);
        assert.match((errors[0] as { message: string }).message, new RegExp(`^proxy ${endpoint}: upstream ws://127\\.0\\.0\\.1:${port}/up\\?room=1 .*\\(answered the client ${status}\\)$`));
        assert.match((errors[0] as { message: string }).message, why);
        const refused = clientsOf(served).find((c) => c.endpoint === endpoint);
        assert.ok(refused !== undefined, `the refusal of ${endpoint} is in the capture`);
        assert.deepEqual([refused.state, refused.refused, refused.closeCode, refused.closeReason, refused.target], ['closed', status, undefined, answer.body, `${endpoint}?room=1`]);
      }
      assert.deepEqual(events.filter((e) => e.type === 'refused' || e.type === 'client-open'), [], 'no refusal of the client, no connection: the errors say it all');
    } finally {
      feed.dispose();
      listening.dispose();
    }
  });

  it('answers 400 to a subprotocol list the upstream could not be offered (a repeated or invalid name), without connecting upstream', async () => {
    const up = await upstream();
    const served = await serve(proxyConfig(`ws://127.0.0.1:${up.port}/`));
    for (const offered of ['a, a', 'a b', 'x, {y}']) {
      const { status, socket } = await rawHandshake(served.server.port, { 'Sec-WebSocket-Protocol': offered }, '/live');
      socket.destroy();
      assert.equal(status, 400, offered);
    }
    assert.equal(up.requests.length, 0);
  });

  it('passes the upstream’s close code through (4001), and closes with 1011 when the upstream fails mid-session', async () => {
    const up = await upstream((ws, req) => {
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === 'close please') ws.close(4001, 'upstream says bye');
        // Not a frame: the proxy's ws client fails with a protocol error.
        if (text === 'break') (ws as unknown as { _socket: Socket })._socket.write(Buffer.from([0xff, 0x7f]));
        if (text === 'drop') ws.terminate();
      });
      void req;
    });
    const served = await serve(proxyConfig(`ws://127.0.0.1:${up.port}/`));
    const errors: string[] = [];
    const listening = served.server.events.on((event: ServerEvent) => {
      if (event.type === 'error') errors.push(event.message);
    });
    try {
      const url = `ws://127.0.0.1:${served.server.port}/live`;
      const first = await openWithInbox(url);
      first.ws.send('close please');
      assert.deepEqual(await first.closed, { code: 4001, reason: 'upstream says bye' });
      assert.deepEqual(errors, [], 'an upstream that closes with a code of its own has not failed');
      const second = await openWithInbox(url);
      second.ws.send('break');
      const broken = await second.closed;
      assert.equal(broken.code, 1011);
      assert.match(broken.reason, /^Upstream failed: /);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0], /^proxy \/live: upstream .* failed for client #\d+/);
      const third = await openWithInbox(url);
      third.ws.send('drop');
      assert.deepEqual(await third.closed, { code: 1011, reason: 'Upstream connection lost' });
      assert.equal(errors.length, 2, errors.join('\n'));
      assert.match(errors[1], /^proxy \/live: upstream ws:\/\/127\.0\.0\.1:\d+\/ dropped the connection of client #\d+ without a close frame; closed it with 1011$/);
    } finally {
      listening.dispose();
    }
  });

  it('pings the upstream on the heartbeat, and closes the page with 1011 and logs why when the upstream stops answering', { timeout: 10_000 }, async () => {
    let pingsAnswered = 0;
    let answered: () => void = () => {};
    const threeRounds = new Promise<void>((resolve) => (answered = resolve));
    const lively = await upstream((ws) => {
      ws.on('ping', () => {
        if (++pingsAnswered === 3) answered();
      });
      ws.on('message', (data) => ws.send(`upstream got ${data.toString()}`));
    });
    // autoPong off: the connection stays open, pings are read and never answered.
    const silent = await upstream(undefined, { autoPong: false });
    const served = await serve(
      {
        endpoints: {
          '/lively': { mode: 'proxy', upstream: `ws://127.0.0.1:${lively.port}/` },
          '/silent': { mode: 'proxy', upstream: `ws://127.0.0.1:${silent.port}/feed` },
        },
      },
      { heartbeatMs: 40 },
    );
    const errors: string[] = [];
    // The CLI's printer: a heartbeat of 30 s is too slow to wait for through the CLI itself.
    const lines: string[] = [];
    const summary = new EventSummary((line) => lines.push(line));
    const listening = served.server.events.on((event: ServerEvent) => {
      if (event.type === 'error') errors.push(event.message);
      summary.add(event);
    });
    try {
      const kept = await openWithInbox(`ws://127.0.0.1:${served.server.port}/lively`);
      const pinged = new Promise<void>((resolve) => silent.wss.once('connection', (ws) => ws.once('ping', () => resolve())));
      const dropped = await openWithInbox(`ws://127.0.0.1:${served.server.port}/silent`);
      await pinged;
      assert.deepEqual(await dropped.closed, { code: 1011, reason: 'Upstream stopped answering pings' });
      assert.ok(
        errors.some((e) => new RegExp(`^proxy /silent: upstream ws://127\\.0\\.0\\.1:${silent.port}/feed stopped answering pings for client #\\d+`).test(e)),
        errors.join('\n'),
      );
      // An upstream that answers stays connected through the rounds.
      await threeRounds;
      summary.flush();
      assert.equal(lines.filter((line) => line.startsWith('error: ')).length, 1, lines.join('\n'));
      kept.ws.send('still there?');
      assert.deepEqual(await texts(kept.inbox), ['upstream got still there?']);
      kept.ws.close();
      await kept.closed;
    } finally {
      listening.dispose();
    }
  });

  it('lets the client API send to (the inspector’s push), ping and close the upstream leg by its capture id, as the inspector does', { timeout: 10_000 }, async () => {
    let upstreamInbox: WsInbox | undefined;
    let connected: () => void = () => {};
    const upstreamOpen = new Promise<void>((resolve) => (connected = resolve));
    const up = await upstream((ws) => {
      upstreamInbox = messagesOf(ws);
      connected();
    });
    const served = await serve(proxyConfig(`ws://127.0.0.1:${up.port}/`));
    const feed = served.server.capture.subscribe(() => {});
    try {
      const page = await openWithInbox(`ws://127.0.0.1:${served.server.port}/live`);
      await upstreamOpen;
      const fromUpstream = upstreamInbox as WsInbox;
      const upstreamWs = [...up.wss.clients][0];
      const leg = clientsOf(served).find((c) => c.leg === 'upstream');
      assert.ok(leg !== undefined, 'the upstream leg is a client of the capture');
      const { clients } = served.server;

      assert.equal(clients.send(leg.id, 'pushed by the inspector', false), true);
      assert.equal(clients.send(leg.id, Buffer.from([1, 2, 3]), true), true);
      assert.deepEqual(await fromUpstream.next(), { text: 'pushed by the inspector', binary: false });
      assert.deepEqual(await fromUpstream.next(), { text: '\x01\x02\x03', binary: true });
      const legFrames = (): string[] =>
        served.server.capture
          .snapshot()
          .frames.filter((f) => f.client === leg.id)
          .map((f) => `${f.dir} ${f.kind}${f.kind === 'text' ? ` ${f.preview.toString()}` : ''}`);
      assert.deepEqual(legFrames(), ['out text pushed by the inspector', 'out binary']);
      assert.equal(page.inbox.pending, 0, 'a push to the upstream leg is not sent to the page');

      const pinged = new Promise<void>((resolve) => upstreamWs.once('ping', () => resolve()));
      assert.equal(clients.ping(leg.id), true);
      await pinged;
      await pollUntil(() => legFrames().includes('in pong'), 'the upstream’s pong in the capture');
      assert.deepEqual(legFrames().slice(2), ['out ping', 'in pong']);

      const upstreamClosed = new Promise<[number, string]>((resolve) => upstreamWs.once('close', (code, reason) => resolve([code, reason.toString()])));
      assert.equal(clients.close(leg.id, 4003, 'closed from the inspector'), true);
      assert.deepEqual(await upstreamClosed, [4003, 'closed from the inspector']);
      assert.deepEqual(await page.closed, { code: 4003, reason: 'closed from the inspector' }, 'the page gets the upstream’s code');
      assert.equal(clients.send(leg.id, 'too late', false), false);
      assert.equal(clients.ping(leg.id), false);
      assert.equal(clients.close(leg.id, 1000, ''), false);
    } finally {
      feed.dispose();
    }
  });

  it('answers messages that match its rules locally and forwards the rest', async () => {
    const up = await upstream((ws) => ws.on('message', (data) => ws.send(`real: ${data.toString()}`)));
    const served = await serve(
      proxyConfig(`ws://127.0.0.1:${up.port}/`, {
        rules: [
          { match: { json: { type: 'ping' } }, send: { type: 'pong', id: '{{json.id}}' } },
          { match: { regex: '^quit (\\d+)$' }, close: { code: 4005, reason: 'mocked quit' } },
        ],
      }),
    );
    const upstreamGot: string[] = [];
    up.wss.on('connection', (ws) => ws.on('message', (data) => upstreamGot.push(data.toString())));
    const { ws, inbox, closed } = await openWithInbox(`ws://127.0.0.1:${served.server.port}/live`);
    ws.send(JSON.stringify({ type: 'ping', id: 3 }));
    ws.send('{"type":"order"}');
    ws.send(JSON.stringify({ type: 'ping', id: 4 }));
    const replies = await texts(inbox, 3);
    // Local answers go at once; the forwarded one takes a round trip, so only each kind's order is fixed.
    assert.deepEqual(replies.filter((r) => r.startsWith('{')).map((r) => JSON.parse(r)), [{ type: 'pong', id: 3 }, { type: 'pong', id: 4 }]);
    assert.deepEqual(replies.filter((r) => !r.startsWith('{')), ['real: {"type":"order"}']);
    assert.deepEqual(upstreamGot, ['{"type":"order"}'], 'only the unmatched message went upstream');
    ws.send('quit 1');
    assert.deepEqual(await closed, { code: 4005, reason: 'mocked quit' });
  });

  it('passes subprotocol and query to the upstream for a Python client too', async () => {
    const up = await upstream((ws, req) => {
      ws.send(`protocol=${ws.protocol} url=${req.url ?? ''}`);
      ws.on('message', (data) => ws.send(`upstream got ${data.toString()}`));
    });
    const served = await serve(proxyConfig(`ws://127.0.0.1:${up.port}/feed`, { rules: [{ match: { text: 'local?' }, send: 'answered here' }] }));
    const lines = await runPython([`ws://127.0.0.1:${served.server.port}/live?user=py`, '--protocol', 'a.v1', '--protocol', 'b.v2', '--send', 'local?', '--send', 'hi', '--receive', '3']);
    assert.deepEqual(lines, [
      { protocol: 'b.v2' },
      { message: 'protocol=b.v2 url=/feed?user=py' },
      { message: 'answered here' },
      { message: 'upstream got hi' },
      { close: 1000, reason: '' },
    ]);
  });

  it('applies edited rules to connected clients, and closes with 1012 the clients of an endpoint that becomes a proxy', async () => {
    const up = await upstream((ws) => ws.on('message', (data) => ws.send(`real: ${data.toString()}`)));
    const upstreamUrl = `ws://127.0.0.1:${up.port}/`;
    const served = await serve({ endpoints: { '/live': { mode: 'proxy', upstream: upstreamUrl }, '/other': { mode: 'echo' } } });
    const page = await openWithInbox(`ws://127.0.0.1:${served.server.port}/live`);
    const echoClient = await openWithInbox(`ws://127.0.0.1:${served.server.port}/other`);
    page.ws.send('a');
    assert.deepEqual(await texts(page.inbox), ['real: a']);
    const applied = nextConfig(served.server);
    const edited = { '/live': { mode: 'proxy', upstream: upstreamUrl, rules: [{ match: { text: 'a' }, send: 'mocked a' }] }, '/other': { mode: 'proxy', upstream: upstreamUrl } };
    writeFileSync(path.join(served.dir, '.echo-preview.json'), JSON.stringify({ endpoints: edited }));
    assert.equal((await applied).problem, undefined);
    page.ws.send('a');
    assert.deepEqual(await texts(page.inbox), ['mocked a']);
    assert.deepEqual(await echoClient.closed, { code: 1012, reason: 'The endpoint became a proxy; reconnect' });
    page.ws.close();
  });

  it('does not buffer without bound when the upstream reads slower than the page sends', async () => {
    const slow = await startSlowUpstream();
    cleanups.push(slow.close);
    const served = await serve(proxyConfig(`ws://127.0.0.1:${slow.port}/`));
    const page = await openWithInbox(`ws://127.0.0.1:${served.server.port}/live`);
    const upstreamSocket = await slow.socket;
    const message = Buffer.alloc(1024 * 1024, 0x61);
    const total = 64;
    // The page sends each message once the previous one has left it, so its own memory stays one message.
    const reading = readSlowly(upstreamSocket, total * message.length);
    for (let i = 0; i < total; i++) await new Promise<void>((resolve, reject) => page.ws.send(message, (error) => (error ? reject(error) : resolve())));
    const peak = await reading;
    assert.ok(peak < 24 * 1024 * 1024, `the server held at most ${(peak / 1048576).toFixed(1)} MiB while 64 MiB passed a slow upstream`);
    page.ws.close();
  });

  it('does not buffer without bound when the page reads slower than the upstream sends', async () => {
    const total = 64;
    const message = Buffer.alloc(1024 * 1024, 0x62);
    let sent = 0;
    const up = await upstream((ws) => {
      const next = (): void => {
        if (sent++ < total) ws.send(message, next);
      };
      next();
    });
    const served = await serve(proxyConfig(`ws://127.0.0.1:${up.port}/`));
    const { socket, rest } = await rawHandshake(served.server.port, {}, '/live');
    socket.pause();
    const peak = await readSlowly(socket, total * message.length - rest.length);
    assert.ok(peak < 24 * 1024 * 1024, `the server held at most ${(peak / 1048576).toFixed(1)} MiB while 64 MiB passed to a slow page`);
    socket.destroy();
  });
});

describe('proxy config', { timeout: 30_000 }, () => {
  it('refuses a non-loopback upstream when proxying beyond loopback is off, naming the setting', async () => {
    for (const upstream of ['ws://example.com/socket', 'wss://192.168.1.10:9000/', 'ws://[2001:db8::1]/', 'ws://127.0.0.1.example.com/', 'ws://foo.localhost/']) {
      try {
        const served = await serveConfig(proxyConfig(upstream), { proxyBeyondLoopback: false });
        await served.cleanup();
        assert.fail(`accepted ${upstream}`);
      } catch (error) {
        assert.ok(error instanceof StartError && error.code === 'CONFIG_INVALID', String(error));
        assert.match(error.message, /echoPreview\.proxy\.allowRemote/);
        assert.match(error.message, /is not on this machine/);
      }
    }
    for (const upstream of ['ws://127.0.0.1:9/', 'ws://localhost:9/', 'ws://[::1]:9/', 'wss://127.1.2.3/']) {
      const served = await serveConfig(proxyConfig(upstream), { proxyBeyondLoopback: false });
      await served.cleanup();
    }
    const served = await serveConfig(proxyConfig('wss://example.com/socket'));
    await served.cleanup();
  });

  it('refuses an upstream that is not a ws:// or wss:// URL, or a missing one, at its line and column', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ upstream: 'http://127.0.0.1/' }, /must start with ws:\/\/ or wss:\/\/, not http:/],
      [{ upstream: 'not a url' }, /is not a URL/],
      [{ upstream: 9000 }, /"upstream" is a ws:\/\/ or wss:\/\/ URL/],
      [{ upstream: 'ws://127.0.0.1/#x' }, /#fragment/],
      [{}, /a proxy needs "upstream"/],
      [{ upstream: 'ws://127.0.0.1/', target: 'x' }, /unknown property "target" for mode "proxy"/],
      [{ upstream: 'ws://127.0.0.1/', rules: [{ match: { text: 'a' }, send: '{{nope}}' }] }, /unknown placeholder/],
    ];
    for (const [section, message] of cases) {
      try {
        const served = await serveConfig({ endpoints: { '/live': { mode: 'proxy', ...(section as object) } } });
        await served.cleanup();
        assert.fail(`accepted ${JSON.stringify(section)}`);
      } catch (error) {
        assert.ok(error instanceof StartError && error.code === 'CONFIG_INVALID', String(error));
        assert.match(error.message, message);
        assert.match(error.message, /\.echo-preview\.json:\d+:\d+: /);
      }
    }
  });
});

describe('the proxy example of docs/config.md, through the CLI', { timeout: 30_000 }, () => {
  it('mocks the ping and forwards the rest to the upstream', async () => {
    const up = await startUpstream((ws) => ws.on('message', (data) => ws.send(`upstream got ${data.toString()}`)));
    const folder = tempDir();
    const example = documentedExample('### proxy');
    assert.ok(example.includes('ws://127.0.0.1:9000/socket'));
    // The upstream of the example listens on a free port rather than 9000.
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), example.replace('127.0.0.1:9000', `127.0.0.1:${up.port}`));
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      await run.waitFor((out) => out.includes(`  ws://127.0.0.1:${run.port}/live  (proxy)\n`), 'the endpoint line');
      const page = await openWithInbox(`ws://127.0.0.1:${run.port}/live`);
      page.ws.send('{"type":"ping","id":1}');
      assert.deepEqual(await texts(page.inbox), ['{"type":"pong","id":1}']);
      page.ws.send('{"type":"order","id":2}');
      assert.deepEqual(await texts(page.inbox), ['upstream got {"type":"order","id":2}']);
      assert.equal(up.requests[0].url, '/socket');
      page.ws.close();
      await page.closed;
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
      await up.close();
    }
  });

  it('answers the page 502 when the upstream is down, and the CLI prints exactly one error line', async () => {
    const down = await startUpstream();
    await down.close();
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), documentedExample('### proxy').replace('127.0.0.1:9000', `127.0.0.1:${down.port}`));
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      const answer = await handshakeAnswer(`ws://127.0.0.1:${run.port}/live`);
      assert.deepEqual(answer, { status: 502, body: `Upstream ws://127.0.0.1:${down.port}/socket unreachable: connect ECONNREFUSED 127.0.0.1:${down.port}` });
      const line = `error: proxy /live: upstream ws://127.0.0.1:${down.port}/socket unreachable: connect ECONNREFUSED 127.0.0.1:${down.port} (answered the client 502)\n`;
      await run.waitFor((out) => out.includes(line), 'the error line');
      await logged(run, 'sync-after-refusal');
      assert.deepEqual(errorLines(run), [line.trimEnd()], 'one line, and no refusal line besides');
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });

  it('prints exactly one error line for each upstream that fails mid-session: killed, dropped, reset, an invalid frame, a bad close, an oversized message', { timeout: 20_000 }, async () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    try {
      // A real upstream in a process of its own, killed mid-session.
      const upstreamProcess = spawn(execPath, ['-e', UPSTREAM_PROCESS], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => upstreamProcess.once('exit', resolve));
      cleanups.push(async () => {
        upstreamProcess.kill('SIGKILL');
        await exited;
      });
      const killedPort = await new Promise<number>((resolve, reject) => {
        upstreamProcess.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
        upstreamProcess.once('exit', (code) => reject(new Error(`the upstream process exited with ${code}`)));
      });
      const up = await startUpstream((ws) =>
        ws.on('message', (data) => {
          const raw = (ws as unknown as { _socket: Socket })._socket;
          const text = data.toString();
          if (text === 'hi') ws.send('up:hi');
          if (text === 'drop') raw.destroy(); // FIN, no close frame
          if (text === 'reset') raw.resetAndDestroy(); // RST
          if (text === 'break') raw.write(Buffer.from([0xff, 0x7f])); // no such frame
          if (text === 'bad close') raw.write(Buffer.from([0x88, 0x02, 0x03, 0xed])); // a close with status 1005, which may not be sent
          if (text === 'oversized') ws.send(Buffer.alloc(2048));
        }),
      );
      cleanups.push(up.close);
      const cases: Array<[string, number, string, RegExp]> = [
        ['/killed', killedPort, 'kill', /dropped the connection of client #\d+ without a close frame; closed it with 1011$/],
        ['/dropped', up.port, 'drop', /dropped the connection of client #\d+ without a close frame; closed it with 1011$/],
        ['/reset', up.port, 'reset', /dropped the connection of client #\d+ without a close frame; closed it with 1011$/],
        ['/broken', up.port, 'break', /failed for client #\d+: Invalid WebSocket frame/],
        ['/bad-close', up.port, 'bad close', /failed for client #\d+: Invalid WebSocket frame: invalid status code 1005$/],
        ['/oversized', up.port, 'oversized', /failed for client #\d+: Max payload size exceeded$/],
      ];
      const folder = tempDir();
      cleanups.push(folder.cleanup);
      const config = { endpoints: Object.fromEntries(cases.map(([endpoint, port]) => [endpoint, { mode: 'proxy', upstream: `ws://127.0.0.1:${port}/` }])) };
      writeFileSync(path.join(folder.dir, '.echo-preview.json'), JSON.stringify(config));
      const run = await startCli([folder.dir, '--port', '0', '--max-message-size', '1024']);
      cleanups.unshift(async () => {
        run.child.kill('SIGTERM');
        await run.exit;
      });
      for (const [endpoint, , trigger] of cases) {
        const page = await openWithInbox(`ws://127.0.0.1:${run.port}${endpoint}`);
        page.ws.send('hi');
        assert.deepEqual(await texts(page.inbox), ['up:hi'], `${endpoint} is in session`);
        if (trigger === 'kill') upstreamProcess.kill('SIGKILL');
        else page.ws.send(trigger);
        const closed = await page.closed;
        assert.equal(closed.code, 1011, `${endpoint}: ${closed.reason}`);
      }
      await logged(run, 'sync-after-failures');
      const lines = errorLines(run);
      for (const [endpoint, port, , why] of cases) {
        const mine = lines.filter((line) => line.startsWith(`error: proxy ${endpoint}: `));
        assert.equal(mine.length, 1, `${endpoint}:\n${lines.join('\n')}`);
        assert.ok(mine[0].startsWith(`error: proxy ${endpoint}: upstream ws://127.0.0.1:${port}/ `), mine[0]);
        assert.match(mine[0], why);
      }
      assert.equal(lines.length, cases.length, lines.join('\n'));
    } finally {
      for (const cleanup of cleanups) await cleanup();
    }
  });
});

describe('proxy to a wss:// upstream', { timeout: 30_000 }, () => {
  it('verifies the upstream’s certificate: refused (502) when untrusted, forwarded when the CA is trusted', async () => {
    const folder = tempDir();
    const key = path.join(folder.dir, 'key.pem');
    const cert = path.join(folder.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) });
    const wss = new WebSocketServer({ server: tls });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`secure upstream got ${data.toString()}`)));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const upstream = `wss://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), JSON.stringify(proxyConfig(upstream)));
    const served = await serveConfig(proxyConfig(upstream));
    const previous = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = cert;
    const run = await startCli([folder.dir, '--port', '0']).finally(() => {
      if (previous === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = previous;
    });
    try {
      const refused = await handshakeAnswer(`ws://127.0.0.1:${served.server.port}/live`);
      assert.equal(refused.status, 502);
      assert.match(refused.body, /^Upstream wss:\/\/127\.0\.0\.1:\d+\/ unreachable: .*self[- ]signed/i);
      const trusted = await openWithInbox(`ws://127.0.0.1:${run.port}/live`);
      trusted.ws.send('over TLS');
      assert.deepEqual(await texts(trusted.inbox), ['secure upstream got over TLS']);
      trusted.ws.close();
      await trusted.closed;
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      await served.cleanup();
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => tls.close(resolve));
      folder.cleanup();
    }
  });
});
