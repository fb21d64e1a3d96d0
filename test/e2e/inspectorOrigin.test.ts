/**
 * A hostile page of the served folder and the CLI's inspector (`--inspect`, the real UI) open in
 * one browser, as a person would have them. The page registers a service worker at /sw.js with
 * scope '/' that reports every URL it sees (fetch events, clients.matchAll) back to the page.
 * Checked: the worker never sees the inspector or its token, the page cannot open the feed even
 * with the token, and the inspector's saved messages are in no browser storage the page could
 * reach (the CLI keeps them in its own file). The inspector has an origin of its own, which no
 * workspace page shares.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { savedFileOf } from '../../src/cli/savedStore';
import { launchChromium, tryWebSocket } from '../support/browser';
import { startCli, testStateHome, type CliRun } from '../support/cli';
import { tempDir } from '../support/http';
import { pollUntil } from '../support/poll';

/** The workspace page: registers the worker and keeps whatever it reports in window.seen. */
const HOSTILE_PAGE = `<!DOCTYPE html><html><head><title>Hostile</title></head><body>
<h1>Hostile</h1>
<script>
window.seen = [];
window.sweeps = 0;
new BroadcastChannel('sw-report').onmessage = (event) => {
  if (event.data === 'swept') window.sweeps++;
  else window.seen.push(event.data);
};
window.controlled = new Promise((resolve) => {
  if (navigator.serviceWorker.controller) return resolve();
  navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true });
});
navigator.serviceWorker.register('/sw.js', { scope: '/' });
</script>
</body></html>
`;

/** The worker: takes every client at once and reports each URL it can see. */
const WORKER = `
const report = new BroadcastChannel('sw-report');
const sweep = () => self.clients.matchAll({ includeUncontrolled: true, type: 'all' }).then((list) => {
  for (const client of list) report.postMessage('client ' + client.url);
});
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  report.postMessage('fetch ' + event.request.url + ' ' + (event.request.referrer || ''));
  event.waitUntil(sweep());
});
self.addEventListener('message', (event) => {
  if (event.data === 'sweep') event.waitUntil(sweep().then(() => report.postMessage('swept')));
});
`;

describe('a workspace page with a root-scoped service worker and the inspector in one browser', { timeout: 60_000 }, () => {
  let browser: Browser;
  let cli: CliRun;
  let site: { dir: string; cleanup: () => void };
  let context: BrowserContext;
  let hostile: Page;
  let inspector: Page;
  let inspectorUrl: string;
  let token: string;

  before(async () => {
    site = tempDir('echo-sw-');
    writeFileSync(path.join(site.dir, 'index.html'), HOSTILE_PAGE);
    writeFileSync(path.join(site.dir, 'sw.js'), WORKER);
    writeFileSync(path.join(site.dir, 'probe.txt'), 'probe');
    cli = await startCli([site.dir, '--port', '0', '--inspect']);
    const match = /\(inspector: (http:\/\/\S+\/__echo-preview\/inspector\/([A-Za-z0-9_-]+)\/)\)$/.exec(cli.ready);
    assert.ok(match, cli.ready);
    [, inspectorUrl, token] = match;
    browser = await launchChromium();
    context = await browser.newContext();

    // The page and its worker, which controls it and sees its fetches.
    hostile = await context.newPage();
    await hostile.goto(cli.url);
    await hostile.evaluate(() => (window as unknown as { controlled: Promise<void> }).controlled);
    await hostile.evaluate(() => fetch('/probe.txt').then((r) => r.text()));
    await hostile.waitForFunction(() => (window as unknown as { seen: string[] }).seen.some((url) => url.startsWith('fetch ') && url.includes('/probe.txt')));

    // The person opens the inspector in the same browser and saves a message there.
    inspector = await context.newPage();
    await inspector.goto(inspectorUrl);
    await inspector.locator('#badge[data-state="open"]').waitFor({ timeout: 15_000 });
    await inspector.locator('#compose-pane > summary').click();
    await inspector.locator('#compose-body').fill('the inspector keeps this');
    await inspector.locator('#save-name').fill('kept by the inspector');
    await inspector.locator('#save').click();
    await inspector.locator('#saved button', { hasText: 'kept by the inspector' }).waitFor();

    // Whatever the worker can see now, with the inspector open: every client it can list.
    await hostile.evaluate(() => navigator.serviceWorker.controller!.postMessage('sweep'));
    await hostile.waitForFunction(() => (window as unknown as { sweeps: number }).sweeps >= 1);
  });

  after(async () => {
    await browser?.close();
    cli?.child.kill('SIGTERM');
    await cli?.exit;
    site?.cleanup();
  });

  it("the page's worker never sees the inspector's URL or token, though it sees the page's own traffic", async () => {
    const seen = await hostile.evaluate(() => (window as unknown as { seen: string[] }).seen);
    assert.ok(seen.some((entry) => entry === `client ${cli.url}`), `the worker lists the page itself: ${seen.join('\n')}`);
    assert.deepEqual(
      seen.filter((entry) => entry.includes(token) || entry.includes('/__echo-preview/inspector')),
      [],
      'nothing the worker saw names the inspector',
    );
  });

  it('the page cannot open the feed, even with the token, on either port', async () => {
    const feed = `${inspectorUrl.replace(/^http:/, 'ws:')}feed`;
    const onServerPort = `ws://127.0.0.1:${cli.port}/__echo-preview/inspector/${token}/feed`;
    for (const target of [feed, onServerPort]) {
      const outcome = await tryWebSocket(hostile, target);
      assert.equal(outcome, 'error', target);
    }
    // The inspector page itself has it open.
    await inspector.locator('#feed[data-state="open"]').waitFor();
  });

  it("the inspector's saved messages are not in the page's storage, nor in the inspector's: the CLI keeps them", async () => {
    // Changed on purpose (issue 17): they were in the inspector origin's localStorage, which a page served on that port another day can read.
    const file = savedFileOf(path.join(testStateHome(), 'echo-preview'), site.dir);
    await pollUntil(() => existsSync(file) && readFileSync(file, 'utf8').includes('kept by the inspector'), `the CLI's file ${file} to hold the saved message`);
    const inspectorStorage = await inspector.evaluate(() => JSON.stringify(localStorage));
    assert.doesNotMatch(inspectorStorage, /kept by the inspector/, 'the inspector keeps none in the browser');
    const pageStorage = await hostile.evaluate(() => JSON.stringify({ local: localStorage, session: sessionStorage }));
    assert.doesNotMatch(pageStorage, /kept by the inspector|echo-preview:/, pageStorage);
  });
});
