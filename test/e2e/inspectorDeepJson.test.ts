/**
 * The inspector UI in Chromium with frames whose JSON nests 100,000 deep (arrays, objects, both
 * mixed), whole in their previews: the details pane shows them as text with a note instead of a formatted tree
 * (a recursive tree and JSON.stringify would overflow the page's stack), and still formats JSON
 * exactly at the limit. Screenshot: test-results/e2e/inspector-deep-json.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { MAX_JSON_DEPTH, TOO_DEEP } from '../../src/shared/boundedJson';
import { newInspectorToken } from '../../src/core/inspector/server';
import { launchChromium } from '../support/browser';
import { REPO_ROOT } from '../support/http';
import { timelineRow } from '../support/inspectorFlow';
import { serveConfig } from '../support/modes';
import { openClient } from '../support/ws';

const SHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');
/** Previews large enough to hold a 100,000-deep message whole, so the UI gets to parse it (a 4 KiB one is cut and shown as text anyway). */
const PREVIEW_BYTES = 1024 * 1024;

describe('the inspector UI with JSON nested 100,000 deep', { timeout: 90_000 }, () => {
  let browser: Browser;
  let served: Awaited<ReturnType<typeof serveConfig>>;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    served = await serveConfig(
      { endpoints: { '/echo': { mode: 'echo' } } },
      {
        inspector: {
          token: newInspectorToken(),
          assets: { script: path.join(REPO_ROOT, 'dist', 'inspector.js'), style: path.join(REPO_ROOT, 'media', 'inspector', 'inspector.css') },
        },
        capture: { previewBytes: PREVIEW_BYTES, budgetBytes: 16 * PREVIEW_BYTES },
      },
    );
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await served?.cleanup();
  });

  /** Opens the details of the client's frame whose row shows `text`, as a person does: click the row, then Enter; a failure names the page's errors. */
  async function openDetails(page: Page, client: number, text: string, errors: string[]): Promise<void> {
    if (await page.locator('#details-close').isVisible()) {
      await page.locator('#details-close').click();
      await page.locator('#details[hidden]').waitFor({ state: 'attached' });
    }
    await timelineRow(page, client, 'in', text).first().click();
    await page.locator('#timeline').press('Enter');
    await page.locator('#details:not([hidden])').waitFor({ timeout: 10_000 }).catch((error: Error) => {
      throw new Error(`the details of ${text} did not open (${error.message.split('\n')[0]}); errors in the page: ${errors.join(' | ') || 'none'}`);
    });
  }

  it('shows JSON deeper than the limit as text with a note, formats JSON at the limit, and the page keeps working', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(served.server.inspectorUrl!);
    await page.locator('#feed[data-state="open"]').waitFor({ timeout: 15_000 });
    const ws = await openClient(`ws://127.0.0.1:${served.server.port}/echo`);
    const shapes: Array<[string, (depth: number) => string]> = [
      ['arrays', (depth) => '['.repeat(depth) + ']'.repeat(depth)],
      ['objects', (depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)],
      ['mixed', (depth) => '[{"k":'.repeat(depth / 2) + 'null' + '}]'.repeat(depth / 2)],
    ];
    const frames: Array<{ label: string; text: string }> = [];
    for (const [shape, make] of shapes) frames.push({ label: `${shape}-100000`, text: `{"label":"${shape}-100000","topic":${make(100_000)}}` });
    const received = new Promise<void>((resolve) => {
      let count = 0;
      ws.on('message', () => ++count === frames.length + 1 && resolve());
    });
    for (const { text } of frames) ws.send(text);
    const atLimit = `{"label":"at-limit","topic":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    ws.send(atLimit);
    await received;
    // Not the inspector's own client (it connects to the endpoint too): the one at /echo without a query.
    const client = served.server.capture.snapshot().clients.find((c) => c.target === '/echo')!.id;

    for (const { label, text } of frames) {
      await openDetails(page, client, `"label":"${label}"`, errors);
      const note = page.locator('#details-too-deep');
      await note.waitFor();
      assert.equal(await note.textContent(), `${TOO_DEEP}: shown as text.`, label);
      assert.equal(await page.locator('#details-json').count(), 0, `${label}: no tree`);
      const shown = await page.locator('#details .text-payload').evaluate((el, expected) => el.textContent === expected, text);
      assert.ok(shown, `${label}: the whole text is shown`);
      if (label === 'mixed-100000') await page.screenshot({ path: path.join(SHOTS, 'inspector-deep-json.png') });
    }
    await openDetails(page, client, '"label":"at-limit"', errors);
    await page.locator('#details-json').waitFor();
    assert.equal(await page.locator('#details-too-deep').count(), 0);
    assert.deepEqual(errors, [], 'no error in the page');
    // Still live: a new frame shows up.
    ws.send('after the deep ones');
    await timelineRow(page, client, 'out', 'after the deep ones').waitFor();
    ws.close();
    await page.close();
  });
});
