/**
 * The inspector UI in plain Chromium, as `echo-preview --inspect` serves it: the shared flow
 * (two demo tabs, push, JSON and binary details, filter, HAR), then the keyboard, contrast in
 * light and dark, a 100,000-frame capture, pause and clear, and saved messages. Screenshots go
 * to test-results/e2e/inspector-*.png. (test/e2e/inspector.test.ts checks the feed's guards with a stand-in UI.)
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { startCli, type CliRun } from '../support/cli';
import { contrastFailures } from '../support/contrast';
import { REPO_ROOT, tempDir } from '../support/http';
import { openDemoTab, runInspectorFlow, timelineRow, type DemoTab } from '../support/inspectorFlow';
import { openClient } from '../support/ws';

const SHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');

/** The inspector URL at the end of the CLI's ready line. */
function inspectorUrlOf(ready: string): string {
  const match = /\(inspector: (http:\/\/\S+\/)\)/.exec(ready);
  assert.ok(match, `no inspector URL on the ready line: ${ready}`);
  return match[1];
}

describe('the inspector UI in plain Chromium (echo-preview --inspect)', { timeout: 180_000 }, () => {
  let browser: Browser;
  let cli: CliRun;
  let site: { dir: string; cleanup: () => void };
  let inspectorUrl: string;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    site = tempDir('echo-inspector-');
    cpSync(path.join(REPO_ROOT, 'media', 'demo'), site.dir, { recursive: true });
    cli = await startCli([site.dir, '--port', '0', '--inspect']);
    inspectorUrl = inspectorUrlOf(cli.ready);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    cli?.child.kill('SIGTERM');
    await cli?.exit;
    site?.cleanup();
  });

  async function openInspector(options: { colorScheme?: 'light' | 'dark'; context?: BrowserContext } = {}): Promise<Page> {
    const context = options.context ?? (await browser.newContext({ acceptDownloads: true, colorScheme: options.colorScheme ?? 'light', viewport: { width: 1280, height: 800 } }));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(inspectorUrl);
    await page.locator('#badge[data-state="open"]').waitFor({ timeout: 15_000 });
    await page.locator('#feed[data-state="open"]').waitFor();
    assert.deepEqual(errors, []);
    return page;
  }

  it('shows two demo tabs apart, pushes to one, formats JSON and binary, filters and exports HAR', async () => {
    const page = await openInspector();
    const tabs: DemoTab[] = [];
    try {
      tabs.push(await openDemoTab(browser, cli.url, page), await openDemoTab(browser, cli.url, page));
      await runInspectorFlow({
        ui: page,
        shot: async (name) => {
          await page.bringToFront();
          await page.screenshot({ path: path.join(SHOTS, `inspector-${name}.png`) });
        },
        exportHar: async () => {
          const download = page.waitForEvent('download');
          await page.locator('#export-har').click();
          return readFileSync(await (await download).path(), 'utf8');
        },
      }, [tabs[0], tabs[1]]);
    } finally {
      for (const tab of tabs) await tab.page.close();
      await page.context().close();
    }
  });

  it('works from the keyboard: tab order, arrows in both lists, Enter opens details, Escape closes them', async () => {
    const page = await openInspector();
    await page.locator('#clear').click();
    await page.locator('#stats', { hasText: /^0 of 0 rows/ }).waitFor();
    await page.locator('#msgbox').fill('keyboard one');
    await page.locator('#msgbox').press('Enter');
    await page.locator('#replytxt', { hasText: 'keyboard one' }).waitFor();
    await page.locator('#msgbox').fill('keyboard two');
    await page.locator('#msgbox').press('Enter');
    await page.locator('#replytxt', { hasText: 'keyboard two' }).waitFor();
    // Tab from the message box reaches the clients list, then the filters, then the timeline.
    const reached: string[] = [];
    await page.locator('#msgbox').focus();
    for (let i = 0; i < 20 && !reached.includes('timeline'); i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.id ?? document.activeElement?.tagName ?? ''));
    }
    assert.ok(reached.indexOf('clients') < reached.indexOf('filter-text') && reached.indexOf('filter-text') < reached.indexOf('timeline'), reached.join(' → '));
    // Rows now: in, out, in, out. Home and Down make the second active; Enter opens it; Escape closes.
    await page.locator('#stats', { hasText: /^4 of 4 rows/ }).waitFor();
    // The echo's answer shows its data, which the feed sent once, with the message it answers.
    await page.locator('#timeline .vlist-row.dir-out .c-data', { hasText: 'keyboard two' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    const active = await page.locator('#timeline').getAttribute('aria-activedescendant');
    assert.equal(active, 'timeline-row-1');
    await page.keyboard.press('Enter');
    await page.locator('#details-title', { hasText: /^Frame \d+: text out$/ }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.locator('#details-title', { hasText: /^Frame \d+: text in$/ }).waitFor(); // details follow the active row
    const outline = await page.locator('#timeline').evaluate((el) => getComputedStyle(el).outlineStyle);
    assert.equal(outline, 'solid', 'the focused list shows its focus');
    await page.screenshot({ path: path.join(SHOTS, 'inspector-08-keyboard.png') });
    await page.keyboard.press('Escape');
    await page.locator('#details').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'timeline');
    // The clients list: Down makes a client active, Space selects it (filtering the timeline), Enter shows it.
    await page.locator('#clients').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press(' ');
    await page.locator('#clients .client[aria-selected="true"]').waitFor();
    await page.keyboard.press('Enter');
    await page.locator('#details-title', { hasText: /^Client #\d+ This inspector$/ }).waitFor();
    await page.context().close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`keeps every text at WCAG AA contrast in the ${colorScheme} scheme`, async () => {
      const page = await openInspector({ colorScheme });
      await page.locator('#msgbox').fill('contrast');
      await page.locator('#msgbox').press('Enter');
      const own = page.locator('#clients .client.own');
      await own.waitFor();
      await page.locator('#timeline .vlist-row.dir-out').first().waitFor();
      // States that add colours: a selected client, the active row in the focused list, open details,
      // compose with an error, a hovered button.
      await own.click();
      await page.locator('#timeline .vlist-row.dir-in').first().click();
      await page.locator('#timeline').press('Enter');
      await page.locator('#compose-pane > summary').click();
      await page.locator('#compose-mode').selectOption('json');
      await page.locator('#compose-body').fill('{ not json');
      await page.locator('#compose-error', { hasText: 'Not valid JSON' }).waitFor();
      await page.locator('#export-har').hover();
      await page.screenshot({ path: path.join(SHOTS, `inspector-09-contrast-${colorScheme}.png`) });
      const failures = await page.evaluate(contrastFailures);
      assert.deepEqual(failures, [], JSON.stringify(failures, null, 1));
      // The state pill: the text is the foreground on the background, not white on green.
      const pill = await page.locator('#badge').evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
      assert.notEqual(pill[0], 'rgb(255, 255, 255)', `pill colours ${pill.join(' on ')}`);
      await page.context().close();
    });
  }

  it('holds 100,000 frames with only the rows in sight in the DOM, and jumps to the end', async () => {
    const page = await openInspector();
    await page.locator('#clear').click();
    const ws = await openClient(cli.url.replace('http:', 'ws:') + 'websocket', { origin: cli.url.replace(/\/$/, '') });
    const echoes = 50_000; // one in and one out each
    let received = 0;
    const done = new Promise<void>((resolve) => ws.on('message', () => ++received === echoes && resolve()));
    for (let i = 0; i < echoes; i++) ws.send(`message ${i}`);
    await done;
    await page.locator('#stats', { hasText: /^100,00\d of 100,00\d rows shown/ }).waitFor({ timeout: 60_000 });
    const rendered = await page.locator('#timeline .vlist-row').count();
    assert.ok(rendered < 120, `${rendered} row elements for 100,000 frames`);
    // Following the end: the newest echo is in view.
    await page.locator('#timeline .vlist-row .c-data', { hasText: `message ${echoes - 1}` }).first().waitFor();
    await page.locator('#timeline').focus();
    await page.keyboard.press('Home');
    await page.locator('#timeline .vlist-row .c-data', { hasText: /^message 0$/ }).first().waitFor();
    await page.locator('#jump:not([hidden])').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'inspector-10-100k-frames.png') });
    await page.locator('#jump').click();
    await page.locator('#timeline .vlist-row .c-data', { hasText: `message ${echoes - 1}` }).first().waitFor();
    ws.close();
    await page.context().close();
  });

  it('stops following the end when the person scrolls up, even if rows arrive before the scroll event', async () => {
    const page = await openInspector();
    await page.locator('#clear').click();
    const ws = await openClient(cli.url.replace('http:', 'ws:') + 'websocket', { origin: cli.url.replace(/\/$/, '') });
    const echoes = 300;
    let received = 0;
    const done = new Promise<void>((resolve) => ws.on('message', () => ++received === echoes && resolve()));
    for (let i = 0; i < echoes; i++) ws.send(`message ${i}`);
    await done;
    await page.locator('#timeline .vlist-row .c-data', { hasText: `message ${echoes - 1}` }).first().waitFor();
    assert.equal(await page.locator('#jump').isHidden(), true, 'following the end');
    // In one task: the person scrolls to the top, then the rows change (as when a batch arrives)
    // before the browser has fired the scroll event.
    const top = await page.evaluate(() => {
      const timeline = document.getElementById('timeline')!;
      timeline.scrollTop = 0;
      const filter = document.getElementById('filter-text') as HTMLInputElement;
      filter.value = 'message';
      filter.dispatchEvent(new Event('input'));
      return timeline.scrollTop;
    });
    assert.equal(top, 0, 'the rows changing pulled the view back to the end');
    await page.locator('#jump:not([hidden])').waitFor();
    await page.locator('#timeline .vlist-row .c-data', { hasText: /^message 0$/ }).first().waitFor();
    ws.close();
    await page.context().close();
  });

  it('pauses and resumes capture, clears it, and keeps saved messages in the browser', async () => {
    const page = await openInspector();
    await page.locator('#clear').click();
    await page.locator('#pause').click();
    await page.locator('#pause[aria-pressed="true"]', { hasText: 'Resume' }).waitFor();
    await page.locator('#msgbox').fill('while paused');
    await page.locator('#msgbox').press('Enter');
    await page.locator('#replytxt', { hasText: 'while paused' }).waitFor();
    await page.locator('#pause').click();
    await page.locator('#pause[aria-pressed="false"]', { hasText: 'Pause' }).waitFor();
    await page.locator('#msgbox').fill('after resume');
    await page.locator('#msgbox').press('Enter');
    const own = Number(await page.locator('#clients .client.own').getAttribute('data-id'));
    await timelineRow(page, own, 'out', 'after resume').waitFor();
    assert.equal(await page.locator('#timeline .vlist-row', { hasText: 'while paused' }).count(), 0, 'a frame sent while paused was captured');

    await page.locator('#compose-pane > summary').click();
    await page.locator('#compose-mode').selectOption('hex');
    await page.locator('#compose-body').fill('48 69');
    await page.locator('#save-name').fill('hi in hex');
    await page.locator('#save').click();
    await page.reload();
    await page.locator('#badge[data-state="open"]').waitFor();
    await page.locator('#compose-pane > summary').click();
    await page.locator('#saved button', { hasText: 'hi in hex' }).click();
    assert.equal(await page.locator('#compose-mode').inputValue(), 'hex');
    assert.equal(await page.locator('#compose-body').inputValue(), '48 69');
    await page.locator('#compose-send').click();
    await page.locator('#replytxt', { hasText: '[binary 2 B]' }).waitFor();
    await page.context().close();
  });

  it('pings and closes a client, resends a frame, pushes to every client, and exports JSON lines', async () => {
    const page = await openInspector();
    const tab = await openDemoTab(browser, cli.url, page);
    const closed = tab.page.evaluate(
      () => new Promise<string>((resolve) => (window as unknown as { Websock: WebSocket }).Websock.addEventListener('close', (e) => resolve(`${e.code} ${e.reason}`))),
    );
    await tab.echo('resend me');
    // Resend an out frame: the server pushes the same message to that tab again.
    await timelineRow(page, tab.id, 'out', 'resend me').first().click();
    await page.locator('#timeline').press('Enter');
    await page.locator('#details-resend', { hasText: 'Resend to this client' }).click();
    await page.locator('#toast', { hasText: 'Sent to 1 client.' }).waitFor();
    await timelineRow(page, tab.id, 'out', 'resend me').nth(1).waitFor();
    assert.deepEqual((await tab.received()).filter((m) => m === 'resend me').length, 2);
    // Push to every client of the endpoint: the tab and the inspector's own client get it.
    await page.locator('#compose-pane > summary').click();
    await page.locator('#compose-target').selectOption('endpoint:/websocket');
    await page.locator('#compose-body').fill('to everyone');
    await page.locator('#compose-send').click();
    await page.locator('#replytxt', { hasText: 'to everyone' }).waitFor();
    await tab.page.waitForFunction(() => document.getElementById('replytxt')?.textContent === 'to everyone');
    // The tab's details: Ping (a ping out, its pong in), then Close with a code and reason.
    await page.locator(`#client-${tab.id}`).dblclick();
    await page.locator('#details-title', { hasText: `Client #${tab.id}` }).waitFor();
    await page.locator('#client-ping').click();
    await page.locator(`#timeline .vlist-row.dir-in.kind-pong`, { has: page.locator('.c-client', { hasText: new RegExp(`^#${tab.id} `) }) }).waitFor();
    await page.locator('#close-code').fill('4001');
    await page.locator('#close-reason').fill('closed from the inspector');
    await page.locator('#client-close').click();
    assert.equal(await closed, '4001 closed from the inspector');
    await page.locator(`#client-${tab.id}[data-state="closed"]`, { hasText: 'closed 4001' }).waitFor();
    await page.locator('#timeline .vlist-row.event-closed', { hasText: 'code 4001, closed from the inspector' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'inspector-11-ping-close.png') });

    const download = page.waitForEvent('download');
    await page.locator('#export-jsonl').click();
    const lines = readFileSync(await (await download).path(), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; id?: number; client?: number; kind?: string; data?: string });
    assert.ok(lines.some((l) => l.type === 'client' && l.id === tab.id));
    assert.ok(lines.some((l) => l.type === 'frame' && l.client === tab.id && l.kind === 'pong'));
    assert.equal(lines.filter((l) => l.type === 'frame' && l.client === tab.id && l.data === 'resend me').length, 3, 'in, echo, resend');
    await tab.page.close();
    await page.context().close();
  });

  it('refuses nothing it should not: the page works with its own strict CSP (no inline styles or scripts)', async () => {
    const page = await openInspector();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.locator('#compose-pane > summary').click();
    await page.locator('#msgbox').fill('csp');
    await page.locator('#msgbox').press('Enter');
    await page.locator('#replytxt', { hasText: 'csp' }).waitFor();
    const own = Number(await page.locator('#clients .client.own').getAttribute('data-id'));
    await timelineRow(page, own, 'in', 'csp').click();
    await page.locator('#timeline').press('Enter');
    await page.locator('#details-copy').click();
    await page.locator('#toast', { hasText: 'Copied.' }).waitFor();
    assert.deepEqual(violations, []);
    await page.context().close();
  });
});

