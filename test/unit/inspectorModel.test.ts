/** The inspector UI's model and formats, without a browser: timeline order, echoes, filters, compose. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaptureBatchDTO, CaptureStatusDTO, ClientDTO, FrameDTO } from '../../src/shared/protocol';
import { OWN_CLIENT_PARAM, parsePanelRequest, savedMessagesOf } from '../../src/shared/protocol';
import { encodeCompose, hexDump } from '../../src/webview/inspector/format';
import { InspectorModel, isFrame, KIND_GROUPS, NO_FILTERS, type Filters } from '../../src/webview/inspector/model';
import { clientName } from '../../src/webview/inspector/names';

const STATUS: CaptureStatusDTO = { paused: false, budgetBytes: 1, usedBytes: 0, frames: 0, droppedFrames: 0, droppedBytes: 0, nextSeq: 1 };

function client(id: number, connectedAt: number, extra: Partial<ClientDTO> = {}): ClientDTO {
  return { id, endpoint: '/websocket', target: '/websocket', remote: '127.0.0.1', connectedAt, state: 'open', framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, ...extra };
}

let seq = 0;
function frame(clientId: number, dir: 'in' | 'out', time: number, data: string, extra: Partial<FrameDTO> = {}): FrameDTO {
  return { seq: ++seq, client: clientId, dir, time, size: data.length, kind: 'text', data, truncated: false, ...extra };
}

function batch(clients: ClientDTO[], frames: FrameDTO[], reset = false): CaptureBatchDTO {
  return { reset, clients, frames, missedFrames: 0, missedBytes: 0, status: STATUS };
}

const describeRow = (model: InspectorModel) => model.view.map((i) => model.rows[i]).map((r) => (isFrame(r) ? `${r.client} ${r.dir} ${r.data}` : `${r.client} ${r.event}`));

describe('inspector model', () => {
  it('merges connection events into the frames by time, oldest first, across batches', () => {
    const model = new InspectorModel();
    model.applyBatch(batch([client(1, 10)], [frame(1, 'in', 20, 'a'), frame(1, 'out', 21, 'a')], true));
    // Client 2 connected at 15, but is only reported now with a frame of its own: its open goes at 15.
    model.applyBatch(batch([client(2, 15)], [frame(2, 'in', 30, 'b')]));
    model.applyBatch(batch([client(1, 10, { state: 'closed', closedAt: 40, closeCode: 1001, closeReason: 'bye' })], []));
    assert.deepEqual(describeRow(model), ['1 open', '2 open', '1 in a', '1 out a', '2 in b', '1 closed']);
    const closed = model.rows.at(-1);
    assert.ok(closed && !isFrame(closed));
    assert.deepEqual([closed.code, closed.reason], [1001, 'bye']);
  });

  it('shows a refused handshake (a proxy whose upstream is down) as one refusal with its status and why, never as opened', () => {
    const model = new InspectorModel();
    const why = 'Upstream ws://127.0.0.1:9/ unreachable: connect ECONNREFUSED 127.0.0.1:9';
    model.applyBatch(batch([client(1, 10, { state: 'closed', closedAt: 10, refused: 502, closeReason: why })], [], true));
    assert.deepEqual(describeRow(model), ['1 closed']);
    const refused = model.rows[0];
    assert.ok(!isFrame(refused));
    assert.deepEqual([refused.refused, refused.code, refused.reason], [502, undefined, why]);
  });

  it('ignores frames it already holds and replaces everything on a reset', () => {
    const model = new InspectorModel();
    const first = frame(1, 'in', 20, 'a');
    model.applyBatch(batch([client(1, 10)], [first], true));
    model.applyBatch(batch([], [first]));
    assert.equal(model.rows.filter(isFrame).length, 1);
    model.applyBatch(batch([client(3, 50)], [frame(3, 'in', 60, 'c')], true));
    assert.deepEqual(describeRow(model), ['3 open', '3 in c']);
  });

  it('matches each echo to the in frame it answers and measures the round trip; a push matches nothing', () => {
    const model = new InspectorModel();
    // In seq order, as the capture sends them.
    const ask1 = frame(1, 'in', 100, 'same');
    const echo1 = frame(1, 'out', 100.25, 'same');
    const ask2 = frame(1, 'in', 100.5, 'same');
    const otherClient = frame(2, 'out', 101, 'same');
    const push = frame(1, 'out', 102, 'pushed');
    const echo2 = frame(1, 'out', 103, 'same');
    model.applyBatch(batch([client(1, 1), client(2, 1)], [ask1, echo1, ask2, otherClient, push, echo2], true));
    assert.deepEqual(model.roundTrip(echo1.seq), { peer: ask1.seq, ms: 0.25 });
    assert.deepEqual(model.roundTrip(ask1.seq), { peer: echo1.seq, ms: 0.25 });
    assert.deepEqual(model.roundTrip(echo2.seq), { peer: ask2.seq, ms: 2.5 });
    assert.equal(model.roundTrip(push.seq), undefined);
    assert.equal(model.roundTrip(otherClient.seq), undefined, 'another client never answers for this one');
  });

  it('filters by client, direction, kind and text or regex, and reports a regex that does not parse', () => {
    const model = new InspectorModel();
    model.applyBatch(batch([client(1, 1), client(2, 1)], [
      frame(1, 'in', 10, 'Hello'),
      frame(1, 'out', 11, 'Hello'),
      frame(2, 'in', 12, 'AAEC', { kind: 'binary', size: 3 }),
      frame(2, 'in', 13, '', { kind: 'close', code: 4001, reason: 'done here', size: 11 }),
    ], true));
    const only = (f: Partial<Filters>) => {
      model.setFilters({ ...NO_FILTERS, ...f });
      return describeRow(model);
    };
    assert.deepEqual(only({ clients: new Set([2]) }), ['2 open', '2 in AAEC', '2 in ']);
    assert.deepEqual(only({ direction: 'out' }), ['1 open', '2 open', '1 out Hello'], 'events are not sent or received');
    assert.deepEqual(only({ kinds: new Set(['binary']) }), ['2 in AAEC']);
    assert.deepEqual(only({ kinds: new Set(['control', 'text']) }), ['1 in Hello', '1 out Hello', '2 in ']);
    assert.deepEqual(only({ text: 'hello' }), ['1 in Hello', '1 out Hello'], 'plain text ignores case');
    assert.deepEqual(only({ text: 'DONE' }), ['2 in '], 'close reasons are searched');
    assert.deepEqual(only({ text: '^H.l+o$', regex: true }), ['1 in Hello', '1 out Hello']);
    assert.deepEqual(only({ text: '^h', regex: true }), []);
    only({ text: '(', regex: true });
    assert.match(model.filterError ?? '', /Invalid regular expression|Unterminated group/);
    assert.equal(model.view.length, model.rows.length, 'a broken regex filters nothing out');
    assert.deepEqual(KIND_GROUPS, ['text', 'binary', 'control', 'events']);
  });

  it('hides connection events from before the last clear, also in a snapshot after a reload', () => {
    const model = new InspectorModel(100);
    model.applySnapshot({ clients: [client(1, 50), client(2, 150)], frames: [frame(1, 'in', 160, 'x')], status: STATUS });
    assert.deepEqual(describeRow(model), ['2 open', '1 in x']);
  });
});

describe('inspector formats', () => {
  it('reads composed messages as text, JSON (checked), hex and base64', () => {
    assert.deepEqual(encodeCompose('text', 'héllo'), { ok: true, data: 'héllo', binary: false, bytes: 6 });
    assert.deepEqual(encodeCompose('json', '{"a": [1, 2]}'), { ok: true, data: '{"a": [1, 2]}', binary: false, bytes: 13 });
    const bad = encodeCompose('json', '{"a": }');
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /^Not valid JSON/);
    assert.deepEqual(encodeCompose('hex', '0x00 ff:10,7F'), { ok: true, data: Buffer.from([0, 255, 16, 127]).toString('base64'), binary: true, bytes: 4 });
    assert.equal(encodeCompose('hex', 'abc').ok, false, 'an odd number of digits');
    assert.equal(encodeCompose('hex', 'zz').ok, false);
    assert.deepEqual(encodeCompose('base64', 'AAEC\n/w=='), { ok: true, data: 'AAEC/w==', binary: true, bytes: 4 });
    assert.equal(encodeCompose('base64', 'AAE').ok, false);
  });

  it('dumps bytes as offset, hex and printable ASCII', () => {
    const bytes = new Uint8Array([...Buffer.from('Hi!\n'), 0, 255, ...Buffer.from('0123456789abcdef')]);
    assert.equal(hexDump(bytes), [
      '00000000  48 69 21 0a 00 ff 30 31 32 33 34 35 36 37 38 39  Hi!...0123456789',
      '00000010  61 62 63 64 65 66                                abcdef',
    ].join('\n'));
  });

  it('names clients people can recognise, and knows its own client by the marker in its URL', () => {
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
    const edge = `${chrome} Edg/140.0.0.0`;
    const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
    const safari = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
    const name = (extra: Partial<ClientDTO>) => clientName(client(1, 0, extra), 'mine');
    assert.equal(name({ userAgent: chrome }), 'Chrome 140 tab');
    assert.equal(name({ userAgent: edge }), 'Edge 140 tab');
    assert.equal(name({ userAgent: firefox }), 'Firefox 128 tab');
    assert.equal(name({ userAgent: safari }), 'Safari 17 tab');
    assert.equal(name({ userAgent: 'Python/3.11 websockets/10.4' }), 'Python/3.11 websockets/10.4');
    assert.equal(name({}), 'No user agent');
    assert.equal(name({ target: `/websocket?${OWN_CLIENT_PARAM}=mine`, userAgent: chrome }), 'This inspector');
    assert.equal(name({ target: `/websocket?${OWN_CLIENT_PARAM}=theirs`, userAgent: chrome }), 'Inspector');
  });

  it("checks the panel's own messages and the saved messages before the editor acts on them", () => {
    assert.deepEqual(parsePanelRequest({ type: 'webviewOrigin', origin: 'vscode-webview://abc' }), { type: 'webviewOrigin', origin: 'vscode-webview://abc' });
    assert.equal(parsePanelRequest({ type: 'webviewOrigin', origin: 'http://a/b' }), undefined);
    assert.equal(parsePanelRequest({ type: 'export', requestId: 1, fileName: '../x.har', content: '' }), undefined, 'no path in the name');
    assert.deepEqual(parsePanelRequest({ type: 'export', requestId: 1, fileName: 'x.har', content: '{}' }), { type: 'export', requestId: 1, fileName: 'x.har', content: '{}' });
    assert.deepEqual(savedMessagesOf([{ name: 'ping', mode: 'json', body: '{}' }]), [{ name: 'ping', mode: 'json', body: '{}' }]);
    assert.equal(savedMessagesOf([{ name: 'x', mode: 'exe', body: '' }]), undefined);
    assert.equal(savedMessagesOf('nope'), undefined);
  });
});
