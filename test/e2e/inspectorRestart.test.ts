/**
 * The CLI inspector's saved messages across a restart, in Chromium: the CLI keeps them in a file
 * of its own (cli/savedStore.ts), not in the browser, so they are there after a restart although
 * the inspector's origin (a new free port each run) and the token in its path are new each run;
 * and no page can read them: not the workspace page, not one served on the inspector's old port
 * another day.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { savedFileOf } from '../../src/cli/savedStore';
import { holdConsecutivePorts } from '../host/ports';
import { launchChromium } from '../support/browser';
import { startCli, testStateHome, type CliRun } from '../support/cli';
import { tempDir } from '../support/http';
import { inspectorUrlOf } from '../support/inspector';
import { pollUntil } from '../support/poll';

/** Opens the inspector page and waits for its feed: its saved messages are listed by then. */
async function openInspector(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('#badge[data-state="open"]').waitFor({ timeout: 15_000 });
  await page.locator('#compose-pane > summary').click();
}

/** Everything a page can read of its origin's storage: localStorage, sessionStorage and cookies, as one text. */
function storageOf(page: Page): Promise<string> {
  return page.evaluate(() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie]));
}

async function stop(cli: CliRun): Promise<void> {
  cli.child.kill('SIGTERM');
  assert.deepEqual(await cli.exit, { code: 0, signal: null });
}

describe('the CLI inspector across a restart, in Chromium', { timeout: 60_000 }, () => {
  let browser: Browser;
  let site: { dir: string; cleanup: () => void };
  const running: CliRun[] = [];

  before(async () => {
    site = tempDir('echo-restart-');
    writeFileSync(path.join(site.dir, 'index.html'), '<!DOCTYPE html><title>Site</title><p>site</p>\n');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    for (const cli of running) cli.child.kill('SIGKILL');
    site?.cleanup();
  });

  it('shows the messages saved before a restart with the same --port, under the new token and the new port', async () => {
    // The server's port and the one after it, free (found by holding both, then let go).
    const pair = await holdConsecutivePorts(2);
    await pair.release();
    const args = [site.dir, '--port', String(pair.first), '--inspect'];
    const context = await browser.newContext();

    const first = await startCli(args);
    running.push(first);
    const before = inspectorUrlOf(first.ready);
    const page = await context.newPage();
    await openInspector(page, before.url);
    await page.locator('#compose-body').fill('{"type":"subscribe","topic":"prices"}');
    await page.locator('#save-name').fill('subscribe to prices');
    await page.locator('#save').click();
    await page.locator('#saved button', { hasText: 'subscribe to prices' }).waitFor();
    await page.close();
    await stop(first);

    const second = await startCli(args);
    running.push(second);
    const after = inspectorUrlOf(second.ready);
    assert.notEqual(after.token, before.token, 'a new token each run');
    const reopened = await context.newPage();
    await openInspector(reopened, after.url);
    assert.deepEqual(await reopened.locator('#saved button.link').allTextContents(), ['subscribe to prices'], `saved before the restart, shown at ${after.url}`);
    await reopened.locator('#saved button', { hasText: 'subscribe to prices' }).click();
    assert.equal(await reopened.locator('#compose-body').inputValue(), '{"type":"subscribe","topic":"prices"}');
    assert.notEqual(after.origin, before.origin, 'a new origin each run');
    await stop(second);
    await context.close();
  });

  it('keeps them where no page can read them: not the workspace page, not a page served on the inspector’s old port later', async () => {
    const secret = randomBytes(9).toString('hex');
    const [name, body] = [`name-${secret}`, `body-${secret}`];
    const context = await browser.newContext();
    const first = await startCli([site.dir, '--port', '0', '--inspect']);
    running.push(first);
    const inspector = inspectorUrlOf(first.ready);
    const page = await context.newPage();
    await openInspector(page, inspector.url);
    await page.locator('#compose-body').fill(body);
    await page.locator('#save-name').fill(name);
    await page.locator('#save').click();
    await page.locator('#saved button', { hasText: name }).waitFor();
    // The CLI has it, in its file.
    const file = savedFileOf(path.join(testStateHome(), 'echo-preview'), site.dir);
    await pollUntil(() => existsSync(file) && readFileSync(file, 'utf8').includes(body), `the CLI's file ${file} to hold the saved message`);
    // The inspector's own origin keeps none of it for later (its tab's sessionStorage may hold the draft, for this tab only).
    const kept = await page.evaluate(() => JSON.stringify([Object.entries(localStorage), document.cookie]));
    assert.ok(!kept.includes(secret), `not in the inspector origin's localStorage: ${kept.slice(0, 300)}`);
    const workspace = await context.newPage();
    await workspace.goto(first.url);
    assert.ok(!(await storageOf(workspace)).includes(secret), 'not readable by the workspace page');
    await stop(first);

    // Another day, something else serves the inspector's old port (another run, another program).
    const later = await startCli([site.dir, '--port', String(inspector.port)]);
    running.push(later);
    assert.equal(later.port, inspector.port);
    const squatter = await context.newPage();
    await squatter.goto(later.url);
    const found = await storageOf(squatter);
    assert.ok(!found.includes(secret), `a page on the inspector's old origin reads nothing saved there: ${found.slice(0, 300)}`);
    await stop(later);
    await context.close();
  });
});
