/** LineWriter over a real socket whose reader stalls: memory stays bounded, drops are counted and told. */
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { LineWriter, MAX_LINE } from '../../src/cli/output';

/** A connected pair on loopback; the reading end starts paused, like a pipe nobody reads. */
async function socketPair(): Promise<{ writer: Socket; reader: Socket; close: () => void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const writer = connect(port, '127.0.0.1');
  await once(writer, 'connect');
  const [reader] = await accepted;
  reader.pause();
  return {
    writer,
    reader,
    close: () => {
      writer.destroy();
      reader.destroy();
      server.close();
    },
  };
}

/** Reads from `reader` until `predicate` holds for everything read. */
function readUntil(reader: Socket, predicate: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    reader.setEncoding('utf8');
    reader.on('data', (chunk: string) => {
      text += chunk;
      if (predicate(text)) resolve(text);
    });
    reader.resume();
  });
}

describe('LineWriter', () => {
  it('never queues more than the stream allows while the reader stalls, and says how many lines it dropped', async () => {
    const { writer, reader, close } = await socketPair();
    try {
      const out = new LineWriter(writer);
      const total = 100_000;
      let mostQueued = 0;
      for (let i = 0; i < total; i++) {
        out.line(`line ${i} ${'x'.repeat(40)}`);
        mostQueued = Math.max(mostQueued, writer.writableLength);
      }
      // Unbounded, this would be about 5 MB.
      const bound = writer.writableHighWaterMark + MAX_LINE + 1;
      assert.ok(mostQueued <= bound, `queued ${mostQueued} bytes, bound ${bound}`);
      const text = await readUntil(reader, (t) => /\(\d+ lines dropped while output was blocked\)\n/.test(t));
      const dropped = Number(/\((\d+) lines dropped/.exec(text)?.[1]);
      const written = text.split('\n').filter((l) => /^line \d+ x+$/.test(l));
      assert.ok(dropped > 0);
      assert.equal(written.length + dropped, total, 'every line is either written or counted');
      // What got through is in order and whole.
      assert.deepEqual(
        written.map((l) => Number(l.split(' ')[1])),
        written.map((_, i) => i),
      );
    } finally {
      close();
    }
  });

  it('cuts a line longer than MAX_LINE, so one line cannot break the bound', async () => {
    const { writer, reader, close } = await socketPair();
    try {
      new LineWriter(writer).line('y'.repeat(MAX_LINE * 10));
      const text = await readUntil(reader, (t) => t.endsWith('\n'));
      assert.equal(text, `${'y'.repeat(MAX_LINE - 1)}…\n`);
    } finally {
      close();
    }
  });

  it('stops writing, without throwing, once the reader is gone', async () => {
    const { writer, reader, close } = await socketPair();
    try {
      const out = new LineWriter(writer);
      reader.destroy();
      const failed = once(writer, 'error');
      // Write until the OS reports the reader gone (EPIPE or ECONNRESET).
      while (!writer.destroyed) {
        out.line('after the reader left');
        await new Promise((resolve) => setImmediate(resolve));
      }
      await failed;
      out.line('still fine');
      await out.settle(1000);
    } finally {
      close();
    }
  });

  it('settle() resolves once what is queued has been written', async () => {
    const { writer, reader, close } = await socketPair();
    try {
      const out = new LineWriter(writer);
      for (let i = 0; i < 100_000; i++) out.line(`settle ${i} ${'x'.repeat(40)}`);
      assert.ok(writer.writableLength > 0, 'the stalled reader left bytes queued');
      const read = readUntil(reader, (t) => t.includes('lines dropped while output was blocked)\n'));
      await out.settle(60_000);
      assert.equal(writer.writableLength, 0);
      await read;
    } finally {
      close();
    }
  });
});
