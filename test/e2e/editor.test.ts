/**
 * The editor UI end to end, as a person uses it: the packaged .vsix installed into code-server,
 * then the command palette, the status bar, the inspector panel (a webview) and browser tabs,
 * driven in Chromium. A screenshot of each step goes to test-results/e2e/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame, FrameLocator, Page } from 'playwright-core';
import { portIsFree } from '../host/ports';
import { importEsm } from '../support/browser';
import { contrastFailures } from '../support/contrast';
import { REPO_ROOT } from '../support/http';
import { openDemoTab, runInspectorFlow, timelineRow, type DemoTab } from '../support/inspectorFlow';

interface EditorWindow {
  page: Page;
  browser: import('playwright-core').Browser;
  context: import('playwright-core').BrowserContext;
  close(): Promise<void>;
}

const SHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');

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
 * The inspector panel's page: webviews are an iframe (the host frame) holding the content iframe,
 * which is replaced when the panel re-renders; locators re-resolve it on every use and wait.
 */
function panelPage(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview').frameLocator('#active-frame');
}

/** The webview's host frame, where the probe below records what the page sends to the editor. */
async function panelHostFrame(page: Page): Promise<Frame> {
  const frame = await (await page.frameLocator('iframe.webview').locator('html').elementHandle())?.ownerFrame();
  assert.ok(frame, 'the webview host frame');
  return frame;
}

interface Post {
  command: string;
  bytes: number;
  draft?: string;
}

/**
 * Runs in every new document; in a webview's host frame (pre/index.html) it wraps the function
 * through which the page's acquireVsCodeApi() posts messages and saves state, and records each
 * call's command and size: the test watches the real channel, the product is untouched.
 */
function recordWebviewPosts(): void {
  if (!location.pathname.endsWith('/webview/browser/pre/index.html')) return;
  const posts: Post[] = [];
  (window as unknown as { echoPreviewPosts: Post[] }).echoPreviewPosts = posts;
  let real: ((command: string, data: unknown) => unknown) | undefined;
  Object.defineProperty(window, '__vscode_post_message__', {
    configurable: true,
    get: () => real,
    set: (post: (command: string, data: unknown) => unknown) => {
      real = (command, data) => {
        const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
        let draft: string | undefined;
        if (command === 'do-update-state') draft = (JSON.parse(text) as { draft?: string } | null)?.draft;
        posts.push({ command, bytes: text.length, draft });
        return post(command, data);
      };
    },
  });
}

/** The status bar item in one of its states, told apart by its icon. */
function statusItem(page: Page, icon: 'radio-tower' | 'circle-slash') {
  return page.locator('.statusbar-item', { has: page.locator(`.codicon-${icon}`), hasText: /Echo/ });
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
    await win.context.addInitScript(recordWebviewPosts);
  });

  after(async () => {
    await win?.close();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('Start Server from the command palette shows the port in the status bar', async () => {
    const { page } = win;
    await runCommand(page, 'Echo Preview: Start Server');
    const item = statusItem(page, 'radio-tower');
    await item.waitFor({ timeout: 20_000 });
    port = Number(/Echo :(\d+)/.exec((await item.textContent()) ?? '')?.[1]);
    assert.ok(port > 0);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.match(await res.text(), /id="msgbox"/);
    await shot(page, '01-started');
  });

  it('the inspector panel sends with Enter, shows the echo, and lists its own frames', async () => {
    const { page } = win;
    await runCommand(page, 'Echo Preview: Open Inspector');
    const frame = panelPage(page);
    await frame.locator('#badge[data-state="open"]').waitFor({ timeout: 20_000 });
    await frame.locator('#msgbox').fill('hello from the panel');
    await frame.locator('#msgbox').press('Enter');
    await frame.locator('#replytxt', { hasText: 'hello from the panel' }).waitFor();
    const own = frame.locator('#clients .client.own', { hasText: 'This inspector' });
    await own.waitFor();
    const id = Number(await own.getAttribute('data-id'));
    await timelineRow(frame, id, 'in', 'hello from the panel').waitFor();
    await timelineRow(frame, id, 'out', 'hello from the panel').waitFor();
    // In the editor's theme colours, every text keeps AA contrast (the old "Connected" pill was about 2:1).
    const failures = await frame.locator('body').evaluate(contrastFailures);
    assert.deepEqual(failures, [], JSON.stringify(failures, null, 1));
    await shot(page, '02-panel-echo');
  });

  it('a config edit while the panel is open: it offers each endpoint to push to, and its own client stays', async () => {
    const { page } = win;
    const frame = panelPage(page);
    const own = frame.locator('#clients .client.own', { hasText: 'This inspector' });
    const ownId = await own.getAttribute('data-id');
    const config = path.join(workspace, '.echo-preview.json');
    const target = (endpoint: string) => frame.locator(`#compose-target option[value="endpoint:${endpoint}"]`);
    writeFileSync(config, JSON.stringify({ endpoints: { '/websocket': { mode: 'echo' }, '/chat': { mode: 'broadcast' } } }));
    try {
      await target('/chat').waitFor({ state: 'attached', timeout: 20_000 });
      assert.equal(await target('/websocket').count(), 1);
      await frame.locator('#msgbox').fill('after the config edit');
      await frame.locator('#msgbox').press('Enter');
      await frame.locator('#replytxt', { hasText: 'after the config edit' }).waitFor();
      assert.equal(await own.getAttribute('data-id'), ownId, 'the own client reconnected');
    } finally {
      rmSync(config, { force: true });
    }
    await target('/chat').waitFor({ state: 'detached', timeout: 20_000 });
  });

  it('a 1 MiB echo leaves the panel light: small saved state and posts, no save per keystroke', async () => {
    const { page } = win;
    const frame = panelPage(page);
    const host = await panelHostFrame(page);
    await host.evaluate(() => void ((window as unknown as { echoPreviewPosts: Post[] }).echoPreviewPosts.length = 0));
    const box = frame.locator('#msgbox');
    await box.evaluate((input: HTMLInputElement, size: number) => (input.value = 'x'.repeat(size)), 1024 * 1024);
    await box.press('Enter');
    // (A narrow panel hides the size column: the cell is there, out of sight.)
    await frame.locator('#timeline .vlist-row.dir-out .c-size', { hasText: '1.0 MiB' }).waitFor({ state: 'attached' });
    const typed = 'typing after a big echo';
    await box.pressSequentially(typed);
    // The draft is saved once typing pauses: wait for that save, then look at everything posted.
    await host.waitForFunction((draft) => (window as unknown as { echoPreviewPosts: Post[] }).echoPreviewPosts.some((p) => p.draft === draft), typed);
    const posts = await host.evaluate(() => (window as unknown as { echoPreviewPosts: Post[] }).echoPreviewPosts);
    const largest = Math.max(...posts.map((p) => p.bytes));
    assert.ok(largest < 64 * 1024, `the page posted ${largest} bytes at once: ${JSON.stringify(posts.map((p) => [p.command, p.bytes]))}`);
    const saves = posts.filter((p) => p.command === 'do-update-state').length;
    assert.ok(saves <= typed.length / 2, `${saves} state saves for ${typed.length} keystrokes and one message`);
    const reply = (await frame.locator('#replytxt').textContent()) ?? '';
    assert.ok(reply.length < 8 * 1024 && reply.endsWith('(1.0 MiB in all)'), `the reply shown is a preview: ${reply.length} characters`);
    await box.fill('');
    await shot(page, '03-big-echo');
  });

  it('Open in Browser opens a tab whose own page connects and echoes', async () => {
    const { page, context } = win;
    // Dialogs are caught at the context level: the tab alerts as soon as it connects, possibly
    // before a page-level listener could be attached.
    const alerts: string[] = [];
    const notes: string[] = [];
    let connected: () => void = () => undefined;
    const connectedAlert = new Promise<void>((resolve) => (connected = resolve));
    const onDialog = (dialog: import('playwright-core').Dialog): void => {
      alerts.push(dialog.message());
      if (dialog.message() === 'WebSocket connected.') connected();
      // A dialog may still be open when the tab closes (live reload can reload the page, which
      // alerts again): accepting it then rejects, and that is no failure of this test.
      dialog.accept().catch(() => undefined);
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
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connectedAlert, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
    assert.deepEqual(alerts, ['WebSocket connected.'], `alerts seen at ${tab.url()}: ${notes.join('; ')}`);
    await tab.locator('#msgbox').fill('hello from the browser tab');
    await tab.locator('input[type=submit]').click();
    await tab.waitForFunction(() => document.getElementById('replytxt')?.innerHTML === 'hello from the browser tab');
    await tab.screenshot({ path: path.join(SHOTS, '04-browser-tab.png') });
    context.off('dialog', onDialog);
    await tab.close();
  });

  it('the inspector shows two tabs apart, pushes to one, formats JSON and binary, filters and exports HAR', async () => {
    const { page, browser } = win;
    const ui = panelPage(page);
    const url = `http://127.0.0.1:${port}/`;
    const tabs: DemoTab[] = [];
    try {
      tabs.push(await openDemoTab(browser, url, ui), await openDemoTab(browser, url, ui));
      await runInspectorFlow({
        ui,
        shot: (name) => shot(page, `inspector-editor-${name}`),
        exportHar: async () => {
          await ui.locator('#export-har').click();
          // The editor's save dialog (code-server's simple dialog: a path in a quick input), in the served folder.
          const input = page.locator('.quick-input-widget input');
          await input.waitFor();
          // The dialog fills in the proposed path a step at a time: wait for the file name.
          await page.waitForFunction(() => document.querySelector<HTMLInputElement>('.quick-input-widget input')?.value.endsWith('.har'), undefined, { timeout: 10_000 });
          const file = await input.inputValue();
          assert.match(file, /echo-preview-\d{8}-\d{6}\.har$/);
          assert.ok(file.startsWith(workspace), `the dialog proposes the served folder: ${file}`);
          await page.keyboard.press('Enter');
          await ui.locator('#toast', { hasText: 'Saved.' }).waitFor();
          return readFileSync(file, 'utf8');
        },
      }, [tabs[0], tabs[1]]);
    } finally {
      for (const tab of tabs) await tab.page.close();
    }
  });

  it('the panel keeps its timeline and connection while hidden behind another editor', async () => {
    const { page } = win;
    const ui = panelPage(page);
    // Once the tabs of the test before have closed (their close frames come before), nothing else moves.
    await ui.locator('#client-count', { hasText: /^1 open,/ }).waitFor();
    const before = await ui.locator('#stats').textContent();
    await runCommand(page, 'File: New Untitled Text File');
    await page.locator('.tab.active', { hasText: /^Untitled/ }).waitFor();
    await page.locator('.tab', { hasText: /^Inspector: / }).click();
    await ui.locator('#badge[data-state="open"]').waitFor();
    assert.equal(await ui.locator('#stats').textContent(), before, 'the timeline after showing the panel again');
    await ui.locator('#msgbox').fill('after hiding');
    await ui.locator('#msgbox').press('Enter');
    await ui.locator('#replytxt', { hasText: 'after hiding' }).waitFor();
    await shot(page, '05-shown-again');
  });

  it('Stop Server frees the port and the panel shows it is disconnected', async () => {
    const { page } = win;
    await runCommand(page, 'Echo Preview: Stop Server');
    await statusItem(page, 'circle-slash').waitFor({ timeout: 20_000 });
    assert.equal((await statusItem(page, 'circle-slash').textContent())?.trim(), 'Echo Preview');
    assert.ok(await portIsFree(port), `port ${port} still taken`);
    const frame = panelPage(page);
    await frame.locator('#badge[data-state="stopped"]').waitFor({ timeout: 20_000 });
    assert.equal(await frame.locator('#badge').textContent(), 'Server stopped');
    await shot(page, '06-stopped');
  });

  it('after a window reload the panel comes back with its filters and draft, and follows the new server on Start', async () => {
    const { page } = win;
    const before = panelPage(page);
    // A saved message goes to the workspace's storage, through the extension.
    await before.locator('#compose-pane > summary').click();
    await before.locator('#compose-mode').selectOption('json');
    await before.locator('#compose-body').fill('{"saved": "in the editor"}');
    await before.locator('#save-name').fill('editor json');
    await before.locator('#save').click();
    await before.locator('#compose-pane > summary').click();
    await before.locator('#filter-text').fill('after reload');
    await before.locator('#msgbox').fill('a draft');
    // The state is saved once typing pauses: wait for that save before reloading.
    const host = await panelHostFrame(page);
    await host.waitForFunction(() => (window as unknown as { echoPreviewPosts: Post[] }).echoPreviewPosts.some((p) => p.draft === 'a draft'));
    const reloaded = page.waitForEvent('load', { timeout: 60_000 });
    await runCommand(page, 'Developer: Reload Window');
    await reloaded; // the old workbench is gone; what follows is the new one
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const restored = panelPage(page);
    await restored.locator('#badge[data-state="stopped"]').waitFor({ timeout: 60_000 });
    assert.equal(await restored.locator('#filter-text').inputValue(), 'after reload');
    assert.equal(await restored.locator('#msgbox').inputValue(), 'a draft');
    await restored.locator('#compose-pane > summary').click();
    await restored.locator('#saved button', { hasText: 'editor json' }).click();
    assert.equal(await restored.locator('#compose-body').inputValue(), '{"saved": "in the editor"}');
    await restored.locator('#compose-pane > summary').click();
    await runCommand(page, 'Echo Preview: Start Server');
    const reconnected = panelPage(page);
    await reconnected.locator('#badge[data-state="open"]').waitFor({ timeout: 20_000 });
    await reconnected.locator('#msgbox').fill('after reload');
    await reconnected.locator('#msgbox').press('Enter');
    await reconnected.locator('#replytxt', { hasText: 'after reload' }).waitFor();
    // The new server's capture fills the timeline, filtered as before the reload.
    await reconnected.locator('#stats', { hasText: /^2 of / }).waitFor();
    assert.deepEqual(await reconnected.locator('#timeline .vlist-row:not([hidden]) .c-data').allTextContents(), ['after reload', 'after reload']);
    await shot(page, '07-reloaded');
  });
});
