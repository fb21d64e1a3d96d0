/**
 * One watcher for the config file: the folder's watcher reports it (a dotfile, which live reload
 * skips), also with live reload off, where only the config's folder is watched; the config takes
 * no fs.watch handle of its own where the folder's watcher already watches its folder. Counted
 * for real: fs.watch handles by async_hooks (FSEVENTWRAP), inotify watches in /proc/<pid>/fdinfo.
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../../src/core/server';
import { startCli } from '../support/cli';
import { nextConfig } from '../support/endpoints';
import { tempDir } from '../support/http';

const ONE = { endpoints: { '/websocket': { mode: 'echo' } } };
const TWO = { endpoints: { '/websocket': { mode: 'echo' }, '/chat': { mode: 'broadcast' } } };

/** The inotify watches process `pid` holds now (libuv has one inotify descriptor; one watch per folder). */
function inotifyWatches(pid: number | 'self'): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target !== 'anon_inode:inotify') continue;
    count += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return count;
}

/** A folder with four folders to watch (the root, a, a/b, c), two never watched (node_modules, .hidden), and the config. */
function site(): { dir: string; config: string; cleanup: () => void } {
  const folder = tempDir();
  for (const sub of ['a/b', 'c', 'node_modules/x', '.hidden']) mkdirSync(path.join(folder.dir, sub), { recursive: true });
  writeFileSync(path.join(folder.dir, 'index.html'), '<p>hi</p>');
  const config = path.join(folder.dir, '.echo-preview.json');
  writeFileSync(config, JSON.stringify(ONE));
  return { ...folder, config };
}
const TREE_FOLDERS = 4;

/** fs.watch handles the process opens (async_hooks sees each FSEVENTWRAP made). */
const opened = { count: 0 };
const hook = createHook({
  init: (_id, type) => {
    if (type === 'FSEVENTWRAP') opened.count++;
  },
});

// As watchStorm.test: /proc, and one watch per folder, are Linux's (off Linux the root's watch is recursive).
describe('one watcher for the config file', { skip: process.platform !== 'linux' ? 'counts inotify watches in /proc' : false }, () => {
  before(() => void hook.enable());
  after(() => void hook.disable());

  for (const liveReload of [true, false]) {
    it(`${liveReload ? 'live reload on' : 'live reload off'}: the dotfile config's edit applies, and it takes no fs.watch of its own`, { timeout: 15_000 }, async () => {
      const folder = site();
      const before = { handles: opened.count, watches: inotifyWatches('self') };
      let server: RunningServer | undefined;
      try {
        server = await startServer({ root: folder.dir, port: 0, liveReload });
        const handles = opened.count - before.handles;
        const watches = inotifyWatches('self') - before.watches;
        // On: one handle per folder of the tree, the root's serving the config too. Off: the config's folder alone.
        const expected = liveReload ? TREE_FOLDERS : 1;
        assert.equal(handles, expected, `fs.watch handles opened by the start (the config must not add one)`);
        assert.equal(watches, expected, 'inotify watches taken by the start');
        // Twice: the first edit may still be caught by the read at the watch's start; the second only by the watch.
        for (const config of [TWO, ONE]) {
          const changed = nextConfig(server);
          writeFileSync(folder.config, JSON.stringify(config));
          const state = await changed;
          assert.equal(state.problem, undefined);
          assert.deepEqual(state.endpoints, Object.entries(config.endpoints).map(([p, { mode }]) => ({ path: p, mode })));
        }
        assert.equal(opened.count - before.handles, expected, 'a config edit opened a watch');
      } finally {
        await server?.close();
        folder.cleanup();
      }
    });
  }

  it('a config outside the served folder: one small watch of its folder, through the same watcher', { timeout: 15_000 }, async () => {
    const folder = site();
    const outside = tempDir();
    const config = path.join(outside.dir, 'endpoints.json');
    writeFileSync(config, JSON.stringify(ONE));
    const before = opened.count;
    let server: RunningServer | undefined;
    try {
      server = await startServer({ root: folder.dir, port: 0, configFile: config });
      assert.equal(opened.count - before, TREE_FOLDERS + 1, 'the tree and the outside folder, one handle each');
      for (const text of [TWO, ONE]) {
        const changed = nextConfig(server);
        writeFileSync(config, JSON.stringify(text));
        assert.equal((await changed).endpoints.length, Object.keys(text.endpoints).length);
      }
    } finally {
      await server?.close();
      folder.cleanup();
      outside.cleanup();
    }
  });

  it('through the CLI with --no-reload: one inotify watch (the config folder), and an edit of the dotfile config applies', { timeout: 15_000 }, async () => {
    const folder = site();
    const run = await startCli([folder.dir, '--port', '0', '--no-reload']);
    try {
      const pid = run.child.pid as number;
      assert.equal(inotifyWatches(pid), 1, 'the CLI walked the folder with --no-reload, or watches the config twice');
      writeFileSync(folder.config, JSON.stringify(TWO));
      await run.waitFor((out) => out.includes(`  ws://127.0.0.1:${run.port}/chat  (broadcast)\n`), 'the edited config applied');
      assert.match(run.stdout(), /config applied: 2 endpoints/);
      // Again: the first edit may still be caught by the read at the watch's start; this one only by the watch.
      writeFileSync(folder.config, JSON.stringify(ONE));
      await run.waitFor((out) => out.includes('config applied: 1 endpoint\n'), 'the second edit applied');
      assert.equal(inotifyWatches(pid), 1, 'after the edit');
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });
});
