/**
 * The small-file cache may only ever save work: a file that changed in any way (bytes, size,
 * inode, permissions, even with its mtime put back) must be read again, and a hit must really
 * be a hit.
 */
import assert from 'node:assert/strict';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileCache, RACY_MS } from '../../src/core/http/fileCache';
import { FolderWatcher } from '../../src/core/reload/watcher';
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

/** A temp folder made by `populate`, served by static.ts with `cache` for one describe block. */
function servedFolder(cache: FileCache, populate: (root: string) => void): { port: number; root: string } {
  const served = { port: 0, root: '' };
  let close: () => Promise<void> = async () => {};
  let cleanup = (): void => {};
  before(async () => {
    ({ dir: served.root, cleanup } = tempDir());
    populate(served.root);
    ({ port: served.port, close } = await startStaticServer(served.root, cache));
  });
  after(async () => {
    await close();
    cleanup();
  });
  return served;
}

describe('static serving with the cache', () => {
  const cache = eager(1024, 4096);
  const server = servedFolder(cache, (root) => {
    writeFileSync(path.join(root, 'page.js'), 'let v = 1;');
    utimesSync(path.join(root, 'page.js'), LONG_AGO, LONG_AGO);
  });

  it('serves a settled file from memory, and the new bytes after a same-size rewrite', async () => {
    const file = path.join(server.root, 'page.js');
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

/**
 * While a watcher covers the root, a file checked since the last change is served without a
 * stat. These prove both halves with real files: nothing is trusted without a check begun after
 * the last invalidation (so a change the watcher reported is always seen), and a vouched file
 * really is served without looking at the disk (a change nobody reported is not seen, until
 * the recheck interval or an invalidation).
 */
describe('file cache while watching', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  /** A file of the folder, kept in a watching cache and vouched for by a check begun at the current epoch. */
  async function vouched(cache: FileCache, name: string, text: string): Promise<string> {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    const epoch = cache.epoch;
    await cached(cache, file);
    cache.vouch(file, epoch);
    return file;
  }

  it('trusts nothing while not watching, and nothing checked before watching began', async () => {
    const cache = eager();
    const file = await vouched(cache, 'w1.txt', 'one');
    assert.equal(cache.fresh(file), undefined, 'not watching: every request is checked');
    cache.watching = true;
    assert.equal(cache.fresh(file), undefined, 'checked before the watcher looked');
    cache.vouch(file, cache.epoch);
    assert.equal(cache.fresh(file)?.size, 3);
    cache.watching = false;
    assert.equal(cache.fresh(file), undefined, 'the watcher failed: checked again');
    cache.watching = true;
    assert.equal(cache.fresh(file), undefined, 'nor trusted again once it is back');
  });

  it('serves a vouched file without a stat, until its path or any path is invalidated', async () => {
    const cache = eager();
    cache.watching = true;
    const file = await vouched(cache, 'w2.txt', 'two');
    const other = await vouched(cache, 'w3.txt', 'three');
    assert.equal(cache.fresh(file)?.size, 3);
    assert.equal(cache.freshHits, 1);
    writeFileSync(file, 'changed behind its back'); // no invalidation: the disk is not looked at
    assert.equal(cache.fresh(file)?.size, 3, 'served as checked: no stat was made');
    cache.invalidate([file]);
    assert.equal(cache.fresh(file), undefined);
    assert.equal(cache.get(file, statSync(file)), undefined, 'its bytes are gone');
    assert.equal(cache.fresh(other), undefined, 'a change anywhere ends the trust in every entry (a folder swap moves paths below it)');
    assert.equal(cache.get(other, statSync(other))?.toString(), 'three', 'but the others keep their bytes, checked by stat');
    cache.vouch(other, cache.epoch);
    assert.equal(cache.fresh(other)?.size, 5, 'checked again: trusted again');
  });

  it('drops the entries below an invalidated folder, and everything for "all"', async () => {
    const cache = eager();
    cache.watching = true;
    mkdirSync(path.join(dir, 'sub', 'deep'), { recursive: true });
    const below = await vouched(cache, 'sub/deep/a.txt', 'a');
    const beside = await vouched(cache, 'subway.txt', 'b'); // a name that starts like the folder
    cache.invalidate([path.join(dir, 'sub')]);
    assert.equal(cache.get(below, statSync(below)), undefined);
    assert.equal(cache.get(beside, statSync(beside))?.toString(), 'b');
    cache.invalidate('all');
    assert.equal(cache.get(beside, statSync(beside)), undefined);
    assert.equal(cache.size, 0);
  });

  it('lets no check vouch that began before a change came in', async () => {
    const cache = eager();
    cache.watching = true;
    const file = path.join(dir, 'w4.txt');
    writeFileSync(file, 'before');
    const epoch = cache.epoch; // a request begins its check
    await cached(cache, file);
    writeFileSync(file, 'after!'); // the change lands, and the watcher reports it, before the check ends
    cache.invalidate([file]);
    await cached(cache, file); // (the entry was dropped; the request's read keeps the new bytes)
    cache.vouch(file, epoch);
    assert.equal(cache.fresh(file), undefined, 'the late check vouches for nothing');
    assert.equal((await cached(cache, file))?.toString(), 'after!');
  });

  it('checks on every request what the watcher does not cover (an ignored folder)', async () => {
    const cache = eager();
    cache.watching = true;
    const ignored = path.join(dir, 'ignored');
    cache.covers = (realPath) => !realPath.startsWith(ignored + path.sep);
    mkdirSync(ignored, { recursive: true });
    const outside = await vouched(cache, 'ignored/x.txt', 'x');
    const inside = await vouched(cache, 'covered.txt', 'y');
    assert.equal(cache.fresh(outside), undefined);
    assert.equal(cache.fresh(inside)?.size, 1);
  });

  it('checks a vouched file again once the recheck interval is over', async () => {
    const cache = new FileCache(1024, 4096, -Infinity, -1); // every vouch is already too old
    cache.watching = true;
    const file = await vouched(cache, 'w5.txt', 'five');
    assert.equal(cache.fresh(file), undefined);
  });
});

describe('static serving while watching', () => {
  const cache = eager(1024, 4096);
  cache.watching = true;
  const server = servedFolder(cache, (root) => {
    mkdirSync(path.join(root, 'app'));
    writeFileSync(path.join(root, 'app', 'main.js'), 'let v = 1;');
    symlinkSync(path.join(root, 'app'), path.join(root, 'linked'));
  });

  it('answers a checked file without looking at the disk until the watcher reports a change', async () => {
    const file = path.join(server.root, 'app', 'main.js');
    assert.equal((await get(server.port, '/app/main.js')).body.toString(), 'let v = 1;'); // checked, read, vouched
    const fresh = cache.freshHits;
    writeFileSync(file, 'let v = 22;'); // unreported: a stat would see it, the fast path does not look
    const served = await get(server.port, '/app/main.js');
    assert.equal(served.body.toString(), 'let v = 1;');
    assert.equal(served.headers['content-length'], '10', 'headers of the bytes served');
    assert.equal(cache.freshHits, fresh + 1);
    cache.invalidate([file]);
    assert.equal((await get(server.port, '/app/main.js')).body.toString(), 'let v = 22;', 'reported: checked and read again');
  });

  it('checks every request whose path goes through a symlink (the watcher may not see what it leads to)', async () => {
    await get(server.port, '/linked/main.js');
    const fresh = cache.freshHits;
    const res = await get(server.port, '/linked/main.js');
    assert.equal(res.status, 200);
    assert.equal(cache.freshHits, fresh, 'resolved again');
  });

  it('still refuses hidden names and directory forms before any lookup', async () => {
    writeFileSync(path.join(server.root, '.env'), 'SECRET=1');
    assert.equal((await get(server.port, '/.env')).status, 404);
    await get(server.port, '/app/main.js');
    assert.equal((await get(server.port, '/app/main.js/')).status, 404);
  });
});

/**
 * The cache trusts a file without a stat only where the watcher would report its change: not in
 * node_modules, not under an ignore glob, not in a folder it has not (yet) watched.
 */
describe('what the watcher covers for the cache', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  it('covers the files of watched folders only, never ignored ones', async () => {
    for (const folder of ['app', 'node_modules/lib', 'dist']) mkdirSync(path.join(dir, folder), { recursive: true });
    const watcher = new FolderWatcher({ root: dir, ignore: ['dist/**', '*.log'], dotfiles: false }, { changed: () => undefined, settled: () => undefined, degraded: () => undefined });
    try {
      await watcher.ready;
      assert.equal(watcher.covers(path.join(dir, 'index.html')), true);
      assert.equal(watcher.covers(path.join(dir, 'app', 'main.js')), true);
      assert.equal(watcher.covers(path.join(dir, 'node_modules', 'lib', 'x.js')), false, 'node_modules is not watched');
      assert.equal(watcher.covers(path.join(dir, 'dist', 'bundle.js')), false, 'an ignore glob');
      assert.equal(watcher.covers(path.join(dir, 'app', 'debug.log')), false, 'a file name glob');
      assert.equal(watcher.covers(path.join(dir, 'later', 'x.js')), false, 'a folder it has not watched');
      assert.equal(watcher.covers(path.join(dir, '..', 'outside.js')), false);
    } finally {
      watcher.close();
    }
    assert.equal(watcher.covers(path.join(dir, 'index.html')), false, 'closed: nothing');
  });
});
