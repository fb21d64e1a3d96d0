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

/** The top of the e2e's window shot (explorer, and the panel after one echo), cropped 1:1 so text stays sharp. */
async function renderEditor(browser) {
  const source = at('test-results/e2e/02-panel-echo.png');
  if (!existsSync(source)) return console.log(`skipped docs/images/editor.png: no ${source} (run test/e2e/editor.test.ts)`);
  const crop = { width: 1104, height: 332 };
  const page = await browser.newPage({ viewport: crop });
  const data = readFileSync(source).toString('base64');
  await page.setContent(`<style>body{margin:0;overflow:hidden}img{display:block}</style><img src="data:image/png;base64,${data}">`);
  await page.screenshot({ path: at('docs/images/editor.png') });
  await page.close();
}

const browser = await launchChromium();
try {
  await renderIcon(browser);
  await renderDemo(browser);
  await renderEditor(browser);
} finally {
  await browser.close();
}
