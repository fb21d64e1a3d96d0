/** The config file: its problems at file:line:col, the start, reloads with clients kept, and it is never served. */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigText } from '../../src/core/config/check';
import type { ConfigState } from '../../src/core/config/state';
import { StartError, startServer, type RunningServer } from '../../src/core/server';
import { runCli, startCli, type CliRun } from '../support/cli';
import { nextConfig } from '../support/endpoints';
import { REPO_ROOT, get, tempDir } from '../support/http';
import { messagesOf } from '../support/inbox';
import { closeCodeOf, echoAll, openClient } from '../support/ws';

const ENV = { proxyBeyondLoopback: true };
const FILE = '/site/.echo-preview.json';

/** Where `checkConfigText` puts the problem of `text`: "line:col message". */
function problemOf(text: string): string {
  const checked = checkConfigText(FILE, text, ENV);
  assert.ok(!checked.ok, `expected a problem in ${text}`);
  assert.equal(checked.problem.file, FILE);
  return `${checked.problem.line}:${checked.problem.column} ${checked.problem.message}`;
}

describe('config problems name their line and column', () => {
  it('for JSON syntax errors, where the text goes wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /^1:1 the file is empty/],
      ['{\n  "endpoints": {\n    "/chat": { "mode": "echo" }\n    "/b": { "mode": "echo" }\n  }\n}', /^4:5 expected "," or "}", found "\\""/],
      ['{\n  "endpoints": {\n    "/chat": { "mode": "echo" }\n  }', /^4:4 expected "," or "}", found the end of the file/],
      ['{"endpoints": {"/chat": {"mode": \'echo\'}}}', /^1:34 JSON strings take double quotes/],
      ['{"endpoints": {"/chat": {"mode": "echo"} "/b": {}}}', /^1:42 expected "," or "}", found "\\""/],
      ['{\r\n"endpoints": {"/chat": {"mode": "ec\nho"}}}', /^2:36 a string cannot hold a control character \(U\+000A\)/],
      ['{"endpoints": {"/a": {"mode": "echo"}}} x', /^1:41 unexpected "x" after the end/],
      ['{"endpoints": {"/a": {"mode": "echo", "mode": "echo"}}}', /^1:39 duplicate property "mode"/],
      ['{"endpoints": {"/a": {"mode": "echo"}}, "n": 01}', /^1:46 this is not a JSON number/],
      ['{"endpoints": {"/a": {"mode": "\\x"}}}', /^1:32 "\\x" is not a JSON escape/],
      ['{endpoints: {}}', /^1:2 expected a property name in double quotes, found "e"/],
      ['\uFEFF{"endpoints": {"/a": {"mode": "echo"},,}}', /^1:39 expected a property name in double quotes, found ","/],
    ];
    for (const [text, expected] of cases) assert.match(problemOf(text), expected, JSON.stringify(text));
  });

  it('for schema violations, at the offending value (or the unknown key)', () => {
    const cases: Array<[string, RegExp]> = [
      ['[]', /^1:1 the config must be a JSON object/],
      ['{}', /^1:1 "endpoints" is missing/],
      ['{\n  "endpoints": {}\n}', /^2:16 "endpoints" is empty/],
      ['{"endpoints": [], "x": 1}', /^1:19 unknown property "x" at the top level/],
      ['{"endpoints": []}', /^1:15 "endpoints" must be an object of paths/],
      ['{"endpoints": {"/a": {"mode": "echo"}}, "extra": 1}', /^1:41 unknown property "extra" at the top level/],
      ['{"$schema": 3, "endpoints": {"/a": {"mode": "echo"}}}', /^1:13 "\$schema" must be a string/],
      ['{"endpoints": {\n  "chat": {"mode": "echo"}}}', /^2:3 the endpoint path "chat" must start with "\/"/],
      ['{"endpoints": {"/a b": {"mode": "echo"}}}', /^1:16 the endpoint path "\/a b" contains a space/],
      ['{"endpoints": {"/__echo-preview/reload": {"mode": "echo"}}}', /^1:16 the endpoint path .* is under \/__echo-preview\//],
      ['{"endpoints": {"/a": "echo"}}', /^1:22 an endpoint is an object with a "mode"/],
      ['{"endpoints": {"/a": {}}}', /^1:22 this endpoint has no "mode"/],
      ['{"endpoints": {\n  "/a": {"mode": "echo"},\n  "/b": {"mode": "shout"}}}', /^3:18 "mode" must be one of "echo", "broadcast", "script", "proxy", not "shout"/],
      ['{"endpoints": {"/a": {"mode": 1}}}', /^1:31 "mode" must be one of .*, not a number/],
      ['{"endpoints": {"/a": {"mode": "echo", "includeSender": true}}}', /^1:39 unknown property "includeSender" for mode "echo"/],
      ['{"endpoints": {"/a": {"mode": "broadcast",\n "includeSender": "yes"}}}', /^2:19 "includeSender" must be true or false, not a string/],
      ['{"endpoints": {"/a": {"mode": "broadcast", "room": 1}}}', /^1:44 unknown property "room" for mode "broadcast"/],
    ];
    for (const [text, expected] of cases) assert.match(problemOf(text), expected, JSON.stringify(text));
  });

  it('accepts every mode it documents, in the order written', () => {
    const checked = checkConfigText(FILE, JSON.stringify({ $schema: './s.json', endpoints: { '/b': { mode: 'broadcast', includeSender: false }, '/ws-ü': { mode: 'echo' } } }), ENV);
    assert.ok(checked.ok);
    assert.deepEqual(checked.endpoints, [
      { path: '/b', config: { mode: 'broadcast', includeSender: false } },
      { path: '/ws-ü', config: { mode: 'echo' } },
    ]);
  });
});

const ECHO_AND_CHAT = { endpoints: { '/websocket': { mode: 'echo' }, '/chat': { mode: 'broadcast' } } };

/** Writes the config as editors that save by rename do: a temporary file, renamed over it. */
function saveByRename(file: string, content: unknown): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  renameSync(temporary, file);
}

describe('config at start', () => {
  it('without a file serves the echo at /websocket (or wsPath) exactly as before', async () => {
    const folder = tempDir();
    for (const wsPath of [undefined, '/ws']) {
      const server = await startServer({ root: folder.dir, port: 0, wsPath });
      try {
        const expected = wsPath ?? '/websocket';
        assert.deepEqual(server.config, { file: undefined, endpoints: [{ path: expected, mode: 'echo' }], problem: undefined });
        assert.equal(server.wsPath, expected);
        assert.equal(server.wsUrl, `ws://127.0.0.1:${server.port}${expected}`);
        const ws = await openClient(server.wsUrl);
        assert.deepEqual(await echoAll(ws, ['same as ever']), [{ data: Buffer.from('same as ever'), binary: false }]);
        ws.close();
        const elsewhere = await get(server.port, '/nowhere', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
        assert.equal(elsewhere.status, 404);
        assert.equal(elsewhere.body.toString(), `There is no WebSocket endpoint at this path; use ${expected}.\n`);
      } finally {
        await server.close();
      }
    }
    folder.cleanup();
  });

  it('with a broken file fails with CONFIG_INVALID and file:line:col, for a syntax and a schema error', async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, '.echo-preview.json');
    for (const [text, line, column, message] of [
      ['{\n  "endpoints": {\n    "/a": {"mode": "echo"}\n    "/b": {"mode": "echo"}\n  }\n}', 4, 5, 'expected "," or "}", found "\\""'],
      ['{\n  "endpoints": {\n    "/a": {"mode": "broadcast", "includeSender": 0}\n  }\n}', 3, 50, '"includeSender" must be true or false, not a number'],
    ] as const) {
      writeFileSync(file, text);
      await assert.rejects(startServer({ root: folder.dir, port: 0 }), (error: unknown) => {
        assert.ok(error instanceof StartError);
        assert.equal(error.code, 'CONFIG_INVALID');
        assert.deepEqual(error.problem, { file, line, column, message });
        assert.equal(error.message, `${file}:${line}:${column}: ${message}`);
        return true;
      });
      const cli = await runCli([folder.dir, '--port', '0']);
      assert.equal(cli.code, 1);
      assert.equal(cli.stderr, `echo-preview: ${file}:${line}:${column}: ${message}\n`);
    }
    const missing = path.join(folder.dir, 'missing.json');
    await assert.rejects(startServer({ root: folder.dir, port: 0, configFile: missing }), (error: unknown) => {
      assert.ok(error instanceof StartError && error.code === 'CONFIG_MISSING');
      assert.equal(error.message, `${missing}: the config file does not exist`);
      return true;
    });
    folder.cleanup();
  });

  it('a problem of the file as a whole has no position (never :1:1), and names --config when that chose the file', async () => {
    const folder = tempDir();
    const big = path.join(folder.dir, 'big.json');
    writeFileSync(big, `{"endpoints": {"/a": {"mode": "echo"}}}${' '.repeat(4 * 1024 * 1024)}`);
    mkdirSync(path.join(folder.dir, 'dir.json'));
    const cases: Array<[string[], RegExp]> = [
      [['--config', path.join(folder.dir, 'nope.json')], /^echo-preview: --config: \/.*\/nope\.json: the config file does not exist$/],
      // Relative to where the command runs, named as the absolute path it became.
      [['--config', 'nope.json'], new RegExp(`^echo-preview: --config: ${path.join(REPO_ROOT, 'nope.json').replace(/[./]/g, '\\$&')}: the config file does not exist$`)],
      [['--config', path.join(folder.dir, 'dir.json')], /^echo-preview: --config: \/.*\/dir\.json: cannot read the config file: /],
      [['--config', big], /^echo-preview: --config: \/.*\/big\.json: cannot read the config file: .*4194304 bytes/],
    ];
    try {
      for (const [args, expected] of cases) {
        const cli = await runCli([folder.dir, '--port', '0', ...args]);
        assert.equal(cli.code, 1, cli.stderr);
        assert.match(cli.stderr.trimEnd(), expected);
        assert.doesNotMatch(cli.stderr, /:\d+:\d+:/, 'no position');
      }
      // The folder's own .echo-preview.json: no flag chose it, so none is named.
      mkdirSync(path.join(folder.dir, '.echo-preview.json'));
      const own = await runCli([folder.dir, '--port', '0']);
      assert.equal(own.code, 1);
      assert.match(own.stderr, new RegExp(`^echo-preview: ${path.join(folder.dir, '.echo-preview.json').replace(/[./]/g, '\\$&')}: cannot read the config file: `));
      assert.doesNotMatch(own.stderr, /:\d+:\d+:|--config/);
    } finally {
      folder.cleanup();
    }
  });

  it('a config file that becomes unreadable while the server runs is reported without a position', { timeout: 15_000 }, async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, '.echo-preview.json');
    writeFileSync(file, JSON.stringify(ECHO_AND_CHAT));
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      rmSync(file);
      mkdirSync(file);
      const line = `echo-preview: ${file}: cannot read the config file: `;
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (!run.stderr().includes(line)) return;
          run.child.stderr?.off('data', check);
          resolve();
        };
        run.child.stderr?.on('data', check);
        check();
      });
      assert.match(run.stderr(), /\(keeping the last good config\)\n/);
      assert.doesNotMatch(run.stderr(), /:\d+:\d+:/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });

  it('reads --config FILE (relative to where the command runs), and lists its endpoints under the 404', async () => {
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, 'mock.json'), JSON.stringify(ECHO_AND_CHAT));
    const run = await startCli(['.', '--port', '0', '--config', 'mock.json'], { cwd: folder.dir });
    try {
      assert.equal(run.ready, `Echo Preview: serving ${folder.dir} at http://127.0.0.1:${run.port}/ (config: ${path.join(folder.dir, 'mock.json')})`);
      const wrong = await get(run.port, '/nowhere', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
      assert.equal(wrong.body.toString(), 'There is no WebSocket endpoint at this path; use one of /websocket, /chat.\n');
      const plain = await get(run.port, '/chat');
      assert.equal(plain.status, 426);
      const endpoints = await get(run.port, '/__echo-preview/endpoints.json');
      assert.deepEqual(JSON.parse(endpoints.body.toString()), { endpoints: [{ path: '/websocket', mode: 'echo' }, { path: '/chat', mode: 'broadcast' }] });
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });
});

describe('--ws-path with a config file', { timeout: 30_000 }, () => {
  /** Resolves once the CLI's stderr holds `text`. */
  function stderrHas(run: CliRun, text: string): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!run.stderr().includes(text)) return;
        run.child.stderr?.off('data', check);
        resolve();
      };
      run.child.stderr?.on('data', check);
      check();
    });
  }

  it('warns on stderr that --ws-path is ignored, naming the file, when a config file defines the endpoints; not without one', async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, '.echo-preview.json');
    writeFileSync(file, JSON.stringify(ECHO_AND_CHAT));
    const warning = `echo-preview: warning: --ws-path is ignored: ${file} defines the endpoints\n`;
    const withConfig = await startCli([folder.dir, '--port', '0', '--ws-path', '/other']);
    try {
      await stderrHas(withConfig, warning);
      const { status } = await get(withConfig.port, '/other', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
      assert.equal(status, 404, 'the config’s endpoints are served, not --ws-path');
    } finally {
      withConfig.child.kill('SIGTERM');
      await withConfig.exit;
    }
    assert.equal(withConfig.stderr(), warning, 'one line, once');
    const noFlag = await startCli([folder.dir, '--port', '0']);
    noFlag.child.kill('SIGTERM');
    await noFlag.exit;
    assert.equal(noFlag.stderr(), '', 'no warning without --ws-path');
    rmSync(file);
    const noConfig = await startCli([folder.dir, '--port', '0', '--ws-path', '/other']);
    noConfig.child.kill('SIGTERM');
    await noConfig.exit;
    assert.match(noConfig.ready, /\(WebSocket echo: ws:\/\/127\.0\.0\.1:\d+\/other\)/);
    assert.equal(noConfig.stderr(), '', 'no warning without a config file');
    folder.cleanup();
  });
});

describe('config reload', { timeout: 60_000 }, () => {
  async function withServer(content: unknown, body: (server: RunningServer, file: string) => Promise<void>): Promise<void> {
    const folder = tempDir();
    const file = path.join(folder.dir, '.echo-preview.json');
    if (content !== undefined) writeFileSync(file, JSON.stringify(content));
    const server = await startServer({ root: folder.dir, port: 0 });
    try {
      await body(server, file);
    } finally {
      await server.close();
      folder.cleanup();
    }
  }

  it('applies an edit in place: connected clients stay connected and get the new behaviour', () =>
    withServer(ECHO_AND_CHAT, async (server, file) => {
      const echo = messagesOf(await openClient(`${server.wsOrigin}/websocket`));
      const [a, b] = await Promise.all([0, 1].map(async () => messagesOf(await openClient(`${server.wsOrigin}/chat`))));
      const events: ConfigState[] = [];
      server.events.on((event) => event.type === 'config' && events.push(event.state));
      const applied = nextConfig(server);
      // /chat stops including the sender, /websocket becomes a broadcast, /new appears.
      saveByRename(file, { endpoints: { '/websocket': { mode: 'broadcast' }, '/chat': { mode: 'broadcast', includeSender: false }, '/new': { mode: 'echo' } } });
      const state = await applied;
      const expected = { file, endpoints: [{ path: '/websocket', mode: 'broadcast' }, { path: '/chat', mode: 'broadcast' }, { path: '/new', mode: 'echo' }], problem: undefined };
      assert.deepEqual(state, expected);
      assert.deepEqual(server.config, expected);
      assert.deepEqual(events, [expected], 'the config event, too');
      a.ws.send('only to b now');
      assert.deepEqual(await b.next(), { text: 'only to b now', binary: false });
      b.ws.send('only to a');
      assert.deepEqual(await a.next(), { text: 'only to a', binary: false }, 'a was not sent its own message');
      const second = messagesOf(await openClient(`${server.wsOrigin}/websocket`));
      second.ws.send('to everyone on /websocket');
      assert.deepEqual(await echo.next(), { text: 'to everyone on /websocket', binary: false }, 'the echo client, still connected, is in the broadcast');
      assert.deepEqual(await second.next(), { text: 'to everyone on /websocket', binary: false });
      const added = await openClient(`${server.wsOrigin}/new`);
      assert.deepEqual(await echoAll(added, ['new']), [{ data: Buffer.from('new'), binary: false }]);
      // Removing a path closes its clients with 1001; the others stay.
      const removed = nextConfig(server);
      const closed = closeCodeOf(added);
      saveByRename(file, { endpoints: { '/websocket': { mode: 'broadcast' }, '/chat': { mode: 'broadcast', includeSender: false } } });
      await removed;
      assert.equal(await closed, 1001);
      assert.ok([echo, a, b, second].every((inbox) => inbox.ws.readyState === inbox.ws.OPEN), 'the other clients stay');
      for (const inbox of [echo, a, b, second]) inbox.ws.close();
    }));

  it('keeps the last good config on a broken edit and reports file:line:col, then applies the fix', () =>
    withServer(ECHO_AND_CHAT, async (server, file) => {
      const client = await openClient(`${server.wsOrigin}/websocket`);
      const good = server.config;
      for (const [text, line, column, message] of [
        ['{\n  "endpoints": {\n    "/websocket": {"mode": "broadcast"\n  }\n}', 5, 2, 'expected "," or "}", found the end of the file'],
        ['{\n  "endpoints": {\n    "/websocket": {"mode": "broadcast", "includeSender": "no"}\n  }\n}', 3, 58, '"includeSender" must be true or false, not a string'],
      ] as const) {
        const refused = nextConfig(server);
        writeFileSync(file, text); // written in place, as other editors do
        const state = await refused;
        assert.deepEqual(state, { ...good, problem: { file, line, column, message } });
        assert.deepEqual(server.config.problem, { file, line, column, message });
        assert.deepEqual(await echoAll(client, ['still the echo']), [{ data: Buffer.from('still the echo'), binary: false }]);
      }
      const fixed = nextConfig(server);
      saveByRename(file, { endpoints: { '/websocket': { mode: 'echo' } } });
      assert.deepEqual(await fixed, { file, endpoints: [{ path: '/websocket', mode: 'echo' }], problem: undefined });
      client.close();
    }));

  it('waits out a file written in place that is empty for a moment (truncated, then written), and refuses one that stays empty', () =>
    withServer(ECHO_AND_CHAT, async (server, file) => {
      const events: ConfigState[] = [];
      const listening = server.onConfig((state) => events.push(state));
      const applied = nextConfig(server);
      writeFileSync(file, ''); // the truncation of a write in place…
      // …and a writer that pauses well past the debounce (40 ms) before its bytes, as on a busy machine.
      await new Promise((resolve) => setTimeout(resolve, 150));
      writeFileSync(file, JSON.stringify({ endpoints: { '/websocket': { mode: 'broadcast' } } }));
      assert.deepEqual(await applied, { file, endpoints: [{ path: '/websocket', mode: 'broadcast' }], problem: undefined });
      assert.deepEqual(events.map((state) => state.problem), [undefined], 'no "the file is empty" on the way');
      const refused = nextConfig(server);
      writeFileSync(file, '');
      const state = await refused;
      assert.match(state.problem?.message ?? '', /^the file is empty; it needs a JSON object such as /);
      assert.deepEqual(state.endpoints, [{ path: '/websocket', mode: 'broadcast' }], 'the last good config stays');
      listening.dispose();
    }));

  it('picks up a file that appears and goes back to the echo when it is removed', () =>
    withServer(undefined, async (server, file) => {
      const appeared = nextConfig(server);
      saveByRename(file, { endpoints: { '/chat': { mode: 'broadcast' } } });
      assert.deepEqual(await appeared, { file, endpoints: [{ path: '/chat', mode: 'broadcast' }], problem: undefined });
      const chat = await openClient(`${server.wsOrigin}/chat`);
      const gone = nextConfig(server);
      const closed = closeCodeOf(chat);
      rmSync(file);
      assert.deepEqual(await gone, { file: undefined, endpoints: [{ path: '/websocket', mode: 'echo' }], problem: undefined });
      assert.equal(await closed, 1001);
      const ws = await openClient(`${server.wsOrigin}/websocket`);
      assert.deepEqual(await echoAll(ws, ['back']), [{ data: Buffer.from('back'), binary: false }]);
      ws.close();
    }));

  it('through the CLI: "config applied" on stdout, a refused edit on stderr, clients kept', async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, '.echo-preview.json');
    writeFileSync(file, JSON.stringify(ECHO_AND_CHAT));
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      writeFileSync(file, '{"endpoints": {"/websocket": {"mode": "echo"}, "/chat": {"mode": "broadcast", "includeSender": null}}}');
      const expectedError = `echo-preview: ${file}:1:96: "includeSender" must be true or false, not null (keeping the last good config)\n`;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no config error on stderr; it has: ${run.stderr()}`)), 10_000);
        const check = (): void => {
          if (!run.stderr().includes('\n')) return;
          run.child.stderr?.off('data', check);
          clearTimeout(timer);
          resolve();
        };
        run.child.stderr?.on('data', check);
        check();
      });
      assert.equal(run.stderr(), expectedError);
      saveByRename(file, { endpoints: { '/websocket': { mode: 'echo' }, '/chat': { mode: 'broadcast' }, '/room': { mode: 'broadcast' } } });
      await run.waitFor((out) => out.includes(`  ws://127.0.0.1:${run.port}/room  (broadcast)\n`), 'the applied config');
      const tail = run.stdout().slice(run.stdout().indexOf('config applied'));
      assert.equal(tail, ['config applied: 3 endpoints', ...['/websocket  (echo)', '/chat  (broadcast)', '/room  (broadcast)'].map((e) => `  ws://127.0.0.1:${run.port}${e}`), ''].join('\n'));
      assert.deepEqual(await echoAll(ws, ['kept']), [{ data: Buffer.from('kept'), binary: false }]);
      ws.close();
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });
});

describe('the config file is never served', () => {
  it('not with --dotfiles, not however it is encoded, not under another name given by --config', async () => {
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), JSON.stringify(ECHO_AND_CHAT));
    writeFileSync(path.join(folder.dir, 'mock.json'), JSON.stringify(ECHO_AND_CHAT));
    writeFileSync(path.join(folder.dir, '.other'), 'a dotfile');
    const byDefault = await startServer({ root: folder.dir, port: 0, dotfiles: true });
    try {
      assert.equal((await get(byDefault.port, '/.other')).status, 200, 'dotfiles are served');
      for (const target of ['/.echo-preview.json', '/%2Eecho-preview.json', '/.echo-preview%2Ejson', '//.echo-preview.json', '/./.echo-preview.json']) {
        const res = await get(byDefault.port, target);
        assert.equal(res.status, 404, target);
        assert.ok(!res.body.toString().includes('endpoints'), target);
      }
      assert.equal((await get(byDefault.port, '/mock.json')).status, 200, 'only the active config is withheld');
    } finally {
      await byDefault.close();
    }
    const named = await startServer({ root: folder.dir, port: 0, dotfiles: true, configFile: path.join(folder.dir, 'mock.json') });
    try {
      assert.equal(named.config.file, path.join(folder.dir, 'mock.json'));
      for (const target of ['/mock.json', '/mock%2Ejson', '/MOCK.json/..%2Fmock.json']) assert.notEqual((await get(named.port, target)).status, 200, target);
    } finally {
      await named.close();
    }
    const cli = await startCli([folder.dir, '--port', '0', '--dotfiles']);
    try {
      assert.equal((await get(cli.port, '/.echo-preview.json')).status, 404);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exit;
    }
    folder.cleanup();
  });
});
