/**
 * The editor UI end to end, as a person uses it: the packaged .vsix installed into code-server,
 * then the command palette, the status bar, the message panel (a webview) and the browser tab,
 * driven in Chromium. A screenshot of each step goes to test-results/e2e/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { importEsm } from '../support/browser';
import { REPO_ROOT } from '../support/http';

interface EditorWindow {
  page: Page;
  context: import('playwright-core').BrowserContext;
  close(): Promise<void>;
}

const SHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** F1, type the title, Enter: retried while the extension's commands are still being registered. */
async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  // The label may go on (", recently used"), so match its start.
  const row = page.locator(`.quick-input-list .monaco-list-row[aria-label^="${title}"]`);
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor();
    await input.fill(`>${title}`);
    try {
      await row.first().waitFor({ timeout: 10_000 });
      break;
    } catch (error) {
      if (attempt === 4) throw error;
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
}

/**
 * The webview's content frame holding `selector` (webviews are iframes in iframes, and the panel
 * re-renders, replacing its frame, when the server's address changes).
 */
async function panelFrame(page: Page, selector = '#msgbox', timeoutMs = 20_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator(selector).count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`nothing in the message panel matches ${selector}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

describe('the editor, driven like a person (code-server in Chromium)', { timeout: 240_000 }, () => {
  let win: EditorWindow;
  let workspace: string;
  let port = 0;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    workspace = mkdtempSync(path.join(tmpdir(), 'echo-preview-ui-'));
    cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'guide'), workspace, { recursive: true });
    mkdirSync(path.join(workspace, '.vscode'));
    writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'echoPreview.port': 0, 'echoPreview.openOnStart': 'none' }));
    const { openEditorWindow } = await importEsm<{ openEditorWindow(options: { workspace: string; vsix: string }): Promise<EditorWindow> }>(
      path.join(REPO_ROOT, 'scripts', 'host', 'code-server.mjs'),
    );
    // What a newcomer installs: the .vsix that `npm run package` builds.
    execFileSync('npm', ['run', 'package', '--silent'], { cwd: REPO_ROOT, stdio: 'ignore' });
    win = await openEditorWindow({ workspace, vsix: path.join(REPO_ROOT, 'echo-preview.vsix') });
  });

  after(async () => {
    await win?.close();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('Start Server from the command palette shows the port in the status bar', async () => {
    const { page } = win;
    await runCommand(page, 'Echo Preview: Start Server');
    const item = page.locator('.statusbar-item', { hasText: /Echo :\d+/ });
    await item.waitFor({ timeout: 20_000 });
    port = Number(/Echo :(\d+)/.exec((await item.textContent()) ?? '')?.[1]);
    assert.ok(port > 0);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.match(await res.text(), /id="msgbox"/);
    await shot(page, '01-started');
  });

  it('the message panel sends with Enter and shows the echo', async () => {
    const { page } = win;
    await runCommand(page, 'Echo Preview: Open Message Panel');
    const frame = await panelFrame(page, '#badge[data-state="open"]');
    await frame.locator('#msgbox').fill('hello from the panel');
    await frame.locator('#msgbox').press('Enter');
    await frame.locator('#replytxt', { hasText: 'hello from the panel' }).waitFor();
    assert.equal(await frame.locator('#log tbody tr').count(), 2, 'one sent and one received row');
    await shot(page, '02-panel-echo');
  });

  it('Open in Browser opens a tab whose own page connects and echoes', async () => {
    const { page, context } = win;
    // Dialogs are caught at the context level: the tab alerts as soon as it connects, possibly
    // before a page-level listener could be attached.
    const alerts: string[] = [];
    const notes: string[] = [];
    const onDialog = (dialog: import('playwright-core').Dialog): void => {
      alerts.push(dialog.message());
      void dialog.accept();
    };
    context.on('dialog', onDialog);
    const opened = new Promise<Page>((resolve) =>
      context.once('page', (tab) => {
        tab.on('console', (m) => notes.push(`console: ${m.text()}`));
        tab.on('websocket', (ws) => notes.push(`websocket ${ws.url()}`));
        resolve(tab);
      }),
    );
    await runCommand(page, 'Echo Preview: Open in Browser');
    // The editor may ask before opening an external site; accept if it does.
    const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Open$/ });
    void confirm.click({ timeout: 5_000 }).catch(() => undefined);
    const tab = await opened;
    await tab.waitForLoadState();
    await tab.locator('#msgbox').waitFor();
    const deadline = Date.now() + 10_000;
    while (!alerts.includes('WebSocket connected.') && Date.now() < deadline) await tab.waitForTimeout(50);
    assert.deepEqual(alerts, ['WebSocket connected.'], `alerts seen at ${tab.url()}: ${notes.join('; ')}`);
    await tab.locator('#msgbox').fill('hello from the browser tab');
    await tab.locator('input[type=submit]').click();
    await tab.waitForFunction(() => document.getElementById('replytxt')?.innerHTML === 'hello from the browser tab');
    await tab.screenshot({ path: path.join(SHOTS, '03-browser-tab.png') });
    context.off('dialog', onDialog);
    await tab.close();
  });

  it('Stop Server frees the port and the panel shows it is disconnected', async () => {
    const { page } = win;
    await runCommand(page, 'Echo Preview: Stop Server');
    await page.locator('.statusbar-item', { hasText: /Echo Preview/ }).waitFor({ timeout: 20_000 });
    assert.ok(await portIsFree(port), `port ${port} still taken`);
    const frame = await panelFrame(page, '#badge[data-state="stopped"]');
    assert.equal(await frame.locator('#badge').textContent(), 'Server stopped');
    await shot(page, '04-stopped');
  });

  it('after a window reload the panel comes back with its log and reconnects on Start', async () => {
    const { page } = win;
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForTimeout(1000); // let the old workbench go before looking for the new one
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const restored = await panelFrame(page, '#badge[data-state="stopped"]', 60_000);
    assert.equal(await restored.locator('#log tbody tr').count(), 2, 'the message log survived the reload');
    assert.equal(await restored.locator('#replytxt').textContent(), 'hello from the panel');
    await runCommand(page, 'Echo Preview: Start Server');
    const reconnected = await panelFrame(page, '#badge[data-state="open"]');
    await reconnected.locator('#msgbox').fill('after reload');
    await reconnected.locator('#msgbox').press('Enter');
    await reconnected.locator('#replytxt', { hasText: 'after reload' }).waitFor();
    await shot(page, '05-reloaded');
  });
});
