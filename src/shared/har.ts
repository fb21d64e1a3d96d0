/**
 * Capture exports: HAR 1.2 with Chrome DevTools' `_webSocketMessages` (what DevTools exports and
 * imports), and JSON lines. Pure functions of protocol data with no Node import, so the inspector
 * UI bundles this module as well as the hosts.
 */
import type { ClientDTO, FrameDTO } from './protocol';

export interface HarNameValue {
  name: string;
  value: string;
}

/** One entry of Chrome's `_webSocketMessages`; `time` is epoch seconds with a fraction. */
export interface HarWebSocketMessage {
  type: 'send' | 'receive';
  time: number;
  opcode: 1 | 2;
  /** Text as text; binary as base64. Only the captured preview when `_truncated`. */
  data: string;
  /** Set when `data` is only the start of the message: the message's full size in bytes. */
  _size?: number;
  _truncated?: true;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: 'GET';
    url: string;
    httpVersion: string;
    headers: HarNameValue[];
    queryString: HarNameValue[];
    cookies: [];
    headersSize: number;
    bodySize: number;
  };
  response: {
    /** 101, or the status a refused handshake was answered with. */
    status: number;
    statusText: string;
    httpVersion: string;
    headers: HarNameValue[];
    cookies: [];
    content: { size: number; mimeType: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: { blocked: number; dns: number; connect: number; send: number; wait: number; receive: number; ssl: number };
  _resourceType: 'websocket';
  _webSocketMessages: HarWebSocketMessage[];
  /** Echo Preview's own record of the client: who it was and how it ended. */
  _client: { id: number; remote: string; state: ClientDTO['state']; refused?: number; closeCode?: number; closeReason?: string; closedDateTime?: string };
}

export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    /** Empty, but present: DevTools' importer reads `log.pages` unconditionally. */
    pages: [];
    entries: HarEntry[];
  };
}

export interface ExportInput {
  clients: readonly ClientDTO[];
  frames: readonly FrameDTO[];
}

export interface HarOptions {
  /** Echo Preview's version, for `log.creator`. */
  version: string;
  /** The scheme the clients connected with. Default `ws`. */
  scheme?: 'ws' | 'wss';
}

/**
 * One HAR entry per client (its 101 handshake), oldest first, each with its text and binary
 * frames as `_webSocketMessages`. From the server's side `in` is the page's `send` and `out` its
 * `receive`. Control frames (ping, pong, close) have no place in Chrome's format and are left
 * out; the close code and reason are in `_client`. Frames of clients not listed are left out.
 */
export function toHar(input: ExportInput, options: HarOptions): Har {
  const messages = new Map<number, HarWebSocketMessage[]>();
  for (const frame of [...input.frames].sort((a, b) => a.seq - b.seq)) {
    if (frame.kind !== 'text' && frame.kind !== 'binary') continue;
    const message: HarWebSocketMessage = {
      type: frame.dir === 'in' ? 'send' : 'receive',
      time: frame.time / 1000,
      opcode: frame.kind === 'text' ? 1 : 2,
      data: frame.data,
    };
    if (frame.truncated) Object.assign(message, { _size: frame.size, _truncated: true });
    const list = messages.get(frame.client);
    if (list) list.push(message);
    else messages.set(frame.client, [message]);
  }
  const clients = [...input.clients].sort((a, b) => a.connectedAt - b.connectedAt || a.id - b.id);
  return {
    log: {
      version: '1.2',
      creator: { name: 'Echo Preview', version: options.version },
      pages: [],
      entries: clients.map((client) => entryOf(client, messages.get(client.id) ?? [], options.scheme ?? 'ws')),
    },
  };
}

function entryOf(client: ClientDTO, messages: HarWebSocketMessage[], scheme: string): HarEntry {
  const host = client.host || 'localhost';
  const query = client.target.indexOf('?');
  const queryString = query === -1 ? [] : [...new URLSearchParams(client.target.slice(query + 1))].map(([name, value]) => ({ name, value }));
  const requestHeaders: HarNameValue[] = [
    { name: 'Host', value: host },
    { name: 'Upgrade', value: 'websocket' },
    { name: 'Connection', value: 'Upgrade' },
    { name: 'Sec-WebSocket-Version', value: '13' },
  ];
  if (client.origin !== undefined) requestHeaders.push({ name: 'Origin', value: client.origin });
  if (client.userAgent !== undefined) requestHeaders.push({ name: 'User-Agent', value: client.userAgent });
  if (client.protocol) requestHeaders.push({ name: 'Sec-WebSocket-Protocol', value: client.protocol });
  // A refused handshake (ClientDTO.refused) was answered with that status, not 101.
  const responseHeaders: HarNameValue[] = client.refused !== undefined ? [] : [
    { name: 'Upgrade', value: 'websocket' },
    { name: 'Connection', value: 'Upgrade' },
  ];
  if (client.protocol) responseHeaders.push({ name: 'Sec-WebSocket-Protocol', value: client.protocol });
  const record: HarEntry['_client'] = { id: client.id, remote: client.remote, state: client.state };
  if (client.refused !== undefined) record.refused = client.refused;
  if (client.state === 'closed') {
    record.closeCode = client.closeCode;
    record.closeReason = client.closeReason;
    if (client.closedAt !== undefined) record.closedDateTime = isoTime(client.closedAt);
  }
  return {
    startedDateTime: isoTime(client.connectedAt),
    // The handshake's own timings were not measured: zero, as HAR allows, with unknown phases -1.
    time: 0,
    request: {
      method: 'GET',
      url: `${scheme}://${host}${client.target}`,
      httpVersion: 'HTTP/1.1',
      headers: requestHeaders,
      queryString,
      cookies: [],
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: client.refused ?? 101,
      statusText: client.refused === undefined ? 'Switching Protocols' : '',
      httpVersion: 'HTTP/1.1',
      headers: responseHeaders,
      cookies: [],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: -1,
      bodySize: 0,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, send: 0, wait: 0, receive: 0, ssl: -1 },
    _resourceType: 'websocket',
    _webSocketMessages: messages,
    _client: record,
  };
}

function isoTime(epochMs: number): string {
  return new Date(Math.floor(epochMs)).toISOString();
}

/**
 * JSON lines: one object per line, every client first (`"type":"client"`), then every frame in
 * seq order (`"type":"frame"`), each with the fields of the protocol's ClientDTO / FrameDTO.
 */
export function toJsonLines(input: ExportInput): string {
  const lines: string[] = [];
  for (const client of input.clients) lines.push(JSON.stringify({ type: 'client', ...client }));
  for (const frame of [...input.frames].sort((a, b) => a.seq - b.seq)) lines.push(JSON.stringify({ type: 'frame', ...frame }));
  return lines.length ? `${lines.join('\n')}\n` : '';
}
