/**
 * The inspector as the CLI serves it (--inspect): the ready line, the page and its files on a
 * port of their own, who may open the feed, the feed's protocol with real clients, a slow
 * inspector, the two ports beside the user's files (nothing of one on the other), both ports
 * freed, and capture that stays off while nobody looks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { CAPTURE_DEFAULTS, minBudgetBytes } from '../../src/core/capture/capture';
import type { ServerEvent } from '../../src/core/events/events';
import { newInspectorToken } from '../../src/core/inspector/server';
import { StartError, startServer } from '../../src/core/server';
import { CONFIG_ELEMENT_ID, expandFeedMessage, type HostMessage, type InspectorConfig } from '../../src/shared/protocol';
import { runCli, startCli, type CliRun } from '../support/cli';
import { REPO_ROOT, get, tempDir } from '../support/http';
import { messagesOf } from '../support/inbox';
import { Feed, PLACEHOLDER_SCRIPT, PLACEHOLDER_STYLE, fakeInstall, feedUrlOf, inspectorUrlOf } from '../support/inspector';
import { pollUntil } from '../support/poll';
import { FrameReader, echoAll, frame, openClient, rawHandshake } from '../support/ws';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');
const KiB = 1024;
const MiB = 1024 * KiB;

/** The config JSON the page carries, parsed. */
function configOf(html: string): InspectorConfig {
  const match = new RegExp(`<script type="application/json" id="${CONFIG_ELEMENT_ID}">(.*?)</script>`).exec(html);
  assert.ok(match, 'the page carries its config');
  return JSON.parse(match[1]) as InspectorConfig;
}

/** `http://127.0.0.1:<port>` of an inspector URL: the origin of the inspector's page. */
function originOf(url: string): string {
  return new URL(url).origin;
}

/** What a TCP connection to the port comes to: 'connected' or the error's code. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** How many listening TCP servers this process holds (its handles: a closed one goes a turn or two after its close). */
function listeners(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
}

/** Placeholder UI files in a temp folder, for servers started in process. */
function placeholderAssets(): { script: string; style: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir('echo-assets-');
  writeFileSync(path.join(dir, 'inspector.js'), PLACEHOLDER_SCRIPT);
  writeFileSync(path.join(dir, 'inspector.css'), PLACEHOLDER_STYLE);
  return { script: path.join(dir, 'inspector.js'), style: path.join(dir, 'inspector.css'), cleanup };
}

describe('echo-preview --inspect', { timeout: 60_000 }, () => {
  let install: ReturnType<typeof fakeInstall>;
  let run: CliRun;
  let page: ReturnType<typeof inspectorUrlOf>;
  let feedUrl: string;
  /** The origin of the folder's pages (the server's port). */
  let own: string;
  /** The origin of the inspector's page (its own port). */
  let inspectorOrigin: string;
  const TRUSTED = 'http://trusted.example';
  const BUDGET = 3 * MiB;

  before(async () => {
    install = fakeInstall();
    run = await startCli([DEMO, '--port', '0', '--inspect', '--allow-origin', TRUSTED, '--capture-budget', String(BUDGET)], { script: install.cli });
    page = inspectorUrlOf(run.ready);
    feedUrl = feedUrlOf(page.url);
    own = `http://127.0.0.1:${run.port}`;
    inspectorOrigin = page.origin;
  });
  after(() => {
    run.child.kill('SIGKILL');
    install.cleanup();
  });

  it('prints the inspector URL, on a port of its own with a new token each run, at the end of the ready line', async () => {
    assert.match(
      run.ready,
      /^Echo Preview: serving \S+ at http:\/\/127\.0\.0\.1:\d+\/ \(WebSocket echo: ws:\/\/127\.0\.0\.1:\d+\/websocket\) \(inspector: http:\/\/127\.0\.0\.1:\d+\/__echo-preview\/inspector\/[A-Za-z0-9_-]{24}\/\)$/,
    );
    assert.notEqual(page.port, run.port, 'the inspector has an origin of its own');
    assert.equal(page.url, `http://127.0.0.1:${page.port}/__echo-preview/inspector/${page.token}/`);
    const second = await startCli([DEMO, '--port', '0', '--inspect']);
    try {
      assert.notEqual(inspectorUrlOf(second.ready).token, page.token, 'a fresh token per run');
    } finally {
      second.child.kill('SIGKILL');
    }
  });

  it('serves the page with a strict CSP, its config and the UI files beside it', async () => {
    assert.equal(run.stderr(), '', 'no warning: the UI is there');
    const response = await get(page.port, new URL(page.url).pathname);
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    const wsEcho = `ws://127.0.0.1:${run.port}/websocket`;
    assert.equal(
      response.headers['content-security-policy'],
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${feedUrl} ${wsEcho}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    const html = response.body.toString();
    const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.deepEqual(configOf(html), { host: 'cli', feedUrl, endpoints: [{ path: '/websocket', url: wsEcho }], pageUrl: run.url, version, folder: 'demo' });
    assert.match(html, /<div id="app"><\/div>/);
    assert.match(html, /<script src="inspector.js"><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="inspector.css">/);
    assert.doesNotMatch(html, /<script>/, 'no inline script');

    const script = await get(page.port, new URL('inspector.js', page.url).pathname);
    assert.deepEqual([script.status, script.headers['content-type'], script.body.toString()], [200, 'text/javascript; charset=utf-8', PLACEHOLDER_SCRIPT]);
    const style = await get(page.port, new URL('inspector.css', page.url).pathname);
    assert.deepEqual([style.status, style.headers['content-type'], style.body.toString()], [200, 'text/css; charset=utf-8', PLACEHOLDER_STYLE]);
    const headOnly = await get(page.port, new URL(page.url).pathname, {}, 'HEAD');
    assert.deepEqual([headOnly.status, headOnly.body.length], [200, 0]);
  });

  it('writes the URLs with the name the page was opened by: the feed on its port, the folder and endpoints on the server’s', async () => {
    for (const name of ['localhost', 'LocalHost', '[::1]']) {
      const host = `${name}:${page.port}`;
      const response = await get(page.port, new URL(page.url).pathname, { Host: host });
      assert.equal(response.status, 200, host);
      const lower = name.toLowerCase();
      const config = configOf(response.body.toString());
      assert.equal(config.feedUrl, `ws://${lower}:${page.port}/__echo-preview/inspector/${page.token}/feed`, host);
      assert.deepEqual(config.endpoints, [{ path: '/websocket', url: `ws://${lower}:${run.port}/websocket` }]);
      assert.equal(config.pageUrl, `http://${lower}:${run.port}/`);
      const escaped = (text: string): string => text.replace(/[[\]]/g, '\\$&');
      assert.match(response.headers['content-security-policy'], new RegExp(`connect-src ws://${escaped(lower)}:${page.port}/\\S+/feed ws://${escaped(lower)}:${run.port}/websocket;`));
    }
    const foreign = await get(page.port, new URL(page.url).pathname, { Host: 'evil.example' });
    assert.equal(foreign.status, 403, 'the Host guard comes first');
  });

  it('redirects the token path without its slash; a wrong or missing token is any missing file (404)', async () => {
    const base = `/__echo-preview/inspector/${page.token}`;
    const bare = await get(page.port, base);
    assert.deepEqual([bare.status, bare.headers.location], [301, `${base}/`]);
    const wrong = page.token.slice(0, -1) + (page.token.endsWith('A') ? 'B' : 'A');
    for (const target of [
      '/__echo-preview/inspector/',
      '/__echo-preview/inspector',
      `/__echo-preview/inspector/${wrong}/`,
      `/__echo-preview/inspector/${wrong}/inspector.js`,
      `/__echo-preview/inspector/${page.token.slice(0, -1)}/`,
      `/__echo-preview/inspector/${page.token}x/`,
      `/__echo-preview/${page.token}/`,
      `${base}/other.js`,
      `${base}/inspector.js/`,
      `${base}/feed`,
    ]) {
      const response = await get(page.port, target);
      assert.equal(response.status, 404, target);
      assert.doesNotMatch(response.body.toString(), new RegExp(page.token), `${target} does not show the token`);
    }
  });

  it('serves nothing of the folder on the inspector’s port, and nothing of the inspector on the server’s', async () => {
    for (const target of ['/', '/index.html', '/websocket.js', '/__echo-preview/endpoints.json', '/__echo-preview/reload.js', `/${page.token}/`]) {
      const response = await get(page.port, target);
      assert.equal(response.status, 404, `inspector's port: ${target}`);
      assert.match(response.body.toString(), /Only the Echo Preview inspector is served on this port/);
      assert.equal((await get(run.port, target)).status, target.includes(page.token) ? 404 : 200, `server's port: ${target}`);
    }
    const base = `/__echo-preview/inspector/${page.token}`;
    for (const target of [`${base}/`, base, `${base}/inspector.js`, `${base}/inspector.css`]) {
      assert.equal((await get(run.port, target)).status, 404, `server's port: ${target}`);
    }
    const handshake = async (port: number, target: string, origin: string): Promise<number> => {
      const { socket, status } = await rawHandshake(port, { Origin: origin }, target);
      socket.destroy();
      return status;
    };
    // Only the feed is a WebSocket on the inspector's port; the feed is not one on the server's.
    for (const target of ['/websocket', '/__echo-preview/reload']) {
      assert.equal(await handshake(page.port, target, inspectorOrigin), 404, target);
      assert.equal(await handshake(page.port, target, own), 404, target);
    }
    assert.equal(await handshake(run.port, `${base}/feed`, own), 404);
    assert.equal(await handshake(run.port, `${base}/feed`, inspectorOrigin), 404);
  });

  it('opens the feed only with the exact token (else 404) and only from its own page’s origins (else 403)', async () => {
    const feedPath = `/__echo-preview/inspector/${page.token}/feed`;
    const status = async (target: string, origin: string, port = page.port): Promise<number> => {
      const { socket, status: code } = await rawHandshake(port, { Origin: origin }, target);
      socket.destroy();
      return code;
    };
    for (const origin of [inspectorOrigin, `http://localhost:${page.port}`, `http://[::1]:${page.port}`, `HTTP://LOCALHOST:${page.port}`]) {
      assert.equal(await status(feedPath, origin), 101, origin);
    }
    const t = page.token;
    for (const target of [
      '/__echo-preview/inspector/feed',
      '/__echo-preview/inspector//feed',
      `/__echo-preview/inspector/${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}/feed`,
      `/__echo-preview/inspector/${t.slice(0, -1)}/feed`,
      `/__echo-preview/inspector/${t}A/feed`,
      `/__echo-preview/inspector/${t.toLowerCase() === t ? t.toUpperCase() : t.toLowerCase()}/feed`,
      `/__echo-preview/inspector/${t}/feed/`,
      `/__echo-preview/inspector/${t}/`,
      `/__echo-preview/inspector/${t}/feed/x`,
      `/__echo-preview/${t}/feed`,
    ]) {
      assert.equal(await status(target, inspectorOrigin), 404, target);
      assert.equal(await status(target, 'http://evil.example'), 404, `${target} from another site: nothing revealed`);
    }
    for (const origin of [
      // The folder's pages are on the server's port: they may not open it, under any name.
      own,
      `http://localhost:${run.port}`,
      `http://[::1]:${run.port}`,
      'http://evil.example',
      `http://127.0.0.1:${page.port + 1}`,
      `http://127.0.0.1:${page.port}.evil.example`,
      `http://evil.example:${page.port}`,
      `https://127.0.0.1:${page.port}`,
      `http://localhost:${page.port}/`,
      'null',
      'vscode-webview://0123456789abcdef',
      TRUSTED,
      '', // no Origin header at all
    ]) {
      assert.equal(await status(feedPath, origin), 403, `origin ${JSON.stringify(origin)}`);
    }
    // The echo endpoint does take the origin the person allowed: the feed's rule is its own. It
    // takes the inspector's page too (the UI's own client); the reload channel does not.
    assert.equal(await status('/websocket', TRUSTED, run.port), 101);
    assert.equal(await status('/websocket', inspectorOrigin, run.port), 101);
    assert.equal(await status('/__echo-preview/reload', inspectorOrigin, run.port), 403);
  });

  it('carries the traffic of each client to the feed and pushes, pings and closes them', async () => {
    const feed = await Feed.open(feedUrl, inspectorOrigin);
    const snapshot = await feed.ready();
    assert.equal(snapshot.status.budgetBytes, BUDGET, '--capture-budget sets the budget');
    assert.equal(snapshot.status.paused, false);

    const a = await openClient(`ws://127.0.0.1:${run.port}/websocket?tab=a`, { headers: { 'User-Agent': 'tab A' }, origin: own });
    const b = await openClient(`ws://127.0.0.1:${run.port}/websocket`, { headers: { 'User-Agent': 'tab B' } });
    const [toA, toB] = [messagesOf(a, 'tab A', (data) => data), messagesOf(b, 'tab B', (data) => data)];
    const [idA, idB] = [await feed.clientId('tab A'), await feed.clientId('tab B')];
    const clientA = feed.clients().get(idA)!;
    assert.deepEqual(
      [clientA.endpoint, clientA.target, clientA.origin, clientA.host, clientA.remote, clientA.state],
      ['/websocket', '/websocket?tab=a', own, `127.0.0.1:${run.port}`, '127.0.0.1', 'open'],
    );
    await run.waitFor((out) => out.includes(`ws #${idA} connected`) && out.includes(`ws #${idB} connected`), 'the log lines with the same ids');

    await echoAll(a, ['from A']);
    await echoAll(b, [Buffer.from([1, 2, 3])]);
    await feed.until(() => feed.framesOf(idA).length === 2 && feed.framesOf(idB).length === 2, 'both echoes');
    assert.deepEqual(feed.framesOf(idA), ['in text', 'out text']);
    assert.deepEqual(feed.frames().filter((f) => f.client === idA).map((f) => f.data), ['from A', 'from A']);
    assert.deepEqual(feed.framesOf(idB), ['in binary', 'out binary']);
    assert.deepEqual(feed.frames().filter((f) => f.client === idB).map((f) => f.data), ['AQID', 'AQID']);
    await run.waitFor((out) => out.includes(`ws #${idA} -> text 6 B`) && out.includes(`ws #${idB} -> binary 3 B`), 'the messages in the log');

    // Push to one client: it gets it, the other does not (its next message is its own echo).
    const receivedByB: string[] = [];
    b.on('message', (data: Buffer) => receivedByB.push(data.toString()));
    const pushedToA = toA.arriving(() => true, 'the push');
    assert.deepEqual(await feed.request({ type: 'push', requestId: 1, target: { client: idA }, data: 'to A only', binary: false }), { type: 'result', requestId: 1, ok: true, sent: 1 });
    assert.equal((await pushedToA).toString(), 'to A only');
    await echoAll(b, ['marker']);
    assert.deepEqual(receivedByB, ['marker'], 'B got no push');
    await feed.until(() => feed.framesOf(idA).length === 3, 'the push as a frame');
    const pushed = feed.frames().filter((f) => f.client === idA).at(-1)!;
    assert.deepEqual([pushed.dir, pushed.kind, pushed.data, pushed.size], ['out', 'text', 'to A only', 9]);

    // Push to every client of the endpoint, binary.
    const bytes = Buffer.from([0, 1, 2, 255]);
    const [allA, allB] = [toA.arriving(() => true, 'the push to all'), toB.arriving(() => true, 'the push to all')];
    assert.deepEqual(await feed.request({ type: 'push', requestId: 2, target: { endpoint: '/websocket' }, data: bytes.toString('base64'), binary: true }), { type: 'result', requestId: 2, ok: true, sent: 2 });
    assert.deepEqual([await allA, await allB], [bytes, bytes]);
    await feed.until(() => feed.framesOf(idA).at(-1) === 'out binary' && feed.framesOf(idB).at(-1) === 'out binary', 'the push to all as frames');

    // Ping: the ping goes out and the client's pong comes back, both captured.
    assert.deepEqual(await feed.request({ type: 'ping', requestId: 3, client: idA }), { type: 'result', requestId: 3, ok: true });
    await feed.until(() => feed.framesOf(idA).slice(-2).join() === 'out ping,in pong', 'ping and pong');

    // Close by the inspector with 4001 and a reason: both close frames, and the client closed so.
    const closedB = new Promise<[number, string]>((resolve) => b.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    assert.deepEqual(await feed.request({ type: 'close', requestId: 4, client: idB, code: 4001, reason: 'closed by the inspector ✓' }), { type: 'result', requestId: 4, ok: true });
    assert.deepEqual(await closedB, [4001, 'closed by the inspector ✓']);
    await feed.until(() => feed.clients().get(idB)?.state === 'closed', 'B closed');
    const closes = feed.frames().filter((f) => f.client === idB && f.kind === 'close');
    assert.deepEqual(closes.map((f) => [f.dir, f.code, f.reason]), [['out', 4001, 'closed by the inspector ✓'], ['in', 4001, 'closed by the inspector ✓']]);
    const closedClient = feed.clients().get(idB)!;
    assert.deepEqual([closedClient.closeCode, closedClient.closeReason], [4001, 'closed by the inspector ✓']);
    assert.deepEqual(await feed.request({ type: 'ping', requestId: 5, client: idB }), { type: 'result', requestId: 5, ok: false, error: `client #${idB} is not open` });

    // A client that closes itself: its close first, then ours answering it.
    a.close(1000, 'bye');
    await feed.until(() => feed.clients().get(idA)?.state === 'closed', 'A closed');
    assert.deepEqual(feed.framesOf(idA), ['in text', 'out text', 'out text', 'out binary', 'out ping', 'in pong', 'in close', 'out close']);
    assert.deepEqual(feed.frames().filter((f) => f.client === idA && f.kind === 'close').map((f) => [f.code, f.reason]), [[1000, 'bye'], [1000, 'bye']]);
    const seqs = feed.frames().map((f) => f.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
    feed.close();
  });

  it('answers every invalid request with an error result and goes on serving', async () => {
    const feed = await Feed.open(feedUrl, inspectorOrigin);
    const unknownId = -1;
    const cases: Array<[string | Buffer, number, RegExp]> = [
      ['not json', unknownId, /not a request/],
      [Buffer.from('{"type":"ready"}'), unknownId, /JSON text, not binary/],
      ['null', unknownId, /must be an object/],
      ['[]', unknownId, /must be an object/],
      ['42', unknownId, /must be an object/],
      ['{"type":"explode","requestId":7}', 7, /unknown request type "explode"/],
      ['{"type":"push","requestId":8,"target":{"client":1},"data":"%%%","binary":true}', 8, /base64/],
      ['{"type":"push","requestId":9,"target":{"endpoint":"/nowhere"},"data":"x","binary":false}', 9, /no open client on \/nowhere/],
      ['{"type":"close","requestId":10,"client":1,"code":1005,"reason":""}', 10, /code must be/],
      [`{"type":"close","requestId":11,"client":1,"code":4000,"reason":"${'x'.repeat(124)}"}`, 11, /123 bytes/],
      ['{"type":"ping","requestId":12,"client":999999}', 12, /client #999999 is not open/],
      ['{"type":"ping","requestId":-3,"client":1}', unknownId, /requestId/],
    ];
    for (const [data, requestId, error] of cases) {
      const result = await feed.sendRaw(data, requestId);
      assert.equal(result.ok, false, String(data));
      assert.match((result as { error: string }).error, error, String(data));
    }
    assert.equal(feed.ws.readyState, WebSocket.OPEN, 'the feed stays open');
    const snapshot = await feed.ready();
    assert.equal(typeof snapshot.status.nextSeq, 'number', 'and still answers');
    feed.close();
  });
});

describe('echo-preview --inspect, bad input and missing parts', { timeout: 30_000 }, () => {
  it('answers 503 naming npm run build when the UI is not built', async () => {
    const install = fakeInstall(false);
    const run = await startCli([DEMO, '--port', '0', '--inspect'], { script: install.cli });
    try {
      const { url, port } = inspectorUrlOf(run.ready);
      for (const target of [url, `${url}inspector.js`, `${url}inspector.css`]) {
        const response = await get(port, new URL(target).pathname);
        assert.equal(response.status, 503, target);
        assert.match(response.body.toString(), /The inspector UI is not built: run npm run build\./);
      }
      assert.match(run.stderr(), /^echo-preview: warning: the inspector UI is not built \(no .*inspector\.js\): run npm run build/m, 'said at start too');
    } finally {
      run.child.kill('SIGKILL');
      install.cleanup();
    }
  });

  it('refuses a --capture-budget that is not a whole number of bytes above the minimum, naming the flag', async () => {
    for (const value of ['100', String(minBudgetBytes() - 1), '-5', '1e9', 'lots']) {
      const { code, stderr } = await runCli([DEMO, '--inspect', '--capture-budget', value]);
      assert.equal(code, 1, value);
      assert.match(stderr, new RegExp(`--capture-budget must be a whole number of bytes, at least ${minBudgetBytes()}`), value);
    }
    const help = await runCli(['--help']);
    assert.match(help.stdout, /--inspect/);
    assert.match(help.stdout, new RegExp(`--capture-budget <bytes>[\\s\\S]*default: ${CAPTURE_DEFAULTS.budgetBytes}`));
  });

  it('serves nothing at the inspector paths, and takes no second port, without --inspect', async () => {
    const before = listeners();
    const server = await startServer({ root: DEMO, port: 0 });
    assert.equal(listeners(), before + 1, 'one port');
    await server.close();
    const run = await startCli([DEMO, '--port', '0']);
    try {
      assert.doesNotMatch(run.ready, /inspector/);
      const token = newInspectorToken();
      for (const target of [`/__echo-preview/inspector/${token}/`, `/__echo-preview/inspector/${token}/inspector.js`]) {
        assert.equal((await get(run.port, target)).status, 404, target);
      }
      const { socket, status } = await rawHandshake(run.port, { Origin: `http://127.0.0.1:${run.port}` }, `/__echo-preview/inspector/${token}/feed`);
      socket.destroy();
      assert.equal(status, 404);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});

describe('capture in a running server', { timeout: 60_000 }, () => {
  const token = newInspectorToken();
  let assets: ReturnType<typeof placeholderAssets>;
  before(() => {
    assets = placeholderAssets();
  });
  after(() => assets.cleanup());

  it('records no frame while no inspector is attached, yet knows every client by the ids the events use', async () => {
    for (const inspector of [undefined, { token, assets }]) {
      const server = await startServer({ root: DEMO, port: 0, inspector });
      try {
        const opened: number[] = [];
        server.events.on((event: ServerEvent) => {
          if (event.type === 'client-open') opened.push(event.id);
        });
        if (inspector) assert.match(server.inspectorUrl ?? '', new RegExp(`^http://127\\.0\\.0\\.1:\\d+/__echo-preview/inspector/${token}/$`));
        else assert.equal(server.inspectorUrl, undefined);
        // The tap's contract: frame() and closeFrame() are called only `if (capture.active)`.
        let tapped = 0;
        const { frame: record, closeFrame: recordClose } = server.capture;
        server.capture.frame = (...args) => {
          tapped++;
          record.apply(server.capture, args);
        };
        server.capture.closeFrame = (...args) => {
          tapped++;
          recordClose.apply(server.capture, args);
        };
        const one = await openClient(server.wsUrl);
        const two = await openClient(server.wsUrl);
        await echoAll(one, ['a', Buffer.from('b')]);
        await echoAll(two, ['c']);
        one.ping();
        await new Promise((resolve) => one.once('pong', resolve));
        if (inspector) {
          // A feed that is open but has not asked for anything turns nothing on.
          const feed = await Feed.open(feedUrlOf(server.inspectorUrl!), originOf(server.inspectorUrl!));
          await echoAll(one, ['d']);
          assert.equal(server.capture.active, false);
          feed.close();
        }
        assert.equal(server.capture.active, false);
        const { frames, clients, status } = server.capture.snapshot();
        assert.deepEqual([frames.length, status.nextSeq], [0, 1], 'nothing recorded');
        assert.equal(tapped, 0, 'the echo path did not even call the capture');
        assert.deepEqual(clients.map((c) => [c.id, c.state]), opened.map((id) => [id, 'open']), 'the same ids as the events');
        const closed = new Promise((resolve) => two.once('close', resolve));
        one.close();
        two.close(4000, 'done');
        await closed;
        assert.equal(tapped, 0, 'nor did closing');
      } finally {
        await server.close();
      }
    }
  });

  it('captures while an inspector is attached, and stops when it leaves', async () => {
    const server = await startServer({ root: DEMO, port: 0, inspector: { token, assets } });
    try {
      const ws = await openClient(server.wsUrl, { headers: { 'User-Agent': 'tool' } });
      const feed = await Feed.open(feedUrlOf(server.inspectorUrl!), originOf(server.inspectorUrl!));
      const snapshot = await feed.ready();
      assert.equal(server.capture.active, true);
      assert.deepEqual(snapshot.clients.map((c) => c.userAgent), ['tool'], 'the snapshot lists clients that connected before');
      await echoAll(ws, ['seen']);
      const id = await feed.clientId('tool');
      await feed.until(() => feed.framesOf(id).length === 2, 'the echo');
      // No frame twice: the batches after the snapshot hold only what came after it.
      const seqs = feed.messages.flatMap((m: HostMessage) => (m.type === 'batch' ? m.batch.frames.map((f) => f.seq) : []));
      assert.equal(new Set(seqs).size, seqs.length);
      assert.ok(feed.messages.every((m) => m.type !== 'batch' || !m.batch.reset), 'no batch wipes the snapshot');
      feed.close();
      await pollUntil(() => !server.capture.active, 'the capture to stop once the inspector left');
      await echoAll(ws, ['unseen']);
      assert.equal(server.capture.snapshot().frames.length, 2);
      ws.close();
    } finally {
      await server.close();
    }
  });

  it('captures the heartbeat’s pings and the pongs that answer them', async () => {
    const server = await startServer({ root: DEMO, port: 0, heartbeatMs: 50, inspector: { token, assets } });
    try {
      const feed = await Feed.open(feedUrlOf(server.inspectorUrl!), originOf(server.inspectorUrl!));
      await feed.ready();
      const ws = await openClient(server.wsUrl, { headers: { 'User-Agent': 'idle' } });
      const id = await feed.clientId('idle');
      await feed.until(() => feed.framesOf(id).join().includes('out ping,in pong,out ping,in pong'), 'two heartbeat rounds');
      ws.close();
      feed.close();
    } finally {
      await server.close();
    }
  });

  it('RunningServer.clients: pushes by capture id, says when a client is not open, and refuses a close it may not send', async () => {
    const server = await startServer({ root: DEMO, port: 0, wsPath: '/ws-ü' });
    try {
      const ws = await openClient(`ws://127.0.0.1:${server.port}/ws-%C3%BC`);
      const [client] = server.capture.snapshot().clients;
      assert.equal(client.endpoint, '/ws-ü', 'listed under the configured (decoded) path');
      const got = messagesOf(ws, 'the client', (data) => data).next();
      assert.equal(server.clients.send(client.id, Buffer.from([7]), true), true);
      assert.deepEqual(await got, Buffer.from([7]));
      assert.equal(server.clients.sendToEndpoint('/ws-ü', 'all', false), 1);
      assert.equal(server.clients.sendToEndpoint('/websocket', 'nobody', false), 0, 'another path has no clients');
      for (const id of [client.id + 1, 0, -1]) {
        assert.equal(server.clients.send(id, 'x', false), false);
        assert.equal(server.clients.ping(id), false);
        assert.equal(server.clients.close(id, 1000, ''), false);
      }
      for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5]) {
        assert.throws(() => server.clients.close(client.id, code, ''), RangeError, String(code));
      }
      assert.throws(() => server.clients.close(client.id, 4000, 'é'.repeat(62)), /123 bytes/);
      assert.equal(ws.readyState, WebSocket.OPEN, 'a refused close leaves the client open');
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      assert.equal(server.clients.close(client.id, 3000, 'é'.repeat(61)), true);
      assert.equal(await closed, 3000);
      assert.equal(server.clients.send(client.id, 'late', false), false, 'closed is not open');
    } finally {
      await server.close();
    }
  });

  it('closes inspector feeds with 1001 when the server stops', async () => {
    const server = await startServer({ root: DEMO, port: 0, inspector: { token, assets } });
    const feed = await Feed.open(feedUrlOf(server.inspectorUrl!), originOf(server.inspectorUrl!));
    const code = new Promise<number>((resolve) => feed.ws.once('close', resolve));
    await server.close();
    assert.equal(await code, 1001);
  });

  it('takes its own port and frees both at close; a start that fails on the server’s port leaves neither bound', async () => {
    const before = listeners();
    const server = await startServer({ root: DEMO, port: 0, inspector: { token, assets } });
    const inspectorPort = Number(new URL(server.inspectorUrl!).port);
    assert.notEqual(inspectorPort, server.port);
    assert.equal(listeners(), before + 2, 'two ports');
    const feed = await Feed.open(feedUrlOf(server.inspectorUrl!), originOf(server.inspectorUrl!));
    const page = await get(inspectorPort, new URL(server.inspectorUrl!).pathname, { Connection: 'keep-alive' });
    assert.equal(page.status, 200);
    await server.close();
    assert.equal(feed.ws.readyState, WebSocket.CLOSED);
    assert.deepEqual([await tryConnect(server.port), await tryConnect(inspectorPort)], ['ECONNREFUSED', 'ECONNREFUSED'], 'both ports are free');
    // Node lets go of a closed listener's handle a turn or two after its close: polled.
    await pollUntil(() => listeners() === before, 'no listener left');

    // The server's own port is taken: the start fails, and the inspector's port went with it.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      await assert.rejects(startServer({ root: DEMO, port, inspector: { token, assets } }), (error: unknown) => error instanceof StartError && error.code === 'PORT_IN_USE');
      await pollUntil(() => listeners() === before + 1, 'only the port this test holds', 2000);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('never shadows a file of the folder: a folder with the same names is served as usual', async () => {
    const { dir, cleanup } = tempDir();
    const mine = (relative: string, text: string): void => {
      mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
      writeFileSync(path.join(dir, relative), text);
    };
    mine('__echo-preview/inspector/index.html', 'my inspector folder');
    mine('__echo-preview/inspector/other/file.txt', 'my file');
    mine(`__echo-preview/inspector/${token}/index.html`, 'my file at the token path');
    mine(`__echo-preview/inspector/${token}/feed`, 'my file named feed');
    // The files exactly as they are (without the live reload script in the HTML ones).
    const server = await startServer({ root: dir, port: 0, inspector: { token, assets }, liveReload: false });
    try {
      const body = async (target: string): Promise<[number, string]> => {
        const response = await get(server.port, target);
        return [response.status, response.body.toString()];
      };
      assert.deepEqual(await body('/__echo-preview/inspector/'), [200, 'my inspector folder']);
      assert.deepEqual(await body('/__echo-preview/inspector/other/file.txt'), [200, 'my file']);
      assert.deepEqual(await body(`/__echo-preview/inspector/${token}/`), [200, 'my file at the token path']);
      assert.deepEqual(await body(`/__echo-preview/inspector/${token}/feed`), [200, 'my file named feed']);
      assert.equal((await get(server.port, `/__echo-preview/inspector/${token}/inspector.js`)).status, 404, 'nothing of the inspector is on this port');
      // The inspector, on its own port, is the inspector whatever the folder holds.
      const inspectorPort = Number(new URL(server.inspectorUrl!).port);
      const page = await get(inspectorPort, `/__echo-preview/inspector/${token}/`);
      assert.deepEqual([page.status, configOf(page.body.toString()).host], [200, 'cli']);
      const { socket, status } = await rawHandshake(inspectorPort, { Origin: originOf(server.inspectorUrl!) }, `/__echo-preview/inspector/${token}/feed`);
      socket.destroy();
      assert.equal(status, 101);
    } finally {
      await server.close();
      cleanup();
    }
  });

  it('sends a slow inspector no more than it reads, and tells it what it missed', async () => {
    // The ring holds far more than one batch window of this traffic (so a server that sent
    // everything would never drop a frame unsent), and far less than all of it.
    const budgetBytes = 8 * MiB;
    const server = await startServer({ root: DEMO, port: 0, inspector: { token, assets }, capture: { budgetBytes } });
    try {
      const inspectorPort = Number(new URL(server.inspectorUrl!).port);
      const { socket, status, rest } = await rawHandshake(inspectorPort, { Origin: originOf(server.inspectorUrl!) }, `/__echo-preview/inspector/${token}/feed`);
      assert.equal(status, 101);
      socket.pause(); // an inspector that stops reading
      socket.write(frame(0x1, Buffer.from('{"type":"ready"}')));
      await pollUntil(() => server.capture.active, 'the feed to attach');

      // 200,000 small frames, ~36 MB of batches if the server sent them all, in rounds that
      // each leave the ring far from full.
      const ws = await openClient(server.wsUrl);
      const round = Array.from({ length: 2000 }, (_, i) => `message ${i} `.padEnd(64, '.'));
      for (let i = 0; i < 50; i++) await echoAll(ws, round);
      const lastSeq = server.capture.status().nextSeq - 1;
      assert.equal(lastSeq, 200_000);

      // Now it reads again: it gets what the ring still holds, told how much it missed.
      socket.resume();
      const reader = new FrameReader(socket, rest);
      let received = 0;
      let missed = 0;
      let seen = 0;
      while (seen < lastSeq) {
        const next = await reader.next();
        received += next.payload.length;
        const message = expandFeedMessage(JSON.parse(next.payload.toString()) as HostMessage);
        if (message.type !== 'batch') continue;
        missed += message.batch.missedFrames;
        seen = Math.max(seen, message.batch.frames.at(-1)?.seq ?? 0);
      }
      assert.ok(missed > 0, 'frames that left the ring while it was not reading are reported missed');
      assert.ok(received < 16 * MiB, `it was sent ${(received / MiB).toFixed(1)} MiB: what the socket buffers held and the ring, not every frame`);
      ws.close();
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});
