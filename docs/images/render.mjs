// Makes the pictures the README and the .vsix use, in headless Chromium, from the real product:
// media/icon.png from docs/images/icon.svg, docs/images/demo.png (the demo page served by the CLI)
// and docs/images/inspector.png (the inspector of `--inspect` with two tabs of the demo).
// Usage: node esbuild.mjs && node docs/images/render.mjs (docs/images/preview.mjs makes preview.png)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../scripts/chromium.mjs';
import { optimisePng } from './png.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const at = (relative) => `${repo}${relative}`;

/** The CLI on the bundled demo, port 0; resolves with its page URL, its inspector's (with --inspect) and a stop function. */
function startDemo(extra = []) {
  const port = extra.includes('--port') ? [] : ['--port', '0'];
  const child = spawn(process.execPath, [at('dist/cli.js'), at('media/demo'), ...port, '--quiet', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the CLI exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const url = /http:\/\/\S+?\//.exec(line)?.[0];
      if (!url) return reject(new Error(`no URL in the ready line: ${line}`));
      resolve({ url, inspector: /\(inspector: (\S+)\)/.exec(line)?.[1], stop: () => child.kill('SIGTERM') });
    });
  });
}

/** Makes a picture small and says how small. */
function report(relative) {
  const { before, after } = optimisePng(at(relative));
  console.log(`wrote ${relative}: ${after} bytes (${before} as Chromium wrote it)`);
}

async function renderIcon(browser) {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
  await page.setContent(`<style>body{margin:0}</style>${readFileSync(at('docs/images/icon.svg'), 'utf8')}`);
  await page.screenshot({ path: at('media/icon.png'), omitBackground: true });
  await page.close();
}

/**
 * The demo page as a browser shows it: the real page, served by the CLI on the README's port
 * 8080 (any free port when 8080 is taken), in a frame under a plain address bar that shows its
 * URL, after "Hello, Echo Preview!" was typed and echoed.
 */
async function renderDemo(browser) {
  const demo = await startDemo(['--port', '8080']).catch(() => startDemo());
  try {
    const page = await browser.newPage({ viewport: { width: 560, height: 150 }, colorScheme: 'light' });
    page.on('dialog', (dialog) => void dialog.accept());
    const connected = page.waitForEvent('dialog', (dialog) => dialog.message() === 'WebSocket connected.');
    await page.setContent(`<style>
      body { margin: 0; font: 13px system-ui, sans-serif; background: #dee1e6; }
      .bar { display: flex; align-items: center; gap: 10px; height: 38px; padding: 0 12px; color: #5f6368; }
      .url { flex: 1; background: #fff; border-radius: 14px; padding: 5px 14px; color: #202124; }
      iframe { display: block; width: 100%; height: 112px; border: 0; background: #fff; }
    </style><div class="bar"><span>&#8592;</span><span>&#8594;</span><span>&#8635;</span><div class="url">${demo.url}</div></div><iframe src="${demo.url}"></iframe>`);
    await connected;
    const frame = page.frameLocator('iframe');
    await frame.locator('#msgbox').fill('Hello, Echo Preview!');
    await frame.locator('#sendbtn').click();
    await frame.locator('#replytxt', { hasText: 'Hello, Echo Preview!' }).waitFor();
    await page.screenshot({ path: at('docs/images/demo.png') });
    report('docs/images/demo.png');
    await page.close();
  } finally {
    demo.stop();
  }
}

/**
 * The inspector as `--inspect` serves it (the same UI as the editor's panel), with two tabs of
 * the demo connected: each echoes one short message, the inspector sends a JSON message from its
 * own client (its echo is the latest reply), pushes to one tab, and shows one JSON frame's details.
 * The tabs present a desktop Chrome user agent (the real one says "HeadlessChrome").
 */
async function renderInspector(browser) {
  const demo = await startDemo(['--inspect']);
  const chrome = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version().split('.')[0]}.0.0.0 Safari/537.36`;
  const pages = [];
  try {
    const ui = await browser.newPage({ viewport: { width: 1280, height: 560 }, colorScheme: 'light' });
    pages.push(ui);
    await ui.goto(demo.inspector);
    await ui.locator('#clients .client.own', { hasText: 'This inspector' }).waitFor();
    const tabs = [];
    for (const text of ['Hello from tab A', '{"type":"subscribe","topic":"prices"}']) {
      const tab = await browser.newPage({ userAgent: chrome, viewport: { width: 480, height: 120 } });
      pages.push(tab);
      tab.on('dialog', (dialog) => void dialog.accept());
      const connected = tab.waitForEvent('dialog', (dialog) => dialog.message() === 'WebSocket connected.');
      await tab.goto(demo.url);
      await connected;
      await tab.fill('#msgbox', text);
      await tab.press('#msgbox', 'Enter');
      await tab.locator('#replytxt', { hasText: text }).waitFor();
      tabs.push(tab);
    }
    await ui.locator('#clients .client').nth(2).waitFor();
    // A message from the inspector's own client: its echo is the latest reply.
    const own = '{"type":"hello","from":"the inspector"}';
    await ui.fill('#msgbox', own);
    await ui.press('#msgbox', 'Enter');
    await ui.locator('#replytxt', { hasText: own }).waitFor();
    // A push to tab A, which shows it as its reply.
    await ui.locator('#compose-pane > summary').click();
    const tabA = await ui.locator('#compose-target option', { hasText: 'tab' }).first().getAttribute('value');
    await ui.locator('#compose-target').selectOption(tabA);
    await ui.locator('#compose-body').fill('pushed to tab A');
    await ui.locator('#compose-send').click();
    await tabs[0].locator('#replytxt', { hasText: 'pushed to tab A' }).waitFor();
    await ui.locator('#compose-pane > summary').click();
    // Tab B's JSON message, formatted in the details.
    await ui.locator('#timeline .vlist-row.dir-in', { hasText: '"topic":"prices"' }).first().click();
    await ui.locator('#timeline').press('Enter');
    await ui.locator('#details-json').waitFor();
    await ui.mouse.move(0, 0); // no hover highlight
    await ui.locator('#toast.visible').waitFor({ state: 'detached' }); // "Sent to 1 client." fades
    await ui.screenshot({ path: at('docs/images/inspector.png') });
    report('docs/images/inspector.png');
  } finally {
    for (const page of pages) await page.close();
    demo.stop();
  }
}

const browser = await launchChromium();
try {
  await renderIcon(browser);
  await renderDemo(browser);
  await renderInspector(browser);
} finally {
  await browser.close();
}
