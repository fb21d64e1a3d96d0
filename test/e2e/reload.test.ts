/**
 * Live reload in Chromium: an HTML save reloads the page, a CSS save swaps the style in place
 * (script state and scroll kept), pages with `script-src 'self'` (meta and header) and a nonce
 * policy still reload, the guide's page reloads and still echoes, a git checkout of 1,000 files
 * is one reload, and a server restart on the same port reconnects without a reload loop. Every wait is
 * on an event: the page's load, a frame on its reload socket. Screenshots go to test-results/e2e/.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer, type ServerOptions } from '../../src/core/server';
import { launchChromium } from '../support/browser';
import { REPO_ROOT, tempDir } from '../support/http';
import { Inbox } from '../support/inbox';

const execFileAsync = promisify(execFile);
const SHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');
const TIMEOUT = { timeout: 60_000 };
/** The longest wait for one load or frame. */
const WAIT_MS = 20_000;
const RELOAD_SOCKET = /\/__echo-preview\/reload(\?|$)/;

interface Frame {
  type: string;
  stale?: boolean;
  paths?: string[];
}

/** A page under watch: its loads and every frame its reload sockets received, with waits for the next of each. */
interface Watched {
  page: Page;
  readonly loads: number;
  readonly frames: readonly Frame[];
  /** Resolves at the next frame of this type on any of the page's reload sockets. */
  nextFrame(type: string): Promise<Frame>;
  nextLoad(): Promise<void>;
}

async function watchPage(browser: Browser, url: string, setup?: (page: Page) => Promise<void>): Promise<Watched> {
  const page = await browser.newPage();
  await setup?.(page);
  const frames = new Inbox<Frame>("the page's reload sockets");
  const loads = new Inbox<number>('the page');
  const watched: Watched = {
    page,
    get loads() {
      return loads.received.length;
    },
    frames: frames.received,
    nextFrame: (type) => frames.arriving((frame) => frame.type === type, `a '${type}' frame`, WAIT_MS),
    nextLoad: () => loads.arriving(() => true, 'its next load', WAIT_MS).then(() => undefined),
  };
  page.on('load', () => loads.push(loads.received.length + 1));
  page.on('websocket', (ws) => {
    if (!RELOAD_SOCKET.test(ws.url())) return;
    ws.on('framereceived', ({ payload }) => frames.push(JSON.parse(String(payload)) as Frame));
  });
  const hello = watched.nextFrame('hello');
  await page.goto(url);
  await hello;
  return watched;
}

function count(watched: Watched, type: string): number {
  return watched.frames.filter((f) => f.type === type).length;
}

/**
 * A forwarding proxy on its own port that passes HTTP and WebSockets through. With `policy` it adds
 * that CSP header to HTML and presents itself to the server as the server's own origin; with
 * `prefix` it serves the server under that path (stripped on the way in) and keeps its own Host
 * and the page's Origin, as code-server's /proxy/<port>/ does.
 */
async function forwarder(target: number, { policy, prefix = '' }: { policy?: string; prefix?: string }): Promise<{ url: string; close: () => Promise<void> }> {
  const authority = `127.0.0.1:${target}`;
  const upstreamPath = (url = '/'): string => {
    if (prefix === '') return url;
    return url.startsWith(prefix) ? url.slice(prefix.length - 1) : '/__outside-the-prefix';
  };
  const rewrite = (headers: IncomingMessage['headers']): IncomingMessage['headers'] => {
    if (prefix !== '') return headers;
    const rewritten = { ...headers, host: authority };
    if (headers.origin !== undefined) rewritten.origin = `http://${authority}`;
    return rewritten;
  };
  const proxy = createHttpServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: target, path: upstreamPath(req.url), method: req.method, headers: rewrite(req.headers) }, (answer) => {
      const headers = { ...answer.headers };
      if (policy !== undefined && String(headers['content-type']).startsWith('text/html')) headers['content-security-policy'] = policy;
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const upstream = connect(target, '127.0.0.1', () => {
      const lines = Object.entries(rewrite(req.headers)).map(([name, value]) => `${name}: ${String(value)}\r\n`);
      upstream.write(`${req.method} ${upstreamPath(req.url)} HTTP/1.1\r\n${lines.join('')}\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${prefix || '/'}`,
    close: () =>
      new Promise((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `reload-${name}.png`) });
}

describe('live reload in Chromium', { timeout: 300_000 }, () => {
  let browser: Browser;
  let root: string;
  let cleanup: () => void;
  let server: RunningServer;
  const start = async (options: Partial<ServerOptions> = {}): Promise<RunningServer> => startServer({ root, port: 0, ...options });

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ({ dir: root, cleanup } = tempDir('echo-preview-reload-'));
    writeFileSync(path.join(root, 'index.html'), '<!DOCTYPE html><title>v1</title><h1 id="h">version 1</h1>');
    writeFileSync(path.join(root, 'style.css'), '@import url("imported.css");\nbody { background: rgb(255, 255, 255); }');
    writeFileSync(path.join(root, 'imported.css'), 'h1 { color: rgb(0, 0, 0); }');
    writeFileSync(path.join(root, 'styled.html'), '<!DOCTYPE html><link rel="stylesheet" href="style.css"><h1>styled</h1><div style="height: 5000px"></div>');
    browser = await launchChromium();
    server = await start();
  });
  after(async () => {
    await browser.close();
    await server.close();
    cleanup();
  });

  it('reloads the page when its HTML is saved, with the new content', TIMEOUT, async (t: TestContext) => {
    const watched = await watchPage(browser, server.url);
    assert.equal(await watched.page.textContent('#h'), 'version 1');
    await shot(watched.page, '01-html-before');
    const reloaded = watched.nextLoad();
    const saved = performance.now();
    writeFileSync(path.join(root, 'index.html'), '<!DOCTYPE html><title>v2</title><h1 id="h">version 2</h1>');
    await reloaded;
    t.diagnostic(`reloaded ${Math.round(performance.now() - saved)} ms after the save`);
    assert.equal(await watched.page.textContent('#h'), 'version 2');
    assert.equal(watched.loads, 2);
    await shot(watched.page, '02-html-after');
    await watched.page.close();
  });

  it('swaps a saved stylesheet (and an @import-ed one) in place: no reload, script state and scroll kept', TIMEOUT, async () => {
    const watched = await watchPage(browser, new URL('styled.html', server.url).href);
    const { page } = watched;
    await page.evaluate(() => {
      (window as unknown as { kept: number }).kept = 42;
      window.scrollTo(0, 1234);
    });
    const swapped = watched.nextFrame('css');
    writeFileSync(path.join(root, 'style.css'), '@import url("imported.css");\nbody { background: rgb(10, 20, 30); }');
    assert.deepEqual((await swapped).paths, ['/style.css']);
    await page.waitForFunction(() => getComputedStyle(document.body).backgroundColor === 'rgb(10, 20, 30)');
    const importSwapped = watched.nextFrame('css');
    writeFileSync(path.join(root, 'imported.css'), 'h1 { color: rgb(200, 0, 0); }');
    await importSwapped;
    await page.waitForFunction(() => getComputedStyle(document.querySelector('h1') as Element).color === 'rgb(200, 0, 0)');
    assert.equal(await page.evaluate(() => (window as unknown as { kept?: number }).kept), 42, 'the script state survived');
    assert.equal(await page.evaluate(() => window.scrollY), 1234, 'the scroll position survived');
    assert.equal(watched.loads, 1, 'no reload');
    assert.equal(await page.locator('link[rel="stylesheet"]').count(), 1, 'the old <link> is gone');
    await shot(page, '03-css-swapped');
    await page.close();
  });

  it("reloads pages with Content-Security-Policy script-src 'self' (meta and header) and a nonce-only meta policy", TIMEOUT, async (t: TestContext) => {
    // The header comes from a proxy in front of the server, the way a header policy reaches a page
    // we serve (the server sends none of its own with files).
    const proxy = await forwarder(server.port, { policy: "script-src 'self'" });
    t.after(() => proxy.close());
    const INLINE = '<script>window.inlineRan = true</script>';
    const pages: Record<string, string> = {
      'csp-meta.html': `<meta http-equiv="Content-Security-Policy" content="default-src 'self'">`,
      'csp-header.html': '',
      'csp-nonce.html': `<meta http-equiv="Content-Security-Policy" content="script-src 'nonce-r4nd0m' 'strict-dynamic'">`,
    };
    for (const [name, meta] of Object.entries(pages)) {
      const file = path.join(root, name);
      writeFileSync(file, `<!DOCTYPE html><head>${meta}</head><body><p id="v">one</p>${INLINE}</body>`);
      const violations: string[] = [];
      const base = name === 'csp-header.html' ? proxy.url : server.url;
      const watched = await watchPage(browser, new URL(name, base).href, async (page) => {
        page.on('console', (m) => {
          // The page's own inline script is refused (that shows the policy applies); nothing of ours may be.
          if (/Content Security Policy/i.test(m.text()) && !/inline script/i.test(m.text())) violations.push(m.text());
        });
      });
      const reloaded = watched.nextLoad();
      writeFileSync(file, `<!DOCTYPE html><head>${meta}</head><body><p id="v">two</p>${INLINE}</body>`);
      await reloaded;
      assert.equal(await watched.page.textContent('#v'), 'two', name);
      assert.deepEqual(violations, [], `${name}: our script broke no rule`);
      // The policy is in force: the page's inline script, which it forbids, did not run.
      assert.equal(await watched.page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan), undefined, `${name}: the policy is in force`);
      await shot(watched.page, `04-${name.replace('.html', '')}`);
      await watched.page.close();
    }
  });

  it('reloads through a proxy that serves us under a path prefix, with its own Host and origin (code-server)', TIMEOUT, async (t: TestContext) => {
    const proxy = await forwarder(server.port, { prefix: `/proxy/${server.port}/` });
    t.after(() => proxy.close());
    mkdirSync(path.join(root, 'deep', 'er'), { recursive: true });
    const file = path.join(root, 'deep', 'er', 'page.html');
    writeFileSync(file, '<!DOCTYPE html><p id="v">one</p>');
    const watched = await watchPage(browser, new URL('deep/er/page.html', proxy.url).href);
    const reloaded = watched.nextLoad();
    writeFileSync(file, '<!DOCTYPE html><p id="v">two</p>');
    await reloaded;
    assert.equal(await watched.page.textContent('#v'), 'two');
    assert.match(watched.page.url(), new RegExp(`/proxy/${server.port}/deep/er/page\\.html$`));
    await shot(watched.page, '04-path-prefix-proxy');
    await watched.page.close();
  });

  it("reloads the guide's page, which still echoes", TIMEOUT, async () => {
    const guide = tempDir('echo-preview-guide-');
    cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'guide'), guide.dir, { recursive: true });
    const guideServer = await startServer({ root: guide.dir, port: 0 });
    try {
      const alerts: string[] = [];
      const watched = await watchPage(browser, guideServer.url, async (page) => {
        page.on('dialog', (dialog) => {
          alerts.push(dialog.message());
          void dialog.accept().catch(() => undefined); // rejects if the page closed meanwhile
        });
      });
      const { page } = watched;
      const echo = async (text: string): Promise<void> => {
        await page.fill('#msgbox', text);
        await page.press('#msgbox', 'Enter');
        await page.waitForFunction((expected) => document.getElementById('replytxt')?.innerHTML === expected, text);
      };
      await page.waitForFunction(() => document.readyState === 'complete');
      await echo('before the edit');
      const reloaded = watched.nextLoad();
      const html = path.join(guide.dir, 'index.html');
      writeFileSync(html, readFileSync(html, 'utf8').replace('<label>Message: </label>', '<label>Message (edited): </label>'));
      await reloaded;
      assert.equal(await page.textContent('label'), 'Message (edited): ');
      await echo('after the edit');
      assert.deepEqual(alerts, ['WebSocket connected.', 'WebSocket connected.']);
      assert.equal(guideServer.clientCount, 1, 'the page’s own socket is the one client: the reload channel is not');
      await shot(page, '05-guide-after-reload');
      await page.close();
    } finally {
      await guideServer.close();
      guide.cleanup();
    }
  });

  it('reloads once for a git checkout that changes 1,000 files', TIMEOUT, async (t: TestContext) => {
    const repo = tempDir('echo-preview-checkout-');
    t.after(() => repo.cleanup());
    const git = (...args: string[]): Promise<unknown> => execFileAsync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo.dir });
    writeFileSync(path.join(repo.dir, 'index.html'), '<!DOCTYPE html><title>repo</title><p>repo</p>');
    writeFileSync(path.join(repo.dir, 'style.css'), 'p { color: rgb(0, 0, 0); }');
    mkdirSync(path.join(repo.dir, 'src'));
    const files = (version: string): void => {
      for (let i = 0; i < 1000; i++) writeFileSync(path.join(repo.dir, 'src', `module-${i}.js`), `export const version = '${version}';`);
    };
    await git('init', '-q', '-b', 'one');
    files('one');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'one');
    await git('checkout', '-q', '-b', 'two');
    files('two');
    await git('commit', '-q', '-am', 'two');
    await git('checkout', '-q', 'one');
    const repoServer = await startServer({ root: repo.dir, port: 0 });
    t.after(() => repoServer.close());
    const watched = await watchPage(browser, repoServer.url);
    const reloaded = watched.nextLoad();
    // Synchronously, so this process (the server's) reads the checkout's events only once git is
    // done: one batch whatever the machine's load. (Async, a busy machine could pause git for
    // longer than the watcher's 100 ms of quiet, and two batches would be right.)
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'checkout', '-q', 'two'], { cwd: repo.dir });
    await reloaded;
    // A later change, seen by the reloaded page: any second reload of the checkout came before it.
    if (count(watched, 'hello') < 2) await watched.nextFrame('hello');
    const marker = watched.nextFrame('css');
    writeFileSync(path.join(repo.dir, 'style.css'), 'p { color: rgb(1, 1, 1); }');
    await marker;
    assert.equal(count(watched, 'reload'), 1, 'one reload message');
    assert.equal(watched.loads, 2, 'one reload');
    await shot(watched.page, '06-after-checkout-of-1000-files');
    await watched.page.close();
  });

  it('reconnects after a restart on the same port without reloading, and reloads once for a change made while away', TIMEOUT, async () => {
    const watched = await watchPage(browser, server.url);
    const port = server.port;
    // A restart with nothing changed: the page reconnects (a new hello) and does not reload.
    await server.close();
    let hello = watched.nextFrame('hello');
    server = await start({ port });
    assert.equal((await hello).stale, false);
    const swapped = watched.nextFrame('css');
    writeFileSync(path.join(root, 'style.css'), 'body { background: rgb(2, 2, 2); }');
    await swapped;
    assert.equal(watched.loads, 1, 'no reload after a restart with nothing changed');
    // A change while the server is down: exactly one reload when it is back.
    await server.close();
    writeFileSync(path.join(root, 'index.html'), '<!DOCTYPE html><title>v3</title><h1 id="h">version 3</h1>');
    const reloaded = watched.nextLoad();
    hello = watched.nextFrame('hello');
    server = await start({ port });
    const back = await hello;
    assert.equal(back.stale, true, 'the server says files changed while the page was away');
    await reloaded;
    if (count(watched, 'hello') < 4) await watched.nextFrame('hello');
    assert.equal(await watched.page.textContent('#h'), 'version 3');
    const later = watched.nextFrame('css');
    writeFileSync(path.join(root, 'style.css'), 'body { background: rgb(3, 3, 3); }');
    await later;
    assert.equal(watched.loads, 2, 'one reload, no loop');
    assert.equal(count(watched, 'hello'), 4, 'hello from the first run, after the restart, after the second restart and after the reload');
    await shot(watched.page, '07-after-restart');
    await watched.page.close();
  });
});
