/**
 * The guide's demo in a real browser: the page loads, alerts "WebSocket connected.", and a typed
 * message comes back into #replytxt. Runs our bundled demo and the guide's own files.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/core/server';
import { launchChromium } from '../support/browser';
import { startCli, type CliRun } from '../support/cli';
import { REPO_ROOT } from '../support/http';

/** Opens `url`, accepts its alerts and returns the page with the alerts seen so far. */
async function openDemo(browser: Browser, url: string): Promise<{ page: Page; alerts: string[] }> {
  const page = await browser.newPage();
  const alerts: string[] = [];
  page.on('dialog', (dialog) => {
    alerts.push(dialog.message());
    void dialog.accept();
  });
  await page.goto(url);
  await waitUntil(() => alerts.includes('WebSocket connected.'), 'the "WebSocket connected." alert');
  return { page, alerts };
}

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('demo page in Chromium', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser.close());

  describe('the bundled demo (media/demo)', () => {
    let server: RunningServer;
    const received: string[] = [];
    before(async () => {
      server = await startServer({ root: path.join(REPO_ROOT, 'media', 'demo'), port: 0 });
      server.events.on((e) => {
        if (e.type === 'frame' && e.direction === 'in') received.push(`${e.kind}:${e.size}`);
      });
    });
    after(() => server.close());

    it('connects, echoes what is typed into the reply heading, and sends nothing for an empty box', async () => {
      const { page, alerts } = await openDemo(browser, server.url);
      assert.equal(await page.textContent('label'), 'Message: ');
      await page.fill('#msgbox', 'Hello, echo <b>bold?</b>');
      await page.click('#sendbtn');
      await page.waitForFunction(() => document.getElementById('replytxt')?.textContent === 'Hello, echo <b>bold?</b>');
      assert.equal(await page.inputValue('#msgbox'), '', 'the box is cleared after sending');
      await page.fill('#msgbox', 'by Enter');
      await page.press('#msgbox', 'Enter');
      await page.waitForFunction(() => document.getElementById('replytxt')?.textContent === 'by Enter');
      const before = received.length;
      await page.click('#sendbtn'); // empty box
      await page.fill('#msgbox', 'after empty');
      await page.click('#sendbtn');
      await page.waitForFunction(() => document.getElementById('replytxt')?.textContent === 'after empty');
      assert.deepEqual(received.slice(before), ['text:11'], 'the empty box sent nothing');
      assert.deepEqual(alerts, ['WebSocket connected.']);
      await page.close();
    });

    it('works on http://localhost too', async () => {
      const { page } = await openDemo(browser, `http://localhost:${server.port}/`);
      await page.fill('#msgbox', 'via localhost');
      await page.click('#sendbtn');
      await page.waitForFunction(() => document.getElementById('replytxt')?.textContent === 'via localhost');
      await page.close();
    });
  });

  describe("the guide's own index.html and websocket.js, served by the CLI", () => {
    let run: CliRun;
    before(async () => {
      run = await startCli([path.join(REPO_ROOT, 'test', 'fixtures', 'guide'), '--port', '0']);
    });
    after(async () => {
      run.child.kill('SIGTERM');
      await run.exit;
    });

    it('connects and gets its echo', async () => {
      const { page } = await openDemo(browser, run.url);
      await page.fill('#msgbox', 'Hello from the guide');
      await page.click('input[type=submit]');
      await page.waitForFunction(() => document.getElementById('replytxt')?.innerHTML === 'Hello from the guide');
      await page.close();
    });
  });

  describe('a page from a foreign origin', () => {
    let server: RunningServer;
    let other: RunningServer;
    before(async () => {
      server = await startServer({ root: path.join(REPO_ROOT, 'media', 'demo'), port: 0 });
      other = await startServer({ root: path.join(REPO_ROOT, 'test', 'fixtures', 'guide'), port: 0 });
    });
    after(async () => {
      await server.close();
      await other.close();
    });

    it('cannot open a WebSocket to the server', async () => {
      const page = await browser.newPage();
      await page.goto(other.url.replace('127.0.0.1', 'localhost'));
      const outcome = await page.evaluate(
        (wsUrl) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(wsUrl);
            ws.onopen = () => resolve('open');
            ws.onerror = () => resolve('refused');
          }),
        server.wsUrl,
      );
      assert.equal(outcome, 'refused');
      await page.close();
    });
  });
});
