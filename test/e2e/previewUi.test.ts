/**
 * The preview panel's UI (dist/preview.js) in plain Chromium, in the page the panel renders
 * (previewHtml, with its CSP) served from one origin, framing a real Echo Preview server on
 * another, as the webview frames the forwarded port. acquireVsCodeApi is a recorder: the test
 * reads what the UI would tell the editor, and speaks for the editor with postMessage (and, as
 * the editor does, registers the origin the UI reports with the server). Checked: the address
 * bar, back and forward, reload, the keyboard, what stays outside the frame, that a site framing
 * a page is never told where it is, and contrast in light and dark. Screenshots go to
 * test-results/e2e/preview-*.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser, Frame, Page, WebSocket as PageSocket } from 'playwright-core';
import WebSocket from 'ws';
import type { Disposable } from '../../src/core/events/events';
import { startServer, type RunningServer } from '../../src/core/server';
import type { ServerEvent } from '../../src/core/events/events';
import { previewHtml } from '../../src/editor/panels/previewHtml';
import type { PreviewConfig, PreviewRequest } from '../../src/shared/previewProtocol';
import { launchChromium } from '../support/browser';
import { contrastFailures } from '../support/contrast';
import { REPO_ROOT, tempDir } from '../support/http';
import { messagesOf } from '../support/inbox';

const SHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');
const NONCE = 'cHJldmlld25vbmNlcHJldmlldw==';
const RELOAD_SOCKET = /\/__echo-preview\/reload(\?|$)/;

/** Runs in the page before its scripts: the editor's webview API, recording every post. */
function recordPosts(): void {
  const posts: unknown[] = [];
  Object.assign(window, {
    previewPosts: posts,
    acquireVsCodeApi: () => ({ postMessage: (message: unknown) => posts.push(message), getState: () => undefined, setState: () => undefined }),
  });
}

/** A stand-in for the webview's origin: the panel's page (config from the query) and its two assets. */
async function startShell(): Promise<{ url: string; close(): Promise<void>; configs: PreviewConfig[] }> {
  const configs: PreviewConfig[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/') {
      const config = JSON.parse(url.searchParams.get('config') ?? '{}') as PreviewConfig;
      configs.push(config);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(previewHtml({ config, cspSource: origin, nonce: NONCE, styleUrl: `${origin}/preview.css`, scriptUrl: `${origin}/preview.js` }));
      return;
    }
    const file = { '/preview.js': 'dist/preview.js', '/preview.css': 'media/preview/preview.css' }[url.pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
    res.end(readFileSync(path.join(REPO_ROOT, file)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    configs,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Another site: a plain HTTP server whose page frames `?frame=<url>` and keeps every message it receives in window.received. */
async function startForeignSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://localhost').searchParams.get('frame') ?? '';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(
      '<!DOCTYPE html><html><head><title>Another site</title><script>' +
        'window.received = []; addEventListener("message", (e) => received.push({ origin: e.origin, data: e.data }));' +
        `</script></head><body><iframe id="victim" src="${target.replace(/[<>"&]/g, '')}"></iframe></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Runs in every frame before its scripts. After the page's reload client has handled its
 * channel's hello, or a hash change, the frame posts a marker to its parent: the listeners here
 * are added before the client's, and the marker waits for a task after them, so whatever the
 * client posted on that event reaches the parent before the marker does.
 */
function markAfterClient(): void {
  const marker = (what: string): void => void setTimeout(() => window.parent.postMessage({ type: `test:after-${what}` }, '*'), 0);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      if (!String(url).includes('/__echo-preview/reload')) return;
      this.addEventListener('message', (event) => {
        if (String(event.data).includes('"type":"hello"')) marker('hello');
      });
    }
  };
  window.addEventListener('hashchange', () => marker('hashchange'));
}

const PAGES: Record<string, string> = {
  'index.html': '<!DOCTYPE html><html><head><title>Home</title></head><body><h1>Home</h1><a id="to-b" href="b.html">B</a></body></html>',
  'b.html': '<!DOCTYPE html><html><head><title>Page B</title></head><body><h1>Page B</h1><a id="to-c" href="docs/c%20d.html#part">C</a></body></html>',
  'nest.html': '<!DOCTYPE html><html><head><title>Nest</title></head><body><h1>Nest</h1><iframe src="b.html"></iframe></body></html>',
  'secret.html': '<!DOCTYPE html><html><head><title>Secret title 7f3a</title></head><body><h1>Secret</h1><a id="to-b" href="b.html">B</a></body></html>',
  'docs/c d.html': '<!DOCTYPE html><html><head><title>Page C</title></head><body><h1>Page C</h1><p id="part">part</p></body></html>',
};

describe('the preview panel UI in Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let shell: Awaited<ReturnType<typeof startShell>>;
  let site: { dir: string; cleanup: () => void };
  let server: RunningServer;
  /** GET targets the site served, in order. */
  const requests: string[] = [];
  const pageErrors = new WeakMap<Page, string[]>();
  /** The reload socket of the first page framed, once the server said hello on it. */
  const reloadSockets = new WeakMap<Page, Promise<PageSocket>>();
  /** The origins the editor registered for each preview page (what the panel does with webviewOrigin). */
  const grants = new WeakMap<Page, Disposable[]>();

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    site = tempDir('echo-preview-ui-');
    mkdirSync(path.join(site.dir, 'docs'));
    for (const [name, html] of Object.entries(PAGES)) writeFileSync(path.join(site.dir, name), html);
    server = await startServer({ root: site.dir, port: 0 });
    server.events.on((event: ServerEvent) => {
      if (event.type === 'request' && event.method === 'GET') requests.push(event.path);
    });
    shell = await startShell();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await shell?.close();
    site?.cleanup();
  });

  async function openPreview(config: Partial<PreviewConfig> = {}, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser.newContext({ colorScheme, viewport: { width: 900, height: 560 } });
    await context.addInitScript(recordPosts);
    const page = await context.newPage();
    const errors: string[] = [];
    // The first page's reload socket, with its hello: watched from before the page loads.
    const socket = new Promise<PageSocket>((resolve) => page.on('websocket', (ws) => RELOAD_SOCKET.test(ws.url()) && resolve(ws)));
    reloadSockets.set(page, socket.then((ws) => new Promise((resolve) => ws.on('framereceived', ({ payload }) => String(payload).includes('"hello"') && resolve(ws)))));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const full: PreviewConfig = { base: server.url, path: '/', folder: 'site', ...config };
    await page.goto(`${shell.url}?config=${encodeURIComponent(JSON.stringify(full))}`);
    await page.locator('#toolbar').waitFor();
    pageErrors.set(page, errors);
    // The editor's part: the origin the UI reports is registered with the server.
    const reported = (await posts(page)).filter((post) => post.type === 'webviewOrigin');
    grants.set(page, reported.map((post) => server.allowOrigin(post.origin)));
    return page;
  }

  /** Closes the page's context after checking it logged no error (a CSP refusal would be one). */
  async function done(page: Page): Promise<void> {
    assert.deepEqual(pageErrors.get(page)?.filter((e) => !/\b404\b/.test(e)), [], 'no errors in the page');
    for (const grant of grants.get(page) ?? []) grant.dispose();
    await page.context().close();
  }

  /** Resolves when the site serves a GET for `target`; set up before the action that causes it. */
  function requested(target: string): Promise<void> {
    return new Promise((resolve) => {
      const subscription = server.events.on((event) => {
        if (event.type !== 'request' || event.method !== 'GET' || event.path !== target) return;
        subscription.dispose();
        resolve();
      });
    });
  }

  /** The framed page, once it shows `heading` (the frame is replaced on reload: found afresh). */
  async function framed(page: Page, heading: string): Promise<Frame> {
    await page.frameLocator('#frame').locator('h1', { hasText: heading }).waitFor();
    const frame = await (await page.locator('#frame').elementHandle())?.contentFrame();
    assert.ok(frame, 'the frame');
    return frame;
  }

  const posts = (page: Page): Promise<PreviewRequest[]> => page.evaluate(() => (window as unknown as { previewPosts: PreviewRequest[] }).previewPosts);
  /** What the UI told the editor about where the frame is. */
  const navigations = async (page: Page): Promise<PreviewRequest[]> => (await posts(page)).filter((post) => post.type === 'navigated');
  const address = (page: Page): Promise<string> => page.locator('#address').inputValue();
  /** The address bar's value is a property no event announces: polled, with a deadline. */
  const pollAddress = (page: Page, value: string): Promise<unknown> =>
    page.waitForFunction((expected) => (document.getElementById('address') as HTMLInputElement).value === expected, value, { timeout: 10_000 });

  it('frames the served page at the configured path, and the address bar navigates it', async () => {
    const page = await openPreview({ path: '/b.html' });
    const frame = await framed(page, 'Page B');
    assert.equal(frame.url(), `${server.url}b.html`);
    assert.equal(await address(page), '/b.html');
    assert.deepEqual((await posts(page))[0], { type: 'webviewOrigin', origin: new URL(shell.url).origin }, 'its origin first, before the frame loads');
    assert.deepEqual((await navigations(page))[0], { type: 'navigated', path: '/b.html', url: `${server.url}b.html` });
    // Typed as a person reads it (a space, no leading slash): the frame goes there.
    await page.locator('#address').fill('docs/c d.html#part');
    await page.locator('#address').press('Enter');
    const c = await framed(page, 'Page C');
    assert.equal(c.url(), `${server.url}docs/c%20d.html#part`);
    assert.equal(await address(page), '/docs/c d.html#part');
    assert.ok(requests.includes('/docs/c%20d.html'), requests.join(' '));
    const told = { type: 'navigated', path: '/docs/c%20d.html#part', url: `${server.url}docs/c%20d.html#part` };
    assert.ok((await posts(page)).some((post) => isDeepStrictEqual(post, told)), 'the editor is told where the frame went');
    await page.screenshot({ path: path.join(SHOTS, 'preview-01-address.png') });
    await done(page);
  });

  it('goes back and forward through what it showed, by button and Alt+Left/Right, and reloads', async () => {
    const page = await openPreview();
    await framed(page, 'Home');
    assert.equal(await page.locator('#back').isDisabled(), true);
    assert.equal(await page.locator('#forward').isDisabled(), true);
    await page.locator('#address').fill('/b.html');
    await page.locator('#address').press('Enter');
    await framed(page, 'Page B');
    assert.equal(await page.locator('#back').isDisabled(), false);
    await page.locator('#back').click();
    await framed(page, 'Home');
    assert.equal(await address(page), '/');
    assert.equal(await page.locator('#forward').isDisabled(), false);
    await page.locator('#forward').click();
    await framed(page, 'Page B');
    await page.locator('#reload').focus();
    await page.keyboard.press('Alt+ArrowLeft');
    await framed(page, 'Home');
    await page.keyboard.press('Alt+ArrowRight');
    await framed(page, 'Page B');
    assert.equal(await address(page), '/b.html');
    // Reload asks the server again for the page shown.
    const reloaded = requested('/b.html');
    await page.locator('#reload').click();
    await reloaded;
    await framed(page, 'Page B');
    await done(page);
  });

  it('follows links clicked in the page (its reload client says where it went) and goes back from them', async () => {
    const page = await openPreview();
    const home = await framed(page, 'Home');
    await home.locator('#to-b').click();
    const b = await framed(page, 'Page B');
    await pollAddress(page, '/b.html');
    assert.deepEqual((await posts(page)).at(-1), { type: 'navigated', path: '/b.html', url: `${server.url}b.html`, title: 'Page B' });
    await b.locator('#to-c').click();
    await framed(page, 'Page C');
    await pollAddress(page, '/docs/c d.html#part');
    await page.locator('#back').click();
    await framed(page, 'Page B');
    await page.locator('#back').click();
    await framed(page, 'Home');
    assert.equal(await address(page), '/');
    assert.equal(await page.locator('#back').isDisabled(), true);
    await done(page);
  });

  it('tells where the page is to the editor’s preview only: a site that frames the page is told nothing', async () => {
    // The editor's preview (its origin registered, as the panel does) shows the page and follows it.
    const page = await openPreview({ path: '/secret.html' });
    const secret = await framed(page, 'Secret');
    await page.waitForFunction(() => (window as unknown as { previewPosts: Array<{ title?: string }> }).previewPosts.some((post) => post.title === 'Secret title 7f3a'));
    await secret.locator('#to-b').click();
    await framed(page, 'Page B');
    await pollAddress(page, '/b.html');

    // Another site frames the same page while the preview is open.
    const foreign = await startForeignSite();
    const context = await browser.newContext();
    try {
      await context.addInitScript(markAfterClient);
      const framer = await context.newPage();
      await framer.goto(`${foreign.url}?frame=${encodeURIComponent(`${server.url}secret.html`)}`);
      const receivedOf = (): Promise<string> => framer.evaluate(() => JSON.stringify((window as unknown as { received: unknown[] }).received));
      const markers = (what: string, count: number): Promise<unknown> =>
        framer.waitForFunction(
          ([type, n]) => (window as unknown as { received: Array<{ data: { type?: string } }> }).received.filter((m) => m.data?.type === type).length >= n,
          [`test:after-${what}`, count] as const,
        );
      await markers('hello', 1);
      assert.doesNotMatch(await receivedOf(), /Secret title|secret\.html|echo-preview:location/, 'nothing about the page reaches the site that frames it');
      // Nor once the page moves in its frame: a hash change, then a link.
      const victim = framer.frames().find((f) => f.url().startsWith(`${server.url}secret.html`));
      assert.ok(victim, 'the framed page');
      await victim.evaluate(() => {
        location.hash = 'moved';
      });
      await markers('hashchange', 1);
      await victim.locator('#to-b').click();
      await markers('hello', 2);
      const received = await receivedOf();
      assert.doesNotMatch(received, /Secret title|Page B|secret\.html|b\.html|echo-preview:location/, received);
    } finally {
      await context.close();
      await foreign.close();
    }
    await done(page);
  });

  it('works from the keyboard: Tab reaches the enabled controls in order, Ctrl+L the address, Escape puts it back', async () => {
    const page = await openPreview();
    await framed(page, 'Home');
    await page.locator('body').focus();
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    // Back and forward are disabled on the first page, so Tab passes them.
    assert.deepEqual(order, ['reload', 'address', 'open-browser']);
    for (const id of ['back', 'forward', 'reload', 'open-browser']) {
      assert.ok(await page.locator(`#${id}`).getAttribute('aria-label'), `#${id} has a label`);
    }
    assert.equal(await page.locator('#frame').getAttribute('title'), 'Page preview');
    const outline = await page.locator('#open-browser').evaluate((el) => getComputedStyle(el).outlineStyle);
    assert.equal(outline, 'solid', 'the focused button shows its focus');
    await page.keyboard.press('Control+l');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'address');
    await page.keyboard.type('/nowhere');
    await page.keyboard.press('Escape');
    assert.equal(await address(page), '/');
    // Open in Browser (Enter on the button) asks the editor for the page shown.
    await page.locator('#open-browser').focus();
    await page.keyboard.press('Enter');
    assert.deepEqual((await posts(page)).at(-1), { type: 'openInBrowser', path: '/' });
    await done(page);
  });

  it('keeps the frame on the server: another site is refused with a notice, "//host" stays a path', async () => {
    const page = await openPreview();
    await framed(page, 'Home');
    for (const outside of ['http://example.com/', 'javascript:alert(1)', `${server.url.replace('127.0.0.1', 'localhost')}b.html`]) {
      await page.locator('#address').fill(outside);
      await page.locator('#address').press('Enter');
      await page.locator('#notice', { hasText: /^Only pages of http:\/\/127\.0\.0\.1:\d+ open here/ }).waitFor();
      assert.equal((await framed(page, 'Home')).url(), server.url, outside);
    }
    await page.locator('#address').fill(`${server.url}b.html`); // a full URL on the server is fine
    await page.locator('#address').press('Enter');
    await framed(page, 'Page B');
    assert.equal(await page.locator('#notice').textContent(), '');
    const asPath = requested('/example.com/x'); // asked of our server, as a path
    await page.locator('#address').fill('//example.com/x');
    await page.locator('#address').press('Enter');
    assert.equal(await address(page), '/example.com/x');
    assert.equal(await page.locator('#notice').textContent(), '');
    await asPath;
    await done(page);
  });

  it('follows the editor: a navigate message moves the frame; one from the framed page or a frame in it is ignored', async () => {
    const page = await openPreview({ path: '/nest.html' });
    const outer = await framed(page, 'Nest');
    await page.frameLocator('#frame').frameLocator('iframe').locator('h1', { hasText: 'Page B' }).waitFor();
    const inner = outer.childFrames()[0];
    assert.ok(inner, 'the frame inside the framed page');
    // Pages post to the preview as if they were the editor: not obeyed.
    await outer.evaluate(() => window.parent.postMessage({ type: 'navigate', path: '/b.html' }, '*'));
    await inner.evaluate(() => window.parent.parent.postMessage({ type: 'navigate', path: '/b.html' }, '*'));
    await page.evaluate(() => window.postMessage({ type: 'navigate', path: '/docs/c%20d.html' }, '*'));
    await framed(page, 'Page C');
    assert.equal(await address(page), '/docs/c d.html');
    await page.locator('#back').click();
    await framed(page, 'Nest');
    assert.equal(await page.locator('#back').isDisabled(), true, 'b.html was never visited');
    await done(page);
  });

  it('the latest navigation wins: a live reload of the page shown, while the frame is on its way to the next, does not take it back', async () => {
    const page = await openPreview();
    const home = await framed(page, 'Home');
    await reloadSockets.get(page); // the page listens for reloads
    // The server's reload channel, as a page opens it: when it says reload, every page was told.
    const observer = new WebSocket(`${server.url.replace('http', 'ws')}__echo-preview/reload`, { origin: server.url.replace(/\/$/, '') });
    const messages = messagesOf(observer, 'the reload channel', (data) => JSON.parse(String(data)) as { type: string });
    const told = (type: string): Promise<unknown> => messages.next((m) => m.type === type, `a '${type}' message`);
    await told('hello');
    try {
      // The next page's response is held until the reload below has had its chance to win.
      let release!: () => Promise<void>;
      let arrived!: () => void;
      const held = new Promise<void>((resolve) => (arrived = resolve));
      await page.context().route(`${server.url}b.html`, (route) => {
        release = () => route.continue();
        arrived();
      });
      await page.evaluate(() => window.postMessage({ type: 'navigate', path: '/b.html' }, '*')); // the editor's Open Preview
      await held;
      // A save while the frame is on its way: the server tells the pages to reload. The page shown
      // then either reloads (its GET of / comes) or is gone already (its frame was removed).
      const gone = new Promise<void>((resolve) => (home.isDetached() ? resolve() : page.on('framedetached', (frame) => frame === home && resolve())));
      const reloadedOrGone = Promise.race([requested('/'), gone]);
      const reload = told('reload');
      writeFileSync(path.join(site.dir, 'index.html'), PAGES['index.html']);
      await reload;
      await reloadedOrGone;
      await release();
    } finally {
      observer.close();
    }
    await page
      .frameLocator('#frame')
      .locator('h1', { hasText: 'Page B' })
      .waitFor({ timeout: 10_000 })
      .catch(async () => assert.fail(`the frame shows "${await page.frameLocator('#frame').locator('h1').textContent()}" under the address ${await address(page)}, not the page asked for last`));
    await pollAddress(page, '/b.html');
    const last = { type: 'navigated', path: '/b.html', url: `${server.url}b.html`, title: 'Page B' };
    await page.waitForFunction((json) => JSON.stringify((window as unknown as { previewPosts: unknown[] }).previewPosts.at(-1)) === json, JSON.stringify(last), { timeout: 10_000 });
    await page.locator('#back').click();
    await framed(page, 'Home');
    assert.equal(await address(page), '/');
    assert.equal(await page.locator('#back').isDisabled(), true, 'one step back is the first page');
    await done(page);
  });

  it('with no server running, says so and offers to start it', async () => {
    const page = await openPreview({ base: undefined, folder: 'site-a' });
    await page.locator('#stopped', { hasText: 'No Echo Preview server is running for site-a.' }).waitFor();
    assert.equal(await page.locator('#frame').count(), 0);
    assert.equal(await page.locator('#address').isDisabled(), true);
    await page.locator('#start').click();
    assert.deepEqual((await posts(page)).at(-1), { type: 'start' });
    await done(page);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`keeps every text at WCAG AA contrast in the ${colorScheme} scheme`, async () => {
      for (const base of [server.url, undefined]) {
        const page = await openPreview({ base }, colorScheme);
        if (base) {
          await framed(page, 'Home');
          await page.locator('#address').fill('http://example.com/');
          await page.locator('#address').press('Enter'); // the notice is drawn too
          await page.locator('#notice:not(:empty)').waitFor();
          await page.locator('#reload').hover();
        } else {
          await page.locator('#start').hover();
        }
        await page.screenshot({ path: path.join(SHOTS, `preview-02-contrast-${colorScheme}${base ? '' : '-stopped'}.png`) });
        const failures = await page.evaluate(contrastFailures);
        assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
        await done(page);
      }
    });
  }
});
