/**
 * The live reload client, served as /__echo-preview/reload.js (reload.ts serves this function's
 * source, so it must use nothing from outside its own body). It connects to the reload channel
 * on the page's own origin, reloads on a change, swaps changed stylesheets in place (keeping
 * scroll and script state), and reconnects with backoff, reloading once only when the server
 * says files changed while it was away. In the editor's preview it tells the preview where the
 * page is: only a parent whose origin the server names as one of the editor's own panels.
 */
export function reloadClient(): void {
  const MAX_DELAY_MS = 5000;
  // Beside this script (…/__echo-preview/reload.js), so a proxy's path prefix is kept.
  const script = document.currentScript as HTMLScriptElement | null;
  const url = new URL('reload', script?.src ?? new URL('/__echo-preview/reload.js', location.href).href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const channel = url.href;
  let instance: string | undefined;
  let since = 0;
  let delay = 250;
  let reloading = false;
  let blocked = false;

  const reload = (): void => {
    if (reloading) return;
    reloading = true;
    location.reload();
  };

  /** The decoded path of a same-origin URL, else undefined. */
  const pathOf = (href: string): string | undefined => {
    try {
      const url = new URL(href, location.href);
      return url.origin === location.origin ? decodeURIComponent(url.pathname) : undefined;
    } catch {
      return undefined;
    }
  };
  const bust = (href: string): string => {
    const url = new URL(href, location.href);
    url.searchParams.set('echo-preview-reload', String(Date.now()));
    return url.href;
  };

  /** Re-imports every changed @import in `sheet`, and looks into the sheets it imports. */
  const swapImports = (sheet: CSSStyleSheet, changed: ReadonlySet<string>): void => {
    let rules: CSSRuleList;
    try {
      rules = sheet.cssRules;
    } catch {
      return; // another origin's sheet: not ours to read
    }
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!(rule instanceof CSSImportRule)) continue;
      const href = new URL(rule.href, sheet.href ?? location.href).href;
      const path = pathOf(href);
      if (path !== undefined && changed.has(path)) {
        const media = rule.media.mediaText;
        sheet.deleteRule(i);
        sheet.insertRule(`@import url(${JSON.stringify(bust(href))})${media === '' ? '' : ' ' + media};`, i);
      } else if (rule.styleSheet !== null) {
        swapImports(rule.styleSheet, changed);
      }
    }
  };

  const swapStylesheets = (paths: readonly string[]): void => {
    const changed = new Set(paths);
    for (const link of Array.from(document.querySelectorAll<HTMLLinkElement>('link[rel~="stylesheet"][href]'))) {
      const path = pathOf(link.href);
      if (path === undefined || !changed.has(path)) {
        if (link.sheet !== null) swapImports(link.sheet, changed);
        continue;
      }
      // The new sheet loads beside the old one, which goes once it applies: no flash, no layout jump.
      const next = link.cloneNode() as HTMLLinkElement;
      next.href = bust(link.href);
      next.addEventListener('load', () => link.remove(), { once: true });
      next.addEventListener('error', () => link.remove(), { once: true });
      link.after(next);
    }
    for (const style of Array.from(document.querySelectorAll('style'))) {
      if (style.sheet !== null) swapImports(style.sheet, changed);
    }
  };

  // In a frame of the editor's preview panel: tell the panel where the page is now, so its
  // address bar follows links clicked in the page. Only the page's own URL and title, and only
  // to the origins the channel names as the editor's own panels (`parents`): postMessage
  // delivers to the parent only when it has the origin named, so a site that frames this page
  // is told nothing, and a page that is not in a frame tells no one.
  const framed = window.parent !== window;
  let parents: string[] = [];
  /** The parent origins told where the page is now (each is told once per place). */
  let told = new Set<string>();
  const tellParent = (): void => {
    if (!framed || document.readyState === 'loading') return;
    for (const origin of parents) {
      if (told.has(origin)) continue;
      told.add(origin);
      try {
        window.parent.postMessage({ type: 'echo-preview:location', href: location.href, title: document.title }, origin);
      } catch {
        // not an origin postMessage can name: that parent is not told
      }
    }
  };
  if (framed) {
    const moved = (): void => {
      told = new Set();
      tellParent();
    };
    document.addEventListener('DOMContentLoaded', tellParent, { once: true });
    window.addEventListener('hashchange', moved);
    window.addEventListener('popstate', moved);
  }

  // A page whose CSP forbids connecting to us: stop trying, the page works as it would without us.
  document.addEventListener('securitypolicyviolation', (event) => {
    if (event.blockedURI.startsWith(channel.replace(/^ws/, 'http')) || event.blockedURI.startsWith(channel)) blocked = true;
  });

  const connect = (): void => {
    if (blocked || reloading) return;
    const query = instance === undefined ? '' : `?instance=${encodeURIComponent(instance)}&since=${since}`;
    const socket = new WebSocket(channel + query);
    socket.addEventListener('message', (event) => {
      let message: { type?: string; instance?: string; now?: number; stale?: boolean; paths?: string[]; parents?: unknown };
      try {
        message = JSON.parse(String(event.data)) as typeof message;
      } catch {
        return;
      }
      if (typeof message.now === 'number') since = message.now;
      if (Array.isArray(message.parents)) {
        parents = message.parents.filter((origin): origin is string => typeof origin === 'string');
        tellParent();
      }
      if (message.type === 'hello') {
        delay = 250;
        const reconnected = instance !== undefined;
        instance = message.instance;
        if (reconnected && message.stale === true) reload();
      } else if (message.type === 'reload') {
        reload();
      } else if (message.type === 'css' && Array.isArray(message.paths)) {
        swapStylesheets(message.paths);
      }
    });
    socket.addEventListener('close', () => {
      if (reloading) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    });
  };
  connect();
}
