/**
 * Live reload from the command line and the watcher's limits: --no-reload and --reload-ignore
 * (parsed, refused when malformed, and in effect in a real CLI run), the help block of docs/cli.md,
 * and the watcher falling back with a clear message when the folder has too many folders.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { UsageError, parseArgs } from '../../src/cli/args';
import { RELOAD_SCRIPT_PATH } from '../../src/core/reload/inject';
import { IgnoreRules } from '../../src/core/reload/ignore';
import { FolderWatcher } from '../../src/core/reload/watcher';
import { REPO_ROOT, get, tempDir } from '../support/http';
import { runCli, startCli } from '../support/cli';
import { openReloadChannel } from '../support/reload';

function options(argv: string[]): ReturnType<typeof parseArgs> {
  return parseArgs(argv);
}

describe('live reload on the command line', () => {
  it('is on by default; --no-reload turns it off; --reload-ignore collects globs', () => {
    const plain = options([]);
    assert.ok(typeof plain === 'object' && typeof plain.options.liveReload === 'object');
    assert.deepEqual(plain.options.liveReload, { ignore: [] });
    const off = options(['--no-reload']);
    assert.ok(typeof off === 'object');
    assert.equal(off.options.liveReload, false);
    const ignoring = options(['--reload-ignore', 'dist/**', '--reload-ignore=*.log']);
    assert.ok(typeof ignoring === 'object');
    assert.deepEqual(ignoring.options.liveReload, { ignore: ['dist/**', '*.log'] });
  });

  it('refuses a malformed glob or a missing one, naming --reload-ignore', () => {
    assert.throws(() => options(['--reload-ignore', 'a[b']), (error: unknown) => error instanceof UsageError && /^--reload-ignore: .*"a\[b".*"\["/.test(error.message));
    assert.throws(() => options(['--reload-ignore']), (error: unknown) => error instanceof UsageError && /--reload-ignore needs a value/.test(error.message));
    assert.throws(() => options(['--no-reload=yes']), (error: unknown) => error instanceof UsageError && /--no-reload takes no value/.test(error.message));
  });

  it('has docs/cli.md’s help block exactly as --help prints it', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'cli.md'), 'utf8');
    const block = /```text\n(Usage: echo-preview[\s\S]*?)```/.exec(doc)?.[1];
    assert.equal(block, help.stdout);
    assert.match(help.stdout, /--no-reload/);
    assert.match(help.stdout, /--reload-ignore <glob>/);
  });

  it('in a CLI run: --reload-ignore paths reload nothing, --no-reload injects nothing', async () => {
    const { dir, cleanup } = tempDir();
    mkdirSync(path.join(dir, 'generated'));
    writeFileSync(path.join(dir, 'index.html'), '<p>x</p></body>');
    const run = await startCli([dir, '--port', '0', '--reload-ignore', 'generated', '--reload-ignore', '*.map']);
    const off = await startCli([dir, '--port', '0', '--no-reload']);
    try {
      assert.match((await get(run.port, '/')).body.toString(), /<\/body><script src="__echo-preview\/reload\.js" defer><\/script>$/);
      assert.equal((await get(off.port, '/')).body.toString(), '<p>x</p></body>');
      assert.equal((await get(off.port, RELOAD_SCRIPT_PATH)).status, 404);
      const client = await openReloadChannel(run.port);
      await client.next(); // hello
      writeFileSync(path.join(dir, 'generated', 'bundle.js'), 'x');
      writeFileSync(path.join(dir, 'app.js.map'), '{}');
      writeFileSync(path.join(dir, 'marker.js'), 'x');
      const message = await client.next();
      assert.deepEqual('paths' in message ? message.paths : [], ['/marker.js']);
      await client.close();
    } finally {
      run.child.kill('SIGKILL');
      off.child.kill('SIGKILL');
      cleanup();
    }
  });
});

describe('the watcher', () => {
  it('ignores by name at any depth or by path from the root, folders taking what is in them', () => {
    const rules = new IgnoreRules(['*.log', 'dist', 'src/gen/**', 'a?c', 'x[0-9]'], false);
    for (const ignored of ['.git', 'a/.git/HEAD', 'node_modules/x/y.js', '.env', 'sub/.hidden/f', 'x.log', 'deep/er/x.log', 'dist', 'dist/app.js', 'pkg/dist/app.js', 'src/gen/a/b.ts', 'abc', 'x7/file']) {
      assert.equal(rules.ignores(ignored), true, ignored);
    }
    for (const kept of ['index.html', 'logs/x.txt', 'x.log.txt', 'distant/a', 'src/gen', 'src/general/a', 'abbc', 'xa', 'a.b/c']) {
      assert.equal(rules.ignores(kept), false, kept);
    }
    assert.equal(new IgnoreRules([], true).ignores('.well-known/x'), false, 'dotfiles are watched when they are served');
    assert.equal(new IgnoreRules([], true).ignores('.git/HEAD'), true, '.git never is');
  });

  it('falls back with a message naming the limit and --reload-ignore when there are too many folders', async () => {
    const { dir, cleanup } = tempDir();
    for (let i = 0; i < 6; i++) mkdirSync(path.join(dir, `d${i}`));
    const problems: string[] = [];
    const settled: string[][] = [];
    const watcher = new FolderWatcher(
      { root: dir, ignore: [], dotfiles: false, maxWatches: 3 },
      { changed: () => undefined, settled: (paths) => settled.push([...paths]), degraded: (message) => problems.push(message) },
    );
    try {
      await watcher.ready;
      assert.equal(watcher.healthy, false);
      assert.equal(watcher.watchCount, 3);
      assert.equal(problems.length, 1);
      assert.match(problems[0], /more than 3 folders/);
      assert.match(problems[0], /--reload-ignore/);
      assert.match(problems[0], /fs\.inotify\.max_user_watches/);
      const enough = new FolderWatcher({ root: dir, ignore: ['d*'], dotfiles: false, maxWatches: 3 }, { changed: () => undefined, settled: () => undefined, degraded: (m) => problems.push(m) });
      await enough.ready;
      assert.equal(enough.healthy, true, 'ignoring the big folders brings it within the limit');
      assert.equal(enough.watchCount, 1);
      enough.close();
    } finally {
      watcher.close();
      cleanup();
    }
  });
});
