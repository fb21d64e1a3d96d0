/** Static serving against the checklist, with raw TCP requests so hostile paths arrive as sent. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../../src/core/server';
import { get, rawRequest, tempDir } from '../support/http';

const SECRET = 'TOP-SECRET-OUTSIDE-ROOT';
const INDEX = '<!DOCTYPE html><title>home</title><p>hello</p>';

/**
 * base/
 *   secret.txt            outside the root
 *   root-evil/secret.txt  a sibling whose name starts with the root's name
 *   root/                 served
 */
function buildTree(base: string): string {
  const root = path.join(base, 'root');
  mkdirSync(root);
  writeFileSync(path.join(base, 'secret.txt'), SECRET);
  mkdirSync(path.join(base, 'root-evil'));
  writeFileSync(path.join(base, 'root-evil', 'secret.txt'), SECRET);
  writeFileSync(path.join(root, 'index.html'), INDEX);
  writeFileSync(path.join(root, 'app.js'), 'console.log(1);');
  writeFileSync(path.join(root, 'style.css'), 'body{}');
  writeFileSync(path.join(root, 'data.bin'), Buffer.from([0, 1, 2, 3]));
  writeFileSync(path.join(root, 'digits.txt'), '0123456789');
  writeFileSync(path.join(root, 'empty.txt'), '');
  writeFileSync(path.join(root, '.env'), 'PASSWORD=hunter2');
  mkdirSync(path.join(root, '.git'));
  writeFileSync(path.join(root, '.git', 'config'), '[core] secret');
  mkdirSync(path.join(root, 'sub'));
  writeFileSync(path.join(root, 'sub', 'index.html'), '<p>sub</p>');
  writeFileSync(path.join(root, 'sub', '.hidden'), 'hidden');
  mkdirSync(path.join(root, 'list'));
  writeFileSync(path.join(root, 'list', '<img src=x onerror=alert(1)>.txt'), 'x');
  writeFileSync(path.join(root, 'list', 'a "quoted" & name.txt'), 'x');
  writeFileSync(path.join(root, 'list', '.private'), 'x');
  mkdirSync(path.join(root, 'list', 'folder'));
  mkdirSync(path.join(root, 'evil.example'));
  symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'link-out.txt'));
  symlinkSync(path.join(base, 'root-evil'), path.join(root, 'link-sibling'));
  symlinkSync(path.join(root, 'digits.txt'), path.join(root, 'link-in.txt'));
  symlinkSync(path.join(root, '.env'), path.join(root, 'link-to-dotfile'));
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 7));
  return root;
}

describe('static serving', () => {
  let server: RunningServer;
  let port: number;
  let root: string;
  let cleanup: () => void;

  before(async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    root = buildTree(temp.dir);
    server = await startServer({ root, port: 0 });
    port = server.port;
  });
  after(async () => {
    await server.close();
    cleanup();
  });

  it('serves index.html for / with type, validators, no-cache and nosniff', async () => {
    const res = await get(port, '/');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), INDEX);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.match(res.headers.etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    assert.ok(!Number.isNaN(Date.parse(res.headers['last-modified'])));
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(INDEX)));
    assert.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS by default');
  });

  it('answers HEAD with the same headers and no body', async () => {
    const res = await get(port, '/app.js', {}, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '15');
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.body.length, 0);
  });

  it('picks content types from the extension, text with utf-8', async () => {
    assert.equal((await get(port, '/style.css')).headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await get(port, '/digits.txt')).headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await get(port, '/data.bin')).headers['content-type'], 'application/octet-stream');
  });

  it('answers OPTIONS with Allow and other methods with 405 and Allow', async () => {
    const options = await get(port, '/', {}, 'OPTIONS');
    assert.equal(options.status, 204);
    assert.equal(options.headers.allow, 'GET, HEAD, OPTIONS');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'TRACE']) {
      const res = await get(port, '/index.html', { 'Content-Length': '0' }, method);
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD, OPTIONS', method);
    }
  });

  it('rejects malformed percent-encoding and NUL bytes with 400', async () => {
    for (const target of ['/%', '/%zz', '/%E0%A4%A', '/index.html%00', '/%00../secret.txt']) {
      const res = await get(port, target);
      assert.equal(res.status, 400, target);
    }
  });

  it('never serves a byte from outside the root, however the path is spelled', async () => {
    const targets = [
      '/../secret.txt',
      '/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/sub/../../secret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/./../secret.txt',
      '/../root-evil/secret.txt',
      '/%2e%2e/root-evil/secret.txt',
      '/link-out.txt',
      '/link-sibling/secret.txt',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/' + path.join(root, '..', 'secret.txt'),
    ];
    // Also with dotfiles served, so the hidden-name rule can't mask a containment bug.
    const withDotfiles = await startServer({ root, port: 0, dotfiles: true });
    try {
      for (const p of [port, withDotfiles.port]) {
        for (const target of targets) {
          const res = await get(p, target);
          assert.ok([400, 403, 404].includes(res.status), `${target} -> ${res.status}`);
          assert.ok(!res.raw.toString('latin1').includes(SECRET), `${target} leaked the secret`);
          assert.ok(!res.raw.toString('latin1').includes('root:x:0'), `${target} leaked /etc/passwd`);
        }
      }
    } finally {
      await withDotfiles.close();
    }
  });

  it('follows symlinks that stay inside the root', async () => {
    const res = await get(port, '/link-in.txt');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), '0123456789');
  });

  it('hides dotfiles and dot-directories, also behind symlinks', async () => {
    for (const target of ['/.env', '/.git/config', '/.git/', '/sub/.hidden', '/%2eenv', '/link-to-dotfile']) {
      const res = await get(port, target);
      assert.equal(res.status, 404, target);
      assert.ok(!res.raw.toString().includes('hunter2'), target);
    }
  });

  it('serves dotfiles when the option allows them', async () => {
    const open = await startServer({ root, port: 0, dotfiles: true });
    try {
      const res = await get(open.port, '/.env');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'PASSWORD=hunter2');
    } finally {
      await open.close();
    }
  });

  it('redirects a directory without a slash to the same path on this host', async () => {
    const sub = await get(port, '/sub');
    assert.equal(sub.status, 301);
    assert.equal(sub.headers.location, '/sub/');
    const query = await get(port, '/sub?x=1');
    assert.equal(query.headers.location, '/sub/?x=1');
    for (const target of ['//evil.example', '/\\evil.example', '/%2fevil.example', '/%5cevil.example', '///evil.example', '/.//evil.example']) {
      const res = await get(port, target);
      assert.equal(res.status, 301, target);
      assert.equal(res.headers.location, '/evil.example/', target);
    }
    const served = await get(port, '/sub/');
    assert.equal(served.status, 200);
    assert.equal(served.body.toString(), '<p>sub</p>');
  });

  it('lists a directory without index.html with escaped names, encoded links and a strict CSP', async () => {
    const res = await get(port, '/list/');
    assert.equal(res.status, 200);
    const html = res.body.toString();
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
    assert.ok(!html.includes('<img'), 'raw markup in listing');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;.txt'));
    assert.ok(html.includes('href="./%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.txt"'));
    assert.ok(html.includes('a &quot;quoted&quot; &amp; name.txt'));
    assert.ok(html.includes('href="./folder/"'));
    assert.ok(!html.includes('.private'), 'hidden entry listed');
  });

  it('does not hang on a FIFO and answers 404', async () => {
    const res = await get(port, '/pipe');
    assert.equal(res.status, 404);
  });

  it('answers conditional requests: 304 for a match, 412 for a failed precondition', async () => {
    const first = await get(port, '/digits.txt');
    const etag = first.headers.etag;
    const lastModified = first.headers['last-modified'];
    const cached = await get(port, '/digits.txt', { 'If-None-Match': etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    assert.equal(cached.headers.etag, etag);
    assert.equal((await get(port, '/digits.txt', { 'If-None-Match': `"other", ${etag}` })).status, 304);
    assert.equal((await get(port, '/digits.txt', { 'If-None-Match': '"other"' })).status, 200);
    assert.equal((await get(port, '/digits.txt', { 'If-Modified-Since': lastModified })).status, 304);
    assert.equal((await get(port, '/digits.txt', { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 200);
    assert.equal((await get(port, '/digits.txt', { 'If-Match': '"nope"' })).status, 412);
    assert.equal((await get(port, '/digits.txt', { 'If-Match': etag })).status, 200);
    assert.equal((await get(port, '/digits.txt', { 'If-Unmodified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 412);
  });

  it('revalidates after the file changes', async () => {
    const before = await get(port, '/app.js');
    writeFileSync(path.join(root, 'app.js'), 'console.log(2); // changed');
    utimesSync(path.join(root, 'app.js'), new Date(), new Date(Date.now() + 5000));
    const after = await get(port, '/app.js', { 'If-None-Match': before.headers.etag });
    assert.equal(after.status, 200);
    assert.equal(after.body.toString(), 'console.log(2); // changed');
  });

  it('serves single byte ranges with 206 and refuses unsatisfiable ones with 416', async () => {
    const head = await get(port, '/digits.txt', { Range: 'bytes=0-3' });
    assert.equal(head.status, 206);
    assert.equal(head.body.toString(), '0123');
    assert.equal(head.headers['content-range'], 'bytes 0-3/10');
    assert.equal(head.headers['content-length'], '4');
    assert.equal((await get(port, '/digits.txt', { Range: 'bytes=7-' })).body.toString(), '789');
    assert.equal((await get(port, '/digits.txt', { Range: 'bytes=-2' })).body.toString(), '89');
    assert.equal((await get(port, '/digits.txt', { Range: 'bytes=8-100' })).body.toString(), '89');
    const bad = await get(port, '/digits.txt', { Range: 'bytes=10-20' });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */10');
    assert.equal((await get(port, '/empty.txt', { Range: 'bytes=0-' })).status, 416);
    const several = await get(port, '/digits.txt', { Range: 'bytes=0-1,4-5' });
    assert.equal(several.status, 200, 'several ranges: the whole file');
    assert.equal(several.body.toString(), '0123456789');
    assert.equal((await get(port, '/digits.txt', { Range: 'lines=1-2' })).status, 200);
  });

  it('honours If-Range: the range only while the validator matches', async () => {
    const { headers } = await get(port, '/digits.txt');
    const strongTag = headers.etag.replace(/^W\//, '');
    const matching = await get(port, '/digits.txt', { Range: 'bytes=0-1', 'If-Range': strongTag });
    assert.equal(matching.status, 206);
    const stale = await get(port, '/digits.txt', { Range: 'bytes=0-1', 'If-Range': '"stale"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.toString(), '0123456789');
    const oldDate = await get(port, '/digits.txt', { Range: 'bytes=0-1', 'If-Range': 'Thu, 01 Jan 1970 00:00:00 GMT' });
    assert.equal(oldDate.status, 200);
  });

  it('sends escaped error pages that can run nothing', async () => {
    const res = await get(port, '/missing<script>.html');
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(!res.body.toString().includes('<script>'));
  });

  it('refuses Host headers that are not loopback or allowed (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:' + port, '127.0.0.1.evil.example', 'localhost.evil.example', '<script>x</script>']) {
      const res = await get(port, '/', { Host: host });
      assert.equal(res.status, 403, host);
      assert.ok(!res.body.toString().includes(INDEX), host);
      assert.ok(!res.body.toString().includes('<script>x'), 'host echoed unescaped');
    }
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', `${port}.localhost:4000`]) {
      assert.equal((await get(port, '/', { Host: host })).status, 200, host);
    }
    const noHost = await rawRequest(port, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(noHost.status, 400);
    const allowed = await startServer({ root, port: 0, allowedHosts: ['my-box.test'] });
    try {
      assert.equal((await get(allowed.port, '/', { Host: 'my-box.test:1234' })).status, 200);
      assert.equal((await get(allowed.port, '/', { Host: 'other.test' })).status, 403);
    } finally {
      await allowed.close();
    }
  });

  it('answers a plain GET on the WebSocket path with 426', async () => {
    const res = await get(port, '/websocket');
    assert.equal(res.status, 426);
    assert.equal(res.headers.upgrade, 'websocket');
  });

  it('accepts absolute-form targets, whose host then stands for the Host header', async () => {
    const ours = await get(port, `http://127.0.0.1:${port}/digits.txt`, { Host: 'evil.example' });
    assert.equal(ours.status, 200);
    assert.equal(ours.body.toString(), '0123456789');
    assert.equal((await get(port, `HTTP://localhost:${port}`)).status, 200, 'no path means /');
    assert.equal((await get(port, 'http://evil.example/index.html')).status, 403);
    assert.equal((await get(port, `http://user@127.0.0.1:${port}/`)).status, 403);
    assert.ok(!(await get(port, `http://127.0.0.1:${port}/../secret.txt`)).raw.toString().includes(SECRET));
    assert.equal((await get(port, 'ftp://127.0.0.1/index.html')).status, 400);
    assert.equal((await get(port, 'index.html')).status, 400);
  });

  it('closes the file when a client goes away mid-download', async () => {
    const bigPath = path.join(root, 'big.bin');
    const openOnBig = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === bigPath;
        } catch {
          return false;
        }
      }).length;
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', reject);
        socket.once('data', () => {
          socket.destroy();
          resolve();
        });
        socket.write(`GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      });
    }
    const deadline = Date.now() + 5000;
    while (openOnBig() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(openOnBig(), 0, 'file descriptors of big.bin still open');
    const whole = await get(port, '/big.bin', { Range: 'bytes=-5' });
    assert.deepEqual([...whole.body], [7, 7, 7, 7, 7], 'server still serves after aborted downloads');
  });
});
