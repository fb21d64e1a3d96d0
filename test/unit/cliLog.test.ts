/**
 * What the CLI prints while it serves: client text escaped on pipes and terminals, one line per
 * event at human rates, summaries under heavy traffic, and bounded output behind a stalled reader.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, get, rawRequest } from '../support/http';
import { HAS_SCRIPT, startCli, unsafeCharsIn, upgradeRequest, type CliRun } from '../support/cli';
import { closeCodeOf, echoAll, openClient } from '../support/ws';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');

/** A close reason that would retitle and clear a terminal, return the cursor, reverse and split the line. */
const HOSTILE_REASON = 'bye\x1b]0;pwned\x07\x1b[2J\r\u009b31m\u202eevil\u2028\u2066x\u200b\ty\x7f';
const ESCAPED_REASON = 'bye\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x9b31m\\u202eevil\\u2028\\u2066x\\u200b\\x09y\\x7f';

/** Messages the output accounts for: one per message line plus the counts in summary lines. */
function messagesAccountedFor(out: string): number {
  let total = 0;
  for (const line of out.split('\n')) {
    if (/^ws #\d+ -> (text|binary) /.test(line)) total++;
    const more = /^ws(?: #\d+ ->)?:? ([\d,]+) more messages? /.exec(line);
    if (more) total += Number(more[1].replace(/,/g, ''));
  }
  return total;
}

/** Sends `count` pipelined GETs on one connection and resolves when the server has answered them all. */
function pipelinedGets(port: number, count: number, target: (i: number) => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let requests = '';
    for (let i = 0; i < count; i++) {
      requests += `GET ${target(i)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${i === count - 1 ? 'Connection: close\r\n' : ''}\r\n`;
    }
    socket.on('error', reject);
    socket.on('data', () => {});
    socket.on('end', () => resolve());
    socket.write(requests);
  });
}

async function withCli(args: string[], body: (run: CliRun) => Promise<void>, options: { tty?: boolean } = {}): Promise<void> {
  const run = await startCli([DEMO, '--port', '0', ...args], options);
  try {
    await body(run);
  } finally {
    run.child.kill('SIGKILL');
    await run.exit;
  }
}

describe('CLI output: client text is escaped', () => {
  it('a close reason with terminal sequences, CR, bidi and separators is printed escaped, on one line', async () => {
    await withCli([], async (run) => {
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      const closed = closeCodeOf(ws);
      ws.close(4000, HOSTILE_REASON);
      await closed;
      await run.waitFor((out) => /closed 4000/.test(out), 'the close line');
      assert.deepEqual(unsafeCharsIn(run.stdout()), []);
      assert.ok(run.stdout().split('\n').includes(`ws #1 closed 4000 ${ESCAPED_REASON}`), run.stdout());
    });
  });

  it('a request path with raw control bytes never prints raw; percent-encoded ones print as received', async () => {
    await withCli([], async (run) => {
      for (const raw of ['/a\x1b[2Jb', '/a\rb', '/a\x07', '/a\x7fb', '/a\x9b2Jb', '/a\xe2\x80\xaeb', '/a\tb']) {
        const response = await rawRequest(run.port, Buffer.from(`GET ${raw} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1'));
        assert.equal(response.status, 400, JSON.stringify(raw));
      }
      const encoded = '/%1b%5b2J%07%0d%0a%e2%80%ae%c2%9b?q=%1b]0;x%07';
      assert.equal((await get(run.port, encoded)).status, 404);
      await run.waitFor((out) => out.includes(`GET ${encoded} 404 `), 'the encoded path as received');
      assert.deepEqual(unsafeCharsIn(run.stdout()), []);
    });
  });

  it('a Host with obs-text bytes (C1 controls once decoded) is printed escaped in its refusal', async () => {
    await withCli([], async (run) => {
      const host = Buffer.from('evil\x9b[2J\x85\x90\xad.example', 'latin1');
      const request = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: '), host, Buffer.from('\r\nConnection: close\r\n\r\n')]);
      const response = await rawRequest(run.port, request);
      assert.equal(response.status, 403);
      await run.waitFor((out) => /^refused host /m.test(out), 'the refusal line');
      assert.deepEqual(unsafeCharsIn(run.stdout()), []);
      assert.match(run.stdout(), /Host "evil\\x9b\[2J\\x85\\x90\\xad\.example" is not allowed/);
    });
  });

  it('an Origin with a tab and obs-text bytes is printed escaped in its refusal', async () => {
    await withCli([], async (run) => {
      const response = await rawRequest(run.port, upgradeRequest(run.port, 'http://evil\t\x9b\x9d.example'));
      assert.equal(response.status, 403);
      await run.waitFor((out) => /^refused origin /m.test(out), 'the refusal line');
      assert.deepEqual(unsafeCharsIn(run.stdout()), []);
      assert.match(run.stdout(), /Origin "http:\/\/evil\\x09\\x9b\\x9d\.example" is not allowed/);
    });
  });

  it('on a terminal too: a hostile close reason reaches the pseudo-terminal escaped', { skip: HAS_SCRIPT ? false : 'needs util-linux `script` for a pseudo-terminal' }, async () => {
    await withCli(
      [],
      async (run) => {
        const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
        await echoAll(ws, ['on a tty']);
        const closed = closeCodeOf(ws);
        ws.close(4000, HOSTILE_REASON);
        await closed;
        await run.waitFor((out) => /closed 4000/.test(out), 'the close line');
        assert.deepEqual(unsafeCharsIn(run.stdout()), []);
        assert.ok(run.stdout().includes(`ws #1 closed 4000 ${ESCAPED_REASON}\r\n`), run.stdout());
        assert.match(run.stdout(), /^ws #1 -> text 8 B\r$/m);
      },
      { tty: true },
    );
  });
});

describe('CLI output: human rates, summaries under load', () => {
  it('light traffic: one line per message', async () => {
    await withCli([], async (run) => {
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      await echoAll(ws, ['one', 'two', 'three', 'four', 'five']);
      ws.close();
      await run.waitFor((out) => /closed 1005/.test(out), 'the close line');
      const lines = run.stdout().split('\n');
      assert.deepEqual(
        lines.filter((l) => l.startsWith('ws #1 ->')),
        ['ws #1 -> text 3 B', 'ws #1 -> text 3 B', 'ws #1 -> text 5 B', 'ws #1 -> text 4 B', 'ws #1 -> text 4 B'],
      );
      assert.doesNotMatch(run.stdout(), /more messages?/);
    });
  });

  it('heavy traffic: the rest of each second is summed up per client, and every message is accounted for', async () => {
    await withCli([], async (run) => {
      const total = 2000;
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      await echoAll(ws, Array.from({ length: total }, () => 'x'.repeat(32)));
      ws.close();
      await run.waitFor((out) => messagesAccountedFor(out) === total && /closed 1005/.test(out), 'every message accounted for');
      const out = run.stdout();
      const messageLines = out.split('\n').filter((l) => /^ws #1 -> text 32 B$/.test(l)).length;
      assert.ok(messageLines < 100, `${messageLines} lines for ${total} messages`);
      assert.match(out, /^ws #1 -> [\d,]+ more messages \([\d.]+ KiB\) in the last \d+\.\d s$/m);
      // Its summary comes before the line that says it closed.
      const lines = out.trim().split('\n');
      assert.match(lines.at(-1) ?? '', /ws #1 closed 1005/);
      assert.match(lines.at(-2) ?? '', /ws #1 -> [\d,]+ more messages/);
    });
  });

  it('heavy traffic from many clients: at most a few lines a second, every message accounted for', async () => {
    await withCli([], async (run) => {
      const clients = await Promise.all(Array.from({ length: 30 }, () => openClient(`ws://127.0.0.1:${run.port}/websocket`)));
      await Promise.all(clients.map((ws) => echoAll(ws, Array.from({ length: 200 }, () => 'm'))));
      await run.waitFor((out) => messagesAccountedFor(out) === 30 * 200, 'every message accounted for');
      const messageLines = run.stdout().split('\n').filter((l) => /^ws #\d+ -> text 1 B$/.test(l)).length;
      assert.ok(messageLines < 30 * 200 / 10, `${messageLines} lines for ${30 * 200} messages`);
      for (const ws of clients) ws.close();
    });
  });

  it('a burst of requests: the first of each second one by one, the rest summed up with their statuses', async () => {
    await withCli([], async (run) => {
      const total = 1000;
      await pipelinedGets(run.port, total, (i) => (i % 10 === 0 ? `/missing-${i}` : `/index.html?${i}`));
      const accounted = (out: string): number =>
        out.split('\n').filter((l) => /^GET \/(missing-|index\.html\?)\d+ (200|404) /.test(l)).length +
        [...out.matchAll(/^([\d,]+) more requests /gm)].reduce((sum, m) => sum + Number(m[1].replace(/,/g, '')), 0);
      await run.waitFor((out) => accounted(out) === total, 'every request accounted for');
      const out = run.stdout();
      assert.ok(out.split('\n').filter((l) => /^GET /.test(l)).length < total);
      assert.match(out, /^[\d,]+ more requests \([\d.]+ (KiB|MiB)\) in the last \d+\.\d s, status 200: [\d,]+(, 404: [\d,]+)?$/m);
    });
  });

  it('behind a stalled reader the CLI keeps serving, and what it printed stays small', async () => {
    await withCli([], async (run) => {
      run.child.stdout?.pause();
      const total = 20_000;
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      const replies = await echoAll(ws, Array.from({ length: total }, () => 'x'.repeat(32)));
      assert.equal(replies.length, total, 'the echo went on while nobody read the output');
      ws.close();
      run.child.stdout?.resume();
      await run.waitFor((out) => messagesAccountedFor(out) === total && /closed 1005/.test(out), 'every message accounted for');
      // One line per message would be about 400 KB.
      const bytes = Buffer.byteLength(run.stdout());
      assert.ok(bytes < 16 * 1024, `${bytes} bytes printed for ${total} messages`);
    });
  });
});
