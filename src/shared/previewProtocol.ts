/**
 * The messages of the preview panel: between its webview UI (preview.ts) and the editor
 * (panel/previewPanel.ts), and the one a served page's reload client posts to the UI. No DOM,
 * no Node: both sides import it.
 */
import { ORIGIN } from './protocol';

export const PREVIEW_CONFIG_ID = 'echo-preview-preview-config';

/** What the editor writes into the page (a JSON script element) when it renders the panel. */
export interface PreviewConfig {
  /** The served root as the webview reaches it (asExternalUri); undefined while no server runs. */
  base: string | undefined;
  /** The path to show first: `/`, `/docs/a.html?x=1#top`. */
  path: string;
  /** The workspace folder's name, for the not-running notice. */
  folder: string | undefined;
}

/** The editor to the UI. */
export type PreviewHostMessage = { type: 'navigate'; path: string };

/** The UI to the editor. */
export type PreviewRequest =
  /**
   * The UI's own origin (location.origin), which the editor registers with the server: the only
   * kind of parent a framed page's reload client tells where it is.
   */
  | { type: 'webviewOrigin'; origin: string }
  /** The frame was sent to `url` (`path` under the served root), or its page said it is there now. */
  | { type: 'navigated'; path: string; url: string; title?: string }
  | { type: 'openInBrowser'; path: string }
  | { type: 'start' };

/**
 * What the reload client (/__echo-preview/reload.js) in a framed page posts to its parent on
 * every load, so the preview's address bar follows links clicked inside the page: only to a
 * parent whose origin the server knows as the editor's (the webviewOrigin the UI reports).
 */
export const PAGE_LOCATION_TYPE = 'echo-preview:location';
export interface PageLocationMessage {
  type: typeof PAGE_LOCATION_TYPE;
  href: string;
  title: string;
}

/** The editor side's check of what the webview posts (it is a page: never trusted blindly). */
export function parsePreviewRequest(raw: unknown): PreviewRequest | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const message = raw as Record<string, unknown>;
  const path = typeof message.path === 'string' && message.path.startsWith('/') && message.path.length <= 8192 ? message.path : undefined;
  switch (message.type) {
    case 'webviewOrigin':
      return typeof message.origin === 'string' && ORIGIN.test(message.origin) ? { type: 'webviewOrigin', origin: message.origin } : undefined;
    case 'navigated':
      if (path === undefined || typeof message.url !== 'string') return undefined;
      return { type: 'navigated', path, url: message.url, title: typeof message.title === 'string' ? message.title.slice(0, 200) : undefined };
    case 'openInBrowser':
      return path === undefined ? undefined : { type: 'openInBrowser', path };
    case 'start':
      return { type: 'start' };
    default:
      return undefined;
  }
}
