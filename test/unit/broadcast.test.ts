/** The broadcast mode with real clients: three ws clients with and without the sender, a Python client, and the CLI. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../../src/core/server';
import { startCli } from '../support/cli';
import { pythonClient } from '../support/endpoints';
import { tempDir } from '../support/http';
import { messagesOf, type WsInbox } from '../support/inbox';
import { pollUntil } from '../support/poll';
import { closeCodeOf, frame, openClient, rawHandshake } from '../support/ws';

const CONFIG = {
  endpoints: {
    '/chat': { mode: 'broadcast' },
    '/quiet-chat': { mode: 'broadcast', includeSender: false },
    '/other-room': { mode: 'broadcast' },
    '/websocket': { mode: 'echo' },
  },
};

async function inboxes(server: RunningServer, endpointPath: string, count: number): Promise<WsInbox[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => openClient(`${server.wsOrigin}${endpointPath}`)));
  return clients.map((ws) => messagesOf(ws));
}

describe('broadcast mode', { timeout: 30_000 }, () => {
  const folder = tempDir();
  let server: RunningServer;
  before(async () => {
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), JSON.stringify(CONFIG));
    server = await startServer({ root: folder.dir, port: 0 });
  });
  after(async () => {
    await server.close();
    folder.cleanup();
  });

  it('sends each message to all three clients, the sender too, text as text and binary as binary', async () => {
    const [a, b, c] = await inboxes(server, '/chat', 3);
    const [elsewhere] = await inboxes(server, '/other-room', 1);
    a.ws.send('from a');
    for (const inbox of [a, b, c]) assert.deepEqual(await inbox.next(), { text: 'from a', binary: false });
    c.ws.send(Buffer.from('binary from c'), { binary: true });
    for (const inbox of [a, b, c]) assert.deepEqual(await inbox.next(), { text: 'binary from c', binary: true });
    // Another endpoint's clients get nothing of it: their next message is their own room's.
    elsewhere.ws.send('own room');
    assert.deepEqual(await elsewhere.next(), { text: 'own room', binary: false });
    for (const inbox of [a, b, c, elsewhere]) inbox.ws.close();
  });

  it('with includeSender false, sends each message to the others only', async () => {
    const [a, b, c] = await inboxes(server, '/quiet-chat', 3);
    a.ws.send('from a');
    assert.deepEqual(await b.next(), { text: 'from a', binary: false });
    assert.deepEqual(await c.next(), { text: 'from a', binary: false });
    // b answers only after it got a's message, so had a been sent its own, that would come first.
    b.ws.send('from b');
    assert.deepEqual(await a.next(), { text: 'from b', binary: false }, 'a is not sent its own message');
    assert.deepEqual(await c.next(), { text: 'from b', binary: false });
    c.ws.send('from c');
    assert.deepEqual(await a.next(), { text: 'from c', binary: false });
    assert.deepEqual(await b.next(), { text: 'from c', binary: false }, 'b is not sent its own message');
    for (const inbox of [a, b, c]) inbox.ws.close();
  });

  it('lets a Python client (python3-websockets) join the broadcast', async () => {
    const [a, b] = await inboxes(server, '/quiet-chat', 2);
    const python = await pythonClient(`${server.wsOrigin}/quiet-chat`);
    python.send('hello from python');
    assert.deepEqual(await a.next(), { text: 'hello from python', binary: false });
    assert.deepEqual(await b.next(), { text: 'hello from python', binary: false });
    a.ws.send('hello python');
    assert.deepEqual(await python.recv(), { text: 'hello python', binary: false }, 'python gets the others, not its own');
    assert.deepEqual(await b.next(), { text: 'hello python', binary: false });
    assert.equal(await python.close(), 0);
    for (const inbox of [a, b]) inbox.ws.close();
  });

  it('stops reading from a sender while a recipient does not read, and resumes when it does', async () => {
    let framesIn = 0;
    const counting = server.events.on((e) => {
      if (e.type === 'frame' && e.direction === 'in' && e.size === 64 * 1024) framesIn++; // the flood's frames
    });
    const reader = await rawHandshake(server.port, {}, '/quiet-chat');
    reader.socket.pause(); // reads nothing for now
    const sender = await rawHandshake(server.port, {}, '/quiet-chat');
    try {
      const total = 1024;
      const chunk = frame(0x2, Buffer.alloc(64 * 1024, 7));
      for (let i = 0; i < total; i++) sender.socket.write(chunk); // 64 MiB: more than the kernel's buffers hold
      // No event says "the server stopped reading", so watch its count of frames read settle.
      // Without backpressure it reads all 64 MiB, holding every copy for the reader in memory.
      await pollUntil(
        (() => {
          let last = -1;
          let same = 0;
          return () => {
            assert.ok(framesIn < total, `the server read all ${total} frames while the recipient read nothing`);
            same = framesIn === last ? same + 1 : 0;
            last = framesIn;
            return same >= 10;
          };
        })(),
        'the server to stop reading from the sender',
      );
      assert.ok(framesIn > 0 && framesIn * 64 * 1024 <= 32 * 1024 * 1024, `${framesIn} frames read before pausing`);
      // Once the recipient reads, every message arrives: the sender was resumed and nothing was lost.
      const expected = total * (10 + 64 * 1024);
      let received = reader.rest.length;
      await new Promise<void>((resolve) => {
        reader.socket.on('data', (data: Buffer) => {
          received += data.length;
          if (received >= expected) resolve();
        });
        reader.socket.resume();
      });
      assert.equal(received, expected);
      assert.equal(framesIn, total);
    } finally {
      counting.dispose();
      reader.socket.destroy();
      sender.socket.destroy();
    }
  });

  it('pushes from the inspector reach every client of the endpoint, and shutdown closes them with 1001', async () => {
    const own = tempDir();
    writeFileSync(path.join(own.dir, '.echo-preview.json'), JSON.stringify(CONFIG));
    const local = await startServer({ root: own.dir, port: 0 });
    try {
      const inboxesOf = await inboxes(local, '/chat', 3);
      assert.equal(local.clients.sendToEndpoint('/chat', 'from the inspector', false), 3);
      for (const inbox of inboxesOf) assert.deepEqual(await inbox.next(), { text: 'from the inspector', binary: false });
      const codes = inboxesOf.map((inbox) => closeCodeOf(inbox.ws));
      await local.close();
      assert.deepEqual(await Promise.all(codes), [1001, 1001, 1001]);
    } finally {
      await local.close();
      own.cleanup();
    }
  });
});

describe('broadcast through the CLI', { timeout: 30_000 }, () => {
  it('lists every endpoint with its mode under the ready line and broadcasts on it', async () => {
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), JSON.stringify(CONFIG));
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      assert.equal(run.ready, `Echo Preview: serving ${folder.dir} at http://127.0.0.1:${run.port}/ (config: ${path.join(folder.dir, '.echo-preview.json')})`);
      const listing = Object.entries(CONFIG.endpoints).map(([p, { mode }]) => `  ws://127.0.0.1:${run.port}${p}  (${mode})`);
      await run.waitFor((out) => out.split('\n').length > listing.length + 1, 'the endpoint lines');
      assert.deepEqual(run.stdout().split('\n').slice(1, listing.length + 1), listing);
      const clients = await Promise.all([0, 1, 2].map(() => openClient(`ws://127.0.0.1:${run.port}/chat`)));
      const [a, b, c] = clients.map((ws) => messagesOf(ws));
      a.ws.send('over the CLI');
      for (const inbox of [a, b, c]) assert.deepEqual(await inbox.next(), { text: 'over the CLI', binary: false });
      for (const inbox of [a, b, c]) inbox.ws.close();
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });
});
