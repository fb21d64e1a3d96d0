/** Chromium for tests, launched by scripts/chromium.mjs (the one place that knows the flags). */
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
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
