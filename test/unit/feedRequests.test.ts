/**
 * The inspector feed takes only well-formed requests: against the CLI as a child process, every
 * malformed message (any JSON value that is not an object, a wrong type for each field of each
 * request, missing and unknown fields, `__proto__` and `constructor` keys, huge numbers, deep
 * nesting, a flood of fields) is answered with an error result on that feed, which stays open,
 * and nothing else happens: the CLI keeps serving, and the feed still works.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { MAX_FEED_REQUEST_DEPTH, MAX_FEED_REQUEST_TOKENS, UNKNOWN_REQUEST_ID } from '../../src/core/inspector/request';
import { parseInspectorRequest } from '../../src/shared/protocol';
import { startCli, type CliRun } from '../support/cli';
import { tempDir } from '../support/http';
import { assertServing } from '../support/hostile';
import { Feed, fakeInstall, feedUrlOf, inspectorUrlOf } from '../support/inspector';
import { echoAll, openClient } from '../support/ws';

/** A well-formed request of each type that carries fields; each case below breaks one of them. */
const GOOD: Record<string, Record<string, unknown>> = {
  push: { type: 'push', requestId: 1, target: { client: 1 }, data: 'x', binary: false },
  close: { type: 'close', requestId: 1, client: 1, code: 1000, reason: '' },
  ping: { type: 'ping', requestId: 1, client: 1 },
};

/** JSON texts that are not a valid value of each field (as JSON, so 1e400 and -0 arrive as the parser makes them). */
const NOT_A_COUNTER = ['null', 'true', '"1"', '[]', '[1]', '{}', '1.5', '-1', '1e400', '-1e400', '9007199254740992', '123456789012345678901234567890', '{"toString":1,"valueOf":1}'];
const WRONG: Record<string, string[]> = {
  requestId: NOT_A_COUNTER,
  client: [...NOT_A_COUNTER, '0', '-0'],
  target: [
    'null', 'true', '"1"', '1', '[]', '[{"client":1}]', '{}', '{"client":0}', '{"client":-1}', '{"client":1.5}', '{"client":"1"}', '{"client":1e400}',
    '{"client":null}', '{"client":{"toString":1}}', '{"endpoint":"x"}', '{"endpoint":1}', '{"endpoint":null}', '{"endpoint":["/a"]}',
    '{"client":1,"endpoint":"/a"}', '{"client":1,"extra":1}', '{"__proto__":{"client":1}}', '{"constructor":1}',
  ],
  data: ['null', 'true', '1', '[]', '["x"]', '{}', '{"toString":1,"valueOf":1}'],
  binary: ['null', '0', '1', '"true"', '"false"', '[]', '{}'],
  code: ['null', 'true', '"1000"', '[]', '{}', '0', '999', '1004', '1005', '1006', '1015', '2999', '5000', '1000.5', '1e400', '-1e400', '{"valueOf":1000}'],
  reason: ['null', 'true', '1', '[]', '{}', '["a"]', `"${'x'.repeat(124)}"`],
};

/** `request` as JSON text with `field` set to the JSON text `value` (added if new, left out when undefined). */
function withField(request: Record<string, unknown>, field: string, value: string | undefined): string {
  const parts = Object.entries(request)
    .filter(([key]) => key !== field || value !== undefined)
    .map(([key, v]) => `${JSON.stringify(key)}:${key === field ? value : JSON.stringify(v)}`);
  if (!(field in request) && value !== undefined) parts.push(`${JSON.stringify(field)}:${value}`);
  return `{${parts.join(',')}}`;
}

describe('the inspector feed refuses every malformed request', { timeout: 60_000 }, () => {
  let install: ReturnType<typeof fakeInstall>;
  let folder: ReturnType<typeof tempDir>;
  let run: CliRun;
  let feedUrl: string;
  let own: string;
  let feed: Feed;

  before(async () => {
    install = fakeInstall();
    folder = tempDir();
    writeFileSync(path.join(folder.dir, 'index.html'), '<p>page</p>');
    run = await startCli([folder.dir, '--port', '0', '--inspect'], { script: install.cli });
    feedUrl = feedUrlOf(inspectorUrlOf(run.ready).url);
    own = new URL(inspectorUrlOf(run.ready).url).origin; // the inspector's own origin (its own port)
    feed = await Feed.open(feedUrl, own);
  });
  after(() => {
    feed.ws.terminate();
    run.child.kill('SIGKILL');
    install.cleanup();
    folder.cleanup();
  });

  /** Sends each `[text, requestId the answer carries, error pattern]` and checks its error result. */
  async function refuses(cases: ReadonlyArray<readonly [string | Buffer, number, RegExp]>): Promise<void> {
    for (const [data, requestId, error] of cases) {
      const shown = String(data).slice(0, 120);
      let result;
      try {
        result = await feed.sendRaw(data, requestId);
      } catch (failure) {
        const exit = run.child.exitCode ?? run.child.signalCode;
        throw new Error(`${shown}: ${(failure as Error).message}; the CLI ${exit === null ? 'is still running' : `exited (${exit})`}; stderr:\n${run.stderr().slice(0, 1500)}`);
      }
      assert.equal(result.ok, false, shown);
      assert.match((result as { error: string }).error, error, shown);
    }
    assert.equal(feed.ws.readyState, WebSocket.OPEN, 'the feed stays open');
  }

  /** The feed still answers, the CLI still serves, and nothing a refused request asked for happened. */
  async function stillServing(): Promise<void> {
    const snapshot = await feed.ready();
    assert.equal(snapshot.status.paused, false, 'no refused request paused the capture');
    await assertServing(run.port);
    assert.equal(run.child.exitCode, null);
  }

  it('answers {"type":{"toString":1,"valueOf":1}} (whose String() throws) with an error, and the CLI keeps serving', { timeout: 20_000 }, async () => {
    await refuses([
      ['{"type":{"toString":1,"valueOf":1}}', UNKNOWN_REQUEST_ID, /"type"/],
      ['{"type":{"toString":1,"valueOf":1},"requestId":4}', 4, /"type"/],
      ['{"type":{"toString":{"toString":1}}}', UNKNOWN_REQUEST_ID, /"type"/],
    ]);
    await stillServing();
  });

  it('answers every JSON value that is not an object, every text that is not JSON, and binary, with an error', { timeout: 20_000 }, async () => {
    const notObjects = ['null', '0', '-1', '1e400', '"ready"', '""', 'true', 'false', '[]', '[{"type":"ready"}]', '[1,2]'];
    const notJson = ['', ' ', '{', '{"type":"ready"', '{"type":"ready"}x', "{'type':'ready'}", '{"type":"ready",}', 'undefined', 'NaN', '\u0000'];
    await refuses([
      ...notObjects.map((text) => [text, UNKNOWN_REQUEST_ID, /a request must be an object/] as const),
      ...notJson.map((text) => [text, UNKNOWN_REQUEST_ID, /not JSON/] as const),
      [Buffer.from('{"type":"ready"}'), UNKNOWN_REQUEST_ID, /JSON text, not binary/],
    ]);
    await stillServing();
  });

  it('answers a wrong type, a missing field and an unknown field, for every field of every request, naming the field', { timeout: 20_000 }, async () => {
    const cases: Array<readonly [string, number, RegExp]> = [];
    for (const [type, good] of Object.entries(GOOD)) {
      for (const field of Object.keys(good)) {
        if (field === 'type') continue;
        // A bad requestId cannot be answered by its own id.
        const answeredAs = field === 'requestId' ? UNKNOWN_REQUEST_ID : 1;
        const named = new RegExp(`^${type}: ${field}\\b`);
        for (const value of WRONG[field]) cases.push([withField(good, field, value), answeredAs, named]);
        if (field !== 'reason') cases.push([withField(good, field, undefined), answeredAs, named]);
      }
      cases.push([withField(good, 'extra', '1'), 1, new RegExp(`^${type}: unexpected field "extra"`)]);
    }
    for (const type of ['ready', 'pause', 'resume', 'clear']) {
      cases.push([`{"type":"${type}","paused":true}`, UNKNOWN_REQUEST_ID, new RegExp(`^${type}: unexpected field "paused"`)]);
      cases.push([`{"type":"${type}","requestId":5}`, 5, new RegExp(`^${type}: unexpected field "requestId"`)]);
    }
    for (const type of ['null', '1', 'true', '[]', '["ready"]', '{}', '{"toString":1,"valueOf":1}']) cases.push([`{"type":${type}}`, UNKNOWN_REQUEST_ID, /needs "type", a string/]);
    cases.push(['{"requestId":3}', 3, /needs "type", a string/]);
    for (const type of ['', 'explode', 'READY', 'ready ', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'x'.repeat(10_000)]) {
      cases.push([JSON.stringify({ type, requestId: 6 }), 6, /^unknown request type "/]);
    }
    assert.ok(cases.length > 150, `${cases.length} cases`);
    await refuses(cases);
    await stillServing();
  });

  it('reads only its own fields: __proto__ and constructor keys are refused, never followed', { timeout: 20_000 }, async () => {
    await refuses([
      ['{"__proto__":{"type":"ready"}}', UNKNOWN_REQUEST_ID, /needs "type"/],
      ['{"type":"ready","__proto__":{"type":"push"}}', UNKNOWN_REQUEST_ID, /^ready: unexpected field "__proto__"/],
      ['{"type":"pause","__proto__":{}}', UNKNOWN_REQUEST_ID, /^pause: unexpected field "__proto__"/],
      ['{"type":"ping","client":1,"__proto__":{"requestId":3}}', UNKNOWN_REQUEST_ID, /^ping: unexpected field "__proto__"/],
      ['{"type":"ping","client":1,"requestId":{"__proto__":3}}', UNKNOWN_REQUEST_ID, /^ping: requestId\b/],
      ['{"type":"push","__proto__":{"requestId":1,"target":{"client":1},"data":"x","binary":false}}', UNKNOWN_REQUEST_ID, /^push: unexpected field "__proto__"/],
      ['{"type":"ping","requestId":7,"client":1,"constructor":{"prototype":{"polluted":true}}}', 7, /^ping: unexpected field "constructor"/],
      ['{"type":"close","requestId":8,"client":1,"code":1000,"reason":"","__proto__":{"polluted":true}}', 8, /^close: unexpected field "__proto__"/],
      ['{"type":"push","requestId":9,"target":{"__proto__":{"endpoint":"/websocket"}},"data":"x","binary":false}', 9, /^push: target\b/],
    ]);
    await stillServing();
  });

  it('refuses deep nesting and floods of fields before it parses them', { timeout: 20_000 }, async () => {
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const tooDeep = new RegExp(`nests deeper than ${MAX_FEED_REQUEST_DEPTH} levels`);
    const tooMany = new RegExp(`more than ${MAX_FEED_REQUEST_TOKENS} names and values`);
    const manyFields = (n: number): string => `{"type":"ready",${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;
    await refuses([
      [`{"type":"ready","x":${deep(100_000)}}`, UNKNOWN_REQUEST_ID, tooDeep],
      [deep(1_000_000), UNKNOWN_REQUEST_ID, tooDeep],
      ['{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000), UNKNOWN_REQUEST_ID, tooDeep],
      ['{"type":"push","requestId":1,"target":{"client":{"client":{"client":1}}},"data":"x","binary":false}', UNKNOWN_REQUEST_ID, tooDeep],
      [manyFields(200_000), UNKNOWN_REQUEST_ID, tooMany],
      [`{"type":"ready","x":[${'0,'.repeat(1_000_000)}0]}`, UNKNOWN_REQUEST_ID, tooMany],
      // Brackets, commas and quotes inside a string are text, not structure.
      [`{"type":"ping","requestId":11,"client":"${'[{,:\\"'.repeat(50_000)}"}`, 11, /^ping: client\b/],
      // A number of 100,000 digits parses to Infinity.
      [`{"type":"ping","requestId":12,"client":1${'0'.repeat(100_000)}}`, 12, /^ping: client\b/],
    ]);
    // And a request as deep and as wide as a real one is still taken.
    await feed.ready(); // subscribed: the new client reaches the feed
    const client = await openClient(`ws://127.0.0.1:${run.port}/websocket`, { headers: { 'User-Agent': 'feed-target' } });
    try {
      await echoAll(client, ['hi']);
      const id = await feed.clientId('feed-target');
      const pushed = new Promise<Buffer>((resolve) => client.once('message', (data: Buffer) => resolve(data)));
      assert.deepEqual(await feed.request({ type: 'push', requestId: 20, target: { client: id }, data: 'from the feed', binary: false }), { type: 'result', requestId: 20, ok: true, sent: 1 });
      assert.equal((await pushed).toString(), 'from the feed');
    } finally {
      client.terminate();
    }
    await stillServing();
  });
});

describe('parseInspectorRequest (both hosts: the feed and the editor panel)', () => {
  it('never throws, and reads no getter, no inherited field and nothing but a plain object', () => {
    const throwing = {
      get type(): string {
        throw new Error('getter ran');
      },
    };
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    const trap = new Proxy({ type: 'ready' }, {
      ownKeys: () => {
        throw new Error('trap ran');
      },
      getOwnPropertyDescriptor: () => {
        throw new Error('trap ran');
      },
    });
    class Ready {
      type = 'ready';
    }
    const cases: Array<[unknown, RegExp]> = [
      [throwing, /needs "type"/],
      [revocable.proxy, /plain JSON data|must be an object/],
      [trap, /plain JSON data/],
      [Object.create({ type: 'ready' }) as unknown, /must be an object/],
      [JSON.parse('{"type":"pause","__proto__":{"type":"ready"}}'), /^pause: unexpected field "__proto__"/],
      [new Ready(), /must be an object/],
      [new Date(), /must be an object/],
      [Object.assign(() => undefined, { type: 'ready' }), /must be an object/],
      [{ type: 'ping', requestId: 1, get client(): number {
        throw new Error('getter ran');
      } }, /^ping: client\b/],
      [{ type: 'push', requestId: 1, target: { get client(): number {
        throw new Error('getter ran');
      } }, data: 'x', binary: false }, /^push: target\b/],
      [{ type: 'close', requestId: 1, client: 1, code: 1000, reason: null }, /^close: reason must be a string/],
      [{ type: 'ready', [Symbol('x')]: 1, extra: undefined }, /^ready: unexpected field "extra"/],
    ];
    for (const [value, error] of cases) {
      const parsed = parseInspectorRequest(value);
      assert.equal(parsed.ok, false, String(error));
      assert.match((parsed as { error: string }).error, error);
    }
    assert.deepEqual(parseInspectorRequest(Object.assign(Object.create(null) as object, { type: 'clear' })), { ok: true, request: { type: 'clear' } });
    assert.deepEqual(parseInspectorRequest({ type: 'close', requestId: 0, client: 1, code: 4000 }), { ok: true, request: { type: 'close', requestId: 0, client: 1, code: 4000, reason: '' } }, 'reason may be left out');
  });
});
