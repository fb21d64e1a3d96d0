/**
 * Hostile JSON depth and faults in timers, with real clients on a real config file: messages
 * nested 100,000 and 1,000,000 deep (arrays, objects, both mixed, and brackets inside strings)
 * through the script example of docs/config.md in the CLI and through every kind of reply (immediate,
 * delayed, after latency, to all, greetings, timers, broadcast, a proxy's local rules); a reply
 * that throws while it is built in a timer; and requests nested that deep on the inspector's feed.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { MAX_JSON_DEPTH, nestsDeeperThan, parseBoundedJson, TOO_DEEP } from '../../src/shared/boundedJson';
import { Schedule } from '../../src/core/endpoints/delivery';
import type { ServerEvent } from '../../src/core/events/events';
import { UNKNOWN_REQUEST_ID, MAX_FEED_REQUEST_DEPTH } from '../../src/core/inspector/request';
import { newInspectorToken } from '../../src/core/inspector/server';
import { startCli, type CliRun } from '../support/cli';
import { tempDir } from '../support/http';
import { Feed, feedUrlOf } from '../support/inspector';
import { openWithInbox, documentedExample, serveConfig, texts, type ModeClient } from '../support/modes';
import { pollUntil } from '../support/poll';

/** JSON values nested `depth` levels deep, as text, built without recursion. */
const deep = {
  arrays: (depth: number): string => '['.repeat(depth) + ']'.repeat(depth),
  objects: (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
  mixed: (depth: number): string => '[{"k":'.repeat(depth / 2) + 'null' + '}]'.repeat(depth / 2),
};
const SIZES = [100_000, 1_000_000];
/** Every deep shape at every size, as the `topic` of docs/config.md's subscribe message. */
const DEEP_MESSAGES = SIZES.flatMap((size) => Object.entries(deep).map(([shape, make]) => ({ what: `${shape} ${size.toLocaleString('en-US')} deep`, text: `{"type":"subscribe","topic":${make(size)}}` })));
/** A string full of brackets, quotes and backslashes: depth 1, however many brackets. */
const BRACKETY_STRING = `\\"${'['.repeat(1_000_000)}\\\\"{{`;

function isError(event: ServerEvent): event is Extract<ServerEvent, { type: 'error' }> {
  return event.type === 'error';
}

describe('the nesting scan', () => {
  it('counts brackets outside strings only, exactly at the limit, whatever the text', () => {
    assert.equal(nestsDeeperThan(deep.arrays(MAX_JSON_DEPTH)), false);
    assert.equal(nestsDeeperThan(deep.arrays(MAX_JSON_DEPTH + 1)), true);
    assert.equal(nestsDeeperThan(` \n\t${deep.objects(MAX_JSON_DEPTH + 1)}`), true);
    assert.equal(nestsDeeperThan(JSON.stringify({ s: BRACKETY_STRING, t: ['\\', '"', '[[['] })), false);
    assert.equal(nestsDeeperThan(`["\\\\"${deep.arrays(MAX_JSON_DEPTH)}]`), true, 'an escaped backslash ends before the quote');
    assert.equal(nestsDeeperThan(`["\\"${deep.arrays(MAX_JSON_DEPTH)}"]`), false, 'an escaped quote does not end the string');
    assert.equal(nestsDeeperThan(`"${'['.repeat(1000)}"`), false, 'a JSON string');
    assert.equal(nestsDeeperThan(`["${'['.repeat(1000)}`), false, 'an unterminated string');
    assert.deepEqual(parseBoundedJson(`{"a":${deep.arrays(MAX_JSON_DEPTH - 1)}}`), JSON.parse(`{"a":${deep.arrays(MAX_JSON_DEPTH - 1)}}`));
    assert.throws(() => parseBoundedJson(deep.mixed(1_000_000)), { name: 'SyntaxError', message: TOO_DEEP });
    assert.throws(() => parseBoundedJson('{"a":'), SyntaxError);
  });
});

describe('the script example of docs/config.md with JSON nested 100,000 and 1,000,000 deep, through the CLI', { timeout: 60_000 }, () => {
  it('answers each as not JSON (the fallback echoes it back, 50 ms late) and keeps answering everyone', async () => {
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), documentedExample('### script'));
    const run = await startCli([folder.dir, '--port', '0']);
    const clients: ModeClient[] = [];
    try {
      await run.waitFor((out) => out.includes(`  ws://127.0.0.1:${run.port}/api  (script)\n`), 'the endpoint line');
      const url = `ws://127.0.0.1:${run.port}/api`;
      /** The next message that is not a timer's tick (ticks come every second: without a deadline this would wait for ever). */
      const next = async (client: ModeClient): Promise<string> => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const [text] = await texts(client.inbox);
          if (!text.startsWith('{"type":"tick"')) return text;
          if (Date.now() > deadline) throw new Error('only ticks for 10 s: no answer');
        }
      };
      const first = await openWithInbox(url);
      const second = await openWithInbox(url);
      clients.push(first, second);
      assert.match(await next(first), /^\{"type":"welcome"/);
      assert.match(await next(second), /^\{"type":"welcome"/);
      assert.equal(await next(first), 'client 2 joined');
      for (const { what, text } of DEEP_MESSAGES) {
        first.ws.send(text);
        assert.ok((await next(first)) === text, `${what}: echoed back as it came`);
        second.ws.send('{"type":"subscribe","topic":"prices"}');
        assert.equal(await next(second), '{"type":"subscribed","topic":"prices"}', `after ${what}`);
        assert.equal(run.child.exitCode, null, `the server is still running after ${what}`);
      }
      const say = `{"type":"say","text":${deep.mixed(1_000_000)}}`;
      first.ws.send(say);
      assert.ok((await next(first)) === say, 'a deep "say" is not JSON either: echoed to its sender only');
      first.ws.send(JSON.stringify({ type: 'subscribe', topic: BRACKETY_STRING }));
      assert.equal(await next(first), JSON.stringify({ type: 'subscribed', topic: BRACKETY_STRING }), 'brackets inside a string do not count');
      second.ws.send('ping');
      assert.equal(await next(second), 'pong');
      second.ws.send('anything else');
      assert.equal(await next(second), 'anything else');
      assert.doesNotMatch(run.stdout(), /error:/);
      assert.equal(run.stderr(), '');
    } finally {
      for (const { ws } of clients) ws.terminate();
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });
});

/** Rules that draw on a message's JSON: by a `json` match, and by a regex with {{json}} in the reply. */
function jsonRules(extra: Record<string, unknown> = {}): unknown[] {
  return [
    { match: { json: { type: 'subscribe' } }, send: { type: 'subscribed', topic: '{{json.topic}}' }, ...extra },
    { match: { regex: '^\\{"type":"raw"' }, send: { type: 'raw', json: '{{json}}', text: 'n={{n}} {{json.topic}}' }, ...extra },
  ];
}

describe('every kind of reply with JSON nested 100,000 and 1,000,000 deep', { timeout: 60_000 }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** One server for the reply kinds below, with an upstream that echoes for its proxy, and the errors it reports. */
  let served: Awaited<ReturnType<typeof serveConfig>>;
  const errors: string[] = [];
  before(async () => {
    const upstream = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => upstream.once('listening', resolve));
    upstream.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const client of upstream.clients) client.terminate();
      upstream.close(() => resolve());
    }));
    served = await serveConfig({
      endpoints: {
        '/now': { mode: 'script', rules: jsonRules() },
        '/later': { mode: 'script', rules: jsonRules({ delayMs: 5 }) },
        '/slow': { mode: 'script', rules: jsonRules(), faults: { latencyMs: 5 } },
        '/all': { mode: 'script', rules: jsonRules({ to: 'all', delayMs: 5 }) },
        '/proxy': { mode: 'proxy', upstream: `ws://127.0.0.1:${(upstream.address() as AddressInfo).port}/`, rules: jsonRules({ delayMs: 5 }) },
        '/echo': { mode: 'echo' },
      },
    });
    cleanups.push(served.cleanup);
    served.server.events.on((event) => isError(event) && errors.push(event.message));
  });

  const kinds: Array<[string, string]> = [
    ['/now', 'an immediate reply'],
    ['/later', 'a delayed reply'],
    ['/slow', 'a reply after latencyMs'],
    ['/all', 'a delayed reply to all'],
    ['/proxy', 'a proxy’s local rule (what none matches goes upstream, which echoes)'],
  ];
  for (const [endpoint, kind] of kinds) {
    it(`${kind}: deep JSON is not JSON, JSON exactly ${MAX_JSON_DEPTH} deep is, brackets in strings do not count, and the server keeps answering`, async () => {
      const base = `ws://127.0.0.1:${served.server.port}`;
      const a = await openWithInbox(base + endpoint);
      const b = await openWithInbox(base + endpoint);
      const toAll = endpoint === '/all';
      let n = 0;
      for (const { what, text } of DEEP_MESSAGES) {
        a.ws.send(text);
        n++;
        const [back] = await texts(a.inbox);
        assert.ok(back === text, `${what}: not JSON, so no rule matched; it came back as it was`);
      }
      for (const [shape, make] of Object.entries(deep)) {
        a.ws.send(`{"type":"raw","topic":${make(1_000_000)}}`);
        n++;
        const expected = JSON.stringify({ type: 'raw', json: null, text: `n=${n} ` });
        assert.deepEqual(await texts(a.inbox), [expected], `{{json}} of deep ${shape} has no value`);
        if (toAll) assert.deepEqual(await texts(b.inbox), [expected], 'and it went to all');
      }
      const limit = { type: 'subscribe', topic: JSON.parse(deep.arrays(MAX_JSON_DEPTH - 1)) as unknown };
      a.ws.send(JSON.stringify(limit));
      assert.deepEqual(await texts(a.inbox), [JSON.stringify({ type: 'subscribed', topic: limit.topic })], `exactly ${MAX_JSON_DEPTH} deep is JSON`);
      if (toAll) await texts(b.inbox);
      const over = JSON.stringify({ type: 'subscribe', topic: JSON.parse(deep.arrays(MAX_JSON_DEPTH)) as unknown });
      a.ws.send(over);
      assert.deepEqual(await texts(a.inbox), [over], `${MAX_JSON_DEPTH + 1} deep is not`);
      a.ws.send(JSON.stringify({ type: 'subscribe', topic: BRACKETY_STRING }));
      assert.deepEqual(await texts(a.inbox), [JSON.stringify({ type: 'subscribed', topic: BRACKETY_STRING })], 'brackets in a string do not count');
      if (toAll) await texts(b.inbox);
      b.ws.send('{"type":"subscribe","topic":"prices"}');
      assert.deepEqual(await texts(b.inbox), ['{"type":"subscribed","topic":"prices"}'], 'another client is still answered');
      if (toAll) assert.deepEqual(await texts(a.inbox), ['{"type":"subscribed","topic":"prices"}']);
      assert.equal(a.inbox.pending + b.inbox.pending, 0, 'nothing else was sent');
      a.ws.close();
      b.ws.close();
      const echo = await openWithInbox(`${base}/echo`);
      echo.ws.send('still here');
      assert.deepEqual(await texts(echo.inbox), ['still here'], 'a client of another endpoint is still echoed');
      echo.ws.close();
      assert.deepEqual(errors, [], 'nothing failed: deep JSON is simply not JSON');
    });
  }

  it('greets, ticks and broadcasts with what a client brings, however bracketed', async () => {
    const served = await serveConfig({
      endpoints: {
        '/greet': {
          mode: 'script',
          onConnect: [{ send: { hello: '{{query.topic}}' }, delayMs: 5 }, { send: { now: '{{query.topic}}' } }],
          timers: [{ everyMs: 10, times: 1, send: { tick: '{{n}}', topic: '{{query.topic}}' } }],
        },
        '/room': { mode: 'broadcast' },
      },
    });
    cleanups.push(served.cleanup);
    const errors: string[] = [];
    served.server.events.on((event) => isError(event) && errors.push(event.message));
    const base = `ws://127.0.0.1:${served.server.port}`;
    // A query is text, never parsed: as deep as a request line allows (Node takes 16 KiB of headers).
    const topic = deep.arrays(2000);
    const greeted = await openWithInbox(`${base}/greet?topic=${encodeURIComponent(topic)}`);
    const got = (await texts(greeted.inbox, 3)).sort();
    assert.deepEqual(got, [JSON.stringify({ hello: topic }), JSON.stringify({ now: topic }), JSON.stringify({ tick: 1, topic })].sort());
    greeted.ws.close();
    const a = await openWithInbox(`${base}/room`);
    const b = await openWithInbox(`${base}/room`);
    for (const { what, text } of DEEP_MESSAGES) {
      a.ws.send(text);
      const [toA] = await texts(a.inbox);
      const [toB] = await texts(b.inbox);
      assert.ok(toA === text && toB === text, `${what}: broadcast as it came`);
    }
    a.ws.close();
    b.ws.close();
    assert.deepEqual(errors, []);
  });
});

/** A rule whose reply cannot be built from a large message: 600 × 1 MiB is past the largest message (and the longest string V8 holds). */
const TOO_LONG_REPLY = '{{text}}'.repeat(600);
const BIG = `big ${'x'.repeat(1024 * 1024)}`;
/** How that failure reads: it stops at the default largest message (16 MiB), not after building 600 MiB. */
const TOO_LARGE = 'ReplyTooLarge: the reply would be larger than the largest message (16777216 bytes): not sent';

describe('a reply is never larger than the largest message', { timeout: 30_000 }, () => {
  it('sends a reply up to the limit, and refuses one past it, in text and JSON templates, counting bytes', async () => {
    const served = await serveConfig(
      {
        endpoints: {
          '/text': { mode: 'script', rules: [{ match: { regex: '^' }, send: '{{text}}{{text}}' }] },
          '/json': { mode: 'script', rules: [{ match: { regex: '^' }, send: { a: '{{text}}', b: '{{text}}' } }] },
        },
      },
      { maxMessageSize: 1000 },
    );
    const errors: string[] = [];
    served.server.events.on((event) => isError(event) && errors.push(event.message));
    try {
      for (const endpoint of ['/text', '/json']) {
        const client = await openWithInbox(`ws://127.0.0.1:${served.server.port}${endpoint}`);
        const overhead = endpoint === '/json' ? '{"a":"","b":""}'.length : 0;
        const fits = 'f'.repeat((1000 - overhead) / 2 - 1);
        client.ws.send(fits);
        const [reply] = await texts(client.inbox);
        assert.ok(Buffer.byteLength(reply) <= 1000 && reply.includes(fits + fits) === (endpoint === '/text'), `${endpoint}: ${reply.length}`);
        // Twice 400 characters of 2 bytes each: 1600 bytes, though only 800 UTF-16 units.
        client.ws.send('é'.repeat(400));
        client.ws.send('x');
        assert.deepEqual(await texts(client.inbox), [endpoint === '/text' ? 'xx' : '{"a":"x","b":"x"}'], `${endpoint}: the client carries on`);
        assert.deepEqual(errors.splice(0), [`${endpoint} (script): ReplyTooLarge: the reply would be larger than the largest message (1000 bytes): not sent`]);
        client.ws.close();
      }
    } finally {
      await served.cleanup();
    }
  });
});

describe('a reply that throws while it is built', { timeout: 60_000 }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('is reported once, naming the endpoint, and the endpoint carries on: immediate, delayed, latency, to all, proxy', async () => {
    const upstream = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => upstream.once('listening', resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const client of upstream.clients) client.terminate();
      upstream.close(() => resolve());
    }));
    const rules = (extra: Record<string, unknown> = {}): unknown[] => [
      { match: { regex: '^big ' }, send: TOO_LONG_REPLY, ...extra },
      { match: { text: 'ping' }, send: 'pong', ...extra },
    ];
    const endpoints: Record<string, unknown> = {
      '/now': { mode: 'script', rules: rules() },
      '/later': { mode: 'script', rules: rules({ delayMs: 5 }) },
      '/slow': { mode: 'script', rules: rules(), faults: { latencyMs: 5 } },
      '/all': { mode: 'script', rules: rules({ to: 'all', delayMs: 5 }) },
      '/proxy': { mode: 'proxy', upstream: `ws://127.0.0.1:${(upstream.address() as AddressInfo).port}/`, rules: rules({ delayMs: 5 }) },
    };
    const served = await serveConfig({ endpoints });
    cleanups.push(served.cleanup);
    const errors: string[] = [];
    served.server.events.on((event) => isError(event) && errors.push(event.message));
    for (const endpoint of Object.keys(endpoints)) {
      const url = `ws://127.0.0.1:${served.server.port}${endpoint}`;
      const a = await openWithInbox(url);
      const b = await openWithInbox(url);
      a.ws.send(BIG);
      a.ws.send('ping');
      // Replies of one client go in order, so the failed one was tried before this pong.
      assert.deepEqual(await texts(a.inbox), ['pong'], `${endpoint}: the client carries on`);
      const mode = endpoint === '/proxy' ? 'proxy' : 'script';
      assert.deepEqual(errors.splice(0), [`${endpoint} (${mode}): ${TOO_LARGE}`], `${endpoint}: reported once`);
      b.ws.send('ping');
      assert.deepEqual(await texts(b.inbox, endpoint === '/all' ? 2 : 1), endpoint === '/all' ? ['pong', 'pong'] : ['pong'], `${endpoint}: another client too`);
      if (endpoint === '/all') assert.deepEqual(await texts(a.inbox), ['pong']);
      a.ws.close();
      b.ws.close();
    }
  });

  it('in a delayed reply, through the CLI: one error line, and the server keeps answering', async () => {
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), JSON.stringify({ endpoints: { '/api': { mode: 'script', rules: [{ match: { regex: '^big ' }, send: TOO_LONG_REPLY, delayMs: 5 }] } } }));
    let run: CliRun | undefined;
    try {
      run = await startCli([folder.dir, '--port', '0']);
      const client = await openWithInbox(`ws://127.0.0.1:${run.port}/api`);
      client.ws.send(BIG);
      client.ws.send('after');
      assert.deepEqual(await texts(client.inbox), ['after'], 'the fallback still echoes');
      await run.waitFor((out) => out.includes(`error: /api (script): ${TOO_LARGE}\n`), 'the error line');
      const other = await openWithInbox(`ws://127.0.0.1:${run.port}/api`);
      other.ws.send('hello');
      assert.deepEqual(await texts(other.inbox), ['hello']);
      assert.equal(run.stdout().split('error:').length - 1, 1, 'one error line');
      assert.equal(run.child.exitCode, null);
      client.ws.close();
      other.ws.close();
    } finally {
      run?.child.kill('SIGTERM');
      await run?.exit;
      folder.cleanup();
    }
  });

  it('ends a repeating timer whose tick throws, after reporting it once', async () => {
    const reported: unknown[] = [];
    const schedule = new Schedule({
      contain: (call) => {
        try {
          call();
        } catch (error) {
          reported.push(error);
        }
      },
    });
    let ticks = 0;
    schedule.every(10, () => {
      ticks++;
      throw new RangeError('tick failed');
    });
    let later = 0;
    schedule.every(10, () => ++later < 6);
    await pollUntil(() => later === 6, 'the other timer to tick six times');
    schedule.clear();
    assert.equal(ticks, 1);
    assert.deepEqual(reported.map(String), ['RangeError: tick failed']);
  });
});

describe('the inspector feed with requests nested 100,000 and 1,000,000 deep', { timeout: 30_000 }, () => {
  it('refuses each with a precise error and goes on answering', async () => {
    const served = await serveConfig({ endpoints: { '/echo': { mode: 'echo' } } }, { inspector: { token: newInspectorToken() } });
    try {
      const feed = await Feed.open(feedUrlOf(served.server.inspectorUrl!), new URL(served.server.inspectorUrl!).origin);
      let requestId = 1;
      for (const size of SIZES) {
        for (const make of Object.values(deep)) {
          requestId++;
          // Its requestId cannot be read either: the answer has the one for unreadable requests.
          const result = await feed.sendRaw(`{"type":"ping","requestId":${requestId},"client":1,"extra":${make(size)}}`, UNKNOWN_REQUEST_ID);
          assert.deepEqual(result, {
            type: 'result',
            requestId: UNKNOWN_REQUEST_ID,
            ok: false,
            error: `a request is a small JSON object, such as {"type":"ready"}; this one nests deeper than ${MAX_FEED_REQUEST_DEPTH} levels`,
          });
        }
      }
      assert.deepEqual(await feed.request({ type: 'ping', client: 99 }), { type: 'result', requestId: 1, ok: false, error: 'client #99 is not open' });
      feed.close();
    } finally {
      await served.cleanup();
    }
  });
});
