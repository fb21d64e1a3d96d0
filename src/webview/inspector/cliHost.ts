/**
 * The CLI's page as the UI's host: the feed is a WebSocket to `feedUrl` (with its token),
 * reconnecting with backoff; saved messages live in localStorage, state in sessionStorage (both
 * of the inspector's own origin, which no page of the folder shares), and exports are downloads.
 */
import { expandFeedMessage, savedMessagesOf, type HostMessage, type InspectorConfig, type PanelHostMessage } from '../../shared/protocol';
import type { FeedState, UiHost, UiState } from './host';

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
const STATE_KEY = 'echo-preview:inspector-state';

function storage(kind: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    return window[kind];
  } catch {
    return undefined; // storage disabled: nothing is kept
  }
}

export function cliHost(config: InspectorConfig): UiHost {
  const savedKey = `echo-preview:saved:${config.folder ?? ''}`;
  let socket: WebSocket | undefined;
  let feedListener: (state: FeedState) => void = () => undefined;
  let retryMs = RETRY_FIRST_MS;

  return {
    kind: 'cli',
    start(listener: (message: HostMessage | PanelHostMessage) => void) {
      listener({ type: 'target', running: config.endpoints.length > 0, endpoints: config.endpoints, folder: config.folder, pageUrl: config.pageUrl });
      const saved = savedMessagesOf(parseJson(storage('localStorage')?.getItem(savedKey)));
      listener({ type: 'saved', messages: saved ?? [] });
      const connect = (): void => {
        if (!config.feedUrl) return feedListener('closed');
        feedListener('connecting');
        const ws = new WebSocket(config.feedUrl);
        socket = ws;
        ws.onopen = () => {
          retryMs = RETRY_FIRST_MS;
          feedListener('open');
          ws.send(JSON.stringify({ type: 'ready' }));
        };
        ws.onmessage = (event: MessageEvent) => {
          if (typeof event.data !== 'string') return;
          const message = parseJson(event.data) as HostMessage | null;
          if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
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
      const state = parseJson(storage('sessionStorage')?.getItem(STATE_KEY));
      return typeof state === 'object' && state !== null ? (state as UiState) : {};
    },
    saveState(state) {
      storage('sessionStorage')?.setItem(STATE_KEY, JSON.stringify(state));
    },
    storeSaved(messages) {
      try {
        storage('localStorage')?.setItem(savedKey, JSON.stringify(messages));
      } catch {
        // Quota exceeded: the list stays for this page only.
      }
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
