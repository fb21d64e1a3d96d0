// Makes docs/images/preview.png: the real editor (code-server in headless Chromium, the extension
// from this checkout) with the bundled demo open and "Echo Preview: Open Preview" beside it,
// after a message was echoed in the preview. Usage: npm run build && node docs/images/preview.mjs
// (with ECHO_PREVIEW_HOST_CACHE set like the host tests, so the installed editor is reused).
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEditorWindow } from '../../scripts/host/code-server.mjs';
import { optimisePng } from './png.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'echo-preview-shot-'));
const workspace = join(scratch, 'demo'); // the folder name shows in the window and the panel title
cpSync(join(repo, 'media', 'demo'), workspace, { recursive: true });
mkdirSync(join(workspace, '.vscode'));
writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'echoPreview.port': 0, 'echoPreview.openOnStart': 'none', 'workbench.startupEditor': 'none', 'workbench.secondarySideBar.defaultVisibility': 'hidden' }));

/** F1, the command's title, Enter: retried while the extension's commands are still being registered. */
async function runCommand(page, title) {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor();
    await input.fill(`>${title}`);
    try {
      await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${title}"]`).first().waitFor({ timeout: 10_000 });
      break;
    } catch (error) {
      if (attempt === 4) throw error;
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
}

const win = await openEditorWindow({ workspace, viewport: { width: 1280, height: 720 } });
try {
  const { page } = win;
  const aside = page.locator('.part.auxiliarybar');
  if (await aside.isVisible()) {
    await page.keyboard.press('Control+Alt+KeyB'); // the secondary side bar (chat), empty offline
    await aside.waitFor({ state: 'hidden' });
  }
  await runCommand(page, 'Go to File');
  await page.keyboard.type('index.html');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'index.html' }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines', { hasText: 'DOCTYPE' }).first().waitFor();
  await runCommand(page, 'Echo Preview: Open Preview');
  const panel = page.frameLocator('iframe.webview').frameLocator('#active-frame');
  const framed = panel.frameLocator('#frame');
  await framed.locator('#msgbox').waitFor({ timeout: 30_000 });
  await framed.locator('#msgbox').fill('Hello from the preview!');
  await framed.locator('#msgbox').press('Enter');
  await framed.locator('#replytxt', { hasText: 'Hello from the preview!' }).waitFor();
  await panel.locator('#address').waitFor();
  await page.screenshot({ path: join(repo, 'docs', 'images', 'preview.png') });
  const { before, after } = optimisePng(join(repo, 'docs', 'images', 'preview.png'));
  console.log(`wrote docs/images/preview.png: ${after} bytes (${before} as Chromium wrote it)`);
} finally {
  await win.close();
  rmSync(scratch, { recursive: true, force: true });
}
