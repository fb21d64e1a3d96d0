/**
 * The messages between the inspector UI and whichever host runs it (the editor panel over
 * postMessage, or the CLI's inspector socket). Plain data only: no Node, no vscode, so the UI
 * bundle and both hosts share these types and the one request validator below.
 */

/** From the server's point of view: `in` is what a page sent us, `out` is what we sent it. */
export type Direction = 'in' | 'out';

export type FrameKind = 'text' | 'binary' | 'ping' | 'pong' | 'close';

export type ClientState = 'open' | 'closing' | 'closed';

/** One connected (or recently closed) WebSocket client. Times are epoch ms with a fraction. */
export interface ClientDTO {
  id: number;
  /** The endpoint path the client connected to, e.g. `/websocket`. */
  endpoint: string;
  /** The request target of the handshake as received (path and query). */
  target: string;
  /** The Host header of the handshake, if any. */
  host?: string;
  origin?: string;
  remote: string;
  userAgent?: string;
  /** The negotiated subprotocol, if any. */
  protocol?: string;
  /**
   * `upstream` for a proxy's connection to its upstream (its `target` is the upstream URL, `in`
   * is what the upstream sent us); absent for a client that connected to us.
   */
  leg?: 'upstream';
  /** For an upstream leg: the id of the client it carries. */
  peer?: number;
  /**
   * The HTTP status its handshake was refused with (e.g. 502: a proxy's upstream is down): it never
   * opened; its state is `closed`, with no close code, and why in `closeReason`.
   */
  refused?: number;
  connectedAt: number;
  state: ClientState;
  closedAt?: number;
  closeCode?: number;
  closeReason?: string;
  /** Frames and message bytes captured in each direction (while capturing, since the last clear). */
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** One captured frame. */
export interface FrameDTO {
  /** Increases by one for every captured frame, across clients; survives `clear`. */
  seq: number;
  client: number;
  dir: Direction;
  /** Epoch ms with sub-millisecond fraction. */
  time: number;
  /** The full payload size in bytes, also when the preview is cut. */
  size: number;
  kind: FrameKind;
  /** The preview: UTF-8 text for text frames, base64 for binary, ping and pong, empty for close. */
  data: string;
  /** True when `data` holds only the first bytes of the payload. */
  truncated: boolean;
  /** Close frames only. */
  code?: number;
  reason?: string;
}

/**
 * A frame as the CLI's feed socket writes it in a batch: a FrameDTO's fields as one array (no
 * field names: about 60 % fewer bytes for small frames), `[seq, client, dir, time, size, kind,
 * data, truncated]` plus `code, reason` for a close frame. `time` is in whole µs (the capture's
 * resolution): the first frame's since the epoch, each next one's after the frame before it.
 * `data` is null when the preview repeats the frame just before it (an echo's answer), so an
 * echoed payload is encoded and sent once. `expandFeedFrames` turns them into FrameDTOs again.
 */
export type FeedFrame =
  | [seq: number, client: number, dir: Direction, time: number, size: number, kind: FrameKind, data: string | null, truncated: boolean]
  | [seq: number, client: number, dir: Direction, time: number, size: number, kind: 'close', data: '', truncated: false, code: number | null, reason: string | null];

/** A feed batch's frames as FrameDTOs (a frame that is already a FrameDTO is kept as it is). */
export function expandFeedFrames(frames: ReadonlyArray<FeedFrame | FrameDTO>): FrameDTO[] {
  const out: FrameDTO[] = [];
  let micros: number | undefined;
  for (const frame of frames) {
    if (!Array.isArray(frame)) {
      out.push(frame as FrameDTO);
      continue;
    }
    const [seq, client, dir, time, size, kind, data, truncated, code, reason] = frame as unknown[];
    const previous = out[out.length - 1];
    micros = micros === undefined ? Number(time) : micros + Number(time);
    const dto = {
      seq,
      client,
      dir,
      time: micros / 1000,
      size,
      kind,
      data: typeof data === 'string' ? data : data === null && previous !== undefined ? previous.data : '',
      truncated: truncated === true,
    } as FrameDTO;
    if (kind === 'close') {
      if (typeof code === 'number') dto.code = code;
      if (typeof reason === 'string') dto.reason = reason;
    }
    out.push(dto);
  }
  return out;
}

/** A message read from the CLI's feed as the protocol's HostMessage: a batch's FeedFrames expanded (in place). */
export function expandFeedMessage(message: HostMessage): HostMessage {
  if (message.type === 'batch' && Array.isArray(message.batch?.frames)) message.batch.frames = expandFeedFrames(message.batch.frames);
  return message;
}

export interface CaptureStatusDTO {
  paused: boolean;
  /** The ring's byte budget and what it accounts for now. */
  budgetBytes: number;
  usedBytes: number;
  /** Frames in the ring now. */
  frames: number;
  /** Frames (and their message bytes) dropped from the ring since the last clear to stay in budget. */
  droppedFrames: number;
  droppedBytes: number;
  /** The seq the next captured frame will get. */
  nextSeq: number;
}

/** Everything the capture holds: what a UI that attaches late or reloads starts from. */
export interface CaptureSnapshotDTO {
  clients: ClientDTO[];
  frames: FrameDTO[];
  status: CaptureStatusDTO;
}

export interface CaptureBatchDTO {
  /** Replace all state with this batch (first batch of a subscription, or after a clear). */
  reset: boolean;
  /** Clients that opened or changed since the previous batch (all of them when `reset`). */
  clients: ClientDTO[];
  /** New frames in seq order. A UI ignores frames whose seq it already holds. */
  frames: FrameDTO[];
  /** Frames this subscriber will never get: they left the ring before it could take them. */
  missedFrames: number;
  missedBytes: number;
  status: CaptureStatusDTO;
}

/** Host to UI. */
export type HostMessage =
  | { type: 'snapshot'; snapshot: CaptureSnapshotDTO }
  | { type: 'batch'; batch: CaptureBatchDTO }
  | { type: 'result'; requestId: number; ok: true; sent?: number }
  | { type: 'result'; requestId: number; ok: false; error: string }
  | SavedListMessage;

/** The saved messages, as the host keeps them: the CLI's answer to `loadSaved`, the editor's to `ready`. */
export interface SavedListMessage {
  type: 'saved';
  messages: SavedMessage[];
}

/** Where a push goes: one client, or every open client of an endpoint. */
export type PushTarget = { client: number } | { endpoint: string };

/** UI to host. Requests that act on clients carry a requestId, answered by a `result`. */
export type InspectorRequest =
  | { type: 'ready' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'clear' }
  /** `data` is text, or base64 when `binary`. */
  | { type: 'push'; requestId: number; target: PushTarget; data: string; binary: boolean }
  | { type: 'close'; requestId: number; client: number; code: number; reason: string }
  | { type: 'ping'; requestId: number; client: number }
  /** The CLI's feed only: asks for the saved messages, answered by a `saved` message. */
  | { type: 'loadSaved' }
  /** The CLI's feed only: replaces the saved messages, answered by a `result`. */
  | { type: 'storeSaved'; requestId: number; messages: SavedMessage[] };

/** A close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5: 125 minus the 2-byte code). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Codes an application may send (RFC 6455 §7.4): the defined ones that may be sent, and 3000–4999. */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type ParsedRequest = { ok: true; request: InspectorRequest } | { ok: false; error: string };

/** The fields of each request beside `type`; any other field is refused. */
const REQUEST_FIELDS: Readonly<Record<InspectorRequest['type'], readonly string[]>> = {
  ready: [],
  pause: [],
  resume: [],
  clear: [],
  push: ['requestId', 'target', 'data', 'binary'],
  close: ['requestId', 'client', 'code', 'reason'],
  ping: ['requestId', 'client'],
  loadSaved: [],
  storeSaved: ['requestId', 'messages'],
};

/**
 * Checks a message from the UI before the host acts on it. The UI is ours, but on the CLI its
 * messages arrive over a socket, so the host treats them as input and answers with a precise
 * error. Only the message's own data properties are read (never a getter, never `__proto__`'s
 * target), each after its type is checked; unknown fields are refused. Never throws.
 */
export function parseInspectorRequest(value: unknown): ParsedRequest {
  try {
    return parseRequest(value);
  } catch {
    // Only a value that is not plain data can get here (a Proxy, say): JSON and postMessage never make one.
    return fail('a request must be plain JSON data');
  }
}

function parseRequest(value: unknown): ParsedRequest {
  const message = recordOf(value);
  if (message === undefined) return fail('a request must be an object, such as {"type":"ready"}');
  const type = own(message, 'type');
  if (typeof type !== 'string') return fail('a request needs "type", a string such as "ready"');
  if (!Object.prototype.hasOwnProperty.call(REQUEST_FIELDS, type)) return fail(`unknown request type ${JSON.stringify(type.slice(0, 60))}`);
  const kind = type as InspectorRequest['type'];
  const fields = REQUEST_FIELDS[kind];
  for (const key of Object.keys(message)) {
    if (key === 'type' || fields.includes(key)) continue;
    const expected = fields.length === 0 ? `a ${kind} request has no other field` : `a ${kind} request has ${fields.join(', ')}`;
    return fail(`${kind}: unexpected field ${JSON.stringify(key.slice(0, 60))} (${expected})`);
  }
  switch (kind) {
    case 'ready':
    case 'pause':
    case 'resume':
    case 'clear':
    case 'loadSaved':
      return { ok: true, request: { type: kind } };
    case 'push': {
      const requestId = requestIdOf(message);
      if (requestId === undefined) return fail('push: requestId must be a non-negative integer');
      const target = targetOf(own(message, 'target'));
      if (!target) return fail('push: target must be {client: id} or {endpoint: "/path"}');
      const data = own(message, 'data');
      if (typeof data !== 'string') return fail('push: data must be a string');
      const binary = own(message, 'binary');
      if (typeof binary !== 'boolean') return fail('push: binary must be true or false');
      if (binary && !BASE64.test(data)) return fail('push: binary data must be base64');
      return { ok: true, request: { type: 'push', requestId, target, data, binary } };
    }
    case 'close': {
      const requestId = requestIdOf(message);
      if (requestId === undefined) return fail('close: requestId must be a non-negative integer');
      const client = own(message, 'client');
      if (!isClientId(client)) return fail('close: client must be a client id');
      const code = own(message, 'code');
      if (typeof code !== 'number' || !isSendableCloseCode(code)) {
        return fail('close: code must be 1000–1003, 1007–1014 or 3000–4999');
      }
      const given = own(message, 'reason');
      const reason = given === undefined ? '' : given; // left out (or undefined, after postMessage): no reason
      if (typeof reason !== 'string') return fail('close: reason must be a string');
      if (new TextEncoder().encode(reason).length > MAX_CLOSE_REASON_BYTES) {
        return fail(`close: reason is longer than ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
      }
      return { ok: true, request: { type: 'close', requestId, client, code, reason } };
    }
    case 'ping': {
      const requestId = requestIdOf(message);
      if (requestId === undefined) return fail('ping: requestId must be a non-negative integer');
      const client = own(message, 'client');
      if (!isClientId(client)) return fail('ping: client must be a client id');
      return { ok: true, request: { type: 'ping', requestId, client } };
    }
    case 'storeSaved': {
      const requestId = requestIdOf(message);
      if (requestId === undefined) return fail('storeSaved: requestId must be a non-negative integer');
      const messages = checkSavedMessages(own(message, 'messages'));
      if (!messages.ok) return fail(`storeSaved: ${messages.error}`);
      return { ok: true, request: { type: 'storeSaved', requestId, messages: messages.messages } };
    }
  }
}

function fail(error: string): ParsedRequest {
  return { ok: false, error };
}

/** `value` as a record of its own fields when it is a plain object (not an array, not a class instance). */
function recordOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null ? (value as Record<string, unknown>) : undefined;
}

/** The own data property `key` of `record`, or undefined: never an inherited value, never a getter's. */
function own(record: Record<string, unknown>, key: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(record, key);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}

function requestIdOf(message: Record<string, unknown>): number | undefined {
  const id = own(message, 'requestId');
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

function isClientId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** `{client: id}` or `{endpoint: "/path"}`, with no other field. */
function targetOf(value: unknown): PushTarget | undefined {
  const target = recordOf(value);
  if (target === undefined) return undefined;
  const keys = Object.keys(target);
  if (keys.length !== 1) return undefined;
  if (keys[0] === 'client') {
    const client = own(target, 'client');
    return isClientId(client) ? { client } : undefined;
  }
  if (keys[0] === 'endpoint') {
    const endpoint = own(target, 'endpoint');
    return typeof endpoint === 'string' && endpoint.startsWith('/') ? { endpoint } : undefined;
  }
  return undefined;
}

// ---- The editor panel's own messages ------------------------------------------------------
// The CLI page keeps its saved messages through its feed (loadSaved, storeSaved) and downloads
// exports itself, so only the editor panel carries these; they never reach the CLI's feed socket.

/** How a composed message's text is read: as text, as JSON (validated), or as bytes in hex or base64. */
export type ComposeMode = 'text' | 'json' | 'hex' | 'base64';

/** A message the person saved to send again. */
export interface SavedMessage {
  name: string;
  mode: ComposeMode;
  body: string;
}

/** At most this many saved messages, each body at most MAX_SAVED_BODY characters, each name at most MAX_SAVED_NAME. */
export const MAX_SAVED_MESSAGES = 200;
export const MAX_SAVED_BODY = 64 * 1024;
export const MAX_SAVED_NAME = 200;
/**
 * The whole list as JSON (UTF-8) is at most this many bytes where the CLI keeps it (a file): about
 * what the browser's storage held when the CLI page kept them there. The feed takes a request this big.
 */
export const MAX_SAVED_LIST_BYTES = 8 * 1024 * 1024;

/** Where the UI's own client connects now (the editor says so once it accepts the panel's origin). */
export interface TargetMessage {
  type: 'target';
  running: boolean;
  endpoints: Array<{ path: string; url: string }>;
  /** The served page as the user's browser reaches it. */
  pageUrl?: string;
  /** The served folder's name. */
  folder?: string;
  /** Editor only: the followed folder, which the panel keeps in its (small) state for a window reload. */
  folderUri?: string;
}

/** Editor to panel, beside the HostMessages. */
export type PanelHostMessage = TargetMessage | { type: 'saved'; messages: SavedMessage[] };

/** Panel to editor, beside the InspectorRequests. */
export type PanelRequest =
  /** The page's origin (location.origin), which the editor lets its server accept. */
  | { type: 'webviewOrigin'; origin: string }
  | { type: 'saveMessages'; messages: SavedMessage[] }
  /** Asks the editor to save an export: a save dialog, then the file. Answered by a `result`. */
  | { type: 'export'; requestId: number; fileName: string; content: string }
  | { type: 'openInBrowser' }
  | { type: 'copyUrl' };

/** An origin as `location.origin` gives it: scheme://host[:port], nothing else. */
export const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@]+$/i;
const MODES: readonly string[] = ['text', 'json', 'hex', 'base64'];
/** A file name for the save dialog's default: no path, no control characters. */
// eslint-disable-next-line no-control-regex
const FILE_NAME = /^[^\\/:*?"<>|\u0000-\u001f]{1,120}$/;

/** Checks one of the panel's own messages; undefined when it is not one (or not well formed). */
export function parsePanelRequest(value: unknown): PanelRequest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'webviewOrigin':
      return typeof message.origin === 'string' && ORIGIN.test(message.origin) ? { type: 'webviewOrigin', origin: message.origin } : undefined;
    case 'saveMessages': {
      const messages = savedMessagesOf(message.messages);
      return messages && { type: 'saveMessages', messages };
    }
    case 'export': {
      const requestId = requestIdOf(message);
      if (requestId === undefined || typeof message.content !== 'string') return undefined;
      if (typeof message.fileName !== 'string' || !FILE_NAME.test(message.fileName)) return undefined;
      return { type: 'export', requestId, fileName: message.fileName, content: message.content };
    }
    case 'openInBrowser':
    case 'copyUrl':
      return { type: message.type };
    default:
      return undefined;
  }
}

/** The saved messages in `value` when it is a well-formed list within the limits; else undefined. */
export function savedMessagesOf(value: unknown): SavedMessage[] | undefined {
  try {
    const checked = checkSavedMessages(value);
    return checked.ok ? checked.messages : undefined;
  } catch {
    return undefined; // not plain data (a Proxy): never a list
  }
}

/** What a saved list may hold, in words, for an error. */
const SAVED_RULE =
  `a list of at most ${MAX_SAVED_MESSAGES} {name, mode, body}: a name of 1–${MAX_SAVED_NAME} characters, ` +
  `mode text, json, hex or base64, a body of at most ${MAX_SAVED_BODY} characters`;

/**
 * `value` as saved messages (their name, mode and body only, copied), or why it is not a list
 * within the limits. Reads only own data properties, as parseInspectorRequest does.
 */
export function checkSavedMessages(value: unknown): { ok: true; messages: SavedMessage[] } | { ok: false; error: string } {
  if (!Array.isArray(value)) return { ok: false, error: `messages must be ${SAVED_RULE}` };
  if (value.length > MAX_SAVED_MESSAGES) return { ok: false, error: `${value.length} messages are more than the ${MAX_SAVED_MESSAGES} that may be saved` };
  const messages: SavedMessage[] = [];
  for (let i = 0; i < value.length; i++) {
    const item = recordOf(own(value as unknown as Record<string, unknown>, String(i)));
    const bad = (what: string): { ok: false; error: string } => ({ ok: false, error: `message ${i + 1}: ${what} (messages must be ${SAVED_RULE})` });
    if (item === undefined) return bad('not an object');
    const [name, mode, body] = [own(item, 'name'), own(item, 'mode'), own(item, 'body')];
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_SAVED_NAME) return bad('bad name');
    if (typeof mode !== 'string' || !MODES.includes(mode)) return bad('bad mode');
    if (typeof body !== 'string') return bad('bad body');
    if (body.length > MAX_SAVED_BODY) return bad(`a body of ${body.length} characters`);
    messages.push({ name, mode: mode as ComposeMode, body });
  }
  return { ok: true, messages };
}

/**
 * What the page that hosts the UI tells it at load, as JSON in
 * `<script type="application/json" id="echo-preview-config">` (data, never run).
 * The editor panel and the CLI's inspector page both write it.
 */
export interface InspectorConfig {
  /** Which host runs the UI: the editor panel (postMessage) or the CLI (the feed socket). */
  host: 'vscode' | 'cli';
  /** CLI only: the inspector's feed socket, with its per-run token. */
  feedUrl?: string;
  /**
   * Each endpoint's WebSocket URL as this page reaches it, for the UI's own client. In the editor
   * the UI waits for a `target` message before it connects (the origin must be accepted first).
   */
  endpoints: Array<{ path: string; url: string }>;
  /** CLI only: the served folder's address (the inspector's page is on an origin of its own). */
  pageUrl?: string;
  /** Echo Preview's version, for the HAR export's creator. */
  version?: string;
  /** The served folder's name: shown in the title; the CLI page keys its saved messages by it. */
  folder?: string;
}

/**
 * The query parameter the UI's own client adds to its endpoint URL, with a random value per
 * page, so the UI can tell its own client in the capture (the server ignores the query).
 */
export const OWN_CLIENT_PARAM = 'echo-preview-inspector';

/** The id of the element that carries the InspectorConfig JSON. */
export const CONFIG_ELEMENT_ID = 'echo-preview-config';
