/**
 * The CLI's page as the UI's host: the feed is a WebSocket to `feedUrl` (with its token),
 * reconnecting with backoff; saved messages are the CLI's, asked for and stored over the feed
 * (never in the browser: an origin's storage is open to whatever is served there another day);
 * state in sessionStorage (of the inspector's own origin, new each run); exports are downloads.
 */
import { expandFeedMessage, type HostMessage, type InspectorConfig, type PanelHostMessage, type SavedMessage } from '../../shared/protocol';
import type { FeedState, UiHost, UiState } from './host';

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
const STATE_KEY = 'echo-preview:inspector-state';
/** The requestIds of storeSaved: a range of their own, far from the UI's push and close ids. */
const FIRST_STORE_ID = 2_000_000_000;

function sessionStorage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: nothing is kept
  }
}

export function cliHost(config: InspectorConfig): UiHost {
  let socket: WebSocket | undefined;
  /** A list saved while the feed was down (or not yet answered): sent when it opens, before asking for the CLI's. */
  let unsent: SavedMessage[] | undefined;
  let nextStoreId = FIRST_STORE_ID;
  const sendStore = (ws: WebSocket, messages: SavedMessage[]): void => ws.send(JSON.stringify({ type: 'storeSaved', requestId: nextStoreId++, messages }));
  let feedListener: (state: FeedState) => void = () => undefined;
  let retryMs = RETRY_FIRST_MS;

  return {
    kind: 'cli',
    start(listener: (message: HostMessage | PanelHostMessage) => void) {
      listener({ type: 'target', running: config.endpoints.length > 0, endpoints: config.endpoints, folder: config.folder, pageUrl: config.pageUrl });
      const connect = (): void => {
        if (!config.feedUrl) return feedListener('closed');
        feedListener('connecting');
        const ws = new WebSocket(config.feedUrl);
        socket = ws;
        ws.onopen = () => {
          retryMs = RETRY_FIRST_MS;
          feedListener('open');
          ws.send(JSON.stringify({ type: 'ready' }));
          // What was saved meanwhile replaces the CLI's list; else the CLI's is shown.
          if (unsent !== undefined) sendStore(ws, unsent);
          else ws.send(JSON.stringify({ type: 'loadSaved' }));
        };
        ws.onmessage = (event: MessageEvent) => {
          if (typeof event.data !== 'string') return;
          const message = parseJson(event.data) as HostMessage | null;
          if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
          if (message.type === 'result' && message.requestId >= FIRST_STORE_ID) {
            if (message.requestId === nextStoreId - 1) unsent = undefined; // the last list is kept (or refused: the toast says why)
            if (!message.ok) listener({ ...message, error: `The saved messages were not kept: ${message.error}` });
            return;
          }
          // A batch's frames come as arrays, an echo's repeated preview once (protocol.ts, FeedFrame).
          listener(expandFeedMessage(message));
        };
        ws.onclose = () => {
          if (socket !== ws) return;
          socket = undefined;
          feedListener('closed');
          setTimeout(connect, retryMs);
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        };
      };
      connect();
    },
    request(request) {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(request));
    },
    onFeedState(listener) {
      feedListener = listener;
    },
    loadState() {
      const state = parseJson(sessionStorage()?.getItem(STATE_KEY));
      return typeof state === 'object' && state !== null ? (state as UiState) : {};
    },
    saveState(state) {
      sessionStorage()?.setItem(STATE_KEY, JSON.stringify(state));
    },
    storeSaved(messages) {
      unsent = messages;
      if (socket?.readyState === WebSocket.OPEN) sendStore(socket, messages);
    },
    async exportFile(fileName, mimeType, content) {
      const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
      const link = document.createElement('a');
      link.href = url;
      link.download = fileName;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      // The download has its own copy once click() returns; the URL can go on the next turn.
      setTimeout(() => URL.revokeObjectURL(url), 0);
      return `Downloaded ${fileName}.`;
    },
  };
}

function parseJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
