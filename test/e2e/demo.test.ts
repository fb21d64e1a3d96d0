/**
 * The guide's demo in a real browser: the page loads, alerts "WebSocket connected.", and a typed
 * message comes back into #replytxt. Runs our bundled demo (on the default and on configured
 * WebSocket paths) and the guide's own files; then what pages of other sites may not do.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ServerEvent } from '../../src/core/events/events';
import { startServer, type RunningServer } from '../../src/core/server';
import { launchChromium } from '../support/browser';
import { startCli, type CliRun } from '../support/cli';
import { REPO_ROOT, tempDir } from '../support/http';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');
/** Each test drives a browser; none should take long, and none may hang the run. */
const TIMEOUT = { timeout: 30_000 };

/**
 * Opens `url`, accepts its alerts, and resolves once the page says "WebSocket connected."; fails
 * (closing the page) if it does not within 10 s, so a demo that never connects fails its test
 * instead of holding the run open.
 */
async function openDemo(browser: Browser, url: string): Promise<{ page: Page; alerts: string[] }> {
  const page = await browser.newPage();
  const alerts: string[] = [];
  page.on('dialog', (dialog) => {
    alerts.push(dialog.message());
    void dialog.accept().catch(() => undefined); // rejects if the page closed meanwhile
  });
  const connected = page.waitForEvent('dialog', { predicate: (dialog) => dialog.message() === 'WebSocket connected.', timeout: 10_000 });
  try {
    await page.goto(url);
    await connected;
  } catch (error) {
    await page.close();
    throw new Error(`the demo at ${url} did not say "WebSocket connected." (alerts: ${JSON.stringify(alerts)}): ${String(error)}`);
  }
  return { page, alerts };
}

async function echoes(page: Page, text: string): Promise<void> {
  await page.fill('#msgbox', text);
  await page.click('#sendbtn');
  await page.waitForFunction((expected) => document.getElementById('replytxt')?.textContent === expected, text);
}

describe('demo page in Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser.close());

  describe('the bundled demo (media/demo)', () => {
    let server: RunningServer;
    const received: string[] = [];
    before(async () => {
      server = await startServer({ root: DEMO, port: 0 });
      server.events.on((e) => {
        if (e.type === 'frame' && e.direction === 'in') received.push(`${e.kind}:${e.size}`);
      });
    });
    after(() => server.close());

    it('connects, echoes what is typed into the reply heading, and sends nothing for an empty box', TIMEOUT, async () => {
      const { page, alerts } = await openDemo(browser, server.url);
      assert.equal(await page.textContent('label'), 'Message: ');
      await echoes(page, 'Hello, echo <b>bold?</b>');
      assert.equal(await page.inputValue('#msgbox'), '', 'the box is cleared after sending');
      await page.fill('#msgbox', 'by Enter');
      await page.press('#msgbox', 'Enter');
      await page.waitForFunction(() => document.getElementById('replytxt')?.textContent === 'by Enter');
      const before = received.length;
      await page.click('#sendbtn'); // empty box
      await echoes(page, 'after empty');
      assert.deepEqual(received.slice(before), ['text:11'], 'the empty box sent nothing');
      assert.deepEqual(alerts, ['WebSocket connected.']);
      await page.close();
    });

    it('works on http://localhost too', TIMEOUT, async () => {
      const { page } = await openDemo(browser, `http://localhost:${server.port}/`);
      await echoes(page, 'via localhost');
      await page.close();
    });
  });

  describe('the bundled demo on a configured WebSocket path', () => {
    for (const wsPath of ['/ws', '/echo/ü']) {
      it(`connects to ${wsPath} and echoes`, TIMEOUT, async () => {
        const server = await startServer({ root: DEMO, port: 0, wsPath });
        const opened: string[] = [];
        server.events.on((e) => e.type === 'client-open' && opened.push(e.origin ?? ''));
        try {
          const { page } = await openDemo(browser, server.url);
          await echoes(page, `through ${wsPath}`);
          assert.equal(opened.length, 1);
          await page.close();
        } finally {
          await server.close();
        }
      });
    }

    it('served by the CLI with --ws-path', TIMEOUT, async () => {
      const run = await startCli([DEMO, '--port', '0', '--ws-path', '/ws']);
      try {
        const { page } = await openDemo(browser, run.url);
        await echoes(page, 'through the CLI');
        await page.close();
      } finally {
        run.child.kill('SIGTERM');
        await run.exit;
      }
    });

    it('falls back to the path written in websocket.js when the server does not say', TIMEOUT, async () => {
      const { dir, cleanup } = tempDir();
      cpSync(DEMO, dir, { recursive: true });
      // The folder's own file at the reserved path wins, and says nothing useful.
      mkdirSync(path.join(dir, '__echo-preview'));
      writeFileSync(path.join(dir, '__echo-preview', 'endpoints.json'), '{"not":"ours"}');
      const server = await startServer({ root: dir, port: 0 });
      try {
        const { page } = await openDemo(browser, server.url);
        await echoes(page, 'through the fallback');
        await page.close();
      } finally {
        await server.close();
        cleanup();
      }
    });
  });

  describe("the guide's own index.html and websocket.js, served by the CLI", () => {
    let run: CliRun;
    before(async () => {
      run = await startCli([path.join(REPO_ROOT, 'test', 'fixtures', 'guide'), '--port', '0']);
    });
    after(async () => {
      run.child.kill('SIGTERM');
      await run.exit;
    });

    it('connects and gets its echo', TIMEOUT, async () => {
      const { page } = await openDemo(browser, run.url);
      await page.fill('#msgbox', 'Hello from the guide');
      await page.click('input[type=submit]');
      await page.waitForFunction(() => document.getElementById('replytxt')?.innerHTML === 'Hello from the guide');
      await page.close();
    });
  });

  describe("the guide's page, with /websocket proxied to an upstream that is down", () => {
    let run: CliRun;
    let downPort: number;
    const folder = tempDir();
    before(async () => {
      // A port nothing listens on: bound, then closed.
      const probe = createNetServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      downPort = (probe.address() as AddressInfo).port;
      await new Promise((resolve) => probe.close(resolve));
      const config = path.join(folder.dir, 'proxy.json');
      writeFileSync(config, JSON.stringify({ endpoints: { '/websocket': { mode: 'proxy', upstream: `ws://127.0.0.1:${downPort}/` } } }));
      run = await startCli([path.join(REPO_ROOT, 'test', 'fixtures', 'guide'), '--port', '0', '--config', config]);
    });
    after(async () => {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    });

    it('never sees its WebSocket open (the handshake is answered 502), so it never says "WebSocket connected."', TIMEOUT, async () => {
      const page = await browser.newPage();
      const alerts: string[] = [];
      page.on('dialog', (dialog) => {
        alerts.push(dialog.message());
        void dialog.accept().catch(() => undefined); // rejects if the page closed meanwhile
      });
      // What the guide's WebSocket sees (not live reload's), recorded as the guide's script creates it.
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { seen: string[] }).seen = seen;
        const Native = window.WebSocket;
        window.WebSocket = class extends Native {
          constructor(url: string | URL, protocols?: string | string[]) {
            super(url, protocols);
            if (new URL(this.url).pathname !== '/websocket') return;
            this.addEventListener('open', () => seen.push('open'));
            this.addEventListener('error', () => seen.push('error'));
            this.addEventListener('close', (event) => seen.push(`close ${event.code}`));
          }
        };
      });
      const socket = page.waitForEvent('websocket', { predicate: (ws) => new URL(ws.url()).pathname === '/websocket' });
      try {
        await page.goto(run.url);
        const error = await (await socket).waitForEvent('socketerror');
        assert.match(error, /502/, error);
        await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.some((e) => e.startsWith('close')));
        assert.deepEqual(await page.evaluate(() => (window as unknown as { seen: string[] }).seen), ['error', 'close 1006']);
        assert.deepEqual(alerts, [], 'no "WebSocket connected."');
        const line = `error: proxy /websocket: upstream ws://127.0.0.1:${downPort}/ unreachable: connect ECONNREFUSED 127.0.0.1:${downPort} (answered the client 502)`;
        await run.waitFor((out) => out.includes(line), 'the error line');
        assert.equal(run.stdout().split('\n').filter((l) => l.startsWith('error: ')).length, 1, run.stdout());
      } finally {
        await page.close();
      }
    });
  });

  describe('a page from a foreign origin', () => {
    let server: RunningServer;
    let other: RunningServer;
    before(async () => {
      server = await startServer({ root: DEMO, port: 0 });
      other = await startServer({ root: path.join(REPO_ROOT, 'test', 'fixtures', 'guide'), port: 0 });
    });
    after(async () => {
      await server.close();
      await other.close();
    });

    it('cannot open a WebSocket to the server: refused with 403 before the upgrade', TIMEOUT, async () => {
      const refused = new Promise<ServerEvent>((resolve) => server.events.on((e) => e.type === 'refused' && resolve(e)));
      const page = await browser.newPage();
      await page.goto(other.url.replace('127.0.0.1', 'localhost'));
      const outcome = await page.evaluate(
        (wsUrl) =>
          new Promise<{ opened: boolean; code: number }>((resolve) => {
            // Settles on open as well as on close, so a wrongly accepted socket fails at once.
            const ws = new WebSocket(wsUrl);
            ws.onopen = () => {
              resolve({ opened: true, code: 0 });
              ws.close();
            };
            ws.onclose = (event) => resolve({ opened: false, code: event.code });
          }),
        server.wsUrl,
      );
      assert.deepEqual(outcome, { opened: false, code: 1006 }, 'the browser saw the handshake fail');
      const event = await refused;
      assert.equal(event.type === 'refused' && event.what, 'origin');
      assert.match(event.type === 'refused' ? event.detail : '', new RegExp(`Origin "http://localhost:${other.port}" is not allowed`));
      assert.equal(server.clientCount, 0);
      await page.close();
    });
  });

  describe('a page of another site', () => {
    // Our server is reached as http://localhost:<port>; the other site is http://127.0.0.1:<port>.
    // Different hosts are different sites whatever the port (127.0.0.1 with another port would be
    // the same site).
    let ours: RunningServer;
    let theirs: RunningServer;
    let cleanup: () => void;
    const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    before(async () => {
      const temp = tempDir();
      cleanup = temp.cleanup;
      const ourDir = path.join(temp.dir, 'ours');
      const theirDir = path.join(temp.dir, 'theirs');
      mkdirSync(ourDir);
      mkdirSync(theirDir);
      writeFileSync(path.join(ourDir, 'app.js'), "window.leaked = 'workspace secret';");
      writeFileSync(path.join(ourDir, 'pic.png'), PNG);
      writeFileSync(path.join(ourDir, 'page.html'), '<!DOCTYPE html><title>our page</title><p id="ours">our page</p>');
      ours = await startServer({ root: ourDir, port: 0 });
      const base = `http://localhost:${ours.port}`;
      const sameSite = `http://127.0.0.1:${ours.port}`;
      const probe = (tag: string, url: string, key: string, attribute = 'src'): string => `<${tag} ${attribute}="${url}" onload="results.${key}='load'" onerror="results.${key}='error'"></${tag}>`;
      writeFileSync(
        path.join(theirDir, 'attack.html'),
        `<!DOCTYPE html><title>another site</title><script>window.results = {};</script>
${probe('script', `${base}/app.js`, 'script')}
${probe('img', `${base}/pic.png`, 'image')}
${probe('img', `${base}/missing.png`, 'missing')}
<a id="link" href="${base}/page.html">our page</a>`,
      );
      // <object> and <embed> load as navigations (Sec-Fetch-Mode: navigate), with load and error events.
      writeFileSync(
        path.join(theirDir, 'plugins.html'),
        `<!DOCTYPE html><title>another site</title><script>window.results = {};</script>
${probe('object', `${base}/page.html?object`, 'objectPage', 'data')}
${probe('object', `${base}/missing.html?object`, 'objectMissingPage', 'data')}
${probe('object', `${base}/pic.png?object`, 'objectImage', 'data')}
${probe('object', `${base}/missing.png?object`, 'objectMissingImage', 'data')}
${probe('embed', `${base}/page.html?embed`, 'embedPage')}
${probe('embed', `${base}/missing.html?embed`, 'embedMissingPage')}
${probe('embed', `${base}/pic.png?embed`, 'embedImage')}
${probe('embed', `${base}/missing.png?embed`, 'embedMissingImage')}`,
      );
      writeFileSync(path.join(theirDir, 'frame.html'), `<!DOCTYPE html><iframe id="frame" src="${base}/page.html"></iframe>`);
      writeFileSync(
        path.join(theirDir, 'same-site.html'),
        `<!DOCTYPE html><script>window.results = {};</script>${probe('script', `${sameSite}/app.js`, 'script')}${probe('img', `${sameSite}/pic.png`, 'image')}`,
      );
      theirs = await startServer({ root: theirDir, port: 0 });
    });
    after(async () => {
      await ours.close();
      await theirs.close();
      cleanup();
    });

    const loaded = (page: Page, keys: string[]): Promise<unknown> =>
      page.waitForFunction((names) => names.every((k) => (window as unknown as { results: Record<string, string> }).results[k] !== undefined), keys);

    it('cannot load our scripts or images, nor tell which files exist', TIMEOUT, async () => {
      const refusals: string[] = [];
      const watch = ours.events.on((e) => e.type === 'refused' && refusals.push(e.detail));
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${theirs.port}/attack.html`);
        await loaded(page, ['script', 'image', 'missing']);
        const results = await page.evaluate(() => ({ ...(window as unknown as { results: object }).results, leaked: (window as unknown as { leaked?: string }).leaked ?? null }));
        assert.deepEqual(results, { script: 'error', image: 'error', missing: 'error', leaked: null });
        assert.equal(refusals.length, 3, 'the script and both images were refused by our server');
        assert.ok(refusals.every((detail) => /another site/.test(detail)));
      } finally {
        watch.dispose();
        await page.close();
      }
    });

    it('cannot tell which files exist with <object> or <embed>', TIMEOUT, async () => {
      const refusals: string[] = [];
      const watch = ours.events.on((e) => e.type === 'refused' && refusals.push(e.detail));
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${theirs.port}/plugins.html`);
        const keys = ['objectPage', 'objectMissingPage', 'objectImage', 'objectMissingImage', 'embedPage', 'embedMissingPage', 'embedImage', 'embedMissingImage'];
        await loaded(page, keys);
        const results = await page.evaluate(() => (window as unknown as { results: Record<string, string> }).results);
        assert.equal(results.objectPage, results.objectMissingPage, `<object>: a page and a missing page look alike (${JSON.stringify(results)})`);
        assert.equal(results.objectImage, results.objectMissingImage, '<object>: an image and a missing image look alike');
        assert.equal(results.embedPage, results.embedMissingPage, '<embed>: a page and a missing page look alike');
        assert.equal(results.embedImage, results.embedMissingImage, '<embed>: an image and a missing image look alike');
        assert.equal(refusals.length, keys.length, `every <object> and <embed> was refused by our server: ${JSON.stringify(refusals)}`);
        assert.ok(refusals.every((detail) => /another site/.test(detail)));
      } finally {
        watch.dispose();
        await page.close();
      }
    });

    it('can still link to our pages and show them in a frame', TIMEOUT, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${theirs.port}/attack.html`);
        await Promise.all([page.waitForURL(`http://localhost:${ours.port}/page.html`), page.click('#link')]);
        assert.equal(await page.textContent('#ours'), 'our page', 'a top-level navigation from another site is served');
        await page.goto(`http://127.0.0.1:${theirs.port}/frame.html`);
        const frame = await (await page.waitForSelector('#frame')).contentFrame();
        assert.ok(frame);
        await frame.waitForSelector('#ours');
        assert.equal(await frame.textContent('#ours'), 'our page', 'a frame navigation is served');
      } finally {
        await page.close();
      }
    });

    it('leaves same-site pages (another port on the same host) free to load our files', TIMEOUT, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${theirs.port}/same-site.html`);
        await loaded(page, ['script', 'image']);
        const results = await page.evaluate(() => ({ ...(window as unknown as { results: object }).results, leaked: (window as unknown as { leaked?: string }).leaked ?? null }));
        assert.deepEqual(results, { script: 'load', image: 'load', leaked: 'workspace secret' });
      } finally {
        await page.close();
      }
    });
  });
});
