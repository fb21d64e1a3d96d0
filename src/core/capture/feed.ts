/**
 * What both inspector hosts (the editor panel and the CLI's inspector socket) share: capture
 * batches and snapshots turned into protocol messages, and UI requests applied to the capture
 * and the clients.
 */
import type { CaptureBatchDTO, CaptureSnapshotDTO, FeedFrame, FrameDTO, HostMessage, InspectorRequest } from '../../shared/protocol';
import type { Capture, CaptureBatch, CaptureSnapshot, CapturedFrame, ClientControl } from './capture';

/** A frame as the UI gets it: text previews as text, other payloads as base64. */
export function toFrameDTO(frame: CapturedFrame): FrameDTO {
  const dto: FrameDTO = {
    seq: frame.seq,
    client: frame.client,
    dir: frame.dir,
    time: frame.time,
    size: frame.size,
    kind: frame.kind,
    data: frame.previewString(frame.kind === 'text' ? 'utf8' : 'base64'),
    truncated: frame.truncated,
  };
  if (frame.kind === 'close') {
    dto.code = frame.code;
    dto.reason = frame.reason;
  }
  return dto;
}

export function toBatchDTO(batch: CaptureBatch): CaptureBatchDTO {
  return { ...batch, frames: batch.frames.map(toFrameDTO) };
}

/**
 * Previews this long on average make a batch worth writing by hand: JSON.stringify scans every
 * character of a base64 preview for something to escape (there never is), which made it 14 % of
 * the server's time with the inspector open under 4 × 64 KiB echoes; for small frames its own
 * fast path beats building the text piece by piece (BENCHMARKS.md, issue 13).
 */
const HAND_WRITTEN_PREVIEW_BYTES = 512;

/** True when `frame` repeats the preview of the frame before it: the feed sends its data as null. */
function repeats(frame: CapturedFrame, before: CapturedFrame | undefined): boolean {
  return before !== undefined && frame.previewLength > 0 && before.kind === frame.kind && frame.kind !== 'close' && frame.samePreview(before);
}

/** A frame's time in whole µs (captureNow's resolution), exact as an integer. */
function micros(frame: CapturedFrame): number {
  return Math.round(frame.time * 1000);
}

/**
 * A frame as the feed writes it (FeedFrame): toFrameDTO's fields as an array, its time in µs
 * after the frame before it (absolute for the first), a repeated preview as null.
 */
function toFeedFrame(frame: CapturedFrame, before: CapturedFrame | undefined): FeedFrame {
  const time = before === undefined ? micros(frame) : micros(frame) - micros(before);
  if (frame.kind === 'close') return [frame.seq, frame.client, frame.dir, time, frame.size, 'close', '', false, frame.code ?? null, frame.reason ?? null];
  const data = repeats(frame, before) ? null : frame.previewString(frame.kind === 'text' ? 'utf8' : 'base64');
  return [frame.seq, frame.client, frame.dir, time, frame.size, frame.kind, data, frame.truncated];
}

/**
 * The `batch` message as the CLI's feed writes it: JSON.stringify({ type: 'batch', batch }) with
 * each frame a FeedFrame (protocol.ts; expandFeedFrames makes the CaptureBatchDTO again).
 */
export function batchMessageJson(batch: CaptureBatch): string {
  const { frames } = batch;
  let previewBytes = 0;
  for (const frame of frames) previewBytes += frame.previewLength;
  if (previewBytes < HAND_WRITTEN_PREVIEW_BYTES * frames.length) {
    return JSON.stringify({ type: 'batch', batch: { ...batch, frames: frames.map((frame, i) => toFeedFrame(frame, frames[i - 1])) } });
  }
  const json = frames.map((frame, i) => feedFrameJson(frame, frames[i - 1])).join(',');
  return (
    `{"type":"batch","batch":{"reset":${batch.reset},"clients":${JSON.stringify(batch.clients)},"frames":[${json}],` +
    `"missedFrames":${batch.missedFrames},"missedBytes":${batch.missedBytes},"status":${JSON.stringify(batch.status)}}}`
  );
}

/** toFeedFrame's array as JSON. Every number here is a finite integer, so its text is what JSON.stringify writes. */
function feedFrameJson(frame: CapturedFrame, before: CapturedFrame | undefined): string {
  if (frame.kind === 'close') return JSON.stringify(toFeedFrame(frame, before));
  let data = 'null';
  if (!repeats(frame, before)) data = frame.kind === 'text' ? JSON.stringify(frame.previewString('utf8')) : `"${frame.previewString('base64')}"`;
  const time = before === undefined ? micros(frame) : micros(frame) - micros(before);
  return `[${frame.seq},${frame.client},"${frame.dir}",${time},${frame.size},"${frame.kind}",${data},${frame.truncated}]`;
}

export function toSnapshotDTO(snapshot: CaptureSnapshot): CaptureSnapshotDTO {
  return { ...snapshot, frames: snapshot.frames.map(toFrameDTO) };
}

/**
 * Carries out one (already validated, see parseInspectorRequest) request from the UI. Returns the
 * message to send back, if any: a snapshot for `ready`, a result for the client actions.
 */
export function applyInspectorRequest(request: InspectorRequest, capture: Capture, control: ClientControl): HostMessage | undefined {
  switch (request.type) {
    case 'ready':
      return { type: 'snapshot', snapshot: toSnapshotDTO(capture.snapshot()) };
    case 'pause':
      capture.pause();
      return undefined;
    case 'resume':
      capture.resume();
      return undefined;
    case 'clear':
      capture.clear();
      return undefined;
    case 'push': {
      const data = request.binary ? Buffer.from(request.data, 'base64') : request.data;
      if ('client' in request.target) {
        const sent = control.send(request.target.client, data, request.binary);
        return sent ? ok(request.requestId, 1) : notOpen(request.requestId, request.target.client);
      }
      const sent = control.sendToEndpoint(request.target.endpoint, data, request.binary);
      return sent > 0 ? ok(request.requestId, sent) : { type: 'result', requestId: request.requestId, ok: false, error: `no open client on ${request.target.endpoint}` };
    }
    case 'close':
      return control.close(request.client, request.code, request.reason) ? ok(request.requestId) : notOpen(request.requestId, request.client);
    case 'ping':
      return control.ping(request.client) ? ok(request.requestId) : notOpen(request.requestId, request.client);
    case 'loadSaved':
    case 'storeSaved':
      // The CLI feed's (inspector/saved.ts, asynchronous); the editor keeps its own (saveMessages).
      return undefined;
  }
}

function ok(requestId: number, sent?: number): HostMessage {
  return sent === undefined ? { type: 'result', requestId, ok: true } : { type: 'result', requestId, ok: true, sent };
}

function notOpen(requestId: number, client: number): HostMessage {
  return { type: 'result', requestId, ok: false, error: `client #${client} is not open` };
}
