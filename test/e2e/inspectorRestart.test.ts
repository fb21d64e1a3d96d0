/**
 * The CLI inspector's saved messages across a restart, in Chromium: the CLI keeps them in a file
 * of its own (cli/savedStore.ts), not in the browser, so they are there after a restart although
 * the inspector's origin (a new free port each run) and the token in its path are new each run.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { holdConsecutivePorts } from '../host/ports';
import { launchChromium } from '../support/browser';
import { startCli, type CliRun } from '../support/cli';
import { tempDir } from '../support/http';
import { inspectorUrlOf } from '../support/inspector';

/** Opens the inspector page and waits for its feed: its saved messages are listed by then. */
async function openInspector(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('#badge[data-state="open"]').waitFor({ timeout: 15_000 });
  await page.locator('#compose-pane > summary').click();
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
});
