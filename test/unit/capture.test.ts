/** Capture for the inspector: the ring's budget, previews, times, batches, exports, and the tap on real ws traffic. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket, { WebSocketServer } from 'ws';
import { Capture, previewLength, type CaptureBatch, type CaptureOptions, type ClientControl, type ClientInfo } from '../../src/core/capture/capture';
import { toHar, toJsonLines } from '../../src/shared/har';
import { applyInspectorRequest, batchMessageJson, toBatchDTO, toSnapshotDTO } from '../../src/core/capture/feed';
import { ENTRY_OVERHEAD_BYTES } from '../../src/core/capture/ring';
import { expandFeedFrames, parseInspectorRequest, type ClientDTO, type FeedFrame, type FrameDTO } from '../../src/shared/protocol';
import { Inbox } from '../support/inbox';
import { openClient } from '../support/ws';

const KiB = 1024;
const MiB = 1024 * KiB;

const INFO: ClientInfo = { endpoint: '/websocket', target: '/websocket', host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080', remote: '127.0.0.1', userAgent: 'test' };

/** A capture with a subscriber that keeps every batch (delivered by flush(), or by the timer). */
function attached(options: CaptureOptions = {}): { capture: Capture; batches: CaptureBatch[]; detach: () => void } {
  const capture = new Capture(options);
  const batches: CaptureBatch[] = [];
  const subscription = capture.subscribe((batch) => {
    batches.push(batch);
  });
  return { capture, batches, detach: () => subscription.dispose() };
}

/** A full, synchronous GC, so a test can prove that nothing still holds a buffer. */
function gcNow(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('capture: free when nobody looks', () => {
  it('is inactive until a subscriber attaches, and again once the last detaches; nothing is recorded meanwhile', () => {
    const capture = new Capture();
    const id = capture.openClient(INFO);
    assert.equal(capture.active, false);
    capture.frame(id, 'in', 'text', Buffer.from('unseen'), 6);
    capture.closeFrame(id, 'in', 1000, '');
    assert.equal(capture.snapshot().frames.length, 0);
    assert.equal(capture.snapshot().status.nextSeq, 1);

    const first = capture.subscribe(() => undefined);
    const second = capture.subscribe(() => undefined);
    assert.equal(capture.active, true);
    capture.frame(id, 'in', 'text', Buffer.from('seen'), 4);
    first.dispose();
    assert.equal(capture.active, true, 'one subscriber is still attached');
    second.dispose();
    assert.equal(capture.active, false);
    capture.frame(id, 'in', 'text', Buffer.from('unseen again'), 12);
    assert.deepEqual(capture.snapshot().frames.map((f) => f.preview.toString()), ['seen']);
    capture.dispose();
  });

  it('forgets closed clients at once while nobody looks, and remembers a bounded number while someone does', () => {
    const capture = new Capture({ maxClosedClients: 3 });
    for (let i = 0; i < 5; i++) capture.closeClient(capture.openClient(INFO), 1000, '');
    assert.equal(capture.snapshot().clients.length, 0, 'no inspector: closed clients are not kept');
    const open = capture.openClient(INFO);
    const subscription = capture.subscribe(() => undefined);
    const closed = Array.from({ length: 5 }, () => capture.openClient(INFO));
    for (const id of closed) capture.closeClient(id, 1001, 'bye');
    const ids = capture.snapshot().clients.map((c) => c.id);
    assert.deepEqual(ids, [open, ...closed.slice(2)], 'the open client and the 3 most recently closed');
    subscription.dispose();
    capture.dispose();
  });
});

describe('capture: the ring and its byte budget', () => {
  it('keeps the accounted bytes within the budget after every frame, dropping the oldest and counting them', () => {
    const budgetBytes = 64 * KiB;
    const { capture, detach } = attached({ budgetBytes, previewBytes: 1 * KiB });
    const id = capture.openClient(INFO);
    const sent: Buffer[] = [];
    for (let i = 0; i < 1500; i++) {
      const payload = randomBytes((i * 37) % 3000);
      sent.push(payload);
      capture.frame(id, i % 2 ? 'out' : 'in', 'binary', payload, payload.length);
      const status = capture.status();
      assert.ok(status.usedBytes <= budgetBytes, `frame ${i}: ${status.usedBytes} bytes accounted, budget ${budgetBytes}`);
    }
    const { frames, status } = capture.snapshot();
    assert.ok(status.droppedFrames > 0, 'the budget forced drops');
    assert.equal(status.frames, frames.length);
    assert.equal(status.droppedFrames + frames.length, 1500, 'every frame is either held or counted as dropped');
    const dropped = sent.slice(0, status.droppedFrames);
    assert.equal(status.droppedBytes, dropped.reduce((sum, b) => sum + b.length, 0), 'dropped bytes are the dropped messages’ sizes');
    // What is held is the newest frames, contiguous, each preview the start of what was sent.
    frames.forEach((frame, i) => {
      const index = status.droppedFrames + i;
      assert.equal(frame.seq, index + 1);
      assert.equal(frame.size, sent[index].length);
      assert.deepEqual(frame.preview, sent[index].subarray(0, 1 * KiB), `preview of frame ${frame.seq}`);
      assert.equal(frame.truncated, sent[index].length > 1 * KiB);
    });
    // The accounting is honest: it covers at least every preview byte and the per-frame estimate.
    const held = frames.reduce((sum, f) => sum + f.preview.length + ENTRY_OVERHEAD_BYTES, 0);
    assert.ok(status.usedBytes >= held, `accounted ${status.usedBytes} < ${held} actually held`);
    assert.ok(status.usedBytes > budgetBytes / 2, 'the ring uses its budget rather than dropping early');
    detach();
    capture.dispose();
  });

  it('refuses a budget too small for its previews, naming the option', () => {
    assert.throws(() => new Capture({ budgetBytes: 10 * KiB, previewBytes: 4 * KiB }), /budgetBytes .* at least/);
    assert.throws(() => new Capture({ maxBatchFrames: 0 }), /maxBatchFrames/);
    assert.throws(() => new Capture({ previewBytes: 1.5 }), /previewBytes must be a whole number/);
  });

  it('keeps a bounded copy of a 16 MiB message and never holds the message itself', async () => {
    const gc = gcNow();
    const { capture, detach } = attached({ budgetBytes: 1 * MiB });
    const id = capture.openClient(INFO);
    // In a function of its own, so no variable of this test's frame still points at a message.
    const refs = feedBigMessages(capture, id);
    assert.ok(capture.status().usedBytes <= 1 * MiB);
    // WeakRef targets live until the current job ends; then a full GC must collect all three.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.deepEqual(refs.map((ref) => ref.deref() === undefined), [true, true, true], 'the capture holds no 16 MiB message');
    assert.equal(capture.snapshot().frames.length, 3, 'while it still holds all three previews');
    detach();
    capture.dispose();
  });

  /** Records three distinct 16 MiB messages and checks each preview; returns weak references to the messages. */
  function feedBigMessages(capture: Capture, id: number): Array<WeakRef<Buffer>> {
    const refs: Array<WeakRef<Buffer>> = [];
    for (let i = 0; i < 3; i++) {
      const big = Buffer.alloc(16 * MiB, 0x61 + i);
      capture.frame(id, 'in', 'binary', big, big.length);
      const frame = capture.snapshot().frames.at(-1)!;
      assert.equal(frame.size, 16 * MiB);
      assert.equal(frame.truncated, true);
      assert.equal(frame.preview.length, 4 * KiB, 'the default preview is 4 KiB');
      assert.notEqual(frame.preview.buffer, big.buffer, 'not a view on the message');
      assert.ok(frame.preview.buffer.byteLength <= 1 * MiB, `the preview lives in a chunk of ${frame.preview.buffer.byteLength} bytes`);
      big.fill(0);
      assert.equal(frame.preview[0], 0x61 + i, 'a copy: changing the message does not change the preview');
      refs.push(new WeakRef(big));
    }
    return refs;
  }

  it('cuts a text preview on a whole character, for characters of every UTF-8 length at every offset', () => {
    const limit = 16;
    for (const char of ['a', 'é', '€', '😀']) {
      const width = Buffer.byteLength(char);
      for (let shift = 0; shift < 4; shift++) {
        const text = 'x'.repeat(shift) + char.repeat(20);
        const data = Buffer.from(text);
        const length = previewLength(data, true, limit);
        assert.ok(length <= limit && limit - length < width, `${char} shifted ${shift}: ${length}`);
        const preview = data.subarray(0, length).toString('utf8');
        assert.ok(!preview.includes('\ufffd') && text.startsWith(preview), `${char} shifted ${shift}: ${JSON.stringify(preview)}`);
      }
    }
    assert.equal(previewLength(Buffer.from('€'.repeat(20)), false, limit), limit, 'binary is cut at the limit exactly');
    assert.equal(previewLength(Buffer.from('short'), true, limit), 5);
  });

  it('stamps frames with epoch-ms times of sub-millisecond resolution that never go back', () => {
    const { capture, detach } = attached();
    const before = Date.now();
    const id = capture.openClient(INFO);
    for (let i = 0; i < 2000; i++) capture.frame(id, 'in', 'text', Buffer.from(`${i}`), String(i).length);
    const afterwards = Date.now();
    const { frames, clients } = capture.snapshot();
    const times = frames.map((f) => f.time);
    for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1], `time went back at frame ${i}`);
    assert.ok(times.some((t) => !Number.isInteger(t)), 'times carry a fraction of a millisecond');
    assert.ok(new Set(times).size > 1000, `${new Set(times).size} distinct times for 2000 frames`);
    assert.ok(times[0] >= before - 1 && times.at(-1)! <= afterwards + 1, 'epoch milliseconds');
    assert.ok(clients[0].connectedAt <= times[0], 'client times are on the same clock');
    detach();
    capture.dispose();
  });
});

describe('capture: clients', () => {
  it('registers each client with its details, counts frames and bytes per direction, and records how it closed', () => {
    const { capture, detach } = attached();
    const a = capture.openClient({ ...INFO, target: '/websocket?room=1', protocol: 'chat' });
    const b = capture.openClient({ endpoint: '/other', target: '/other', remote: '::1' });
    assert.notEqual(a, b);
    capture.frame(a, 'in', 'text', Buffer.from('hello'), 5);
    capture.frame(a, 'out', 'text', Buffer.from('hello'), 5);
    capture.frame(a, 'in', 'binary', Buffer.alloc(300), 300);
    capture.frame(b, 'out', 'ping', undefined, 0);
    capture.frame(b, 'in', 'pong', Buffer.from('p'), 1);
    capture.closeFrame(b, 'out', 4001, 'done here');
    assert.equal(capture.snapshot().clients.find((c) => c.id === b)!.state, 'closing');
    capture.closeFrame(b, 'in', 4001, 'done here');
    capture.closeClient(b, 4001, 'done here');
    const clients = new Map(capture.snapshot().clients.map((c) => [c.id, c]));
    const ca = clients.get(a)!;
    assert.deepEqual(
      { endpoint: ca.endpoint, target: ca.target, origin: ca.origin, remote: ca.remote, userAgent: ca.userAgent, protocol: ca.protocol, state: ca.state },
      { endpoint: '/websocket', target: '/websocket?room=1', origin: INFO.origin, remote: '127.0.0.1', userAgent: 'test', protocol: 'chat', state: 'open' },
    );
    assert.deepEqual([ca.framesIn, ca.bytesIn, ca.framesOut, ca.bytesOut], [2, 305, 1, 5]);
    const cb = clients.get(b)!;
    assert.deepEqual([cb.state, cb.closeCode, cb.closeReason], ['closed', 4001, 'done here']);
    assert.ok(cb.closedAt! >= cb.connectedAt);
    // A close frame's size is its code and reason on the wire.
    assert.deepEqual([cb.framesIn, cb.bytesIn, cb.framesOut, cb.bytesOut], [2, 1 + 11, 2, 11]);
    const close = capture.snapshot().frames.find((f) => f.kind === 'close')!;
    assert.deepEqual([close.code, close.reason, close.size, close.truncated], [4001, 'done here', 11, false]);
    detach();
    capture.dispose();
  });
});

describe('capture: pause, resume, clear', () => {
  it('pause stops recording frames but not clients; resume records again; subscribers see the state', () => {
    const { capture, batches, detach } = attached();
    const id = capture.openClient(INFO);
    capture.frame(id, 'in', 'text', Buffer.from('one'), 3);
    capture.pause();
    assert.equal(capture.active, false, 'the tap skips all work while paused');
    capture.frame(id, 'in', 'text', Buffer.from('lost'), 4);
    const late = capture.openClient(INFO);
    capture.flush();
    assert.equal(batches.at(-1)!.status.paused, true);
    capture.resume();
    assert.equal(capture.active, true);
    capture.frame(late, 'out', 'text', Buffer.from('two'), 3);
    capture.flush();
    assert.equal(batches.at(-1)!.status.paused, false);
    const { frames, clients } = capture.snapshot();
    assert.deepEqual(frames.map((f) => f.preview.toString()), ['one', 'two']);
    assert.deepEqual(clients.map((c) => c.id), [id, late]);
    assert.deepEqual(batches.flatMap((b) => b.frames.map((f) => f.seq)), [1, 2], 'seqs skip nothing: paused frames never got one');
    detach();
    capture.dispose();
  });

  it('clear empties the ring, forgets closed clients, zeroes counts and resets subscribers; seqs go on', () => {
    const { capture, batches, detach } = attached({ budgetBytes: 64 * KiB, previewBytes: 1 * KiB });
    const open = capture.openClient(INFO);
    const gone = capture.openClient(INFO);
    for (let i = 0; i < 500; i++) capture.frame(open, 'in', 'binary', Buffer.alloc(900), 900);
    capture.closeClient(gone, 1000, '');
    capture.flush();
    assert.ok(capture.status().droppedFrames > 0);
    capture.clear();
    const { frames, clients, status } = capture.snapshot();
    assert.equal(frames.length, 0);
    assert.deepEqual([status.frames, status.droppedFrames, status.droppedBytes], [0, 0, 0]);
    assert.equal(status.usedBytes, 0, 'nothing accounted after clear');
    assert.deepEqual(clients.map((c) => [c.id, c.framesIn, c.bytesIn]), [[open, 0, 0]]);
    capture.flush();
    const reset = batches.at(-1)!;
    assert.equal(reset.reset, true, 'subscribers are told to start over');
    assert.deepEqual(reset.clients.map((c) => c.id), [open]);
    assert.equal(reset.missedFrames, 0, 'cleared frames are not "missed"');
    capture.frame(open, 'in', 'text', Buffer.from('after'), 5);
    assert.equal(capture.snapshot().frames[0].seq, 501);
    capture.flush();
    assert.deepEqual(batches.at(-1)!.frames.map((f) => f.seq), [501]);
    assert.equal(batches.at(-1)!.reset, false);
    detach();
    capture.dispose();
  });
});

describe('capture: subscribers, batches and snapshots', () => {
  it('a UI that attaches late or reloads starts from everything the ring holds', () => {
    const capture = new Capture();
    const first = capture.subscribe(() => undefined);
    const a = capture.openClient(INFO);
    const b = capture.openClient(INFO);
    for (let i = 0; i < 30; i++) capture.frame(i % 2 ? a : b, 'in', 'text', Buffer.from(`m${i}`), 2 + String(i).length);
    capture.closeClient(b, 1006, '');
    first.dispose(); // the panel is hidden or reloads; the capture keeps what it has

    const batches: CaptureBatch[] = [];
    const reloaded = capture.subscribe((batch) => {
      batches.push(batch);
    });
    capture.flush();
    assert.equal(batches.length, 1);
    const [batch] = batches;
    assert.equal(batch.reset, true);
    assert.deepEqual(batch.clients.map((c) => [c.id, c.state]), [[a, 'open'], [b, 'closed']]);
    assert.deepEqual(batch.frames.map((f) => f.preview.toString()), Array.from({ length: 30 }, (_, i) => `m${i}`));
    const snapshot = toSnapshotDTO(capture.snapshot());
    assert.deepEqual(toBatchDTO(batch).frames, snapshot.frames, 'the first batch and snapshot() agree');
    assert.deepEqual(batch.clients, snapshot.clients);

    const live: CaptureBatch[] = [];
    const onlyNew = capture.subscribe((batch) => {
      live.push(batch);
    }, { replay: false });
    capture.frame(a, 'out', 'text', Buffer.from('new'), 3);
    capture.flush();
    assert.deepEqual(live.flatMap((l) => l.frames.map((f) => f.preview.toString())), ['new'], 'replay: false starts now');
    assert.deepEqual(live[0].clients.map((c) => c.id), [a, b], 'but still with every client');
    assert.equal(live[0].reset, false, 'and no reset: it follows a snapshot, which it must not wipe');
    reloaded.dispose();
    onlyNew.dispose();
    capture.dispose();
  });

  it('coalesces frames into batches of at most maxBatchFrames and maxBatchBytes, in seq order', () => {
    const { capture, batches, detach } = attached({ maxBatchFrames: 100, maxBatchBytes: 10 * KiB });
    const id = capture.openClient(INFO);
    capture.flush();
    batches.length = 0;
    for (let i = 0; i < 250; i++) capture.frame(id, 'in', 'text', Buffer.from(`frame ${i}`), 6 + String(i).length);
    capture.flush();
    assert.deepEqual(batches.map((b) => b.frames.length), [100, 100, 50]);
    assert.deepEqual(batches.flatMap((b) => b.frames.map((f) => f.seq)), Array.from({ length: 250 }, (_, i) => i + 1));
    assert.deepEqual(batches.map((b) => b.clients.length), [1, 0, 0], 'a client is sent again only when it changed');
    assert.equal(batches[0].clients[0].framesIn, 250);
    batches.length = 0;
    for (let i = 0; i < 10; i++) capture.frame(id, 'out', 'binary', Buffer.alloc(3 * KiB), 3 * KiB);
    capture.flush();
    assert.deepEqual(batches.map((b) => b.frames.length), [3, 3, 3, 1], 'at most 10 KiB of previews per batch');
    capture.flush();
    assert.equal(batches.length, 4, 'nothing new, no batch');
    detach();
    capture.dispose();
  });

  it('a slow subscriber gets nothing new until it has taken its batch, costs no memory, and is told what it missed', async () => {
    const budgetBytes = 64 * KiB;
    const capture = new Capture({ budgetBytes, previewBytes: 1 * KiB });
    const slow: CaptureBatch[] = [];
    let release: () => void = () => undefined;
    let nextSlow: (batch: CaptureBatch) => void = () => undefined;
    const slowSubscription = capture.subscribe((batch) => {
      slow.push(batch);
      nextSlow(batch);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const fast: CaptureBatch[] = [];
    const fastSubscription = capture.subscribe((batch) => {
      fast.push(batch);
    });
    const id = capture.openClient(INFO);
    const sizes: number[] = [];
    const record = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const size = 500 + (i % 7) * 100;
        sizes.push(size);
        capture.frame(id, 'in', 'binary', Buffer.alloc(size), size);
      }
    };
    record(10);
    capture.flush();
    assert.equal(slow.length, 1);
    assert.equal(slow[0].frames.length, 10);

    record(2000); // far more than the ring holds
    capture.flush();
    capture.flush();
    assert.equal(slow.length, 1, 'no batch while the last one is still being taken');
    assert.equal(fast.flatMap((b) => b.frames).at(-1)!.seq, 2010, 'the other subscriber is not held up');
    assert.ok(capture.status().usedBytes <= budgetBytes, 'the slow subscriber made the capture hold nothing extra');

    const next = new Promise<CaptureBatch>((resolve) => {
      nextSlow = resolve;
    });
    release();
    const batch = await next;
    const first = capture.status().nextSeq - capture.status().frames;
    assert.equal(batch.missedFrames, first - 11, 'every frame between its cursor and the ring’s oldest');
    assert.equal(batch.missedBytes, sizes.slice(10, first - 1).reduce((a, b) => a + b, 0));
    assert.equal(batch.frames[0].seq, first, 'then it goes on from the oldest frame held');
    assert.equal(batch.reset, false);
    slowSubscription.dispose();
    fastSubscription.dispose();
    capture.dispose();
  });

  it('a subscriber that throws neither stops the capture nor the other subscribers', () => {
    const capture = new Capture();
    capture.subscribe(() => {
      throw new Error('faulty');
    });
    const { batches } = { batches: [] as CaptureBatch[] };
    capture.subscribe((batch) => {
      batches.push(batch);
    });
    const id = capture.openClient(INFO);
    capture.frame(id, 'in', 'text', Buffer.from('x'), 1);
    assert.doesNotThrow(() => capture.flush());
    assert.equal(batches.flatMap((b) => b.frames).length, 1);
    capture.dispose();
  });
});

/** Checks the fields HAR 1.2 requires (http://www.softwareishard.com/blog/har-12-spec/), with their types. */
function assertHar12(har: unknown): void {
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const nameValues = (list: unknown, where: string): void => {
    assert.ok(Array.isArray(list), `${where} is an array`);
    for (const item of list) assert.ok(isString(item.name) && isString(item.value), `${where}: {name, value} strings`);
  };
  const log = (har as { log: Record<string, unknown> }).log;
  assert.equal(log.version, '1.2');
  const creator = log.creator as Record<string, unknown>;
  assert.ok(isString(creator.name) && isString(creator.version), 'log.creator {name, version}');
  assert.ok(Array.isArray(log.entries));
  if (log.pages !== undefined) assert.ok(Array.isArray(log.pages));
  for (const entry of log.entries as Array<Record<string, Record<string, unknown>>>) {
    assert.match(entry.startedDateTime as unknown as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO 8601 with zone');
    assert.ok(isNumber(entry.time));
    const { request, response, timings } = entry;
    assert.ok(isString(request.method) && isString(request.url) && isString(request.httpVersion));
    new URL(request.url as string); // an absolute URL
    nameValues(request.headers, 'request.headers');
    nameValues(request.queryString, 'request.queryString');
    assert.ok(Array.isArray(request.cookies) && isNumber(request.headersSize) && isNumber(request.bodySize));
    assert.ok(isNumber(response.status) && isString(response.statusText) && isString(response.httpVersion));
    nameValues(response.headers, 'response.headers');
    assert.ok(Array.isArray(response.cookies) && isString(response.redirectURL) && isNumber(response.headersSize) && isNumber(response.bodySize));
    const content = response.content as Record<string, unknown>;
    assert.ok(isNumber(content.size) && isString(content.mimeType), 'response.content {size, mimeType}');
    assert.equal(typeof entry.cache, 'object');
    for (const phase of ['send', 'wait', 'receive']) assert.ok(isNumber(timings[phase]) && (timings[phase] as number) >= 0, `timings.${phase} ≥ 0`);
    for (const phase of ['blocked', 'dns', 'connect', 'ssl']) if (timings[phase] !== undefined) assert.ok((timings[phase] as number) >= -1);
    // "time": the sum of all timings that are not -1 (ssl is part of connect).
    const sum = ['blocked', 'dns', 'connect', 'send', 'wait', 'receive'].reduce((s, k) => s + Math.max(0, (timings[k] as number | undefined) ?? 0), 0);
    assert.equal(entry.time, sum);
  }
}

describe('capture: exports', () => {
  /** Two clients, text, binary, control frames, a cut message and a close, as the UI would hold them. */
  function recorded(): { clients: ClientDTO[]; frames: FrameDTO[]; binary: Buffer; big: Buffer; ids: number[] } {
    const { capture, detach } = attached();
    const a = capture.openClient({ ...INFO, target: '/websocket?room=blue&x=1%202', protocol: 'chat.v1' });
    const b = capture.openClient({ endpoint: '/ws', target: '/ws', host: 'localhost:9000', remote: '::1' });
    const binary = randomBytes(200);
    const big = Buffer.from('{"a":"' + 'é'.repeat(10_000) + '"}');
    capture.frame(a, 'in', 'text', Buffer.from('hello\nworld ✓'), Buffer.byteLength('hello\nworld ✓'));
    capture.frame(a, 'out', 'text', Buffer.from('hello\nworld ✓'), Buffer.byteLength('hello\nworld ✓'));
    capture.frame(b, 'in', 'binary', binary, binary.length);
    capture.frame(b, 'out', 'binary', binary, binary.length);
    capture.frame(a, 'out', 'ping', undefined, 0);
    capture.frame(a, 'in', 'pong', undefined, 0);
    capture.frame(b, 'out', 'text', big, big.length);
    capture.closeFrame(b, 'in', 4001, 'bye "now"');
    capture.closeClient(b, 4001, 'bye "now"');
    const snapshot = toSnapshotDTO(capture.snapshot());
    detach();
    capture.dispose();
    return { ...snapshot, binary, big, ids: [a, b] };
  }

  it('writes HAR 1.2 with one websocket entry per client and its messages in Chrome’s _webSocketMessages form', () => {
    const { clients, frames, binary, big, ids } = recorded();
    const har = JSON.parse(JSON.stringify(toHar({ clients, frames }, { version: '9.9.9' })));
    assertHar12(har);
    assert.deepEqual(har.log.creator, { name: 'Echo Preview', version: '9.9.9' });
    assert.deepEqual(har.log.pages, []);
    const [ea, eb] = har.log.entries;
    assert.equal(har.log.entries.length, 2);
    for (const entry of [ea, eb]) {
      assert.equal(entry._resourceType, 'websocket');
      assert.deepEqual([entry.request.method, entry.response.status, entry.response.statusText], ['GET', 101, 'Switching Protocols']);
    }
    assert.equal(ea.request.url, 'ws://127.0.0.1:8080/websocket?room=blue&x=1%202');
    assert.deepEqual(ea.request.queryString, [{ name: 'room', value: 'blue' }, { name: 'x', value: '1 2' }]);
    const header = (list: Array<{ name: string; value: string }>, name: string): string | undefined => list.find((h) => h.name === name)?.value;
    assert.equal(header(ea.request.headers, 'Origin'), INFO.origin);
    assert.equal(header(ea.request.headers, 'User-Agent'), 'test');
    assert.equal(header(ea.response.headers, 'Sec-WebSocket-Protocol'), 'chat.v1');
    assert.equal(eb.request.url, 'ws://localhost:9000/ws');
    assert.equal(new Date(ea.startedDateTime).getTime(), Math.floor(clients.find((c) => c.id === ids[0])!.connectedAt));

    // Page's view: what reached the server ('in') is the page's send; what the server sent is receive.
    assert.deepEqual(ea._webSocketMessages.map((m: { type: string; opcode: number; data: string }) => [m.type, m.opcode, m.data]), [
      ['send', 1, 'hello\nworld ✓'],
      ['receive', 1, 'hello\nworld ✓'],
    ], 'ping and pong are not Chrome messages');
    const [sent, received, cut] = eb._webSocketMessages;
    assert.deepEqual([sent.type, sent.opcode, received.type, received.opcode], ['send', 2, 'receive', 2]);
    assert.deepEqual(Buffer.from(sent.data, 'base64'), binary, 'binary data is base64 of the bytes');
    assert.deepEqual(Buffer.from(received.data, 'base64'), binary);
    assert.equal(eb._webSocketMessages.length, 3, 'the close frame is not a message');
    assert.deepEqual([cut.opcode, cut._truncated, cut._size], [1, true, big.length]);
    assert.ok(big.toString().startsWith(cut.data) && cut.data.length > 1000);
    assert.equal(ea._webSocketMessages[0].time, frames[0].time / 1000, 'epoch seconds with a fraction');
    assert.deepEqual([eb._client.state, eb._client.closeCode, eb._client.closeReason], ['closed', 4001, 'bye "now"']);
    assert.equal(ea._client.closeCode, undefined);
  });

  it('writes JSON lines: one parseable object per line, clients first, then frames in seq order', () => {
    const { clients, frames } = recorded();
    const text = toJsonLines({ clients, frames: [...frames].reverse() });
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines.length, clients.length + frames.length, 'a newline inside a message stays escaped');
    const objects = lines.map((line) => JSON.parse(line));
    assert.deepEqual(objects.slice(0, 2).map((o) => [o.type, o.id]), clients.map((c) => ['client', c.id]));
    const frameLines = objects.slice(2);
    assert.deepEqual(frameLines.map((o) => o.type), frames.map(() => 'frame'));
    assert.deepEqual(frameLines.map(({ type: _type, ...rest }) => rest), frames, 'each frame line is the frame, whole');
    assert.equal(toJsonLines({ clients: [], frames: [] }), '');
  });
});

describe('inspector requests', () => {
  it('accepts every well-formed request', () => {
    const good: unknown[] = [
      { type: 'ready' },
      { type: 'pause' },
      { type: 'resume' },
      { type: 'clear' },
      { type: 'push', requestId: 1, target: { client: 3 }, data: 'hi', binary: false },
      { type: 'push', requestId: 2, target: { endpoint: '/websocket' }, data: 'AAEC/w==', binary: true },
      { type: 'push', requestId: 3, target: { client: 1 }, data: '', binary: true },
      { type: 'close', requestId: 4, client: 3, code: 1000, reason: '' },
      { type: 'close', requestId: 5, client: 3, code: 4999, reason: 'é'.repeat(61) },
      { type: 'ping', requestId: 6, client: 2 },
    ];
    for (const request of good) assert.deepEqual(parseInspectorRequest(request), { ok: true, request }, JSON.stringify(request));
  });

  it('refuses malformed requests with a message that says what is wrong', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /object/],
      ['ready', /object/],
      [{ type: 'explode' }, /unknown request type "explode"/],
      [{ type: 'push', requestId: -1, target: { client: 1 }, data: '', binary: false }, /requestId/],
      [{ type: 'push', requestId: 1.5, target: { client: 1 }, data: '', binary: false }, /requestId/],
      [{ type: 'push', requestId: 1, target: { client: 0 }, data: '', binary: false }, /target/],
      [{ type: 'push', requestId: 1, target: { endpoint: 'websocket' }, data: '', binary: false }, /target/],
      [{ type: 'push', requestId: 1, target: {}, data: '', binary: false }, /target/],
      [{ type: 'push', requestId: 1, target: { client: 1 }, data: 7, binary: false }, /data must be a string/],
      [{ type: 'push', requestId: 1, target: { client: 1 }, data: 'x', binary: 'yes' }, /binary must be/],
      [{ type: 'push', requestId: 1, target: { client: 1 }, data: 'not base64!', binary: true }, /base64/],
      [{ type: 'push', requestId: 1, target: { client: 1 }, data: 'QUJD=', binary: true }, /base64/],
      [{ type: 'close', requestId: 1, client: 1, code: 1000, reason: 'é'.repeat(62) }, /123 bytes/],
      [{ type: 'close', requestId: 1, client: 1, code: 1000, reason: 5 }, /reason must be a string/],
      [{ type: 'ping', requestId: 1, client: 'one' }, /client/],
    ];
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5, NaN]) {
      bad.push([{ type: 'close', requestId: 1, client: 1, code, reason: '' }, /code must be/]);
    }
    for (const [request, error] of bad) {
      const parsed = parseInspectorRequest(request);
      assert.equal(parsed.ok, false, JSON.stringify(request));
      assert.match((parsed as { error: string }).error, error, JSON.stringify(request));
    }
  });
});

describe('capture: the tap on real ws traffic', () => {
  /** A tiny echo server in the shape core/ws/hub.ts takes: the tap called from ws's own events, and the client API. */
  let wss: WebSocketServer;
  let url: string;
  const capture = new Capture();
  const sockets = new Map<number, WebSocket>();
  const control: ClientControl = {
    send(id, data, binary) {
      const ws = sockets.get(id);
      if (ws?.readyState !== WebSocket.OPEN) return false;
      if (capture.active) capture.frame(id, 'out', binary ? 'binary' : 'text', Buffer.from(data), Buffer.byteLength(data));
      ws.send(data, { binary });
      return true;
    },
    sendToEndpoint(path, data, binary) {
      let sent = 0;
      for (const client of capture.snapshot().clients) if (client.endpoint === path && client.state === 'open' && this.send(client.id, data, binary)) sent++;
      return sent;
    },
    close(id, code, reason) {
      const ws = sockets.get(id);
      if (ws?.readyState !== WebSocket.OPEN) return false;
      if (capture.active) capture.closeFrame(id, 'out', code, reason);
      ws.close(code, reason);
      return true;
    },
    ping(id) {
      const ws = sockets.get(id);
      if (ws?.readyState !== WebSocket.OPEN) return false;
      if (capture.active) capture.frame(id, 'out', 'ping', undefined, 0);
      ws.ping();
      return true;
    },
  };

  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/websocket' });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/websocket`;
    wss.on('connection', (ws, req) => {
      const id = capture.openClient({
        endpoint: '/websocket',
        target: req.url ?? '/',
        host: req.headers.host,
        origin: req.headers.origin,
        remote: req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'],
        protocol: ws.protocol || undefined,
      });
      sockets.set(id, ws);
      ws.on('message', (data: Buffer, isBinary) => {
        const kind = isBinary ? 'binary' : 'text';
        if (capture.active) capture.frame(id, 'in', kind, data, data.length);
        if (capture.active) capture.frame(id, 'out', kind, data, data.length);
        ws.send(data, { binary: isBinary });
      });
      ws.on('ping', (data) => {
        if (capture.active) capture.frame(id, 'in', 'ping', data, data.length);
        if (capture.active) capture.frame(id, 'out', 'pong', data, data.length);
      });
      ws.on('pong', (data) => {
        if (capture.active) capture.frame(id, 'in', 'pong', data, data.length);
      });
      ws.on('close', (code, reason) => {
        if (capture.active) capture.closeFrame(id, 'in', code, reason.toString());
        capture.closeClient(id, code, reason.toString());
        sockets.delete(id);
      });
    });
  });
  after(async () => {
    capture.dispose();
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('attributes every frame of two real clients, carries out push, ping and close, and exports it', { timeout: 20_000 }, async () => {
    const sent = new Inbox<CaptureBatch>('the capture');
    const batches = sent.received;
    const subscription = capture.subscribe((batch) => sent.push(batch));
    /** Waits for batches (sent by the capture's own timer) until the condition holds. */
    const until = async (holds: () => boolean): Promise<void> => {
      await sent.until(holds, `batches for which ${String(holds)}`);
    };
    const frames = (): FrameDTO[] => batches.flatMap((b) => toBatchDTO(b).frames);
    const of = (id: number): string[] => frames().filter((f) => f.client === id).map((f) => `${f.dir} ${f.kind}`);
    const clientsById = (): Map<number, ClientDTO> => new Map(batches.flatMap((b) => b.clients).map((c) => [c.id, c]));

    const tabA = await openClient(`${url}?tab=a`, { headers: { 'User-Agent': 'tab A' }, origin: 'http://127.0.0.1' });
    const tabB = await openClient(`${url}?tab=b`, { headers: { 'User-Agent': 'tab B' } });
    await until(() => clientsById().size === 2);
    const idOf = (agent: string): number => [...clientsById().values()].find((c) => c.userAgent === agent)!.id;
    const [a, b] = [idOf('tab A'), idOf('tab B')];
    assert.equal(clientsById().get(a)!.target, '/websocket?tab=a');
    assert.equal(clientsById().get(a)!.origin, 'http://127.0.0.1');

    const binary = randomBytes(64);
    const big = randomBytes(1 * MiB);
    tabA.send('from A');
    tabB.send(binary);
    tabB.send(big);
    tabA.ping(Buffer.from('are you there'));
    const receivedByB = new Promise<Buffer>((resolve) => {
      let count = 0;
      tabB.on('message', (data: Buffer) => {
        if (++count === 3) resolve(data); // two echoes, then the push
      });
    });
    let aGotPush = false;
    tabA.on('message', (data: Buffer) => {
      if (data.toString() === 'pushed to B') aGotPush = true;
    });
    await until(() => frames().filter((f) => f.kind !== 'pong' && f.kind !== 'ping').length === 6 && frames().some((f) => f.kind === 'pong'));

    const push = parseInspectorRequest({ type: 'push', requestId: 1, target: { client: b }, data: 'pushed to B', binary: false });
    assert.ok(push.ok);
    assert.deepEqual(applyInspectorRequest(push.request, capture, control), { type: 'result', requestId: 1, ok: true, sent: 1 });
    assert.equal((await receivedByB).toString(), 'pushed to B');
    assert.equal(aGotPush, false, 'the push went to B only');

    const ping = parseInspectorRequest({ type: 'ping', requestId: 2, client: a });
    assert.ok(ping.ok);
    assert.deepEqual(applyInspectorRequest(ping.request, capture, control), { type: 'result', requestId: 2, ok: true });
    await until(() => of(a).at(-1) === 'in pong');

    const close = parseInspectorRequest({ type: 'close', requestId: 3, client: a, code: 4001, reason: 'closed by inspector' });
    assert.ok(close.ok);
    const closed = new Promise<[number, string]>((resolve) => tabA.once('close', (code, reason) => resolve([code, reason.toString()])));
    assert.deepEqual(applyInspectorRequest(close.request, capture, control), { type: 'result', requestId: 3, ok: true });
    assert.deepEqual(await closed, [4001, 'closed by inspector']);
    await until(() => clientsById().get(a)!.state === 'closed');
    const notOpen = applyInspectorRequest({ type: 'ping', requestId: 4, client: a }, capture, control);
    assert.deepEqual(notOpen, { type: 'result', requestId: 4, ok: false, error: `client #${a} is not open` });

    assert.deepEqual(of(a), ['in text', 'out text', 'in ping', 'out pong', 'out ping', 'in pong', 'out close', 'in close']);
    assert.deepEqual(of(b), ['in binary', 'out binary', 'in binary', 'out binary', 'out text']);
    const bFrames = frames().filter((f) => f.client === b);
    assert.deepEqual(Buffer.from(bFrames[0].data, 'base64'), binary);
    assert.deepEqual([bFrames[2].size, bFrames[2].truncated], [1 * MiB, true]);
    assert.deepEqual(Buffer.from(bFrames[2].data, 'base64'), big.subarray(0, 4 * KiB));
    const seqs = frames().map((f) => f.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'batches arrive in seq order');
    const ca = clientsById().get(a)!;
    assert.deepEqual([ca.state, ca.closeCode, ca.closeReason], ['closed', 4001, 'closed by inspector']);
    const cb = clientsById().get(b)!;
    assert.deepEqual([cb.framesIn, cb.bytesIn, cb.framesOut, cb.bytesOut], [2, 64 + MiB, 3, 64 + MiB + 11]);

    const har = toHar(toSnapshotDTO(capture.snapshot()), { version: '0.0.0' });
    assertHar12(JSON.parse(JSON.stringify(har)));
    const entryB = har.log.entries.find((e) => e._client.id === b)!;
    assert.deepEqual(entryB._webSocketMessages.map((m) => m.type), ['send', 'receive', 'send', 'receive', 'receive']);
    assert.equal(entryB._webSocketMessages[4].data, 'pushed to B');

    subscription.dispose();
    tabB.close();
    await once(tabB, 'close');
  });
});

describe('the feed batch as JSON', () => {
  for (const [what, previewBytes, big] of [
    ['small previews', 64, 0],
    ['large previews (written by hand)', 4096, 40],
  ] as const) {
    it(`writes JSON from which the page gets exactly the batch message back, times included, for every kind of frame: ${what}`, () => {
      const capture = new Capture({ previewBytes });
      const batches: CaptureBatch[] = [];
      const subscription = capture.subscribe((batch) => void batches.push(batch));
      const id = capture.openClient({ endpoint: '/websocket', target: '/websocket?x="1"', host: '127.0.0.1', origin: undefined, remote: '::1', userAgent: 'a\u2028b', protocol: undefined });
      const texts = ['plain', 'quotes " and \\ backslash', 'new\nline\ttab\u0000nul', 'emoji 😀 and é', 'x'.repeat(100), '\u2028\u2029'];
      for (const text of texts) capture.frame(id, 'in', 'text', Buffer.from(text), Buffer.byteLength(text));
      // Text cut inside a character, and invalid UTF-8 (decoded with replacement characters).
      capture.frame(id, 'out', 'text', Buffer.from('é'.repeat(40)), 80);
      capture.frame(id, 'in', 'text', Buffer.from([0xff, 0xfe, 0x41]), 3);
      capture.frame(id, 'in', 'binary', randomBytes(200), 200);
      capture.frame(id, 'out', 'binary', Buffer.alloc(0), 0);
      capture.frame(id, 'in', 'ping', undefined, 0);
      capture.frame(id, 'out', 'pong', Buffer.from('pong data'), 9);
      capture.closeFrame(id, 'in', 1000, 'bye "now"');
      capture.closeFrame(id, 'out', 1005, '');
      for (let i = 0; i < big; i++) capture.frame(id, i % 2 ? 'out' : 'in', 'binary', randomBytes(5000), 5000);
      capture.flush();
      subscription.dispose();
      assert.ok(batches.some((b) => b.frames.length === 14 + big));
      for (const batch of batches) {
        const json = batchMessageJson(batch);
        // Valid JSON that the page turns back into exactly the batch message of the protocol.
        const message = JSON.parse(json) as { type: string; batch: { frames: Array<FeedFrame | FrameDTO> } };
        assert.equal(json, JSON.stringify(message), 'the text JSON.stringify would write');
        message.batch.frames = expandFeedFrames(message.batch.frames);
        assert.deepEqual(message, JSON.parse(JSON.stringify({ type: 'batch', batch: toBatchDTO(batch) })));
      }
    });

    it(`sends an echo's answer as a reference to the message it repeats, and the UI gets every frame whole again: ${what}`, () => {
      const capture = new Capture({ previewBytes });
      const batches: CaptureBatch[] = [];
      const subscription = capture.subscribe((batch) => void batches.push(batch));
      const id = capture.openClient(INFO);
      const other = capture.openClient(INFO);
      const echo = (kind: 'text' | 'binary', payload: Buffer): void => {
        capture.frame(id, 'in', kind, payload, payload.length);
        capture.frame(id, 'out', kind, payload, payload.length);
      };
      const binary = randomBytes(5000);
      echo('binary', binary);
      echo('text', Buffer.from('emoji 😀 and "quotes" repeated'.repeat(big ? 200 : 1)));
      // Not repeats: the same bytes as another kind, different bytes of the same length, a short preview.
      capture.frame(id, 'out', 'binary', Buffer.from('emoji 😀 and "quotes" repeated'.repeat(big ? 200 : 1)), 0);
      const changed = Buffer.from(binary);
      changed[0] ^= 1;
      capture.frame(other, 'in', 'binary', binary, binary.length);
      capture.frame(other, 'out', 'binary', changed, changed.length);
      echo('text', Buffer.from('short'));
      for (let i = 0; i < big; i++) echo('binary', randomBytes(5000));
      capture.flush();
      subscription.dispose();
      const batch = batches.find((b) => b.frames.length > 0) as CaptureBatch;
      const message = JSON.parse(batchMessageJson(batch)) as { type: string; batch: { frames: Array<FeedFrame | FrameDTO> } };
      const repeated = message.batch.frames.filter((frame) => (frame as FeedFrame)[6] === null).map((frame) => (frame as FeedFrame)[0]);
      // Each echo's answer (the big ones too) is sent without its data, and nothing else is.
      assert.deepEqual(repeated, [2, 4, 9, ...Array.from({ length: big }, (_, i) => 11 + 2 * i)]);
      message.batch.frames = expandFeedFrames(message.batch.frames);
      assert.deepEqual(message, JSON.parse(JSON.stringify({ type: 'batch', batch: toBatchDTO(batch) })));
    });
  }

  it('expands a repeated preview to the data of the frame just before it and times from µs steps, and keeps FrameDTOs as they are', () => {
    const dto: FrameDTO = { seq: 1, client: 1, dir: 'in', time: 1.5, size: 3, kind: 'text', data: 'abc', truncated: false };
    const frames = expandFeedFrames([
      dto,
      // Times in µs: the first since the epoch, each next one after the one before.
      [2, 1, 'out', 2500, 3, 'text', null, false],
      [3, 1, 'in', 1000, 10, 'binary', 'AAAA', true],
      [4, 1, 'in', 1000, 4, 'close', '', false, 1000, 'ok'],
      [5, 1, 'out', 1001, 0, 'close', '', false, null, null],
    ]);
    assert.equal(frames[0], dto);
    assert.deepEqual(frames.slice(1), [
      { seq: 2, client: 1, dir: 'out', time: 2.5, size: 3, kind: 'text', data: 'abc', truncated: false },
      { seq: 3, client: 1, dir: 'in', time: 3.5, size: 10, kind: 'binary', data: 'AAAA', truncated: true },
      { seq: 4, client: 1, dir: 'in', time: 4.5, size: 4, kind: 'close', data: '', truncated: false, code: 1000, reason: 'ok' },
      { seq: 5, client: 1, dir: 'out', time: 5.501, size: 0, kind: 'close', data: '', truncated: false },
    ]);
  });
});
