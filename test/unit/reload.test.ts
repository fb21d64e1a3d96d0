/**
 * Live reload in the core, with real sockets and files: what the injected page looks like and
 * that every header (Content-Length, ETag, Range, HEAD, 304) describes it; what is never touched;
 * the reload channel (own origin only, never a client); the editor's overlay; and the reconnect
 * answer that keeps pages out of a reload loop.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CACHE_MAX_FILE_BYTES } from '../../src/core/http/fileCache';
import { RELOAD_SCRIPT_PATH, injectReloadScript, planReloadInjection } from '../../src/core/reload/inject';
import type { ReloadMessage } from '../../src/core/reload/channel';
import { startServer, type RunningServer } from '../../src/core/server';
import { get, tempDir, type RawResponse } from '../support/http';
import { openReloadChannel, type ReloadClient } from '../support/reload';
import { rawHandshake } from '../support/ws';

/** The tag in a page at the root (its src is relative to the page, see injectReloadScript). */
const TAG = '<script src="__echo-preview/reload.js" defer></script>';
const PAGE = '<!DOCTYPE html><html><head><title>t</title></head><body><p>hello</p></body></html>\n';

function tree(root: string): void {
  writeFileSync(path.join(root, 'index.html'), PAGE);
  writeFileSync(path.join(root, 'style.css'), 'body{color:red}');
  writeFileSync(path.join(root, 'app.js'), 'console.log("</body>")');
  writeFileSync(path.join(root, 'notes.txt'), '<html><body>not html</body></html>');
  writeFileSync(path.join(root, 'cut.html'), '<!DOCTYPE html');
  writeFileSync(path.join(root, 'big.html'), `<html><body>${'x'.repeat(CACHE_MAX_FILE_BYTES)}</body></html>`);
}

/** GETs `target` twice: once before the cache holds the file and once after, both must agree. */
async function bothWays(port: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  const first = await get(port, target, headers, method);
  const second = await get(port, target, headers, method);
  assert.equal(second.status, first.status);
  assert.deepEqual(second.body, first.body);
  assert.equal(second.headers.etag, first.headers.etag);
  return first;
}

describe('live reload: the injected page', () => {
  let server: RunningServer;
  let plain: RunningServer;
  let root: string;
  let cleanup: () => void;
  before(async () => {
    ({ dir: root, cleanup } = tempDir());
    tree(root);
    // Settled files (older than the cache's racy window), so the second request is a cache hit.
    const old = new Date(Date.now() - 60_000);
    for (const name of ['index.html', 'style.css', 'app.js', 'notes.txt']) utimesSync(path.join(root, name), old, old);
    server = await startServer({ root, port: 0 });
    plain = await startServer({ root, port: 0, liveReload: false });
  });
  after(async () => {
    await Promise.all([server.close(), plain.close()]);
    cleanup();
  });

  it('adds one external script at the end of the page, with the length and an ETag of its own', async () => {
    const res = await bothWays(server.port, '/');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), PAGE + TAG);
    assert.equal(res.headers['content-length'], String(res.body.length));
    const original = await get(plain.port, '/');
    assert.equal(original.body.toString(), PAGE);
    assert.notEqual(res.headers.etag, original.headers.etag, 'the injected page never shares the file’s ETag');
    assert.equal(res.headers['last-modified'], original.headers['last-modified']);
  });

  it('serves a page that has no place for the tag as it is, under its own validators, saying why in a header', async () => {
    const res = await bothWays(server.port, '/cut.html');
    const original = await get(plain.port, '/cut.html');
    assert.deepEqual(res.body, original.body);
    assert.equal(res.headers.etag, original.headers.etag);
    assert.equal(res.headers['content-length'], String(original.body.length));
    assert.equal(res.headers['x-echo-preview-reload'], 'off: the page ends inside its doctype');
    assert.equal(original.headers['x-echo-preview-reload'], undefined, 'nothing said without live reload');
    assert.equal((await get(server.port, '/')).headers['x-echo-preview-reload'], undefined, 'nothing said when injected');
  });

  it('answers HEAD, 304 and ranges for the injected page, not the file', async () => {
    const full = await get(server.port, '/index.html');
    const headed = await bothWays(server.port, '/index.html', {}, 'HEAD');
    assert.equal(headed.status, 200);
    assert.equal(headed.body.length, 0);
    assert.equal(headed.headers['content-length'], full.headers['content-length']);
    assert.equal(headed.headers.etag, full.headers.etag);

    assert.equal((await get(server.port, '/index.html', { 'If-None-Match': full.headers.etag })).status, 304);
    const fileTag = (await get(plain.port, '/index.html')).headers.etag;
    assert.equal((await get(server.port, '/index.html', { 'If-None-Match': fileTag })).status, 200, 'the file’s own tag is another representation');

    const size = full.body.length;
    const tail = await bothWays(server.port, '/index.html', { Range: 'bytes=-40' });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers['content-range'], `bytes ${size - 40}-${size - 1}/${size}`);
    assert.deepEqual(tail.body, full.body.subarray(size - 40));
    const middle = await get(server.port, '/index.html', { Range: 'bytes=10-19' });
    assert.deepEqual(middle.body, full.body.subarray(10, 20));
    assert.equal(middle.headers['content-length'], '10');
    const beyond = await get(server.port, '/index.html', { Range: `bytes=${size}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${size}`);
  });

  it('leaves everything that is not HTML as it is, and HTML too without live reload', async () => {
    for (const target of ['/style.css', '/app.js', '/notes.txt']) {
      const res = await bothWays(server.port, target);
      const original = await get(plain.port, target);
      assert.deepEqual(res.body, original.body, target);
      assert.equal(res.headers.etag, original.headers.etag, target);
      assert.ok(!res.body.toString().includes(RELOAD_SCRIPT_PATH), target);
    }
    const untouched = await bothWays(plain.port, '/');
    assert.equal(untouched.body.toString(), PAGE);
    assert.equal((await get(plain.port, RELOAD_SCRIPT_PATH)).status, 404, 'no client without live reload');
    assert.equal((await rawHandshake(plain.port, { Origin: `http://127.0.0.1:${plain.port}` }, '/__echo-preview/reload')).status, 404);
  });

  it('streams HTML larger than the cache as it is, under the file’s own validators', async () => {
    const res = await get(server.port, '/big.html', { Range: 'bytes=-14' });
    assert.equal(res.status, 206);
    assert.equal(res.body.toString(), '</body></html>');
    assert.equal(res.headers.etag, (await get(plain.port, '/big.html', { Range: 'bytes=0-0' })).headers.etag);
  });

  it('serves the client as same-origin JavaScript, and refuses it to other sites’ pages', async () => {
    const res = await get(server.port, RELOAD_SCRIPT_PATH);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(res.body.toString(), /__echo-preview\/reload/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get(server.port, RELOAD_SCRIPT_PATH, { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' })).status, 403);
  });
});

describe('live reload: where the tag goes', () => {
  const inject = (html: string): string | undefined => injectReloadScript(Buffer.from(html, 'latin1'))?.toString('latin1');
  it('at the end, which browsers parse into the body, after closing what is left open there', () => {
    assert.equal(inject('<p>a</p></BODY ></html>\n'), `<p>a</p></BODY ></html>\n${TAG}`);
    assert.equal(inject('<script>"</body>"</script><p></p></body>'), `<script>"</body>"</script><p></p></body>${TAG}`);
    assert.equal(inject('<head><title>x</title></head>'), `<head><title>x</title></head>${TAG}`);
    assert.equal(inject('<p>fragment'), `<p>fragment${TAG}`);
    assert.equal(inject(''), TAG);
    // Each closer keeps the text as the end of the file would have left it.
    assert.equal(inject('<p>a</p><!-- trailing'), `<p>a</p><!-- trailing-->${TAG}`);
    assert.equal(inject('<p>a</p><!-- trailing -'), `<p>a</p><!-- trailing -->${TAG}`);
    assert.equal(inject('<p>a</p><!-- trailing --'), `<p>a</p><!-- trailing -->${TAG}`);
    assert.equal(inject('<p>a</p><!---'), `<p>a</p><!---->${TAG}`);
    assert.equal(inject('<p>a</p><!-'), `<p>a</p><!->${TAG}`);
    assert.equal(inject('<title>a </body>'), `<title>a </body></title>${TAG}`);
    assert.equal(inject('<title>a </title '), `<title>a </title >${TAG}`);
    // What the end of the file drops or keeps as text stays so.
    assert.equal(inject('<p>a</p><div class="x'), `<p>a</p>${TAG}<div class="x`);
    assert.equal(inject('<p>a </'), `<p>a &lt;/${TAG}`);
    assert.equal(inject('<p>a <'), `<p>a <${TAG}`);
  });
  it('before the last element it can precede when the end is in a template, SVG, an unclosed script or plaintext', () => {
    assert.equal(inject('<p>a</p><script>run("</body>")'), `<p>a</p>${TAG}<script>run("</body>")`, 'closing the script would run it');
    assert.equal(inject('<p>a</p><plaintext></body>'), `<p>a</p>${TAG}<plaintext></body>`);
    assert.equal(inject('<p>a</p><template><p>t</body>'), `<p>a</p>${TAG}<template><p>t</body>`);
    assert.equal(inject('<p>a</p><svg><g></body>'), `<p>a</p>${TAG}<svg><g></body>`);
    assert.equal(inject('<p>a</p><svg><![CDATA[</body>'), `<p>a</p>${TAG}<svg><![CDATA[</body>`);
    assert.equal(inject('<head><title>f</title></head><frameset><frame src="a.html"></frameset>'), `<head><title>f</title></head>${TAG}<frameset><frame src="a.html"></frameset>`, 'into the head');
  });
  it('and nowhere when no such place exists: the page is served as it is, saying why', () => {
    // A frameset that replaces a body (begun here by a NUL, which is no content) would take a script there with it.
    assert.deepEqual(planReloadInjection(Buffer.from('\0<frameset><frame src="a.html"></frameset>')), { skipped: 'the page has a frameset after body content' });
    assert.deepEqual(planReloadInjection(Buffer.from('\0<div>a</div><frameset><frame src="a.html"></frameset>')), { skipped: 'the page has a frameset after body content' });
    // With a head, the head takes it.
    assert.equal(inject('<title>t</title>\0<div>a</div><frameset></frameset>'), `${TAG}<title>t</title>\0<div>a</div><frameset></frameset>`);
    assert.deepEqual(planReloadInjection(Buffer.from('<!DOCTYPE html')), { skipped: 'the page ends inside its doctype' });
  });
  it('points its src at the client relative to the page (any proxy prefix kept), absolute under a <base>', async () => {
    assert.equal(injectReloadScript(Buffer.from('<p></p>'), 2)?.toString(), '<p></p><script src="../../__echo-preview/reload.js" defer></script>');
    assert.equal(inject('<head><BASE href="/app/"></head><body></body>'), `<head><BASE href="/app/"></head><body></body><script src="${RELOAD_SCRIPT_PATH}" defer></script>`);
    assert.equal(inject('<!-- <base href="/app/"> --><script>"<base href=x>"</script><template><base href="/t/"></template>'), `<!-- <base href="/app/"> --><script>"<base href=x>"</script><template><base href="/t/"></template>${TAG}`, 'only a real <base> counts');
    const { dir, cleanup } = tempDir();
    mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(dir, 'a', 'b', 'page.html'), '<p></p>');
    writeFileSync(path.join(dir, 'a', 'index.html'), '<p></p>');
    const server = await startServer({ root: dir, port: 0 });
    try {
      for (const [target, src] of [['/a/b/page.html', '../../__echo-preview/reload.js'], ['/a/', '../__echo-preview/reload.js'], ['/a/index.html', '../__echo-preview/reload.js'], ['/a/b/p%61ge.html', '../../__echo-preview/reload.js']] as const) {
        const body = (await get(server.port, target)).body.toString();
        assert.equal(body, `<p></p><script src="${src}" defer></script>`, target);
        // Where the browser resolves it is the client, whatever the depth.
        assert.equal(new URL(src, `http://127.0.0.1:${server.port}${target}`).pathname, RELOAD_SCRIPT_PATH, target);
      }
    } finally {
      await server.close();
      cleanup();
    }
  });
  it('keeps the bytes around it exactly (UTF-8 and a BOM included), and leaves UTF-16 alone', () => {
    const utf8 = Buffer.from('\ufeff<p>žluťoučký 🐴</p></body>', 'utf8');
    const out = injectReloadScript(utf8) as Buffer;
    assert.equal(out.toString('utf8'), `\ufeff<p>žluťoučký 🐴</p></body>${TAG}`);
    assert.equal(injectReloadScript(Buffer.from('\ufeff<p></p></body>', 'utf16le')), undefined);
    assert.equal(injectReloadScript(Buffer.from([0xfe, 0xff, 0, 0x3c])), undefined);
  });
  it('carries the nonce of a nonce-only <meta> CSP, and no nonce otherwise', () => {
    const meta = (policy: string, quote = '"'): string => `<head><meta http-equiv=${quote}Content-Security-Policy${quote} content=${quote}${policy}${quote}></head><body></body>`;
    assert.match(inject(meta("script-src 'nonce-abc123'")) ?? '', /<\/body><script src="__echo-preview\/reload\.js" nonce="abc123" defer><\/script>$/);
    assert.match(inject(meta("default-src 'self'; script-src 'strict-dynamic' 'nonce-Zz+/9='", "'").replace(/'self'|'strict-dynamic'|'nonce-Zz\+\/9='/g, (m) => m.replace(/'/g, '&#39;'))) ?? '', /nonce="Zz\+\/9="/);
    assert.match(inject(meta("default-src 'nonce-d1'")) ?? '', /nonce="d1"/);
    assert.ok(!(inject(meta("script-src 'self'")) ?? '').includes('nonce='));
    assert.ok(!(inject("<head><meta name=\"description\" content=\"'nonce-x'\"></head><body></body>") ?? '').includes('nonce='), 'only a CSP meta counts');
    assert.ok(!(inject(meta("script-src 'self'; style-src 'nonce-s'")) ?? '').includes('nonce='), 'a style nonce is not a script nonce');
    // Only a real <meta> of the head: not one in a comment, a script, a template or the body (which browsers ignore).
    const policy = `<meta http-equiv="Content-Security-Policy" content="script-src 'nonce-fake'">`;
    for (const page of [`<!-- ${policy} --><body></body>`, `<script>"${policy}"</script><body></body>`, `<head><template>${policy}</template></head>`, `<body>${policy}</body>`, `<svg>${policy}</svg>`]) {
      assert.ok(!(inject(page) ?? '').includes('nonce='), page);
    }
  });
});

describe('live reload: the channel, the watcher and the overlay', () => {
  let server: RunningServer;
  let root: string;
  let cleanup: () => void;
  const unsaved = new Map<string, Buffer>();
  before(async () => {
    ({ dir: root, cleanup } = tempDir());
    tree(root);
    mkdirSync(path.join(root, 'sub'));
    mkdirSync(path.join(root, 'node_modules', 'pkg'), { recursive: true });
    mkdirSync(path.join(root, '.git'));
    mkdirSync(path.join(root, 'dist'));
    server = await startServer({ root, port: 0, liveReload: { ignore: ['dist/**', '*.log'] }, overlay: { read: (p) => unsaved.get(p) } });
  });
  after(async () => {
    await server.close();
    cleanup();
  });

  it('takes only the server’s own pages and is never an endpoint client', async () => {
    for (const origin of ['', 'http://evil.example', `http://127.0.0.1:${server.port + 1}`, 'null']) {
      const refused = await rawHandshake(server.port, { Origin: origin }, '/__echo-preview/reload');
      refused.socket.destroy();
      assert.equal(refused.status, 403, origin);
    }
    // Behind a forwarder the page's origin is the forwarded name, which is also the Host it sends.
    const forwarded = await rawHandshake(server.port, { Host: 'localhost', Origin: 'https://localhost' }, '/__echo-preview/reload');
    forwarded.socket.destroy();
    assert.equal(forwarded.status, 101, 'an Origin that is the request’s own Host');
    const mismatched = await rawHandshake(server.port, { Host: 'localhost', Origin: 'https://127.0.0.1' }, '/__echo-preview/reload');
    mismatched.socket.destroy();
    assert.equal(mismatched.status, 403, 'an Origin that is not the Host');
    const events: string[] = [];
    const listening = server.events.on((e) => events.push(e.type));
    const client = await openReloadChannel(server.port);
    const hello = await client.next();
    assert.equal(hello.type, 'hello');
    assert.equal(server.clientCount, 0);
    assert.equal(server.capture.snapshot().clients.length, 0);
    await client.close();
    listening.dispose();
    assert.ok(!events.includes('client-open'), 'no client event for the channel');
  });

  it('names the editor’s panel origins to every page (the only parents its client tells), and again whenever they change', async () => {
    const configured = await startServer({ root, port: 0, allowedOrigins: ['https://tunnel.example'] });
    try {
      const client = await openReloadChannel(configured.port);
      assert.deepEqual(parentsOf(await client.next()), [], 'an origin the person configured opens sockets; it is no parent');
      await client.close();
    } finally {
      await configured.close();
    }
    const early = await openReloadChannel(server.port);
    assert.deepEqual(parentsOf(await early.next()), [], 'none before the editor registers one');
    const panel = server.allowOrigin('vscode-webview://0a1b2c3d');
    assert.deepEqual(await early.next(), { type: 'parents', parents: ['vscode-webview://0a1b2c3d'] }, 'a page already open hears of it');
    const late = await openReloadChannel(server.port);
    assert.deepEqual(parentsOf(await late.next()), ['vscode-webview://0a1b2c3d'], 'a page that opens later is told in its hello');
    const second = server.allowOrigin('http://localhost:9999');
    assert.deepEqual(await early.next(), { type: 'parents', parents: ['vscode-webview://0a1b2c3d', 'http://localhost:9999'] });
    panel.dispose();
    second.dispose();
    assert.deepEqual(await early.next(), { type: 'parents', parents: ['http://localhost:9999'] });
    assert.deepEqual(await early.next(), { type: 'parents', parents: [] }, 'a panel that goes is no parent any more');
    await Promise.all([early.close(), late.close()]);
  });

  it('swaps CSS, reloads for anything else, and makes 1,000 files written at once one message', async () => {
    const client = await openReloadChannel(server.port);
    await client.next(); // hello
    writeFileSync(path.join(root, 'style.css'), 'body{color:blue}');
    assert.deepEqual(kindOf(await client.next()), { type: 'css', paths: ['/style.css'] });
    writeFileSync(path.join(root, 'sub', 'page.html'), '<p>new</p>');
    assert.deepEqual(kindOf(await client.next()), { type: 'reload', paths: ['/sub/page.html'] });
    // Written by another process, as a git checkout would, while this one (the server's) waits:
    // its events are read once the writer is done, so they are one batch whatever the machine's
    // load. (Async, a busy machine could pause the writer for longer than the 100 ms of quiet.)
    const burst = "for (let i = 0; i < 1000; i++) require('fs').writeFileSync(require('path').join(process.argv[1], `f${i}.js`), String(i))";
    execFileSync(process.execPath, ['-e', burst, path.join(root, 'sub')]);
    const batch = await client.next();
    assert.equal(batch.type, 'reload');
    assert.equal(new Set('paths' in batch ? batch.paths : []).size, 1000);
    // Whatever came after the batch would be a second reload: a marker change shows nothing did.
    writeFileSync(path.join(root, 'style.css'), 'body{color:green}');
    assert.deepEqual(kindOf(await client.next()), { type: 'css', paths: ['/style.css'] });
    await client.close();
  });

  it('reports nothing for .git, node_modules, dotfiles and the ignore globs, and watches new folders', async () => {
    const client = await openReloadChannel(server.port);
    await client.next();
    writeFileSync(path.join(root, '.git', 'HEAD'), 'ref');
    writeFileSync(path.join(root, 'node_modules', 'pkg', 'index.js'), 'x');
    writeFileSync(path.join(root, '.env'), 'X=1');
    writeFileSync(path.join(root, 'dist', 'out.js'), 'x');
    writeFileSync(path.join(root, 'debug.log'), 'x');
    mkdirSync(path.join(root, 'new', 'deeper'), { recursive: true });
    writeFileSync(path.join(root, 'marker.js'), 'x');
    const first = await client.next();
    assert.equal(first.type, 'reload');
    assert.ok('paths' in first && !first.paths.some((p) => /\.git|node_modules|\.env|dist|\.log/.test(p)), JSON.stringify(first));
    // The new folder is watched once its creation has been reported.
    writeFileSync(path.join(root, 'new', 'deeper', 'inside.css'), 'p{}');
    let next = await client.next();
    while ('paths' in next && !next.paths.includes('/new/deeper/inside.css')) next = await client.next();
    assert.equal(next.type, 'css');
    await client.close();
  });

  it('takes a save by rename (temporary file, then rename over) as a change of that file', async () => {
    const client = await openReloadChannel(server.port);
    await client.next();
    for (const temp of ['style.css.tmp.8123', 'style.css~', '4913', 'style.css___jb_tmp___']) {
      writeFileSync(path.join(root, temp), 'body{color:teal}');
      renameSync(path.join(root, temp), path.join(root, 'style.css'));
      const message = await client.next();
      assert.equal(message.type, 'css', `${temp}: ${JSON.stringify(message)}`);
      assert.ok('paths' in message && message.paths.includes('/style.css'), temp);
    }
    assert.equal((await get(server.port, '/style.css')).body.toString(), 'body{color:teal}');
    rmSync(path.join(root, 'app.js'));
    assert.deepEqual(kindOf(await client.next()), { type: 'reload', paths: ['/app.js'] }, 'a file removed for good reloads');
    await client.close();
  });

  it('serves the overlay’s bytes after the same checks, and changed() reloads and refreshes', async () => {
    const client = await openReloadChannel(server.port);
    await client.next();
    const page = path.join(root, 'index.html');
    unsaved.set(page, Buffer.from('<p>unsaved</p></body>'));
    const first = await get(server.port, '/');
    assert.equal(first.body.toString(), `<p>unsaved</p></body>${TAG}`);
    assert.equal(first.headers['content-length'], String(first.body.length));
    assert.equal(first.headers['last-modified'], undefined, 'an unsaved buffer has no date');
    assert.equal((await get(server.port, '/', { 'If-None-Match': first.headers.etag })).status, 304);
    server.changed([page]);
    assert.deepEqual(kindOf(await client.next()), { type: 'reload', paths: ['/index.html'] });
    unsaved.set(page, Buffer.from('<p>typed more</p>'));
    const second = await get(server.port, '/', { 'If-None-Match': first.headers.etag });
    assert.equal(second.status, 200);
    assert.notEqual(second.headers.etag, first.headers.etag);
    unsaved.set(path.join(root, 'style.css'), Buffer.from('p{}'));
    server.changed([path.join(root, 'style.css')]);
    assert.deepEqual(kindOf(await client.next()), { type: 'css', paths: ['/style.css'] });
    assert.equal((await get(server.port, '/style.css')).body.toString(), 'p{}');
    // The overlay never widens what is served: hidden and outside paths are refused before it is asked.
    unsaved.set(path.join(root, '.env'), Buffer.from('leak'));
    assert.equal((await get(server.port, '/.env')).status, 404);
    unsaved.clear();
    await client.close();
  });

  it('tells a reconnecting page whether files changed while it was away, so it reloads at most once', async () => {
    const first = await openReloadChannel(server.port);
    const hello = await first.next();
    await first.close();
    assert.ok(hello.type === 'hello' && !hello.stale, 'a first connection is never stale');
    const { instance, now } = hello;
    const stayed = await openReloadChannel(server.port);
    await stayed.next();
    const back = `?instance=${instance}&since=${now}`;
    assert.equal(await staleOf(await openReloadChannel(server.port, back)), false, 'nothing changed meanwhile');
    writeFileSync(path.join(root, 'sub', 'later.html'), 'x');
    await stayed.next(); // the change, announced to the page that stayed
    assert.equal(await staleOf(await openReloadChannel(server.port, back)), true, 'a change while away');
    // Another run (a restart): what is on disk decides, by ctime.
    assert.equal(await staleOf(await openReloadChannel(server.port, `?instance=other&since=${now}`)), true);
    assert.equal(await staleOf(await openReloadChannel(server.port, `?instance=other&since=${Date.now() + 60_000}`)), false);
    await stayed.close();
  });
});

/** A message without its timestamp. */
function kindOf(message: ReloadMessage): { type: string; paths?: string[] } {
  return 'paths' in message ? { type: message.type, paths: [...message.paths].sort() } : { type: message.type };
}

/** The parent origins a hello names. */
function parentsOf(message: ReloadMessage): string[] {
  assert.equal(message.type, 'hello');
  return message.type === 'hello' ? message.parents : [];
}

/** The `stale` of a channel's hello (then closes it). */
async function staleOf(client: ReloadClient): Promise<boolean> {
  const hello = await client.next();
  await client.close();
  assert.equal(hello.type, 'hello');
  return hello.type === 'hello' && hello.stale;
}
