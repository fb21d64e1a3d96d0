/**
 * The message panel's Content-Security-Policy, built from values that are parsed and checked
 * first: nothing from settings or the editor is pasted into the policy as a raw string.
 */

/** Characters a CSP source's path may hold raw (RFC 3986 pchar and "/", minus ";", "," and "'"). */
const CSP_PATH_CHAR = /[A-Za-z0-9\-._~!$&()*+=:@/%]/;
/** A host as URL serialises it: a name, IPv4 or a bracketed IPv6, with an optional port. */
export const CSP_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;
/** What each source in a webview's cspSource looks like (`https://*.vscode-cdn.net`, `http://127.0.0.1:8080`). */
export const CSP_ORIGIN_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9.-]+(?::\d{1,5})?$|^'self'$/i;

/**
 * The `connect-src` source that allows exactly this WebSocket URL. Throws on anything that is
 * not a plain ws:// or wss:// URL. Non-ASCII path characters arrive percent-encoded (URL does
 * that), and any other character outside the safe set is percent-encoded here as well, so the
 * source can never end the directive or start another one.
 */
export function connectSource(wsUrl: string): string {
  const url = new URL(wsUrl);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`Not a WebSocket URL: ${wsUrl}`);
  if (url.username || url.password || !CSP_HOST.test(url.host)) throw new Error(`Unusable WebSocket host in ${wsUrl}`);
  let path = '';
  for (const char of url.pathname) {
    path += CSP_PATH_CHAR.test(char) ? char : encodeURIComponent(char).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return `${url.protocol}//${url.host}${path}`;
}

export interface PanelPolicy {
  /** The WebSocket the panel may open; none while no server runs. */
  wsUrl: string | undefined;
  /** The webview's own resource origin (`webview.cspSource`). */
  cspSource: string;
  /** A fresh base64 nonce for the one script tag. */
  nonce: string;
}

export function panelCsp({ wsUrl, cspSource, nonce }: PanelPolicy): string {
  if (!cspSource.split(' ').every((source) => CSP_ORIGIN_SOURCE.test(source))) throw new Error(`Unexpected webview cspSource: ${cspSource}`);
  if (!/^[A-Za-z0-9+/]+=*$/.test(nonce)) throw new Error('The nonce must be base64.');
  return [
    "default-src 'none'",
    `connect-src ${wsUrl === undefined ? "'none'" : connectSource(wsUrl)}`,
    `style-src ${cspSource}`,
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}
