/**
 * The small-file cache may only ever save work: a file that changed in any way (bytes, size,
 * inode, permissions, even with its mtime put back) must be read again, and a hit must really
 * be a hit.
 */
import assert from 'node:assert/strict';
import { chmodSync, closeSync, fstatSync, openSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileCache, RACY_MS } from '../../src/core/fileCache';
import { get, tempDir } from '../support/http';
import { eagerCache as eager, startStaticServer } from '../support/static';

/** Whole seconds, so a time put back is exactly the time it was (Dates would drop the sub-ms part). */
const LONG_AGO = 1_600_000_000;

/** What static.ts does: a hit, or a read from an opened descriptor with that descriptor's stats. */
async function cached(cache: FileCache, file: string): Promise<Buffer | undefined> {
  const hit = cache.get(file, statSync(file));
  if (hit !== undefined) return hit;
  const fd = openSync(file, 'r');
  try {
    return await cache.read(file, fd, fstatSync(fd));
  } finally {
    closeSync(fd);
  }
}

describe('file cache', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  it('serves the bytes while the file is unchanged, from memory', async () => {
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'first');
    const cache = eager();
    assert.equal((await cached(cache, file))?.toString(), 'first');
    assert.deepEqual([cache.hits, cache.misses], [0, 1]);
    assert.equal(cache.get(file, statSync(file))?.toString(), 'first', 'second look is a hit');
    assert.deepEqual([cache.hits, cache.misses], [1, 1]);
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
    assert.equal(cache.hits, 0);
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
    assert.equal(cache.hits, 0);
  });

  it('answers undefined, and keeps nothing, when the file changes after its descriptor was stat-ed', async () => {
    const file = path.join(dir, 'd.txt');
    writeFileSync(file, 'one');
    utimesSync(file, LONG_AGO, LONG_AGO);
    const cache = eager();
    const fd = openSync(file, 'r');
    try {
      const stale = fstatSync(fd);
      writeFileSync(file, 'three'); // same inode, new size
      assert.equal(await cache.read(file, fd, stale), undefined);
      writeFileSync(file, 'six');
      utimesSync(file, LONG_AGO, LONG_AGO); // size and mtime as when stat-ed: only ctime tells
      assert.equal(await cache.read(file, fd, stale), undefined);
    } finally {
      closeSync(fd);
    }
    assert.equal(cache.size, 0);
  });

  it('reads but does not keep a file modified within the racy window', async () => {
    const file = path.join(dir, 'e.txt');
    writeFileSync(file, 'fresh');
    const cache = new FileCache(1024, 4096, RACY_MS);
    assert.equal((await cached(cache, file))?.toString(), 'fresh');
    assert.equal(cache.size, 0);
    assert.equal(cache.get(file, statSync(file)), undefined);
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
  let server: { port: number; close: () => Promise<void> };
  let root: string;
  let cleanup: () => void;
  const cache = eager(1024, 4096);
  before(async () => {
    ({ dir: root, cleanup } = tempDir());
    writeFileSync(path.join(root, 'page.js'), 'let v = 1;');
    utimesSync(path.join(root, 'page.js'), LONG_AGO, LONG_AGO);
    server = await startStaticServer(root, cache);
  });
  after(async () => {
    await server.close();
    cleanup();
  });

  it('serves a settled file from memory, and the new bytes after a same-size rewrite', async () => {
    const file = path.join(root, 'page.js');
    assert.equal((await get(server.port, '/page.js')).body.toString(), 'let v = 1;');
    const hits = cache.hits;
    assert.equal((await get(server.port, '/page.js')).body.toString(), 'let v = 1;');
    assert.equal(cache.hits, hits + 1, 'the second request was a cache hit');
    writeFileSync(file, 'let v = 2;');
    utimesSync(file, LONG_AGO, LONG_AGO);
    const misses = cache.misses;
    const res = await get(server.port, '/page.js');
    assert.equal(res.body.toString(), 'let v = 2;');
    assert.equal(res.headers['content-length'], '10');
    assert.equal(cache.misses, misses + 1, 'the rewrite was noticed');
  });

  it('serves ranges and HEAD of a cached file like any other', async () => {
    await get(server.port, '/page.js');
    const hits = cache.hits;
    const range = await get(server.port, '/page.js', { Range: 'bytes=4-4' });
    assert.equal(range.status, 206);
    assert.equal(range.body.toString(), 'v');
    const head = await get(server.port, '/page.js', {}, 'HEAD');
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], '10');
    assert.equal(cache.hits, hits + 2, 'both answered from memory');
  });
});
