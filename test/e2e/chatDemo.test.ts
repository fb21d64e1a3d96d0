/**
 * The chat demo (media/chat, what Create Demo Files writes) in Chromium, served with its own
 * .echo-preview.json: two pages chat through /chat by keyboard alone, each message shown as text
 * on both, and every text at WCAG AA contrast in the light and the dark scheme.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/core/server';
import { launchChromium } from '../support/browser';
import { contrastFailures } from '../support/contrast';
import { REPO_ROOT } from '../support/http';

const CHAT = path.join(REPO_ROOT, 'media', 'chat');
const TIMEOUT = { timeout: 30_000 };

describe('the chat demo in Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let server: RunningServer;

  before(async () => {
    browser = await launchChromium();
    server = await startServer({ root: CHAT, port: 0 });
  });
  after(async () => {
    await server.close();
    await browser.close();
  });

  async function openChat(colorScheme: 'light' | 'dark'): Promise<Page> {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    await page.goto(new URL('chat.html', server.url).href);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Connected to /chat.');
    return page;
  }

  /** The messages a page shows, as its text. */
  const messages = (page: Page): Promise<string[]> => page.locator('#messages li').allTextContents();

  it('serves the demo with /chat in broadcast mode from its own config', () => {
    assert.deepEqual(
      server.config.endpoints.map((e) => `${e.path} ${e.mode}`).sort(),
      ['/chat broadcast', '/websocket echo'],
    );
  });

  it('two pages chat by keyboard: the name first, Enter sends, each message on both pages as text', TIMEOUT, async () => {
    const [ada, bob] = await Promise.all([openChat('light'), openChat('dark')]);
    try {
      // A first visit starts in the name box; Tab goes on to the message box, then to Send.
      assert.equal(await ada.evaluate(() => document.activeElement?.id), 'name');
      await ada.keyboard.type('Ada');
      await ada.keyboard.press('Tab');
      assert.equal(await ada.evaluate(() => document.activeElement?.id), 'message');
      await ada.keyboard.type('Hello <b>Bob</b>');
      await ada.keyboard.press('Enter');
      const first = ['Ada: Hello <b>Bob</b>'];
      await Promise.all([ada, bob].map((page) => page.waitForFunction((n) => document.querySelectorAll('#messages li').length === n, 1)));
      assert.deepEqual(await messages(ada), first);
      assert.deepEqual(await messages(bob), first);
      assert.equal(await bob.locator('#messages b').count(), 0, 'a message was run as markup');
      assert.equal(await ada.inputValue('#message'), '', 'the box is cleared after sending');
      assert.equal(await ada.evaluate(() => document.activeElement?.id), 'message', 'focus stays in the message box');

      // No name yet: Enter in the message box moves to the name and sends nothing.
      await bob.fill('#message', 'Hi Ada');
      await bob.press('#message', 'Enter');
      assert.equal(await bob.evaluate(() => document.activeElement?.id), 'name');
      await bob.keyboard.type('Bob');
      await bob.press('#message', 'Enter');
      await Promise.all([ada, bob].map((page) => page.waitForFunction((n) => document.querySelectorAll('#messages li').length === n, 2)));
      assert.deepEqual(await messages(ada), [...first, 'Bob: Hi Ada']);
      assert.deepEqual(await messages(bob), [...first, 'Bob: Hi Ada']);

      // A push that is not chat JSON (the inspector's, say) is shown as it came.
      const sent = server.clients.sendToEndpoint('/chat', 'server notice', false);
      assert.equal(sent, 2);
      await ada.waitForFunction(() => document.querySelectorAll('#messages li').length === 3);
      assert.equal((await messages(ada))[2], 'server notice');
    } finally {
      await Promise.all([ada.context().close(), bob.context().close()]);
    }
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`keeps every text at WCAG AA contrast in the ${colorScheme} scheme`, TIMEOUT, async () => {
      const page = await openChat(colorScheme);
      try {
        await page.fill('#name', 'Ada');
        await page.fill('#message', 'contrast check');
        await page.press('#message', 'Enter');
        await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 1);
        server.clients.sendToEndpoint('/chat', 'a note', false);
        await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 2);
        const failures = await page.evaluate(contrastFailures);
        assert.deepEqual(failures, [], JSON.stringify(failures));
      } finally {
        await page.context().close();
      }
    });
  }
});
