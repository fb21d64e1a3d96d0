/**
 * What both inspector hosts (the editor panel and the CLI's inspector socket) share: capture
 * batches and snapshots turned into protocol messages, and UI requests applied to the capture
 * and the clients.
 */
import type { CaptureBatchDTO, CaptureSnapshotDTO, FeedFrameDTO, FrameDTO, HostMessage, InspectorRequest } from '../protocol';
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

/** Previews shorter than this are sent again rather than as a `same` reference (which is about as long). */
const MIN_SHARED_PREVIEW_BYTES = 8;

/** True when `frame` repeats the preview of the frame before it, and the feed sends it as `same`. */
function repeats(frame: CapturedFrame, before: CapturedFrame | undefined): before is CapturedFrame {
  return (
    before !== undefined &&
    frame.previewLength >= MIN_SHARED_PREVIEW_BYTES &&
    before.kind === frame.kind &&
    frame.kind !== 'close' &&
    frame.samePreview(before)
  );
}

/** A frame as the feed writes it: as toFrameDTO, or with `same` for a preview that repeats the one before. */
function toFeedFrameDTO(frame: CapturedFrame, before: CapturedFrame | undefined): FeedFrameDTO {
  if (!repeats(frame, before)) return toFrameDTO(frame);
  return { seq: frame.seq, client: frame.client, dir: frame.dir, time: frame.time, size: frame.size, kind: frame.kind, same: before.seq, truncated: frame.truncated };
}

/**
 * The `batch` message as the CLI's feed writes it: JSON.stringify({ type: 'batch', batch: toBatchDTO(batch) }),
 * except that a frame whose preview repeats the frame before it (an echo's answer) carries
 * `"same":<seq>` instead of its data (FeedFrameDTO; expandFeedFrames undoes it).
 */
export function batchMessageJson(batch: CaptureBatch): string {
  const { frames } = batch;
  let previewBytes = 0;
  for (const frame of frames) previewBytes += frame.previewLength;
  if (previewBytes < HAND_WRITTEN_PREVIEW_BYTES * frames.length) {
    const dtos = frames.map((frame, i) => toFeedFrameDTO(frame, frames[i - 1]));
    return JSON.stringify({ type: 'batch', batch: { ...batch, frames: dtos } });
  }
  const json = frames.map((frame, i) => frameJson(frame, frames[i - 1])).join(',');
  return (
    `{"type":"batch","batch":{"reset":${batch.reset},"clients":${JSON.stringify(batch.clients)},"frames":[${json}],` +
    `"missedFrames":${batch.missedFrames},"missedBytes":${batch.missedBytes},"status":${JSON.stringify(batch.status)}}}`
  );
}

/** toFeedFrameDTO's object as JSON. Every number here is finite, so its text is what JSON.stringify writes. */
function frameJson(frame: CapturedFrame, before: CapturedFrame | undefined): string {
  const head = `{"seq":${frame.seq},"client":${frame.client},"dir":"${frame.dir}","time":${frame.time},"size":${frame.size},"kind":"${frame.kind}",`;
  if (repeats(frame, before)) return `${head}"same":${before.seq},"truncated":${frame.truncated}}`;
  const data = frame.kind === 'text' ? JSON.stringify(frame.previewString('utf8')) : `"${frame.previewString('base64')}"`;
  let close = '';
  if (frame.kind === 'close') {
    if (frame.code !== undefined) close += `,"code":${frame.code}`;
    if (frame.reason !== undefined) close += `,"reason":${JSON.stringify(frame.reason)}`;
  }
  return `${head}"data":${data},"truncated":${frame.truncated}${close}}`;
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
  }
}

function ok(requestId: number, sent?: number): HostMessage {
  return sent === undefined ? { type: 'result', requestId, ok: true } : { type: 'result', requestId, ok: true, sent };
}

function notOpen(requestId: number, client: number): HostMessage {
  return { type: 'result', requestId, ok: false, error: `client #${client} is not open` };
}
