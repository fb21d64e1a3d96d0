/**
 * The UI's own WebSocket client of an endpoint: it carries a marker in its URL (so the UI knows
 * itself in the capture), reconnects with backoff while the server runs, and keeps only a
 * preview of the latest reply.
 */
import { OWN_CLIENT_PARAM } from '../../shared/protocol';
import { formatSize } from './format';

export type OwnState = 'connecting' | 'open' | 'closed' | 'stopped';

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
/** The latest reply is shown up to this many characters. */
export const REPLY_CHARS = 4096;

export interface Reply {
  text: string;
}

export class OwnClient {
  /** A random marker per page load, in the query of every connection this client makes. */
  readonly marker = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
  private socket: WebSocket | undefined;
  private url: string | undefined;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly onState: (state: OwnState, detail: string) => void,
    private readonly onReply: (reply: Reply) => void,
  ) {}

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connects to `url` (or stays connected if it is the same); undefined: the server stopped. */
  target(url: string | undefined): void {
    if (url === this.url && (this.socket || this.retryTimer)) return;
    this.disconnect();
    this.url = url;
    if (url === undefined) {
      this.onState('stopped', 'Server stopped');
      return;
    }
    this.retryMs = RETRY_FIRST_MS;
    this.connect();
  }

  /** Sends text or bytes; false when not connected. */
  send(payload: string | Uint8Array): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(payload);
    return true;
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.url === undefined) return;
    this.onState('connecting', 'Connecting…');
    const url = new URL(this.url);
    url.searchParams.set(OWN_CLIENT_PARAM, this.marker);
    const ws = new WebSocket(url.href);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.onopen = () => {
      this.retryMs = RETRY_FIRST_MS;
      this.onState('open', 'Connected');
    };
    ws.onmessage = (event: MessageEvent) => {
      const data: unknown = event.data;
      if (typeof data === 'string') {
        const cut = data.length > REPLY_CHARS;
        this.onReply({ text: cut ? `${data.slice(0, REPLY_CHARS)}… (${formatSize(new TextEncoder().encode(data).length)} in all)` : data });
      } else if (data instanceof ArrayBuffer) {
        this.onReply({ text: `[binary ${formatSize(data.byteLength)}]` });
      }
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      if (this.url === undefined) return;
      this.onState('closed', `Disconnected (${event.code}), retrying…`);
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    };
  }

  private disconnect(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const ws = this.socket;
    this.socket = undefined;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'inspector retargeted');
  }
}
