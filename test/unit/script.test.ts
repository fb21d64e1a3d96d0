/**
 * The script mode with real clients on a real config file: each kind of rule with its template,
 * delay and target; greetings; timers; the fallback; faults; safe regexes; and config problems
 * that name their line and column.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StartError } from '../../src/core/server';
import { openWithInbox, serveConfig, type Inbox } from '../support/modes';
import { closeCodeOf } from '../support/ws';
import type WebSocket from 'ws';

type Served = Awaited<ReturnType<typeof serveConfig>>;

/** A client of `path` with its inbox. */
function connect(served: Served, path: string, query = ''): Promise<{ ws: WebSocket; inbox: Inbox }> {
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

describe('script rules', () => {
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
    const replies = await inbox.next(6);
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
    const replies = await inbox.next(hostile.length);
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
    assert.deepEqual(await a.inbox.next(), ['all: one']);
    assert.deepEqual(await b.inbox.next(), ['all: one']);
    assert.deepEqual(await c.inbox.next(), ['all: one']);
    b.ws.send(JSON.stringify({ to: 'others', text: 'two' }));
    const bId = served.server.capture.snapshot().clients[1].id;
    assert.deepEqual(await a.inbox.next(), [`others: two from ${bId}`]);
    assert.deepEqual(await c.inbox.next(), [`others: two from ${bId}`]);
    // The sender got nothing for it: its next message is the answer to what it sends next.
    const sent = performance.now();
    b.ws.send('slow');
    b.ws.send('fast');
    assert.deepEqual(await b.inbox.next(2), ['fast reply', 'slow reply']);
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
    const [greeting] = await first.inbox.next();
    const firstId = served.server.capture.snapshot().clients[0].id;
    assert.deepEqual(JSON.parse(greeting), { hello: firstId, room: 'blue', n: 1 });
    assert.deepEqual(await first.inbox.next(3), ['tick 1', 'tick 2', 'tick 3']);
    const second = await connect(served, '/feed');
    assert.deepEqual(await first.inbox.next(), [`client ${served.server.capture.snapshot().clients[1].id} joined`]);
    assert.deepEqual(JSON.parse((await second.inbox.next())[0]), { hello: served.server.capture.snapshot().clients[1].id, room: null, n: 2 });
    // No fourth tick: the timer stopped (a fourth would come 20 ms after the third, before the pong).
    first.ws.send('ping');
    assert.deepEqual(await first.inbox.next(), ['pong']);
    first.ws.close();
    second.ws.close();
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
    assert.deepEqual(await quiet.inbox.next(), ['pong']);
    const strict = await connect(served, '/strict');
    strict.ws.send('ping');
    assert.deepEqual(await strict.inbox.next(), ['pong']);
    strict.ws.send('what');
    assert.deepEqual(await strict.inbox.closedPromise, { code: 4400, reason: 'no rule for that' });
    quiet.ws.close();
  });

  it('closes a client with its code after N messages, having answered the Nth', async () => {
    const served = await serve({ endpoints: { '/flaky': { mode: 'script', faults: { closeAfter: { messages: 3, code: 4001, reason: 'fault on purpose' } } } } });
    const { ws, inbox } = await connect(served, '/flaky');
    for (const text of ['a', 'b', 'c', 'd']) ws.send(text);
    assert.deepEqual(await inbox.next(3), ['a', 'b', 'c']);
    assert.deepEqual(await inbox.closedPromise, { code: 4001, reason: 'fault on purpose' });
    assert.deepEqual(inbox.unread, []);
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
    assert.deepEqual(await lossy.inbox.next(4), ['1', '3', '5', '7']);
    lossy.ws.send('8'); // every second
    lossy.ws.send('{"type":"noise","n":9}'); // the 9th: matches
    lossy.ws.send('10'); // every second
    lossy.ws.send('11');
    assert.deepEqual(await lossy.inbox.next(), ['11']);
    const laggy = await connect(served, '/laggy');
    const sent = performance.now();
    laggy.ws.send('now');
    laggy.ws.send('echoed');
    assert.deepEqual(await laggy.inbox.next(2), ['later', 'echoed']);
    assert.ok(performance.now() - sent >= 140, 'the reply came after the latency');
    lossy.ws.close();
    laggy.ws.close();
  });

  it('runs a regex that backtracks catastrophically elsewhere in linear time, and keeps answering', async () => {
    const served = await serve({ endpoints: { '/re': { mode: 'script', rules: [{ match: { regex: '^(a+)+$' }, send: 'all a' }, { match: { regex: '^(\\w+\\s?)*$' }, send: 'words' }] } } });
    const { ws, inbox } = await connect(served, '/re');
    const hostile = 'a'.repeat(100_000) + '!';
    ws.send(hostile);
    ws.send('aaaa');
    const [first, second] = await inbox.next(2);
    assert.equal(first, hostile, 'no rule matched, so it was echoed');
    assert.equal(second, 'all a');
    ws.close();
  });
});

describe('script config problems', () => {
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
    ['a fallback that is no fallback', { fallback: 'reply' }, /"fallback" is "echo", "ignore" or \{"close"/, '"reply"'],
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
      const { writeFileSync } = await import('node:fs');
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
      assert.deepEqual(await inbox.next(), ['pong 1']);
      writeFileSync(file, JSON.stringify({ endpoints: { '/api': { mode: 'script', rules: [{ match: { text: 'ping' }, send: 'pong 2' }] } } }));
      await new Promise<void>((resolve) => {
        const done = served.server.onConfig((state) => {
          if (state.problem !== undefined) return;
          done.dispose();
          resolve();
        });
      });
      ws.send('ping');
      assert.deepEqual(await inbox.next(), ['pong 2']);
      assert.ok(states.some((s) => /linear time/.test(s)), states.join('\n'));
      ws.close();
      await closeCodeOf(ws);
    } finally {
      await served.cleanup();
    }
  });
});
