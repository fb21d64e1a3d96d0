/**
 * The preview panel's UI (bundled to dist/preview.js): a toolbar (back, forward, reload, the
 * address bar, open in browser) over an iframe showing the served page. The frame is another
 * origin, so the UI cannot read where it is: it records where it sends the frame, and the page's
 * reload client tells it where the page went (PAGE_LOCATION_TYPE). Keys: Enter in the address bar
 * goes there, Escape puts the current address back, Alt+Left/Right go back and forward, Ctrl+L
 * (Cmd+L) focuses the address bar.
 */
import { h } from '../dom';
import { displayPath, frameUrlOf, pathOf } from '../../shared/previewAddress';
import { PreviewHistory } from './history';
import { PAGE_LOCATION_TYPE, PREVIEW_CONFIG_ID, type PageLocationMessage, type PreviewConfig, type PreviewHostMessage, type PreviewRequest } from '../../shared/previewProtocol';

interface VsCodeApi {
  postMessage(message: PreviewRequest): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const SVG = 'http://www.w3.org/2000/svg';
/** 16×16 stroke icons in the text colour (no icon font to load). */
const ICONS = {
  back: 'M13 8H3M7 4 3 8l4 4',
  forward: 'M3 8h10M9 4l4 4-4 4',
  reload: 'M13 8a5 5 0 1 1-1.6-3.7M13 2.5v3h-3',
  external: 'M9 2.5h4.5V7M13.5 2.5 7.5 8.5M11.5 9.5v4h-9v-9h4',
} as const;

function icon(name: keyof typeof ICONS): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

function iconButton(id: string, label: string, name: keyof typeof ICONS, shortcut?: string): HTMLButtonElement {
  const button = h('button', { id, type: 'button', class: 'icon', 'aria-label': label, title: shortcut ? `${label} (${shortcut})` : label });
  button.append(icon(name));
  return button;
}

function readConfig(): PreviewConfig {
  try {
    const parsed = JSON.parse(document.getElementById(PREVIEW_CONFIG_ID)?.textContent ?? '') as Partial<PreviewConfig>;
    return {
      base: typeof parsed.base === 'string' ? parsed.base : undefined,
      path: typeof parsed.path === 'string' && parsed.path.startsWith('/') ? parsed.path : '/',
      folder: typeof parsed.folder === 'string' ? parsed.folder : undefined,
    };
  } catch {
    return { base: undefined, path: '/', folder: undefined };
  }
}

class PreviewApp {
  private readonly history: PreviewHistory;
  private readonly back = iconButton('back', 'Back', 'back', 'Alt+Left');
  private readonly forward = iconButton('forward', 'Forward', 'forward', 'Alt+Right');
  private readonly reload = iconButton('reload', 'Reload', 'reload');
  private readonly openInBrowser = iconButton('open-browser', 'Open in Browser', 'external');
  private readonly address = h('input', {
    id: 'address',
    type: 'text',
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-label': 'Address: a path on the server',
    'aria-describedby': 'notice',
    title: 'A path on the server (Ctrl+L). Enter goes there; Escape puts the current one back.',
  });
  private readonly notice = h('p', { id: 'notice', role: 'status', 'aria-live': 'polite' });
  private frame: HTMLIFrameElement | undefined;
  /** The path the frame was last sent to and has not reported from yet. */
  private awaiting: string | undefined;

  constructor(
    private readonly config: PreviewConfig,
    private readonly host: VsCodeApi,
  ) {
    this.history = new PreviewHistory(config.path);
    const form = h('form', { id: 'address-form', onsubmit: (e) => this.onSubmit(e) }, this.address);
    const toolbar = h('nav', { id: 'toolbar', 'aria-label': 'Preview' }, this.back, this.forward, this.reload, form, this.openInBrowser);
    document.body.append(toolbar, this.notice);
    this.back.addEventListener('click', () => this.go(this.history.back()));
    this.forward.addEventListener('click', () => this.go(this.history.forward()));
    this.reload.addEventListener('click', () => this.load(this.history.current));
    this.openInBrowser.addEventListener('click', () => this.host.postMessage({ type: 'openInBrowser', path: this.history.current }));
    this.address.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      this.showAddress(true);
      this.say('');
    });
    document.addEventListener('keydown', (e) => this.onKey(e));
    window.addEventListener('message', (e) => this.onMessage(e));
    // Before the frame loads: the editor registers this origin with the server, whose pages then
    // tell this panel (and no other parent) where they are.
    this.host.postMessage({ type: 'webviewOrigin', origin: location.origin });
    if (config.base === undefined) this.showStopped();
    else this.load(this.history.current);
    this.update();
  }

  private get base(): string | undefined {
    return this.config.base;
  }

  private showStopped(): void {
    const start = h('button', { id: 'start', type: 'button', onclick: () => this.host.postMessage({ type: 'start' }) }, 'Start Server');
    const folder = this.config.folder ? ` for ${this.config.folder}` : '';
    document.body.append(h('div', { id: 'stopped' }, h('p', {}, `No Echo Preview server is running${folder}.`), start));
  }

  private onSubmit(event: Event): void {
    event.preventDefault();
    if (this.base === undefined) return;
    const url = frameUrlOf(this.base, this.address.value);
    if (url === undefined) {
      this.say(`Only pages of ${new URL(this.base).origin} open here. Open in Browser shows other sites.`);
      return;
    }
    const path = pathOf(this.base, url)!;
    this.history.visit(path); // the page shown is not added again: Enter on its address reloads it, as browsers do
    this.load(path);
    this.showAddress(true);
  }

  private go(path: string | undefined): void {
    if (path !== undefined) this.load(path);
  }

  /**
   * Sends the frame to `path` under the root, in a fresh frame every time: the latest navigation
   * wins. The page shown is gone with its frame, so nothing it does meanwhile (a live reload, its
   * own script navigating, a late location report) can take the frame back or move the address
   * bar: the bar shows where the frame is going, and only the new page's reports follow. (With
   * location.replace in the same frame, a reload the page started before the new page committed
   * cancelled the navigation.) A new frame's first load adds nothing to the editor tab's history.
   */
  private load(path: string): void {
    if (this.base === undefined) return;
    const url = frameUrlOf(this.base, path);
    if (url === undefined) return;
    this.awaiting = path;
    this.say('');
    this.replaceFrame(url);
    this.host.postMessage({ type: 'navigated', path, url });
    this.update();
  }

  private replaceFrame(url: string): void {
    const frame = h('iframe', { id: 'frame', title: 'Page preview', src: url });
    if (this.frame) this.frame.replaceWith(frame);
    else document.body.append(frame);
    this.frame = frame;
  }

  /** A message from the editor (the host frame), or a location report from the framed page. */
  private onMessage(event: MessageEvent): void {
    const data = event.data as Record<string, unknown> | null;
    if (!data || typeof data !== 'object') return;
    if (this.frame && event.source === this.frame.contentWindow) {
      const page = data as Partial<PageLocationMessage>;
      if (page.type === PAGE_LOCATION_TYPE && this.base !== undefined && event.origin === new URL(this.base).origin && typeof page.href === 'string') {
        this.onPageLocation(page.href, typeof page.title === 'string' ? page.title : '');
      }
      return;
    }
    // The editor's messages come from the webview's own origin (a page in the frame, or a frame
    // in it, is another). Not `event.source === window.parent`: VS Code sets window.parent to window.
    const host = data as Partial<PreviewHostMessage>;
    if (event.origin === location.origin && host.type === 'navigate' && typeof host.path === 'string') {
      this.history.visit(host.path);
      this.load(host.path);
    }
  }

  /** The page says where it is: the answer to our last navigation (maybe redirected), or a link it followed. */
  private onPageLocation(href: string, title: string): void {
    const path = pathOf(this.base!, href);
    if (path === undefined) return;
    if (this.awaiting !== undefined) this.history.replace(path);
    else this.history.visit(path);
    this.awaiting = undefined;
    this.host.postMessage({ type: 'navigated', path, url: href, title });
    this.update();
  }

  private onKey(event: KeyboardEvent): void {
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.key === 'ArrowLeft' || event.key === 'ArrowRight')) {
      if (event.target === this.address) return; // the caret's own keys there
      event.preventDefault();
      this.go(event.key === 'ArrowLeft' ? this.history.back() : this.history.forward());
    } else if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'l') {
      event.preventDefault();
      this.address.focus();
      this.address.select();
    }
  }

  private say(text: string): void {
    this.notice.textContent = text;
  }

  /** The address bar shows where the frame is, unless the person is typing there. */
  private showAddress(force = false): void {
    if (force || document.activeElement !== this.address) this.address.value = displayPath(this.history.current);
  }

  private update(): void {
    const running = this.base !== undefined;
    this.back.disabled = !running || !this.history.canGoBack;
    this.forward.disabled = !running || !this.history.canGoForward;
    this.reload.disabled = !running;
    this.openInBrowser.disabled = !running;
    this.address.disabled = !running;
    this.showAddress();
  }
}

new PreviewApp(readConfig(), acquireVsCodeApi());
