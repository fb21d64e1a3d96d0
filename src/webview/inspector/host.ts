/**
 * The one seam between the inspector UI and whatever hosts it: the editor panel (postMessage)
 * or the CLI's page (its feed socket). The UI speaks only the protocol's messages through this.
 */
import { CONFIG_ELEMENT_ID, type HostMessage, type InspectorConfig, type InspectorRequest, type PanelHostMessage, type SavedMessage } from '../../shared/protocol';

/** The state a host keeps across hides and reloads for the UI: small on purpose. */
export interface UiState {
  /** The editor panel's followed folder: its serializer reads it after a window reload. */
  folderUri?: string;
  filters?: { direction?: string; kinds?: string[]; text?: string; regex?: boolean };
  draft?: string;
  /** Connection events before this time are hidden: the person cleared the timeline then. */
  clearedAt?: number;
}

export type FeedState = 'connecting' | 'open' | 'closed';

export interface UiHost {
  readonly kind: InspectorConfig['host'];
  /** Starts listening; the host then says 'target' (where to connect) and sends what the capture holds. */
  start(listener: (message: HostMessage | PanelHostMessage) => void): void;
  /** Sends a request to the capture side (dropped while the feed is down). */
  request(request: InspectorRequest): void;
  /** The feed itself (the CLI's socket; the editor's channel is always open). */
  onFeedState(listener: (state: FeedState) => void): void;
  loadState(): UiState;
  saveState(state: UiState): void;
  /** Keeps the saved messages where the host keeps them (the editor's workspace state, the CLI's file); the list comes as a 'saved' message. */
  storeSaved(messages: SavedMessage[]): void;
  /** Saves an export as a file: a download, or the editor's save dialog. Resolves with what happened. */
  exportFile(fileName: string, mimeType: string, content: string): Promise<string>;
  /** Editor-only actions: open the served page, copy its URL. */
  openInBrowser?(): void;
  copyUrl?(): void;
}

/** The config the host page wrote into the JSON element, checked; a plain default if it is missing. */
export function readConfig(doc: Document): InspectorConfig {
  const text = doc.getElementById(CONFIG_ELEMENT_ID)?.textContent ?? '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const config = (typeof value === 'object' && value !== null ? value : {}) as Partial<InspectorConfig>;
  const endpoints = Array.isArray(config.endpoints)
    ? config.endpoints.filter((e): e is { path: string; url: string } => typeof e?.path === 'string' && typeof e?.url === 'string')
    : [];
  return {
    host: config.host === 'vscode' ? 'vscode' : 'cli',
    feedUrl: typeof config.feedUrl === 'string' ? config.feedUrl : undefined,
    endpoints,
    pageUrl: typeof config.pageUrl === 'string' ? config.pageUrl : undefined,
    version: typeof config.version === 'string' ? config.version : undefined,
    folder: typeof config.folder === 'string' ? config.folder : undefined,
  };
}
