/** Chromium for tests, launched by scripts/chromium.mjs (the one place that knows the flags). */
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT } from './http';

/**
 * Loads an ESM module from CommonJS: TypeScript would turn a plain import() into require(),
 * which cannot load .mjs files on Node 20.
 */
export const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

export async function launchChromium(): Promise<Browser> {
  const { launchChromium: launch } = await importEsm<{ launchChromium(): Promise<Browser> }>(path.join(REPO_ROOT, 'scripts', 'chromium.mjs'));
  return launch();
}

/** What a WebSocket to `url` from the current page of `page` comes to: 'open' or 'error'. */
export function tryWebSocket(page: Page, url: string): Promise<string> {
  return page.evaluate(
    (target) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(target);
        ws.onopen = () => {
          ws.close();
          resolve('open');
        };
        ws.onerror = () => resolve('error');
      }),
    url,
  );
}
