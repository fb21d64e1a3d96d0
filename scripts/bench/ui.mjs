// `npm run bench:ui`: the inspector UI under large captures (issue 10), measured in headless Chromium.
//
// Starts `echo-preview media/demo --port 0 --inspect --quiet`, opens the inspector page and runs,
// REPEATS times each, on a fresh page whose capture was just cleared:
//   baseline  the empty capture, idle for IDLE_MS: long tasks, the slowest frame, heap and DOM nodes;
//   100k      a `ws` client sends 50,000 small messages as fast as it can (100,000 frames with the
//             echoes): the time until the row count shows them all, long tasks while loading and in
//             the SETTLE_MS after, heap and DOM nodes, then jumps to the top and back and a scripted
//             scroll through the whole list (the frame times);
//   16MiB     10 messages of 16 MiB (text and binary alternately): the same, and the time to open one
//             text and one binary frame's details (which must show a preview and the full size).
// Reports medians. Writes docs/bench-ui.md (and bench-results/ui.json) unless --no-docs.
// Options: --repeats N (3), --no-docs.
/* global window, document, requestAnimationFrame, MutationObserver, KeyboardEvent -- the functions handed to page.evaluate run in the page */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { launchChromium } from '../chromium.mjs';
import { median } from './lib/report.mjs';
import { REPO } from './lib/setup.mjs';

const { values: options } = parseArgs({ options: { repeats: { type: 'string', default: '3' }, 'no-docs': { type: 'boolean', default: false } } });
const REPEATS = Number(options.repeats);
const SMALL_MESSAGES = 50_000;
const BIG_MESSAGES = 10;
const BIG_BYTES = 16 * 1024 * 1024; // the default --max-message-size: the largest message allowed
const IDLE_MS = 3000;
const SETTLE_MS = 2000;
const SCROLL_STEPS = 60; // frames from the bottom to the top, and as many back
/** What "responsive" means here. */
const LIMITS = { longTaskMs: 200, frameMs: 50 };
const started = performance.now();
const log = (message) => console.log(`[bench:ui ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`);

/** Installed before the page's own scripts: long tasks, every animation frame, and when the row count reaches a target. */
function probe() {
  const p = { longTasks: [], frames: [], target: Infinity, shownAt: 0 };
  window.__probe = p;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) p.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  let last = performance.now();
  const tick = (t) => {
    p.frames.push([t, t - last]);
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const watch = () => {
    const stats = document.getElementById('stats');
    if (!stats) return void setTimeout(watch, 20);
    new MutationObserver(() => {
      const m = /^([\d,]+) of ([\d,]+) rows shown/.exec(stats.textContent ?? '');
      if (!p.shownAt && m && Number(m[1].replace(/,/g, '')) >= p.target) p.shownAt = performance.now();
    }).observe(stats, { childList: true, characterData: true, subtree: true });
  };
  watch();
}

function startCli() {
  const child = spawn(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'media/demo', '--port', '0', '--inspect', '--quiet'], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before its ready line: ${out}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (!out.includes('\n')) return;
      const match = /^.*?(http:\/\/\S+?\/?)\s.*\(inspector: (http:\/\/\S+)\)\s*$/.exec(line);
      if (!match) return reject(new Error(`no inspector URL on the ready line: ${line}`));
      resolve({ child, url: match[1].replace(/\/?$/, '/'), inspector: match[2] });
    });
  });
}

/** A fresh inspector page, connected, with the capture cleared; and a CDP session for heap figures. */
async function openInspector(browser, { inspector: url }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.addInitScript(probe);
  await page.goto(url);
  await page.locator('#badge[data-state="open"]').waitFor({ timeout: 15_000 });
  await page.locator('#feed[data-state="open"]').waitFor();
  await page.locator('#clear').click();
  await page.locator('#stats', { hasText: /^0 of 0 rows/ }).waitFor();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const timeOrigin = await page.evaluate(() => performance.timeOrigin);
  return {
    page,
    errors,
    /** The page's performance.now() for this moment in the bench. */
    pageNow: () => performance.timeOrigin + performance.now() - timeOrigin,
    /** JS heap and DOM nodes after a full GC (what the page keeps, not garbage yet to be collected). */
    memory: async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      const get = (name) => metrics.find((m) => m.name === name)?.value;
      return { heapMiB: get('JSHeapUsedSize') / 2 ** 20, nodes: get('Nodes') };
    },
    /** Long tasks and the slowest animation frame in [from, to] of the page's clock. */
    window: (from, to) =>
      page.evaluate(([a, b]) => {
        const tasks = window.__probe.longTasks.filter(([t]) => t >= a && t <= b).map(([, d]) => d);
        const frames = window.__probe.frames.filter(([t]) => t >= a && t <= b).map(([, d]) => d);
        return { longTasks: tasks.length, longestTaskMs: Math.max(0, ...tasks), slowestFrameMs: Math.max(0, ...frames) };
      }, [from, to]),
    close: () => context.close(),
  };
}

function echoClient(base) {
  const ws = new WebSocket(base.replace('http:', 'ws:') + 'websocket', { origin: base.replace(/\/$/, ''), maxPayload: BIG_BYTES });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends every message at once and resolves once all the echoes are back. */
function sendAll(ws, messages) {
  return new Promise((resolve) => {
    let received = 0;
    const onMessage = () => {
      if (++received < messages.length) return;
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    for (const message of messages) ws.send(message);
  });
}

/** Sends, waits for the UI to count `frames` rows, settles; returns the load figures (page's clock). */
async function load(ui, url, messages, frames) {
  await ui.page.evaluate((n) => (window.__probe.target = n), frames);
  const ws = await echoClient(url);
  const t0 = ui.pageNow();
  await sendAll(ws, messages);
  const echoedMs = ui.pageNow() - t0;
  // Closed now, so its close frames are part of the load and the list is quiet once settled.
  await new Promise((resolve) => {
    ws.once('close', resolve);
    ws.close();
  });
  await ui.page.waitForFunction(() => window.__probe.shownAt > 0, null, { timeout: 180_000, polling: 250 });
  const shownAt = await ui.page.evaluate(() => window.__probe.shownAt);
  const settleEnd = shownAt + SETTLE_MS;
  await ui.page.waitForFunction((end) => performance.now() > end, settleEnd, { polling: 100 });
  const during = await ui.window(t0, shownAt);
  const afterwards = await ui.window(shownAt, settleEnd);
  return { echoedMs, shownMs: shownAt - t0, during, afterwards, ...(await ui.memory()) };
}

/** Jumps to the top and back, then scrolls through the whole list frame by frame; in the page. */
function scrollFigures(page) {
  return page.evaluate(async ([steps, firstText]) => {
    const list = document.getElementById('timeline');
    const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const jump = async (top, shows) => {
      const t = performance.now();
      list.scrollTop = top;
      for (let i = 0; i < 120; i++) {
        await nextFrame();
        if (shows()) break;
      }
      await nextFrame(); // painted
      return performance.now() - t;
    };
    const bottom = () => list.scrollHeight - list.clientHeight;
    const count = Number(list.querySelector('.vlist-row')?.getAttribute('aria-setsize'));
    const topMs = await jump(0, () => document.getElementById('timeline-row-0') !== null);
    const topText = document.getElementById('timeline-row-1')?.querySelector('.c-data')?.textContent;
    if (topText !== firstText) throw new Error(`the second row shows ${topText}, not ${firstText}: scrollTop ${list.scrollTop} of ${list.scrollHeight}, rows ${[...list.querySelectorAll('.vlist-row')].map((r) => r.id + '=' + r.textContent.slice(0, 40)).slice(0, 6).join(' | ')}`);
    const bottomMs = await jump(bottom(), () => document.getElementById(`timeline-row-${count - 1}`) !== null);
    const times = [];
    let last = performance.now();
    for (const [from, to] of [[bottom(), 0], [0, bottom()]]) {
      for (let i = 1; i <= steps; i++) {
        list.scrollTop = from + ((to - from) * i) / steps;
        await nextFrame();
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
    }
    times.sort((a, b) => a - b);
    if (topMs > 1000 || bottomMs > 1000) throw new Error(`the jumps did not render the first or last row (${topMs} / ${bottomMs} ms)`);
    return { topMs, bottomMs, scrollFrames: times.length, scrollP95Ms: times[Math.floor(times.length * 0.95)], scrollMaxMs: times.at(-1) };
  }, [SCROLL_STEPS, 'message 0']);
}

/** Opens the first row of a kind with Enter and times it until the details show the size and the preview notice. */
async function openDetails(page, kind) {
  await page.locator(`#timeline .vlist-row.dir-in.kind-${kind}`).first().click();
  const figures = await page.evaluate(async (bytes) => {
    const list = document.getElementById('timeline');
    const t = performance.now();
    list.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    const details = document.getElementById('details');
    const shown = () => !details.hidden && details.textContent.includes(`${bytes.toLocaleString('en-US')} bytes`) && /Preview: the first/.test(details.textContent);
    for (let i = 0; i < 120 && !shown(); i++) await new Promise((resolve) => requestAnimationFrame(resolve));
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const notice = details.querySelector('.notice')?.textContent ?? '';
    const payload = details.querySelector('.payload pre')?.textContent ?? '';
    return { ms: performance.now() - t, ok: shown(), notice, payloadChars: payload.length };
  }, BIG_BYTES);
  if (!figures.ok) throw new Error(`the ${kind} frame's details did not show the full size and a preview: ${figures.notice}`);
  await page.locator('#timeline').press('Escape');
  await page.locator('#details').waitFor({ state: 'hidden' });
  return figures;
}

async function baseline(browser, cli) {
  const ui = await openInspector(browser, cli);
  const from = ui.pageNow();
  await ui.page.waitForFunction((end) => performance.now() > end, from + IDLE_MS, { polling: 100 });
  const result = { idle: await ui.window(from, from + IDLE_MS), ...(await ui.memory()) };
  await ui.close();
  return result;
}

async function manyFrames(browser, cli) {
  const ui = await openInspector(browser, cli);
  const { url } = cli;
  const messages = Array.from({ length: SMALL_MESSAGES }, (_, i) => `message ${i}`);
  const result = await load(ui, url, messages, 2 * SMALL_MESSAGES);
  result.rowElements = await ui.page.locator('#timeline .vlist-row').count();
  Object.assign(result, await scrollFigures(ui.page));
  if (ui.errors.length) throw new Error(`page errors: ${ui.errors.join('; ')}`);
  await ui.close();
  return result;
}

async function bigMessages(browser, cli) {
  const ui = await openInspector(browser, cli);
  const { url } = cli;
  const text = `{"big":"${'x'.repeat(BIG_BYTES - 10)}"}`;
  const binary = Buffer.alloc(BIG_BYTES, 0xab);
  const messages = Array.from({ length: BIG_MESSAGES }, (_, i) => (i % 2 ? binary : text));
  const result = await load(ui, url, messages, 2 * BIG_MESSAGES);
  const textDetails = await openDetails(ui.page, 'text');
  const binaryDetails = await openDetails(ui.page, 'binary');
  Object.assign(result, { textDetailsMs: textDetails.ms, binaryDetailsMs: binaryDetails.ms, notice: textDetails.notice, previewChars: textDetails.payloadChars });
  if (ui.errors.length) throw new Error(`page errors: ${ui.errors.join('; ')}`);
  await ui.close();
  return result;
}

// Medians of every numeric field (nested one level: during, afterwards, idle).
function medians(runs) {
  const out = {};
  for (const [key, value] of Object.entries(runs[0])) {
    if (typeof value === 'number') out[key] = median(runs.map((r) => r[key]));
    else if (value && typeof value === 'object') out[key] = medians(runs.map((r) => r[key]));
    else out[key] = value;
  }
  return out;
}

const f = (value, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const worst = (runs, pick) => Math.max(...runs.map(pick));

function verdict(runs, windows) {
  const longest = worst(runs, (r) => Math.max(...windows.map((w) => r[w].longestTaskMs)));
  const scroll = runs[0].scrollMaxMs === undefined ? 0 : worst(runs, (r) => r.scrollMaxMs);
  const ok = longest <= LIMITS.longTaskMs && scroll <= LIMITS.frameMs;
  return `${ok ? 'yes' : '**no**'} (longest task in any run ${f(longest)} ms${runs[0].scrollMaxMs === undefined ? '' : `, slowest scroll frame ${f(scroll, 1)} ms`})`;
}

function renderDoc(machine, raw) {
  const base = medians(raw.baseline);
  const many = medians(raw.manyFrames);
  const big = medians(raw.bigMessages);
  const row = (label, cells) => `| ${label} | ${cells.join(' | ')} |`;
  return `# Inspector UI benchmark: large captures

\`npm run bench:ui\` (scripts/bench/ui.mjs) measures the inspector UI that \`echo-preview --inspect\` serves,
in headless Chromium, against the two large captures of issue 10: 100,000 frames (a virtualized
list) and 16 MiB messages (previews, not copies). It is a benchmark, not a test: nothing here is
asserted on timing; the figures are for reading against the baseline and the limits below.

## What "responsive" means here

- No long task (main thread busy without a break) over **${LIMITS.longTaskMs} ms** while the capture loads or after it.
  Chromium reports every task over 50 ms as a long task; their count is shown too.
- Every frame of a scripted scroll through the whole list under **${LIMITS.frameMs} ms** (20 frames a second or better).
- The page's JS heap and DOM stay bounded: the list keeps only the rows in sight, and a frame
  keeps only its preview (4 KiB by default), never the whole message.

## Method

- One CLI (\`node dist/cli.js media/demo --port 0 --inspect --quiet\`), one headless Chromium
  (scripts/chromium.mjs), a 1280 × 800 viewport. Each run opens a fresh page (its own browser
  context), waits until the inspector is connected, clears the capture, then:
  - **Baseline**: idles ${IDLE_MS / 1000} s with the empty capture.
  - **100,000 frames**: a \`ws\` client in the bench sends ${SMALL_MESSAGES.toLocaleString('en-US')} small messages (\`message N\`) at once; with the echoes that is 100,000 frames.
  - **16 MiB messages**: the client sends ${BIG_MESSAGES} messages of exactly 16 MiB (16,777,216 bytes, the default \`--max-message-size\`), text (JSON) and binary alternately: 20 frames.
- *Echoed*: from the first send until the client has every echo back (the server's share).
  *Shown*: from the first send until the row count (\`#stats\`, watched by a MutationObserver) reaches every frame.
- Long tasks come from \`PerformanceObserver({ type: 'longtask' })\`; the slowest frame from a
  \`requestAnimationFrame\` loop running all the time. *Loading* is from the first send until shown,
  *after* the ${SETTLE_MS / 1000} s that follow.
- Heap: CDP \`HeapProfiler.collectGarbage\`, then \`Performance.getMetrics\` (JSHeapUsedSize and Nodes):
  what the page keeps, after the capture is shown and settled.
- Scroll (100,000 frames): set \`scrollTop\` to the top and time until the first rows (the connection, then \`message 0\`)
  is rendered and painted, then the same back to the bottom; then a scripted scroll from the
  bottom to the top and back in ${SCROLL_STEPS} steps each, one step per animation frame, timing every frame.
- Details (16 MiB): click the first text (then binary) in-frame and press Enter; time until the
  details show the full size (\`16,777,216 bytes\`) and the preview notice, and are painted.
- ${REPEATS} runs of each; the tables show medians (the verdict looks at the worst run).

## Machine

- ${machine.date}; ${machine.cpuModel}, ${machine.cores} cores (\`nproc\` ${machine.nproc}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, Linux ${machine.kernel}
- Node ${machine.node}; ${machine.chromium}; playwright-core ${machine.playwright}
- Load average (1 min) at the start: ${machine.loadavg1.toFixed(2)}. The machine is shared with other sessions, so
  times carry their noise; the heap and DOM figures do not.

## Results (medians of ${REPEATS} runs)

| | Baseline (empty) | 100,000 frames | 16 MiB × ${BIG_MESSAGES} |
|---|---:|---:|---:|
${[
    row('Echoed (server)', ['–', `${f(many.echoedMs)} ms`, `${f(big.echoedMs)} ms`]),
    row('Shown in the UI', ['–', `${f(many.shownMs)} ms`, `${f(big.shownMs)} ms`]),
    row('Long tasks (> 50 ms) loading / after', [`${f(base.idle.longTasks)} (idle ${IDLE_MS / 1000} s)`, `${f(many.during.longTasks)} / ${f(many.afterwards.longTasks)}`, `${f(big.during.longTasks)} / ${f(big.afterwards.longTasks)}`]),
    row('Longest task loading / after', [`${f(base.idle.longestTaskMs)} ms`, `${f(many.during.longestTaskMs)} / ${f(many.afterwards.longestTaskMs)} ms`, `${f(big.during.longestTaskMs)} / ${f(big.afterwards.longestTaskMs)} ms`]),
    row('Slowest frame loading / after', [`${f(base.idle.slowestFrameMs, 1)} ms`, `${f(many.during.slowestFrameMs, 1)} / ${f(many.afterwards.slowestFrameMs, 1)} ms`, `${f(big.during.slowestFrameMs, 1)} / ${f(big.afterwards.slowestFrameMs, 1)} ms`]),
    row('JS heap after GC', [`${f(base.heapMiB, 1)} MiB`, `${f(many.heapMiB, 1)} MiB (+${f(many.heapMiB - base.heapMiB, 1)}, ×${f(many.heapMiB / base.heapMiB, 1)})`, `${f(big.heapMiB, 1)} MiB (+${f(big.heapMiB - base.heapMiB, 1)}, ×${f(big.heapMiB / base.heapMiB, 1)})`]),
    row('DOM nodes', [f(base.nodes), `${f(many.nodes)} (${f(many.rowElements)} row elements)`, f(big.nodes)]),
    row('Jump to top / back to bottom', ['–', `${f(many.topMs, 1)} / ${f(many.bottomMs, 1)} ms`, '–']),
    row(`Scripted scroll, ${2 * SCROLL_STEPS} frames: p95 / slowest`, ['–', `${f(many.scrollP95Ms, 1)} / ${f(many.scrollMaxMs, 1)} ms`, '–']),
    row('Open details: text / binary', ['–', '–', `${f(big.textDetailsMs, 1)} / ${f(big.binaryDetailsMs, 1)} ms`]),
    row('Responsive (limits above)', [verdict(raw.baseline, ['idle']), verdict(raw.manyFrames, ['during', 'afterwards']), verdict(raw.bigMessages, ['during', 'afterwards'])]),
  ].join('\n')}

The 16 MiB details show: "${big.notice}" (${f(big.previewChars)} characters of preview in the page).

Per-run figures: bench-results/ui.json (not committed).
`;
}

async function main() {
  const machine = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    nproc: (await import('node:os')).availableParallelism(),
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    loadavg1: loadavg()[0],
    playwright: (await import('playwright-core/package.json', { with: { type: 'json' } })).default.version,
  };
  const cli = await startCli();
  log(`CLI at ${cli.url} with the inspector`);
  const browser = await launchChromium();
  machine.chromium = `Chromium ${browser.version()}`;
  const raw = { baseline: [], manyFrames: [], bigMessages: [] };
  try {
    for (let i = 1; i <= REPEATS; i++) {
      raw.baseline.push(await baseline(browser, cli));
      log(`run ${i}: baseline ${JSON.stringify(raw.baseline.at(-1))}`);
      raw.manyFrames.push(await manyFrames(browser, cli));
      log(`run ${i}: 100,000 frames ${JSON.stringify(raw.manyFrames.at(-1))}`);
      raw.bigMessages.push(await bigMessages(browser, cli));
      log(`run ${i}: 16 MiB ${JSON.stringify({ ...raw.bigMessages.at(-1), notice: undefined })}`);
    }
  } finally {
    await browser.close();
    cli.child.kill('SIGTERM');
  }
  mkdirSync(path.join(REPO, 'bench-results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench-results', 'ui.json'), JSON.stringify({ machine, raw }, null, 2));
  const doc = renderDoc(machine, raw);
  if (!options['no-docs']) writeFileSync(path.join(REPO, 'docs', 'bench-ui.md'), doc);
  console.log(doc);
}

await main();
