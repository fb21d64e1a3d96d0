/** The tests' one awaitable inbox (test/support/inbox.ts): nothing lost between awaits, waits that say what they saw. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { Inbox, linesOf, messagesOf } from '../support/inbox';
import { openClient } from '../support/ws';

describe('the inbox of a ws client', () => {
  let wss: WebSocketServer;
  let url: string;
  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const asked = String(data);
        if (asked === 'two, back to back') {
          ws.send('one');
          ws.send('two');
        } else if (asked === 'bye') {
          ws.send('bye');
          ws.close(1000);
        }
      }),
    );
  });
  after(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('keeps the second of two messages sent back to back while the test awaited something else', async () => {
    const ws = await openClient(url);
    const inbox = messagesOf(ws);
    try {
      ws.send('two, back to back');
      assert.deepEqual(await inbox.next(), { text: 'one', binary: false });
      // Something else to await: the pong comes after both messages, so "two" came meanwhile.
      ws.ping();
      await once(ws, 'pong');
      assert.deepEqual(await inbox.next(2000), { text: 'two', binary: false });
      assert.equal(inbox.pending, 0);
    } finally {
      ws.close();
    }
  });

  it('gives what came before the close, then fails naming the close', async () => {
    const ws = await openClient(url);
    const inbox = messagesOf(ws, 'the leaving client');
    ws.send('bye');
    await once(ws, 'close');
    assert.equal((await inbox.next()).text, 'bye');
    await assert.rejects(inbox.next(), /^Error: the leaving client ended \(closed with 1000\) while waiting for the next item; 1 arrived \(0 not taken\): \{"text":"bye","binary":false\}$/);
  });
});

describe('Inbox', () => {
  it('says, when a wait times out, what it waited for and what had arrived', async () => {
    const inbox = new Inbox<string>('the test source');
    inbox.push('a');
    inbox.push('b');
    assert.equal(await inbox.next(), 'a');
    await assert.rejects(inbox.next((item) => item === 'c', 'a "c"', 50), /^Error: timed out after 50 ms waiting for a "c" from the test source; 2 arrived \(1 not taken\): "a", "b"$/);
    await assert.rejects(new Inbox<string>('a quiet source').next(20), /waiting for the next item from a quiet source; nothing arrived$/);
  });

  it('takes the oldest item a predicate accepts and leaves those it passes over queued, in order', async () => {
    const inbox = new Inbox<{ type: string; n: number }>('the test source');
    const reload = inbox.next((m) => m.type === 'reload', 'a reload');
    for (const [n, type] of ['hello', 'css', 'reload', 'reload'].entries()) inbox.push({ type, n });
    assert.deepEqual(await reload, { type: 'reload', n: 2 });
    assert.deepEqual(inbox.queued.map((m) => m.n), [0, 1, 3]);
    assert.deepEqual(await inbox.next(), { type: 'hello', n: 0 });
    assert.equal(inbox.received.length, 4, 'received keeps everything, taken or not');
  });

  it('serves waits in the order they began', async () => {
    const inbox = new Inbox<number>('the test source');
    const first = inbox.next();
    const second = inbox.next();
    inbox.push(1);
    inbox.push(2);
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  });

  it('until() resolves with the first truthy answer, asked now and on each arrival', async () => {
    const inbox = new Inbox<number>('the test source');
    inbox.push(1);
    assert.equal(await inbox.until(() => inbox.received.includes(1) && 'already', 'a 1'), 'already');
    const sum = inbox.until(() => inbox.received.reduce((a, b) => a + b, 0) >= 6 && inbox.received.length, 'a sum of 6');
    inbox.push(2);
    inbox.push(3);
    inbox.push(4);
    assert.equal(await sum, 3, 'settled at the arrival that made it hold');
  });

  it('arriving() counts only what comes after it, and takes nothing', async () => {
    const inbox = new Inbox<{ n: number }>('the test source');
    inbox.push({ n: 1 });
    const anOne = inbox.arriving((item) => item.n === 1, 'a new 1');
    const later = { n: 1 };
    inbox.push({ n: 2 });
    inbox.push(later);
    assert.equal(await anOne, later);
    assert.equal(inbox.pending, 3);
  });
});

describe('linesOf', () => {
  it('gives each line of a real process, whatever the chunks, and ends with the reason its caller gives', async () => {
    const child = spawn(process.execPath, ['-e', "process.stdout.write('first\\nsec'); setImmediate(() => process.stdout.write('ond\\nthird'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = linesOf(child.stdout, 'the child');
    // 'close', not 'exit': by then the child's stdout has been read to its end.
    child.on('close', (code) => lines.end(`it exited with ${code}`));
    assert.equal(await lines.next(), 'first');
    assert.equal(await lines.next(), 'second');
    await assert.rejects(lines.next(), /the child ended \(it exited with 0\) while waiting for the next item/, 'a line without its \\n is not a line');
  });
});
