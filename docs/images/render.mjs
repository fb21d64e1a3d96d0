// Makes the pictures the README and the .vsix use, in headless Chromium: media/icon.png from
// docs/images/icon.svg, docs/images/demo.png from the real CLI serving media/demo, and
// docs/images/editor.png cropped from the editor e2e's screenshot (run test/e2e/editor.test.ts
// first). Usage: npm run build && node docs/images/render.mjs
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../scripts/chromium.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const at = (relative) => `${repo}${relative}`;

/** The CLI on the bundled demo, port 0; resolves with its page URL and a stop function. */
function startDemo() {
  const child = spawn(process.execPath, [at('dist/cli.js'), at('media/demo'), '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the CLI exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const url = /http:\/\/\S+?\//.exec(line)?.[0];
      if (!url) return reject(new Error(`no URL in the ready line: ${line}`));
      resolve({ url, stop: () => child.kill('SIGTERM') });
    });
  });
}

async function renderIcon(browser) {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
  await page.setContent(`<style>body{margin:0}</style>${readFileSync(at('docs/images/icon.svg'), 'utf8')}`);
  await page.screenshot({ path: at('media/icon.png'), omitBackground: true });
  await page.close();
}

async function renderDemo(browser) {
  const demo = await startDemo();
  try {
    const page = await browser.newPage({ viewport: { width: 480, height: 96 } });
    page.on('dialog', (dialog) => void dialog.accept());
    const connected = page.waitForEvent('dialog', (dialog) => dialog.message() === 'WebSocket connected.');
    await page.goto(demo.url);
    await connected;
    await page.fill('#msgbox', 'Hello, Echo Preview!');
    await page.click('#sendbtn');
    await page.locator('#replytxt', { hasText: 'Hello, Echo Preview!' }).waitFor();
    await page.screenshot({ path: at('docs/images/demo.png') });
    await page.close();
  } finally {
    demo.stop();
  }
}

/** Part of an e2e screenshot at 1:1, so text stays sharp: `crop` is the region, from its top left. */
async function cropShot(browser, shot, target, crop) {
  const source = at(`test-results/e2e/${shot}`);
  if (!existsSync(source)) return console.log(`skipped ${target}: no ${source} (run the e2e tests first)`);
  const page = await browser.newPage({ viewport: { width: crop.width, height: crop.height } });
  const data = readFileSync(source).toString('base64');
  await page.setContent(`<style>body{margin:0;overflow:hidden}img{display:block;margin:${-crop.y}px 0 0 ${-crop.x}px}</style><img src="data:image/png;base64,${data}">`);
  await page.screenshot({ path: at(target) });
  await page.close();
}

/** The inspector panel in the editor (test/e2e/editor.test.ts): the panel's editor group. */
const renderEditor = (browser) => cropShot(browser, 'inspector-editor-04-json-formatted.png', 'docs/images/editor.png', { x: 350, y: 34, width: 752, height: 760 });

const browser = await launchChromium();
try {
  await renderIcon(browser);
  await renderDemo(browser);
  await renderEditor(browser);
} finally {
  await browser.close();
}
