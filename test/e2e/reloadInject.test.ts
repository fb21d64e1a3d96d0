/**
 * The injected reload tag in Chromium, on real pages served by the real server: pages whose
 * `</body>` or `</head>` sits in a script string, an attribute, a textarea, a title, a style, SVG
 * CDATA or a trailing comment (or whose end is an unclosed comment or script). The page's own
 * script runs, no inert text comes alive (an `<img onerror>` inside a string never runs), what the
 * page shows is unchanged, and live reload connects and reloads the page on an edit.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/core/server';
import { launchChromium } from '../support/browser';
import { tempDir } from '../support/http';
import { Inbox } from '../support/inbox';

const TIMEOUT = { timeout: 20_000 };
const RELOAD_SOCKET = /\/__echo-preview\/reload(\?|$)/;
/** Markup that must stay inert text: it would set a flag if it ever ran. */
const ALIVE = '</body></head><img src=x onerror="window.inertRan=1">';
const OWN = '<script>window.pageRan = true</script>';

/** [file, contents, what the page must show: [selector, property, expected]]. */
const PAGES: Array<[string, string, [string, 'value' | 'textContent' | 'title', string]]> = [
  ['script-string.html', `<!DOCTYPE html><p id="v">one</p><script>window.pageRan = true; var s = '${ALIVE}';</script>`, ['#v', 'textContent', 'one']],
  ['attribute.html', `<!DOCTYPE html>${OWN}<p id="v" title='${ALIVE}'>one</p>`, ['#v', 'title', ALIVE]],
  ['textarea.html', `<!DOCTYPE html>${OWN}<p id="v">one</p><textarea id="t">a ${ALIVE} b</textarea>`, ['#t', 'value', `a ${ALIVE} b`]],
  ['title.html', `<!DOCTYPE html>${OWN}<p id="v">one</p><title>a ${ALIVE} b</title>`, ['title', 'textContent', `a ${ALIVE} b`]],
  ['style.html', `<!DOCTYPE html>${OWN}<p id="v">one</p><style id="s">/* ${ALIVE} */</style>`, ['#s', 'textContent', `/* ${ALIVE} */`]],
  ['svg-cdata.html', `<!DOCTYPE html>${OWN}<p id="v">one</p><svg><text id="c"><![CDATA[a ${ALIVE} b]]></text></svg>`, ['#c', 'textContent', `a ${ALIVE} b`]],
  ['trailing-comment.html', `<!DOCTYPE html>${OWN}<p id="v">one</p></body></html><!-- ${ALIVE} -->`, ['#v', 'textContent', 'one']],
  ['open-comment.html', `<!DOCTYPE html>${OWN}<p id="v">one</p><!-- ${ALIVE} -`, ['#v', 'textContent', 'one']],
  ['open-script.html', `<!DOCTYPE html>${OWN}<p id="v">one</p><script>window.inertRan = 1; '${ALIVE}'`, ['#v', 'textContent', 'one']],
];

interface Watched {
  page: Page;
  readonly loads: number;
  nextLoad(): Promise<void>;
  /** Resolves when the page's reload socket says hello; fails after 8 s (live reload is off). */
  connected: Promise<void>;
}

/** Opens `url` (resolves once it loaded). */
async function open(browser: Browser, url: string): Promise<Watched> {
  const page = await browser.newPage();
  const loads = new Inbox<number>('the page');
  const connected = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`live reload did not connect on ${url}`)), 8000);
    page.on('websocket', (ws) => {
      if (!RELOAD_SOCKET.test(ws.url())) return;
      ws.on('framereceived', ({ payload }) => {
        if (!String(payload).includes('"hello"')) return;
        clearTimeout(timer);
        resolve();
      });
    });
  });
  connected.catch(() => undefined); // awaited by the tests that need it
  const watched: Watched = {
    page,
    get loads() {
      return loads.received.length;
    },
    nextLoad: () => loads.arriving(() => true, 'its next load').then(() => undefined),
    connected,
  };
  page.on('load', () => loads.push(loads.received.length + 1));
  await page.goto(url);
  return watched;
}

describe('the injected reload tag in Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let server: RunningServer;
  let root: string;
  let cleanup: () => void;

  before(async () => {
    ({ dir: root, cleanup } = tempDir('echo-preview-inject-'));
    for (const [file, html] of PAGES) writeFileSync(path.join(root, file), html);
    browser = await launchChromium();
    server = await startServer({ root, port: 0 });
  });
  after(async () => {
    await browser.close();
    await server.close();
    cleanup();
  });

  for (const [file, , [selector, property, expected]] of PAGES) {
    it(`${file}: the page's script runs, inert text stays inert and shown as it was, live reload connects`, TIMEOUT, async () => {
      const { page, connected } = await open(browser, new URL(file, server.url).href);
      const state = await page.evaluate(
        ([sel, prop]) => {
          const element = document.querySelector(sel) as (Element & { value?: string }) | null;
          const shown = prop === 'title' ? element?.getAttribute('title') : prop === 'value' ? element?.value : element?.textContent;
          const w = window as unknown as { pageRan?: boolean; inertRan?: number };
          const ours = Array.from(document.scripts).filter((s) => s.src.endsWith('/__echo-preview/reload.js'));
          return { pageRan: w.pageRan, inertRan: w.inertRan, shown, images: document.images.length, ours: ours.length, html: ours.every((s) => s.namespaceURI === 'http://www.w3.org/1999/xhtml') };
        },
        [selector, property] as const,
      );
      try {
        assert.deepEqual(state, { pageRan: true, inertRan: undefined, shown: expected, images: 0, ours: 1, html: true });
        await connected;
      } finally {
        await page.close();
      }
    });
  }

  it('reloads on an edit the pages whose end holds a comment or an unclosed script', TIMEOUT, async () => {
    for (const file of ['trailing-comment.html', 'open-comment.html', 'open-script.html', 'script-string.html']) {
      const watched = await open(browser, new URL(file, server.url).href);
      await watched.connected;
      const reloaded = watched.nextLoad();
      const html = PAGES.find(([name]) => name === file)?.[1] as string;
      writeFileSync(path.join(root, file), html.replace('>one<', '>two<'));
      await reloaded;
      assert.equal(await watched.page.textContent('#v'), 'two', file);
      await watched.page.close();
    }
  });
});
