/**
 * The CLI's inspector page and its feed in Chromium: the page runs under its CSP, on an origin of
 * its own, and reaches the feed and the endpoint; neither a page of the served folder nor a page
 * of another site can reach the feed, even with the token. (inspectorOrigin.test.ts pits the
 * real UI against a folder page's service worker and storage.)
 *
 * The UI bundle here is a stand-in written by the test (the real one is the UI build's): it
 * does what any UI must, read the config, open the feed, ask for a snapshot, use an endpoint.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { newInspectorToken } from '../../src/core/inspector/server';
import { startServer, type RunningServer } from '../../src/core/server';
import { expandFeedMessage, type HostMessage } from '../../src/shared/protocol';
import { launchChromium, tryWebSocket } from '../support/browser';
import { REPO_ROOT, tempDir } from '../support/http';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');
const TIMEOUT = { timeout: 30_000 };

/** A stand-in UI: feed messages go to window.feedMessages, the endpoint's echo to data-echo. */
const STAND_IN_SCRIPT = `
const config = JSON.parse(document.getElementById('echo-preview-config').textContent);
window.feedMessages = [];
const feed = new WebSocket(config.feedUrl);
feed.onopen = () => feed.send(JSON.stringify({ type: 'ready' }));
feed.onerror = () => { document.body.dataset.feed = 'error'; };
// The endpoint is used once the feed has answered, so the capture is subscribed before it sends.
feed.onmessage = (event) => {
  const message = JSON.parse(event.data);
  window.feedMessages.push(message);
  if (message.type !== 'snapshot') return;
  const echo = new WebSocket(config.endpoints[0].url);
  echo.onopen = () => echo.send('from the inspector page');
  echo.onmessage = (event) => { document.body.dataset.echo = event.data; };
};
`;
const STAND_IN_STYLE = '#app { color: rgb(1, 2, 3); }\n';

describe('the inspector in Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let server: RunningServer;
  let other: RunningServer;
  let assets: ReturnType<typeof tempDir>;
  const token = newInspectorToken();
  let feedPath: string;

  before(async () => {
    browser = await launchChromium();
    assets = tempDir('echo-assets-');
    writeFileSync(path.join(assets.dir, 'inspector.js'), STAND_IN_SCRIPT);
    writeFileSync(path.join(assets.dir, 'inspector.css'), STAND_IN_STYLE);
    const files = { script: path.join(assets.dir, 'inspector.js'), style: path.join(assets.dir, 'inspector.css') };
    server = await startServer({ root: DEMO, port: 0, inspector: { token, assets: files } });
    other = await startServer({ root: DEMO, port: 0 });
    feedPath = `/__echo-preview/inspector/${token}/feed`;
  });
  after(async () => {
    await browser.close();
    await Promise.all([server.close(), other.close()]);
    assets.cleanup();
  });

  it('runs the UI under its CSP: the stylesheet and script load, the feed sends a snapshot and the page’s own traffic', TIMEOUT, async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    try {
      await page.goto(server.inspectorUrl!);
      await page.waitForFunction(() => document.body.dataset.echo === 'from the inspector page' || document.body.dataset.feed === 'error');
      assert.equal(await page.evaluate(() => document.body.dataset.feed), undefined, 'the feed opened');
      assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('app')!).color), 'rgb(1, 2, 3)', 'the stylesheet applied');
      // The page's own echo, seen through the feed, attributed to a client that is this browser.
      // Batch frames come as FeedFrame arrays ([seq, client, dir, …]): wait for the echo's answer.
      await page.waitForFunction(() =>
        (window as unknown as { feedMessages: HostMessage[] }).feedMessages.some((m) => m.type === 'batch' && (m.batch.frames as unknown as unknown[][]).some((f) => f[2] === 'out')),
      );
      const messages = (await page.evaluate(() => (window as unknown as { feedMessages: HostMessage[] }).feedMessages)).map(expandFeedMessage);
      assert.ok(
        messages.some((m) => m.type === 'batch' && m.batch.frames.some((f) => f.dir === 'out' && f.data === 'from the inspector page')),
        'the echo of the page, with its data',
      );
      assert.equal(messages[0].type, 'snapshot', 'ready is answered with a snapshot first');
      const clients = messages.flatMap((m) => (m.type === 'batch' ? m.batch.clients : m.type === 'snapshot' ? m.snapshot.clients : []));
      const frame = messages.flatMap((m) => (m.type === 'batch' ? m.batch.frames : [])).find((f) => f.data === 'from the inspector page')!;
      const client = clients.find((c) => c.id === frame.client)!;
      assert.match(client.userAgent ?? '', /Chrome/);
      assert.equal(client.origin, new URL(server.inspectorUrl!).origin, 'the inspector page has an origin of its own');
      assert.notEqual(client.origin, new URL(server.url).origin);
      assert.deepEqual(refused, [], 'nothing was refused by the CSP');
    } finally {
      await page.close();
    }
  });

  it('a page of the served folder cannot reach the feed, even with the token, nor list tokens', TIMEOUT, async () => {
    const page = await browser.newPage();
    try {
      await page.goto(server.url);
      const ws = `ws://127.0.0.1:${server.port}`;
      assert.equal(await tryWebSocket(page, `${ws}/websocket`), 'open', 'the page can open sockets');
      const sameLength = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      for (const target of ['/__echo-preview/inspector/wrong/feed', `/__echo-preview/inspector/${sameLength}/feed`, '/__echo-preview/inspector/feed', '/__echo-preview/inspector//feed']) {
        assert.equal(await tryWebSocket(page, `${ws}${target}`), 'error', target);
      }
      const listing = await page.evaluate(() => fetch('/__echo-preview/inspector/').then((r) => r.status));
      assert.equal(listing, 404);
      assert.equal(await tryWebSocket(page, `${ws}${feedPath}`), 'error', 'not on the server’s port: the inspector is not there');
      const inspectorHost = new URL(server.inspectorUrl!).host;
      assert.equal(await tryWebSocket(page, `ws://${inspectorHost}${feedPath}`), 'error', 'nor on the inspector’s: the page’s origin is not the inspector’s');
    } finally {
      await page.close();
    }
  });

  it('a page of another site cannot reach the feed, even with the token', TIMEOUT, async () => {
    const page = await browser.newPage();
    try {
      await page.goto(other.url);
      const inspectorPort = new URL(server.inspectorUrl!).port;
      for (const host of [`127.0.0.1:${inspectorPort}`, `localhost:${inspectorPort}`]) {
        assert.equal(await tryWebSocket(page, `ws://${host}${feedPath}`), 'error', host);
      }
      assert.equal(await tryWebSocket(page, `ws://127.0.0.1:${other.port}/websocket`), 'open', 'its own socket opens');
    } finally {
      await page.close();
    }
  });
});
