/** The preview panel's page and its Content-Security-Policy (no vscode here: the UI test renders the same page). */
import { PREVIEW_CONFIG_ID, type PreviewConfig } from '../../shared/previewProtocol';
import { CSP_HOST, CSP_ORIGIN_SOURCE } from './csp';
import { webviewPage } from './webviewPage';

/** The `frame-src` source for exactly the origin of `url` (http or https, no credentials). */
export function frameSource(url: string): string {
  const parsed = new URL(url);
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username || parsed.password || !CSP_HOST.test(parsed.host)) {
    throw new Error(`Not a page address the preview can frame: ${url}`);
  }
  return parsed.origin;
}

/** The panel's policy: its own script and style, and frames of the served origin only. */
export function previewCsp(frameUrl: string | undefined, cspSource: string, nonce: string): string {
  if (!cspSource.split(' ').every((source) => CSP_ORIGIN_SOURCE.test(source))) throw new Error(`Unexpected webview cspSource: ${cspSource}`);
  if (!/^[A-Za-z0-9+/]+=*$/.test(nonce)) throw new Error('The nonce must be base64.');
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `frame-src ${frameUrl === undefined ? "'none'" : frameSource(frameUrl)}`,
  ].join('; ');
}

export interface PreviewPage {
  config: PreviewConfig;
  /** The webview's own resource origin (`webview.cspSource`). */
  cspSource: string;
  /** A fresh base64 nonce for the one script tag. */
  nonce: string;
  styleUrl: string;
  scriptUrl: string;
}

/** The panel's HTML: the policy, the stylesheet, the config as data, and the one script. */
export function previewHtml({ config, cspSource, nonce, styleUrl, scriptUrl }: PreviewPage): string {
  const csp = previewCsp(config.base, cspSource, nonce);
  return webviewPage({ title: 'Echo Preview', csp, styleUrl, scriptUrl, nonce, configId: PREVIEW_CONFIG_ID, config });
}
