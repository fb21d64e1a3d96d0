/**
 * The small-file cache may only ever save work: a file that changed in any way (bytes, size,
 * inode, permissions, even with its mtime put back) must be read again.
 */
import assert from 'node:assert/strict';
import { chmodSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileCache, RACY_MS } from '../../src/core/fileCache';
import { startServer, type RunningServer } from '../../src/core/server';
import { get, tempDir } from '../support/http';

/** Whole seconds, so a time put back is exactly the time it was (Dates would drop the sub-ms part). */
const LONG_AGO = 1_600_000_000;

/** A cache that keeps files at once (no racy window), so tests need not wait. */
const eager = (maxFile = 1024, maxTotal = 4096): FileCache => new FileCache(maxFile, maxTotal, -Infinity);

describe('file cache', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  async function cached(cache: FileCache, file: string): Promise<Buffer | undefined> {
    return cache.get(file, statSync(file)) ?? cache.load(file, statSync(file));
  }

  it('serves the bytes while the file is unchanged', async () => {
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'first');
    const cache = eager();
    assert.equal((await cached(cache, file))?.toString(), 'first');
    assert.equal(cache.get(file, statSync(file))?.toString(), 'first', 'second look is a hit');
  });

  it('misses after a same-size rewrite even when the mtime is put back', async () => {
    const file = path.join(dir, 'b.txt');
    writeFileSync(file, 'AAAA');
    utimesSync(file, LONG_AGO, LONG_AGO);
    const cache = eager();
    await cached(cache, file);
    writeFileSync(file, 'BBBB');
    utimesSync(file, LONG_AGO, LONG_AGO); // size, inode and mtime as before: only ctime moved on
    assert.equal(cache.get(file, statSync(file)), undefined);
    assert.equal((await cached(cache, file))?.toString(), 'BBBB');
  });

  it('misses after the file is replaced by a rename or its permissions change', async () => {
    const file = path.join(dir, 'c.txt');
    writeFileSync(file, 'old');
    const cache = eager();
    await cached(cache, file);
    writeFileSync(path.join(dir, 'c.new'), 'new');
    renameSync(path.join(dir, 'c.new'), file);
    assert.equal((await cached(cache, file))?.toString(), 'new');
    chmodSync(file, 0o600);
    assert.equal(cache.get(file, statSync(file)), undefined);
  });

  it('answers undefined when the file changed after the caller stat-ed it', async () => {
    const file = path.join(dir, 'd.txt');
    writeFileSync(file, 'one');
    const stale = statSync(file);
    writeFileSync(file, 'three');
    assert.equal(await eager().load(file, stale), undefined);
  });

  it('reads but does not keep a file modified within the racy window', async () => {
    const file = path.join(dir, 'e.txt');
    writeFileSync(file, 'fresh');
    const cache = new FileCache(1024, 4096, RACY_MS);
    assert.equal((await cache.load(file, statSync(file)))?.toString(), 'fresh');
    assert.equal(cache.size, 0);
  });

  it('keeps only files that fit, and stays under its total by dropping the least recently used', async () => {
    const cache = eager(100, 250);
    const files = ['f1', 'f2', 'f3'].map((name) => path.join(dir, name));
    for (const file of files) writeFileSync(file, Buffer.alloc(100, 1));
    assert.equal(cache.fits(statSync(files[0])), true);
    writeFileSync(path.join(dir, 'big'), Buffer.alloc(101));
    assert.equal(cache.fits(statSync(path.join(dir, 'big'))), false);
    await cached(cache, files[0]);
    await cached(cache, files[1]);
    cache.get(files[0], statSync(files[0])); // f1 is now the most recently used
    await cached(cache, files[2]);
    assert.equal(cache.size, 200);
    assert.ok(cache.get(files[0], statSync(files[0])), 'recently used file kept');
    assert.equal(cache.get(files[1], statSync(files[1])), undefined, 'least recently used file dropped');
  });
});

describe('static serving with the cache', () => {
  let server: RunningServer;
  let root: string;
  let cleanup: () => void;
  before(async () => {
    ({ dir: root, cleanup } = tempDir());
    writeFileSync(path.join(root, 'page.js'), 'let v = 1;');
    utimesSync(path.join(root, 'page.js'), LONG_AGO, LONG_AGO);
    // Old enough to be cached, like the files of a site one is not editing right now.
    await new Promise((resolve) => setTimeout(resolve, RACY_MS + 100));
    server = await startServer({ root, port: 0 });
  });
  after(async () => {
    await server.close();
    cleanup();
  });

  it('serves the new bytes after a same-size rewrite of a cached file', async () => {
    const file = path.join(root, 'page.js');
    assert.equal((await get(server.port, '/page.js')).body.toString(), 'let v = 1;');
    assert.equal((await get(server.port, '/page.js')).body.toString(), 'let v = 1;');
    writeFileSync(file, 'let v = 2;');
    utimesSync(file, LONG_AGO, LONG_AGO);
    const res = await get(server.port, '/page.js');
    assert.equal(res.body.toString(), 'let v = 2;');
    assert.equal(res.headers['content-length'], '10');
  });

  it('serves ranges and HEAD of a cached file like any other', async () => {
    await get(server.port, '/page.js');
    const range = await get(server.port, '/page.js', { Range: 'bytes=4-4' });
    assert.equal(range.status, 206);
    assert.equal(range.body.toString(), 'v');
    const head = await get(server.port, '/page.js', {}, 'HEAD');
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], '10');
  });
});
