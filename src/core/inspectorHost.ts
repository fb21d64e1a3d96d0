/**
 * What both inspector hosts (the editor panel and the CLI's inspector socket) share: capture
 * batches and snapshots turned into protocol messages, and UI requests applied to the capture
 * and the clients.
 */
import type { CaptureBatchDTO, CaptureSnapshotDTO, FrameDTO, HostMessage, InspectorRequest } from '../protocol';
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
    data: frame.kind === 'text' ? frame.preview.toString('utf8') : frame.preview.toString('base64'),
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

/** The `batch` message as JSON: exactly what JSON.stringify({ type: 'batch', batch: toBatchDTO(batch) }) writes. */
export function batchMessageJson(batch: CaptureBatch): string {
  let previewBytes = 0;
  for (const frame of batch.frames) previewBytes += frame.previewLength;
  if (previewBytes < HAND_WRITTEN_PREVIEW_BYTES * batch.frames.length) return JSON.stringify({ type: 'batch', batch: toBatchDTO(batch) } satisfies HostMessage);
  const frames = batch.frames.map(frameJson).join(',');
  return (
    `{"type":"batch","batch":{"reset":${batch.reset},"clients":${JSON.stringify(batch.clients)},"frames":[${frames}],` +
    `"missedFrames":${batch.missedFrames},"missedBytes":${batch.missedBytes},"status":${JSON.stringify(batch.status)}}}`
  );
}

/** toFrameDTO's object as JSON. Every number here is finite, so its text is what JSON.stringify writes. */
function frameJson(frame: CapturedFrame): string {
  const data = frame.kind === 'text' ? JSON.stringify(frame.preview.toString('utf8')) : `"${frame.preview.toString('base64')}"`;
  let close = '';
  if (frame.kind === 'close') {
    if (frame.code !== undefined) close += `,"code":${frame.code}`;
    if (frame.reason !== undefined) close += `,"reason":${JSON.stringify(frame.reason)}`;
  }
  return `{"seq":${frame.seq},"client":${frame.client},"dir":"${frame.dir}","time":${frame.time},"size":${frame.size},"kind":"${frame.kind}","data":${data},"truncated":${frame.truncated}${close}}`;
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
