/** The editor panel as the UI's host: postMessage both ways, webview state, saves through the editor. */
import type { HostMessage, PanelHostMessage, PanelRequest, SavedMessage } from '../../shared/protocol';
import type { FeedState, UiHost, UiState } from './host';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export function vscodeHost(): UiHost {
  const api = acquireVsCodeApi();
  const post = (message: PanelRequest | { type: string }): void => api.postMessage(message);
  // Export ids live in their own range, far from the UI's push and close request ids.
  let nextExport = 1_000_000_000;
  const exports = new Map<number, (outcome: string) => void>();

  return {
    kind: 'vscode',
    start(listener) {
      window.addEventListener('message', (event: MessageEvent) => {
        const message = event.data as HostMessage | PanelHostMessage | null;
        if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
        // Export results are ours; every other message is the UI's.
        if (message.type === 'result' && exports.has(message.requestId)) {
          const settle = exports.get(message.requestId)!;
          exports.delete(message.requestId);
          settle(message.ok ? 'Saved.' : message.error);
          return;
        }
        listener(message);
      });
      // The origin first: the editor lets its server accept it, then says where to connect.
      post({ type: 'webviewOrigin', origin: location.origin });
      post({ type: 'ready' });
    },
    request(request) {
      post(request);
    },
    onFeedState(listener: (state: FeedState) => void) {
      listener('open');
    },
    loadState() {
      const state = api.getState();
      return typeof state === 'object' && state !== null ? (state as UiState) : {};
    },
    saveState(state) {
      api.setState(state);
    },
    storeSaved(messages: SavedMessage[]) {
      post({ type: 'saveMessages', messages });
    },
    exportFile(fileName, _mimeType, content) {
      const requestId = nextExport++;
      return new Promise((resolve) => {
        exports.set(requestId, resolve);
        post({ type: 'export', requestId, fileName, content });
      });
    },
    openInBrowser: () => post({ type: 'openInBrowser' }),
    copyUrl: () => post({ type: 'copyUrl' }),
  };
}
