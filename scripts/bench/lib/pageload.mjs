// The page-load scenario: a page of 300 small ES modules imported three levels deep and 50
// images, loaded in headless Chromium until every module has run and every image has loaded.
// Cold: a new browser context (empty cache) per load. Warm: a reload in a context that has
// loaded the page once, so every file is revalidated (If-None-Match / If-Modified-Since).
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cpuSecondsOfTree } from './proc.mjs';

/** Modules per level: 6 imported by the entry, 7 by each of those, 6 by each of those = 300 with the entry. */
const FAN_OUT = [6, 7, 6];
export const PAGE_IMAGES = 50;
export const PAGE_DIR = 'page';

/** Writes the page into `root/page/` and returns how many modules it has (the entry included). */
export function makePage(root) {
  const dir = path.join(root, PAGE_DIR);
  mkdirSync(path.join(dir, 'modules'), { recursive: true, mode: 0o755 });
  mkdirSync(path.join(dir, 'images'), { recursive: true, mode: 0o755 });
  let modules = 0;
  // A small module body of realistic size (a few hundred bytes), different in every file.
  const body = (name) =>
    `export const name = ${JSON.stringify(name)};\n` +
    `export function describe(value) {\n  return \`\${name}: \${JSON.stringify(value)}\`;\n}\n` +
    `globalThis.__benchRan = (globalThis.__benchRan ?? 0) + 1;\n` +
    `// ${'-'.repeat(200)}\n`;
  const write = (name, children) => {
    modules++;
    const imports = children.map((child, i) => `import * as m${i} from './${child}.js';`).join('\n');
    const use = children.length ? `\nexport const children = [${children.map((_, i) => `m${i}.name`).join(', ')}];\n` : '';
    writeFileSync(path.join(dir, 'modules', `${name}.js`), `${imports}\n${body(name)}${use}`, { mode: 0o644 });
  };
  const level = (prefix, depth) => {
    const names = Array.from({ length: FAN_OUT[depth] }, (_, i) => `${prefix}-${i}`);
    for (const name of names) write(name, depth + 1 < FAN_OUT.length ? level(name, depth + 1) : []);
    return names;
  };
  write('main', level('m', 0));
  for (let i = 0; i < PAGE_IMAGES; i++) {
    const hue = Math.round((i * 360) / PAGE_IMAGES);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><rect width="48" height="48" fill="hsl(${hue} 70% 50%)"/><text x="8" y="30">${i}</text></svg>\n`;
    writeFileSync(path.join(dir, 'images', `i${i}.svg`), svg, { mode: 0o644 });
  }
  const images = Array.from({ length: PAGE_IMAGES }, (_, i) => `<img src="images/i${i}.svg" width="48" height="48" alt="">`).join('\n');
  writeFileSync(
    path.join(dir, 'index.html'),
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>bench page</title>\n<script type="module" src="modules/main.js"></script></head>\n<body>\n${images}\n</body></html>\n`,
    { mode: 0o644 },
  );
  return { modules, images: PAGE_IMAGES };
}

/** True once every module has run and every image has loaded (evaluated in the page). */
const DONE = `(expected) => (globalThis.__benchRan ?? 0) >= expected.modules && [...document.images].length === expected.images && [...document.images].every((img) => img.complete && img.naturalWidth > 0)`;

/**
 * One load of the page at `url`: from the navigation's start until the load event has ended
 * and the page is complete (modules run, images loaded), in milliseconds.
 */
async function timedLoad(page, url, expected, reload) {
  if (reload) await page.reload({ waitUntil: 'load' });
  else await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(DONE, expected, { timeout: 30_000 });
  return page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
}

/**
 * After one unmeasured load, `loads` cold loads (each in a fresh context) and `loads` warm
 * reloads (in one context that loaded the page once first) of `url`, served by `server`;
 * returns the median of each and the server's CPU time per measured load.
 */
export async function measurePageLoad(browser, server, url, expected, loads) {
  // One load first, not measured: the servers are measured warm, as they are while one works
  // on a site (for Echo Preview, a first load reads and checks every file once).
  const warmUp = await browser.newContext();
  try {
    await timedLoad(await warmUp.newPage(), url, expected, false);
  } finally {
    await warmUp.close();
  }
  const cpuBefore = cpuSecondsOfTree(server.child.pid);
  const cold = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext();
    try {
      cold.push(await timedLoad(await context.newPage(), url, expected, false));
    } finally {
      await context.close();
    }
  }
  const warm = [];
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await timedLoad(page, url, expected, false);
    for (let i = 0; i < loads; i++) warm.push(await timedLoad(page, url, expected, true));
  } finally {
    await context.close();
  }
  const mid = (list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  };
  // The server's CPU time over every load of this run (cold, the first warm-up load, warm).
  const serverCpuMsPerLoad = ((cpuSecondsOfTree(server.child.pid) - cpuBefore) * 1000) / (2 * loads + 1);
  return { coldMs: mid(cold), warmMs: mid(warm), serverCpuMsPerLoad };
}
