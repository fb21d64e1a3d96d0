/**
 * The host-side test entry, the shape both @vscode/test-electron and code-server's test payload
 * expect: run() loads the suite's *.test.js files into mocha and rejects if any test fails.
 * ECHO_PREVIEW_HOST_SUITE picks the suite (scripts/host/run-host-tests.mjs sets it):
 * - trusted (default): every file but untrusted.test.js; shutdown.test.js runs last, since it
 *   deactivates the extension;
 * - untrusted: untrusted.test.js, in a workspace the editor does not trust.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

const UNTRUSTED = 'untrusted.test.js';
const LAST = 'shutdown.test.js';

function suiteFiles(suite: string): string[] {
  const all = readdirSync(__dirname).filter((f) => f.endsWith('.test.js'));
  if (suite === 'untrusted') return [UNTRUSTED];
  if (suite !== 'trusted') throw new Error(`unknown host suite ${suite}`);
  const rest = all.filter((f) => f !== UNTRUSTED && f !== LAST).sort();
  return all.includes(LAST) ? [...rest, LAST] : rest;
}

export function run(): Promise<void> {
  // BDD (describe/it); colours off because the output goes through the page's console.
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: 'spec' });
  for (const file of suiteFiles(process.env.ECHO_PREVIEW_HOST_SUITE ?? 'trusted')) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} host test(s) failed`)) : resolve()));
  });
}
