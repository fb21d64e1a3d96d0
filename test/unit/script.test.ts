/**
 * The script mode with real clients on a real config file: each kind of rule with its template,
 * delay and target; greetings; timers; the fallback; faults; safe regexes; and config problems
 * that name their line and column.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { PROXY_KEYS } from '../../src/core/endpoints/proxy';
import { KEYS } from '../../src/core/endpoints/rules';
import { StartError } from '../../src/core/server';
import { startCli } from '../support/cli';
import { REPO_ROOT, tempDir } from '../support/http';
import { openWithInbox, readSlowly, documentedExample, runPython, serveConfig, texts, type ModeClient } from '../support/modes';
import { closeCodeOf, rawHandshake } from '../support/ws';

type Served = Awaited<ReturnType<typeof serveConfig>>;

/** A client of `path` with its inbox. */
function connect(served: Served, path: string, query = ''): Promise<ModeClient> {
  return openWithInbox(`ws://127.0.0.1:${served.server.port}${path}${query}`);
}

/** The CONFIG_INVALID StartError a config gets at start. */
async function refusal(config: unknown): Promise<StartError> {
  try {
    const served = await serveConfig(config);
    await served.cleanup();
  } catch (error) {
    assert.ok(error instanceof StartError && error.code === 'CONFIG_INVALID', String(error));
    return error;
  }
  assert.fail(`the config was accepted: ${JSON.stringify(config)}`);
}

describe('script rules', { timeout: 60_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  async function serve(config: unknown): Promise<Served> {
    const served = await serveConfig(config);
    cleanups.push(served.cleanup);
    return served;
  }

  it('answers exact text, a regex with its groups and a JSON subset with its fields; anything else falls back to echo', async () => {
    const served = await serve({
      endpoints: {
        '/api': {
          mode: 'script',
          rules: [
            { match: { text: 'ping' }, send: 'pong #{{n}} for client {{client}}' },
            { match: { regex: '^hello (\\w+)(?: from (?<place>\\w+))?$' }, send: 'hi {{1}} of {{groups.place}} ({{0}})' },
            { match: { json: { type: 'order', item: { kind: 'tea' } } }, send: { type: 'ack', id: '{{json.id}}', item: '{{json.item}}', note: 'for {{json.who}}', missing: '{{json.nope}}' } },
            { match: { json: { type: 'echo-json' } }, send: 'whole {{json}} and {{ text }}' },
          ],
        },
      },
    });
    const { ws, inbox } = await connect(served, '/api');
    ws.send('ping');
    ws.send('pingx');
    ws.send('hello ann from oslo');
    ws.send('hello bob');
    ws.send(JSON.stringify({ type: 'order', id: 7, item: { kind: 'tea', size: 'L' }, who: 'me' }));
    ws.send(JSON.stringify({ type: 'order', id: 8, item: { kind: 'coffee' } }));
    ws.send('{"type":"echo-json","v":[1,{"a":null}]}');
    ws.send(Buffer.from('ping'));
    const replies = await texts(inbox, 6);
    assert.deepEqual(await inbox.next(), { text: 'whole {"type":"echo-json","v":[1,{"a":null}]} and {"type":"echo-json","v":[1,{"a":null}]}', binary: false });
    assert.deepEqual(await inbox.next(), { text: 'ping', binary: true }, 'a binary message meets no rule: the fallback echoes it as binary');
    const id = served.server.capture.snapshot().clients[0].id;
    assert.equal(replies[0], `pong #1 for client ${id}`);
    assert.equal(replies[1], 'pingx');
    assert.equal(replies[2], 'hi ann of oslo (hello ann from oslo)');
    assert.equal(replies[3], 'hi bob of  (hello bob)');
    assert.deepEqual(JSON.parse(replies[4]), { type: 'ack', id: 7, item: { kind: 'tea', size: 'L' }, note: 'for me', missing: null });
    assert.deepEqual(JSON.parse(replies[5]), { type: 'order', id: 8, item: { kind: 'coffee' } });
    ws.close();
  });

  it('escapes what a placeholder brings into a JSON reply, so a message cannot change its structure', async () => {
    const served = await serve({
      endpoints: { '/api': { mode: 'script', rules: [{ match: { regex: '^say (.*)$', flags: 's' }, send: { said: '{{1}}', quoted: '"{{1}}"', n: '{{n}}' } }] } },
    });
    const { ws, inbox } = await connect(served, '/api');
    const hostile = ['", "admin": true, "x": "', '\\', '}\u0000\n\u2028', '{{json}}', '\ud800'];
    for (const text of hostile) ws.send(`say ${text}`);
    const replies = await texts(inbox, hostile.length);
    replies.forEach((reply, i) => {
      const parsed = JSON.parse(reply) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), ['said', 'quoted', 'n']);
      // A lone surrogate cannot cross a text frame; it arrives as U+FFFD.
      const expected = hostile[i] === '\ud800' ? '\ufffd' : hostile[i];
      assert.equal(parsed.said, expected);
      assert.equal(parsed.quoted, `"${expected}"`);
      assert.equal(parsed.n, i + 1);
    });
    ws.close();
  });

  it('sends to the sender, to all or to the others, each after its delay', async () => {
    const served = await serve({
      endpoints: {
        '/room': {
          mode: 'script',
          rules: [
            { match: { json: { to: 'all' } }, send: 'all: {{json.text}}', to: 'all' },
            { match: { json: { to: 'others' } }, send: 'others: {{json.text}} from {{client}}', to: 'others' },
            { match: { text: 'slow' }, send: 'slow reply', delayMs: 300 },
            { match: { text: 'fast' }, send: 'fast reply' },
          ],
        },
      },
    });
    const a = await connect(served, '/room');
    const b = await connect(served, '/room');
    const c = await connect(served, '/room');
    a.ws.send(JSON.stringify({ to: 'all', text: 'one' }));
    assert.deepEqual(await texts(a.inbox), ['all: one']);
    assert.deepEqual(await texts(b.inbox), ['all: one']);
    assert.deepEqual(await texts(c.inbox), ['all: one']);
    b.ws.send(JSON.stringify({ to: 'others', text: 'two' }));
    const bId = served.server.capture.snapshot().clients[1].id;
    assert.deepEqual(await texts(a.inbox), [`others: two from ${bId}`]);
    assert.deepEqual(await texts(c.inbox), [`others: two from ${bId}`]);
    // The sender got nothing for it: its next message is the answer to what it sends next.
    const sent = performance.now();
    b.ws.send('slow');
    b.ws.send('fast');
    assert.deepEqual(await texts(b.inbox, 2), ['fast reply', 'slow reply']);
    assert.ok(performance.now() - sent >= 290, 'the delayed reply came after its delay');
    for (const { ws } of [a, b, c]) ws.close();
  });

  it('greets on connect (the client, or the others) and pushes with timers that stop after "times"', async () => {
    const served = await serve({
      endpoints: {
        '/feed': {
          mode: 'script',
          onConnect: [{ send: { hello: '{{client}}', room: '{{query.room}}', n: '{{n}}' } }, { send: 'client {{client}} joined', to: 'others' }],
          timers: [{ everyMs: 20, times: 3, send: 'tick {{n}}' }],
          rules: [{ match: { text: 'ping' }, send: 'pong', delayMs: 100 }],
        },
      },
    });
    const first = await connect(served, '/feed', '?room=blue');
    const [greeting] = await texts(first.inbox);
    const firstId = served.server.capture.snapshot().clients[0].id;
    assert.deepEqual(JSON.parse(greeting), { hello: firstId, room: 'blue', n: 1 });
    assert.deepEqual(await texts(first.inbox, 3), ['tick 1', 'tick 2', 'tick 3']);
    const second = await connect(served, '/feed');
    assert.deepEqual(await texts(first.inbox), [`client ${served.server.capture.snapshot().clients[1].id} joined`]);
    assert.deepEqual(JSON.parse((await texts(second.inbox))[0]), { hello: served.server.capture.snapshot().clients[1].id, room: null, n: 2 });
    // No fourth tick: the timer stopped (a fourth would come 20 ms after the third, before the pong).
    first.ws.send('ping');
    assert.deepEqual(await texts(first.inbox), ['pong']);
    first.ws.close();
    second.ws.close();
  });

  it('skips timer ticks while a page that does not keep up has 1 MiB queued, and sends them all once it reads', async () => {
    const tick = 'x'.repeat(128 * 1024);
    const times = 300;
    const served = await serve({ endpoints: { '/firehose': { mode: 'script', timers: [{ everyMs: 10, times, send: `{{n}} ${tick}` }] } } });
    const { socket, rest } = await rawHandshake(served.server.port, {}, '/firehose');
    socket.pause();
    // The page reads at most 64 KiB every 10 ms, half what the timer makes: without the skip the server would queue the rest.
    const peak = await readSlowly(socket, times * (tick.length + 4) - rest.length, 10);
    assert.ok(peak < 12 * 1024 * 1024, `the server held at most ${(peak / 1048576).toFixed(1)} MiB for a page that reads slower than its timer`);
    socket.destroy();
  });

  it('falls back to ignore (no reply) or to closing with a code and reason', async () => {
    const served = await serve({
      endpoints: {
        '/quiet': { mode: 'script', rules: [{ match: { text: 'ping' }, send: 'pong' }], fallback: 'ignore' },
        '/strict': { mode: 'script', rules: [{ match: { text: 'ping' }, send: 'pong' }], fallback: { close: { code: 4400, reason: 'no rule for that' } } },
      },
    });
    const quiet = await connect(served, '/quiet');
    quiet.ws.send('unknown');
    quiet.ws.send(Buffer.from([1, 2, 3]));
    quiet.ws.send('ping');
    assert.deepEqual(await texts(quiet.inbox), ['pong']);
    const strict = await connect(served, '/strict');
    strict.ws.send('ping');
    assert.deepEqual(await texts(strict.inbox), ['pong']);
    strict.ws.send('what');
    assert.deepEqual(await strict.closed, { code: 4400, reason: 'no rule for that' });
    quiet.ws.close();
  });

  it('closes a client with its code after N messages, having answered the Nth', async () => {
    const served = await serve({ endpoints: { '/flaky': { mode: 'script', faults: { closeAfter: { messages: 3, code: 4001, reason: 'fault on purpose' } } } } });
    const { ws, inbox, closed } = await connect(served, '/flaky');
    for (const text of ['a', 'b', 'c', 'd']) ws.send(text);
    assert.deepEqual(await texts(inbox, 3), ['a', 'b', 'c']);
    assert.deepEqual(await closed, { code: 4001, reason: 'fault on purpose' });
    assert.equal(inbox.pending, 0, 'nothing after the third answer');
  });

  it('drops every Nth message and the messages that match, and adds latency keeping the order', async () => {
    const served = await serve({
      endpoints: {
        '/lossy': { mode: 'script', faults: { drop: { every: 2, match: { json: { type: 'noise' } } } } },
        '/laggy': { mode: 'script', faults: { latencyMs: 150 }, rules: [{ match: { text: 'now' }, send: 'later' }] },
      },
    });
    const lossy = await connect(served, '/lossy');
    for (const text of ['1', '2', '3', '{"type":"noise"}', '5', '6', '7']) lossy.ws.send(text);
    // 2, 4 and 6 are every second message; 4 also matches; 1, 3, 5 and 7 get through.
    assert.deepEqual(await texts(lossy.inbox, 4), ['1', '3', '5', '7']);
    lossy.ws.send('8'); // every second
    lossy.ws.send('{"type":"noise","n":9}'); // the 9th: matches
    lossy.ws.send('10'); // every second
    lossy.ws.send('11');
    assert.deepEqual(await texts(lossy.inbox), ['11']);
    const laggy = await connect(served, '/laggy');
    const sent = performance.now();
    laggy.ws.send('now');
    laggy.ws.send('echoed');
    assert.deepEqual(await texts(laggy.inbox, 2), ['later', 'echoed']);
    assert.ok(performance.now() - sent >= 140, 'the reply came after the latency');
    lossy.ws.close();
    laggy.ws.close();
  });

  it('stops reading a client whose messages wait for delayed replies beyond a bound, and answers every one', async () => {
    const served = await serve({ endpoints: { '/slow': { mode: 'script', rules: [{ match: { regex: '^m' }, send: 'r', delayMs: 300 }] } } });
    const feed = served.server.capture.subscribe(() => {});
    try {
      const { ws, inbox } = await connect(served, '/slow');
      const total = 8000;
      const message = 'm'.repeat(1024);
      for (let i = 0; i < total; i++) ws.send(message);
      let worst = 0;
      for (let i = 0; i < total; i++) {
        await inbox.next();
        const [client] = served.server.capture.snapshot().clients;
        worst = Math.max(worst, client.framesIn - client.framesOut);
      }
      // MAX_PENDING (1000) waiting, plus what had already arrived in the chunk being read when reading paused (~64).
      assert.ok(worst <= 1500, `at most ${worst} messages were waiting for their reply at once`);
      ws.close();
    } finally {
      feed.dispose();
    }
  });

  it('runs a regex that backtracks catastrophically elsewhere in linear time, and keeps answering', async () => {
    const served = await serve({ endpoints: { '/re': { mode: 'script', rules: [{ match: { regex: '^(a+)+$' }, send: 'all a' }, { match: { regex: '^(\\w+\\s?)*$' }, send: 'words' }] } } });
    const { ws, inbox } = await connect(served, '/re');
    const hostile = 'a'.repeat(100_000) + '!';
    ws.send(hostile);
    ws.send('aaaa');
    const [first, second] = await texts(inbox, 2);
    assert.equal(first, hostile, 'no rule matched, so it was echoed');
    assert.equal(second, 'all a');
    ws.close();
  });
});

describe('script config problems', { timeout: 30_000 }, () => {
  // Each case: what, the endpoint's keys, the message, and the text (in the file) the problem points at.
  const cases: Array<[string, unknown, RegExp, string]> = [
    ['a backreference', { rules: [{ match: { regex: '(a)\\1' }, send: 'x' }] }, /cannot run in linear time.*backreferences/, '"(a)\\\\1"'],
    ['a lookahead', { rules: [{ match: { regex: '(?=a)a' }, send: 'x' }] }, /lookahead/, '"(?=a)a"'],
    ['an invalid regex', { rules: [{ match: { regex: '(' }, send: 'x' }] }, /not a valid regex/, '"("'],
    ['the i flag', { rules: [{ match: { regex: 'a', flags: 'i' }, send: 'x' }] }, /flags may hold only "m".*"s"/, '"i"'],
    ['an unknown placeholder', { rules: [{ match: { text: 'a' }, send: 'x {{txt}}' }] }, /unknown placeholder \{\{txt\}\}.*\{\{text\}\}/, '"x {{txt}}"'],
    ['a group without a regex', { rules: [{ match: { text: 'a' }, send: '{{1}}' }] }, /only in a rule that matches a regex/, '"{{1}}"'],
    ['a group the regex lacks', { rules: [{ match: { regex: '(a)' }, send: '{{2}}' }] }, /has 1 group\b/, '"{{2}}"'],
    ['a named group the regex lacks', { rules: [{ match: { regex: '(?<x>a)' }, send: '{{groups.y}}' }] }, /no group \(\?<y>/, '"{{groups.y}}"'],
    ['message placeholders in a greeting', { onConnect: [{ send: '{{text}}' }] }, /only there when a message is answered/, '"{{text}}"'],
    ['a placeholder in a JSON reply', { rules: [{ match: { text: 'a' }, send: { deep: ['{{nope}}'] } }] }, /unknown placeholder \{\{nope\}\}/, '"{{nope}}"'],
    ['an unknown target', { rules: [{ match: { text: 'a' }, send: 'b', to: 'everyone' }] }, /"to" is "sender", "all" or "others"/, '"everyone"'],
    ['a rule with two matchers', { rules: [{ match: { text: 'a', json: {} }, send: 'b' }] }, /exactly one of "text".*"regex".*"json"/, '{\n            "text"'],
    ['a rule with nothing to do', { rules: [{ match: { text: 'a' } }] }, /needs "send".*"close"/, '{\n          "match"'],
    ['an unknown key in a rule', { rules: [{ match: { text: 'a' }, reply: 'b' }] }, /unknown property "reply" in a rule/, '"reply"'],
    ['an unknown key of the mode', { greeting: 'hi' }, /unknown property "greeting" for mode "script"/, '"greeting"'],
    ['a close code that cannot be sent', { fallback: { close: { code: 1006 } } }, /close code is 1000–1003, 1007–1014 or 3000–4999/, '1006'],
    ['a negative delay', { rules: [{ match: { text: 'a' }, send: 'b', delayMs: -1 }] }, /whole number from 0 to 3600000/, '-1'],
    ['a timer too fast', { timers: [{ everyMs: 1, send: 'x' }] }, /"everyMs" is a whole number from 10/, '1,'],
    ['an unclosed placeholder', { rules: [{ match: { text: 'a' }, send: 'b {{text' }] }, /never closed/, '"b {{text"'],
    ['a fallback that is no fallback', { fallback: 'reply' }, /"fallback" is "echo", "ignore" or a close such as \{"close"/, '"reply"'],
    ['drop without what to drop', { faults: { drop: {} } }, /"drop" needs "every"/, '{}'],
  ];
  for (const [what, section, message, needle] of cases) {
    it(`refuses ${what}, at its line and column`, async () => {
      const config = { endpoints: { '/api': { mode: 'script', ...(section as object) } } };
      const error = await refusal(config);
      assert.match(error.message, message);
      const text = JSON.stringify(config, null, 2);
      const at = text.indexOf(needle);
      assert.notEqual(at, -1, `${needle} is in the file`);
      const before = text.slice(0, at).split('\n');
      assert.deepEqual([error.problem?.line, error.problem?.column], [before.length, before[before.length - 1].length + 1], `${error.message}\n${text}`);
    });
  }

  it('keeps serving the last good config when an edit breaks it, and applies a fixed one to clients still connected', async () => {
    const served = await serveConfig({ endpoints: { '/api': { mode: 'script', rules: [{ match: { text: 'ping' }, send: 'pong 1' }] } } });
    try {
      const { ws, inbox } = await connect(served, '/api');
      const states: string[] = [];
      served.server.onConfig((state) => states.push(state.problem?.message ?? 'applied'));
      const file = `${served.dir}/.echo-preview.json`;
      writeFileSync(file, JSON.stringify({ endpoints: { '/api': { mode: 'script', rules: [{ match: { regex: '(a)\\1' }, send: 'x' }] } } }));
      await new Promise<void>((resolve) => {
        const done = served.server.onConfig((state) => {
          if (state.problem === undefined) return;
          done.dispose();
          resolve();
        });
      });
      ws.send('ping');
      assert.deepEqual(await texts(inbox), ['pong 1']);
      writeFileSync(file, JSON.stringify({ endpoints: { '/api': { mode: 'script', rules: [{ match: { text: 'ping' }, send: 'pong 2' }] } } }));
      await new Promise<void>((resolve) => {
        const done = served.server.onConfig((state) => {
          if (state.problem !== undefined) return;
          done.dispose();
          resolve();
        });
      });
      ws.send('ping');
      assert.deepEqual(await texts(inbox), ['pong 2']);
      assert.ok(states.some((s) => /linear time/.test(s)), states.join('\n'));
      ws.close();
      await closeCodeOf(ws);
    } finally {
      await served.cleanup();
    }
  });
});

describe('the script example of docs/config.md, through the CLI', { timeout: 30_000 }, () => {
  it('does what docs/config.md says it does', async () => {
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), documentedExample('### script'));
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      await run.waitFor((out) => out.includes(`  ws://127.0.0.1:${run.port}/api  (script)\n`), 'the endpoint line');
      const url = `ws://127.0.0.1:${run.port}/api`;
      const first = await openWithInbox(`${url}?room=blue`);
      /** The next message that is not a timer's tick. */
      const next = async (client: ModeClient): Promise<string> => {
        for (;;) {
          const [text] = await texts(client.inbox);
          if (!text.startsWith('{"type":"tick"')) return text;
        }
      };
      assert.equal(await next(first), '{"type":"welcome","client":1,"room":"blue"}');
      const [tick] = await texts(first.inbox);
      assert.match(tick, /^\{"type":"tick","n":1,"at":"\d{4}-\d\d-\d\dT[\d:.]+Z"\}$/);
      first.ws.send('ping');
      assert.equal(await next(first), 'pong');
      const sent = performance.now();
      first.ws.send('hello ann');
      assert.equal(await next(first), 'hi ann');
      assert.ok(performance.now() - sent >= 490, 'half a second later');
      first.ws.send('{"type":"subscribe","topic":"prices"}');
      assert.equal(await next(first), '{"type":"subscribed","topic":"prices"}');
      const second = await openWithInbox(url);
      assert.equal(await next(first), 'client 2 joined');
      assert.equal(await next(second), '{"type":"welcome","client":2,"room":null}');
      second.ws.send('{"type":"say","text":"hi"}');
      assert.equal(await next(first), '{"from":2,"text":"hi"}');
      assert.equal(await next(second), '{"from":2,"text":"hi"}');
      first.ws.send('anything else');
      assert.equal(await next(first), 'anything else');
      first.ws.send('bye');
      assert.equal(await next(first), 'see you');
      assert.deepEqual(await first.closed, { code: 4000, reason: 'client said bye' });
      second.ws.close();
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });
});

describe('script with a client not written in JavaScript', { timeout: 30_000 }, () => {
  it('greets, answers by a rule and by the fallback, then closes after N messages, for a Python client', async () => {
    const served = await serveConfig({
      endpoints: {
        '/api': {
          mode: 'script',
          onConnect: [{ send: { hello: '{{query.user}}' } }],
          rules: [{ match: { json: { type: 'ping' } }, send: { type: 'pong', id: '{{json.id}}' } }],
          faults: { closeAfter: { messages: 2, code: 4001, reason: 'two is enough' } },
        },
      },
    });
    try {
      const lines = await runPython([`ws://127.0.0.1:${served.server.port}/api?user=py`, '--send', '{"type":"ping","id":5}', '--send', 'plain', '--send', 'never answered', '--receive', '3', '--wait-close']);
      assert.deepEqual(lines, [{ protocol: null }, { message: '{"hello":"py"}' }, { message: '{"type":"pong","id":5}' }, { message: 'plain' }, { close: 4001, reason: 'two is enough' }]);
    } finally {
      await served.cleanup();
    }
  });
});

describe('the schema of script and proxy', () => {
  interface Node {
    description?: string;
    $ref?: string;
    properties?: Record<string, Node>;
    items?: Node;
  }
  const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', 'echo-preview.schema.json'), 'utf8')) as { definitions: Record<string, Node> };
  const definition = (name: string): Node => schema.definitions[name];
  const resolve = (node: Node): Node => (node.$ref === undefined ? node : definition(node.$ref.replace('#/definitions/', '')));
  const keysOf = (node: Node | undefined): string[] => Object.keys(resolve(node ?? {}).properties ?? {});
  const script = definition('script').properties ?? {};

  it('lists exactly the keys the config check accepts, for every object', () => {
    const pairs: Array<[string, string[], readonly string[]]> = [
      ['script', keysOf(definition('script')), KEYS.script],
      ['greeting', keysOf(script.onConnect.items), KEYS.greeting],
      ['rule', keysOf(definition('rule')), KEYS.rule],
      ['match', keysOf(definition('matcher')), KEYS.matcher],
      ['timer', keysOf(script.timers.items), KEYS.timer],
      ['close', keysOf(definition('close')), KEYS.close],
      ['faults', keysOf(script.faults), KEYS.faults],
      ['closeAfter', keysOf(script.faults.properties?.closeAfter), KEYS.closeAfter],
      ['drop', keysOf(script.faults.properties?.drop), KEYS.drop],
      ['proxy', keysOf(definition('proxy')), PROXY_KEYS],
    ];
    for (const [what, inSchema, checked] of pairs) assert.deepEqual([...inSchema].sort(), [...checked].sort(), what);
  });

  it('describes every property', () => {
    const missing: string[] = [];
    const walk = (node: Node, at: string): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (child.description === undefined && resolve(child).description === undefined) missing.push(`${at}.${key}`);
        walk(child, `${at}.${key}`);
        if (child.items !== undefined) walk(child.items, `${at}.${key}[]`);
      }
    };
    for (const name of ['script', 'proxy', 'rule', 'matcher', 'close']) walk(definition(name), name);
    assert.deepEqual(missing, []);
  });
});
