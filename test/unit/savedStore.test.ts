/**
 * The CLI inspector's saved messages live in a file of the CLI's, not in the browser: against the
 * CLI as a child process with its own XDG_STATE_HOME, what the feed stores (storeSaved) is what
 * it loads (loadSaved) after a restart on a new inspector port; the file is 0600 in a 0700
 * directory; a FIFO, a huge or a garbled file is an empty list and one warning, the server keeps
 * serving; a hostile storeSaved (too large, wrong shape, deep JSON) is refused with a clear
 * error, leaves the file as it was, and the feed stays usable.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { savedFileOf } from '../../src/cli/savedStore';
import { MAX_SAVED_BODY, MAX_SAVED_LIST_BYTES, MAX_SAVED_MESSAGES, type HostMessage, type SavedMessage } from '../../src/shared/protocol';
import { startCli, type CliRun } from '../support/cli';
import { assertServing } from '../support/hostile';
import { tempDir } from '../support/http';
import { Feed, fakeInstall, feedUrlOf, inspectorUrlOf } from '../support/inspector';
import { pollUntil } from '../support/poll';

const SAVED: SavedMessage[] = [
  { name: 'subscribe', mode: 'json', body: '{"type":"subscribe","topic":"prices"}' },
  { name: 'hello ✓', mode: 'text', body: 'hello\nthere' },
];

/** Sends loadSaved and resolves with the list of the `saved` message that answers it. */
async function loadSaved(feed: Feed): Promise<SavedMessage[]> {
  const before = feed.messages.length;
  feed.ws.send(JSON.stringify({ type: 'loadSaved' }));
  let saved: Extract<HostMessage, { type: 'saved' }> | undefined;
  await feed.until(() => {
    saved = feed.messages.slice(before).find((m): m is Extract<HostMessage, { type: 'saved' }> => m.type === 'saved');
    return saved !== undefined;
  }, 'the saved messages');
  return saved!.messages;
}

function modeOf(file: string): string {
  return (statSync(file).mode & 0o777).toString(8);
}

describe("the CLI inspector's saved messages", { timeout: 60_000 }, () => {
  let install: ReturnType<typeof fakeInstall>;
  let folder: ReturnType<typeof tempDir>;
  let state: ReturnType<typeof tempDir>;
  let dir: string;
  let file: string;
  const running: CliRun[] = [];

  /** The CLI on the folder, its state in `state`, and a feed of its inspector. */
  async function start(): Promise<{ cli: CliRun; feed: Feed; inspectorPort: number }> {
    const cli = await startCli([folder.dir, '--port', '0', '--inspect'], { script: install.cli, env: { XDG_STATE_HOME: state.dir } });
    running.push(cli);
    const page = inspectorUrlOf(cli.ready);
    const feed = await Feed.open(feedUrlOf(page.url), page.origin);
    return { cli, feed, inspectorPort: page.port };
  }

  async function stop(cli: CliRun): Promise<void> {
    cli.child.kill('SIGTERM');
    assert.deepEqual(await cli.exit, { code: 0, signal: null });
  }

  before(() => {
    install = fakeInstall();
    folder = tempDir('echo-saved-site-');
    writeFileSync(path.join(folder.dir, 'index.html'), '<!DOCTYPE html><title>Site</title><p>site</p>\n');
  });

  // Each case starts with a state folder of its own (XDG_STATE_HOME), nothing in it yet.
  beforeEach(() => {
    state = tempDir('echo-saved-state-');
    dir = path.join(state.dir, 'echo-preview');
    file = savedFileOf(dir, folder.dir);
  });
  afterEach(() => {
    for (const cli of running.splice(0)) cli.child.kill('SIGKILL');
    state.cleanup();
  });
  after(() => {
    folder?.cleanup();
    install?.cleanup();
  });

  it('keeps what storeSaved stored across a restart, on a new inspector port, in a 0600 file of a 0700 directory', async () => {
    const first = await start();
    assert.deepEqual(await loadSaved(first.feed), [], 'nothing saved yet');
    assert.equal(existsSync(dir), false, 'loading creates nothing');
    assert.deepEqual(await first.feed.request({ type: 'storeSaved', messages: SAVED }), { type: 'result', requestId: 1, ok: true });
    assert.equal(modeOf(dir), '700', 'the directory is its owner’s only');
    assert.equal(modeOf(file), '600', 'the file is its owner’s only');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { folder: folder.dir, messages: SAVED });
    first.feed.ws.close();
    await stop(first.cli);

    const second = await start();
    assert.notEqual(second.inspectorPort, first.inspectorPort, 'a new inspector port');
    assert.deepEqual(await loadSaved(second.feed), SAVED, 'the list outlasts the restart');
    // A save replaces the list (by rename: no temporary file is left), and a directory that was open is closed again.
    execFileSync('chmod', ['755', dir]);
    assert.deepEqual(await second.feed.request({ type: 'storeSaved', messages: SAVED.slice(1) }), { type: 'result', requestId: 1, ok: true });
    assert.deepEqual(await loadSaved(second.feed), SAVED.slice(1));
    assert.equal(modeOf(dir), '700');
    assert.equal(modeOf(file), '600');
    assert.deepEqual(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim().split('\n'), [path.basename(file)]);
    assert.equal(second.cli.stderr(), '', 'no warning');
    second.feed.ws.close();
    await stop(second.cli);
  });

  it('reads a FIFO, a huge file, garbage or deep JSON as no saved messages, with one warning each, and keeps serving', async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const reason = {
      fifo: 'it is a named pipe (FIFO), not a regular file',
      huge: `it is ${MAX_SAVED_LIST_BYTES + 1024 * 1024} bytes, over the limit of`,
      garbage: 'it is not JSON',
      deep: 'it holds no list of saved messages',
      shape: 'it holds no list of saved messages (message 1: bad mode',
    };
    const cases: Array<[keyof typeof reason, () => void]> = [
      ['fifo', () => execFileSync('mkfifo', [file])],
      ['huge', () => { writeFileSync(file, ''); truncateSync(file, MAX_SAVED_LIST_BYTES + 1024 * 1024); }],
      ['garbage', () => writeFileSync(file, '\u0000\u00ff{"messages":[')],
      ['deep', () => writeFileSync(file, `{"messages":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)],
      ['shape', () => writeFileSync(file, JSON.stringify({ messages: [{ name: 'a', mode: 'xml', body: '' }] }))],
    ];
    for (const [what, make] of cases) {
      execFileSync('rm', ['-f', file]);
      make();
      const { cli, feed } = await start();
      assert.deepEqual(await loadSaved(feed), [], `${what}: an empty list`);
      assert.deepEqual(await loadSaved(feed), [], `${what}: again`);
      await pollUntil(() => cli.stderr().includes('\n'), () => `${what}: the warning (stderr: ${cli.stderr()})`);
      const lines = cli.stderr().split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `${what}: one warning, however often it is read: ${cli.stderr()}`);
      assert.ok(
        lines[0].startsWith(`echo-preview: warning: the inspector's saved messages in ${file} cannot be read: ${reason[what]}`),
        `${what}: ${lines[0]}`,
      );
      assert.ok(lines[0].endsWith('; it shows none, and the next save replaces the file'), lines[0]);
      await assertServing(cli.port, '/websocket', `(${what})`);
      await feed.ready(); // the feed still answers
      // The next save replaces it with a regular file that reads back.
      assert.deepEqual(await feed.request({ type: 'storeSaved', messages: SAVED }), { type: 'result', requestId: 1, ok: true }, what);
      assert.equal(statSync(file).isFile(), true);
      assert.deepEqual(await loadSaved(feed), SAVED, `${what}: replaced`);
      feed.ws.close();
      await stop(cli);
    }
  });

  it('refuses a hostile storeSaved with a clear error, keeps the file as it was, and the feed stays usable', { timeout: 60_000 }, async () => {
    const { cli, feed } = await start();
    assert.deepEqual(await feed.request({ type: 'storeSaved', messages: SAVED }), { type: 'result', requestId: 1, ok: true });
    const kept = readFileSync(file, 'utf8');
    const message = (body: string, name = 'm'): SavedMessage => ({ name, mode: 'text', body });
    // 3-byte characters: 50 bodies within their limit make more than MAX_SAVED_LIST_BYTES, within the feed's message limit.
    const heavy = Array.from({ length: 50 }, (_, i) => message('€'.repeat(60_000), `heavy ${i}`));
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const cases: Array<[string, number, RegExp]> = [
      [JSON.stringify({ type: 'storeSaved', requestId: 10, messages: Array.from({ length: MAX_SAVED_MESSAGES + 1 }, (_, i) => message('x', `m${i}`)) }), 10,
        new RegExp(`^storeSaved: ${MAX_SAVED_MESSAGES + 1} messages are more than the ${MAX_SAVED_MESSAGES} that may be saved$`)],
      [JSON.stringify({ type: 'storeSaved', requestId: 11, messages: [message('x'.repeat(MAX_SAVED_BODY + 1))] }), 11, new RegExp(`^storeSaved: message 1: a body of ${MAX_SAVED_BODY + 1} characters \\(messages must be a list of at most`)],
      [JSON.stringify({ type: 'storeSaved', requestId: 12, messages: heavy }), 12, new RegExp(`^storeSaved: the saved messages take \\d+ bytes, over the limit of ${MAX_SAVED_LIST_BYTES} bytes \\(8 MiB\\): delete some first$`)],
      ['{"type":"storeSaved","requestId":13,"messages":{"0":{"name":"a","mode":"text","body":""}}}', 13, /^storeSaved: messages must be a list of at most/],
      ['{"type":"storeSaved","requestId":14,"messages":[{"name":"a","mode":"xml","body":""}]}', 14, /^storeSaved: message 1: bad mode \(/],
      ['{"type":"storeSaved","requestId":15,"messages":[{"name":"","mode":"text","body":""}]}', 15, /^storeSaved: message 1: bad name \(/],
      ['{"type":"storeSaved","requestId":16,"messages":[{"name":"a","mode":"text","body":7}]}', 16, /^storeSaved: message 1: bad body \(/],
      ['{"type":"storeSaved","requestId":17,"messages":["a"]}', 17, /^storeSaved: message 1: not an object \(/],
      ['{"type":"storeSaved","requestId":18,"messages":[{"__proto__":"a","mode":"text","body":""}]}', 18, /^storeSaved: message 1: bad name \(/],
      ['{"type":"storeSaved","messages":[]}', -1, /^storeSaved: requestId must be a non-negative integer$/],
      ['{"type":"storeSaved","requestId":19,"messages":[],"file":"/etc/passwd"}', 19, /^storeSaved: unexpected field "file" \(a storeSaved request has requestId, messages\)$/],
      [`{"type":"storeSaved","requestId":20,"messages":${deep}}`, -1, /nests deeper than 3 levels$/],
      ['{"type":"loadSaved","folder":"/"}', -1, /^loadSaved: unexpected field "folder" \(a loadSaved request has no other field\)$/],
    ];
    for (const [text, requestId, error] of cases) {
      const result = await feed.sendRaw(text, requestId);
      assert.equal(result.ok, false, text.slice(0, 100));
      assert.match((result as { error: string }).error, error, text.slice(0, 100));
      assert.equal(readFileSync(file, 'utf8'), kept, `the file is as it was after ${text.slice(0, 100)}`);
    }
    // The feed and the server carry on: the list reads back, a good store is taken.
    assert.deepEqual(await loadSaved(feed), SAVED);
    assert.deepEqual(await feed.request({ type: 'storeSaved', requestId: 30, messages: SAVED.slice(0, 1) }), { type: 'result', requestId: 30, ok: true });
    assert.deepEqual(await loadSaved(feed), SAVED.slice(0, 1));
    await assertServing(cli.port);
    feed.ws.close();
    await stop(cli);
  });
});
