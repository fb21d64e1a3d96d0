/** EventSummary: each event is a line at human rates; above the limits the rest is counted, nothing lost. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerEvent } from '../../src/core/events/events';
import { EventSummary } from '../../src/core/events/summary';

const frame = (id: number, size = 9, direction: 'in' | 'out' = 'in'): ServerEvent => ({ type: 'frame', id, direction, size, kind: 'text' });
const request = (status: number, bytes = 100): ServerEvent => ({ type: 'request', method: 'GET', path: '/x', status, bytes, durationMs: 1, remote: '127.0.0.1' });

/** A summary whose window never ends on its own during the test (flush() ends it). */
function collect(limits: ConstructorParameters<typeof EventSummary>[1] = {}): { lines: string[]; summary: EventSummary } {
  const lines: string[] = [];
  return { lines, summary: new EventSummary((line) => lines.push(line), { windowMs: 60_000, ...limits }) };
}

/** Messages a set of lines accounts for: one per message line plus the counts in summary lines. */
function messagesIn(lines: string[], id: number): number {
  let total = 0;
  for (const line of lines) {
    if (new RegExp(`^ws #${id} -> text `).test(line)) total++;
    const more = new RegExp(`^ws #${id} -> ([\\d,]+) more messages? `).exec(line);
    if (more) total += Number(more[1].replace(/,/g, ''));
  }
  return total;
}

describe('EventSummary', () => {
  it('hands each event its own line with the event, and summary lines without one (so a log can pick levels)', () => {
    const printed: Array<[string, ServerEvent | undefined]> = [];
    const summary = new EventSummary((line, event) => printed.push([line, event]), { windowMs: 60_000, requests: 1 });
    const ok = request(200);
    summary.add(ok);
    summary.add(request(200));
    summary.add(request(404));
    summary.flush();
    assert.deepEqual(
      printed.map(([line, event]) => [line.split(' ').slice(0, 3).join(' '), event]),
      [
        ['GET /x 200', ok],
        ['GET /x 404', printed[1][1]],
        ['1 more request', undefined],
      ],
    );
    assert.equal(printed[1][1]?.type === 'request' && printed[1][1].status, 404);
  });

  it('prints every event while traffic is light', () => {
    const { lines, summary } = collect();
    for (let i = 0; i < 5; i++) summary.add(frame(1));
    summary.add(request(200));
    summary.flush();
    assert.equal(lines.length, 6);
    assert.ok(lines.slice(0, 5).every((l) => l === 'ws #1 -> text 9 B'));
    assert.match(lines[5], /^GET \/x 200 /);
  });

  it('prints the first messages of a client one by one and counts the rest into one line per window', () => {
    const { lines, summary } = collect({ messagesPerClient: 10 });
    for (let i = 0; i < 5000; i++) summary.add(frame(3, 500));
    assert.equal(lines.length, 10, 'nothing but the first ten before the window ends');
    summary.flush();
    assert.equal(lines.length, 11);
    assert.match(lines[10], /^ws #3 -> 4,990 more messages \(2\.4 MiB\) in the last \d+\.\d s$/);
    // The next window starts afresh.
    summary.add(frame(3));
    assert.equal(lines[11], 'ws #3 -> text 9 B');
  });

  it("prints a client's counted messages before the line that says it closed", () => {
    const { lines, summary } = collect({ messagesPerClient: 2 });
    for (let i = 0; i < 7; i++) summary.add(frame(4));
    summary.add({ type: 'client-close', id: 4, code: 1000, reason: '' });
    assert.deepEqual(lines.slice(2).map((l) => l.replace(/[\d.]+ s$/, 'T s')), ['ws #4 -> 5 more messages (45 B) in the last T s', 'ws #4 closed 1000']);
    summary.flush();
    assert.equal(lines.length, 4, 'nothing counted twice');
  });

  it('keeps the directions apart', () => {
    const { lines, summary } = collect({ messagesPerClient: 1 });
    for (let i = 0; i < 3; i++) {
      summary.add(frame(1, 10, 'in'));
      summary.add(frame(1, 10, 'out'));
    }
    summary.flush();
    assert.deepEqual(
      lines.map((l) => l.replace(/[\d.]+ s$/, 'T s')),
      ['ws #1 -> text 10 B', 'ws #1 <- text 10 B', 'ws #1 -> 2 more messages (20 B) in the last T s', 'ws #1 <- 2 more messages (20 B) in the last T s'],
    );
  });

  it('caps message lines across all clients, and sums up many busy clients in one line', () => {
    const { lines, summary } = collect({ messagesPerClient: 10, messages: 50, clientSummaries: 10 });
    for (let round = 0; round < 100; round++) for (let id = 1; id <= 40; id++) summary.add(frame(id));
    assert.equal(lines.length, 50);
    summary.flush();
    assert.equal(lines.length, 51);
    assert.match(lines[50], /^ws: 3,950 more messages \(34\.7 KiB\) from 40 clients in the last /);
    let accounted = 0;
    for (let id = 1; id <= 40; id++) accounted += messagesIn(lines, id);
    assert.equal(accounted + 3950, 4000);
  });

  it('sums up requests above the limit with their statuses', () => {
    const { lines, summary } = collect({ requests: 100, failedRequests: 5 });
    for (let i = 0; i < 290; i++) summary.add(request(200, 1024));
    for (let i = 0; i < 10; i++) summary.add(request(404, 0));
    summary.flush();
    assert.equal(lines.filter((l) => /^GET \/x 200 /.test(l)).length, 100);
    assert.equal(lines.filter((l) => /^GET \/x 404 /.test(l)).length, 5);
    assert.match(lines[105], /^195 more requests \(190\.0 KiB\) in the last [\d.]+ s, status 200: 190, 404: 5$/);
    assert.equal(lines.length, 106);
  });

  it('shows failed requests even when successful ones have used up their lines', () => {
    const { lines, summary } = collect({ requests: 3 });
    for (let i = 0; i < 300; i++) summary.add(request(i === 150 ? 404 : 200));
    assert.equal(lines.filter((l) => /^GET \/x 404 /.test(l)).length, 1);
  });

  it('sums up connections, closes, refusals and errors above the limit by kind', () => {
    const { lines, summary } = collect({ others: 3 });
    for (let id = 1; id <= 5; id++) summary.add({ type: 'client-open', id, origin: undefined, remote: '127.0.0.1' });
    summary.add({ type: 'refused', what: 'origin', detail: 'no', remote: '127.0.0.1' });
    summary.add({ type: 'error', message: 'x' });
    summary.flush();
    assert.equal(lines.length, 4);
    assert.match(lines[3], /^4 more events in the last [\d.]+ s: 2 connections, 1 error, 1 refusal$/);
  });

  it('ends a window by itself, on a timer that does not keep the process alive', async () => {
    const lines: string[] = [];
    let summarised: () => void = () => {};
    const done = new Promise<void>((resolve) => (summarised = resolve));
    const summary = new EventSummary(
      (line) => {
        lines.push(line);
        if (/ more message/.test(line)) summarised();
      },
      { windowMs: 20, messagesPerClient: 1 },
    );
    // A ref'd handle keeps this test alive while the summary's own timer is unref'd.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      summary.add(frame(1));
      summary.add(frame(1));
      await done;
    } finally {
      clearInterval(keepAlive);
    }
    assert.match(lines[1], /^ws #1 -> 1 more message \(9 B\)/);
  });
});
