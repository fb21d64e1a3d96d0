/** The CLI as a child process: ready line, logging, signals, and every bad-input case. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { FLAGS } from '../../src/cli/args';
import { injectReloadScript } from '../../src/core/reload/inject';
import { REPO_ROOT, get, rawRequest, tempDir } from '../support/http';
import { runCli, startCli, unsafeCharsIn, upgradeRequest } from '../support/cli';
import { FrameReader, closeCodeOf, echoAll, fragmentedMessage, openClient, rawHandshake } from '../support/ws';
import { randomBytes } from 'node:crypto';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('CLI', () => {
  it('prints the real URL first, serves the folder and logs requests, connections and messages', async () => {
    const run = await startCli([DEMO, '--port', '0']);
    try {
      assert.match(run.ready, /^Echo Preview: serving .* at http:\/\/127\.0\.0\.1:\d+\//);
      assert.notEqual(run.port, 0);
      const page = await get(run.port, '/');
      assert.equal(page.status, 200);
      assert.equal(page.body.toString(), injectReloadScript(readFileSync(path.join(DEMO, 'index.html')))?.toString(), 'the page, with the live reload script');
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      await echoAll(ws, ['hello cli']);
      ws.close();
      await run.waitFor((out) => /ws #\d+ closed 1005/.test(out), 'the close line');
      const lines = run.stdout().trim().split('\n');
      assert.equal(lines.filter((l) => /^GET \/ 200 /.test(l)).length, 1, 'one line per request');
      assert.equal(lines.filter((l) => /^ws #\d+ connected/.test(l)).length, 1, 'one line per connection');
      assert.equal(lines.filter((l) => /^ws #\d+ -> text 9 B/.test(l)).length, 1, 'one line per message');
      assert.equal(lines.filter((l) => /closed 1005/.test(l)).length, 1, 'one line per close');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('prints only the ready line with --quiet', async () => {
    const run = await startCli([DEMO, '--port', '0', '--quiet']);
    try {
      await get(run.port, '/');
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      await echoAll(ws, ['quiet']);
      ws.close();
      run.child.kill('SIGTERM');
      assert.equal((await run.exit).code, 0);
      assert.equal(run.stdout().trim().split('\n').length, 1, run.stdout());
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`on ${signal} closes sockets with 1001, frees the port and exits 0`, async () => {
      const run = await startCli([DEMO, '--port', '0']);
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      const code = closeCodeOf(ws);
      run.child.kill(signal);
      assert.equal(await code, 1001);
      assert.deepEqual(await run.exit, { code: 0, signal: null });
      assert.ok(await isPortFree(run.port));
    });
  }

  it('serves the current folder when none is given', async () => {
    const run = await startCli(['--port', '0'], { cwd: DEMO });
    try {
      assert.equal((await get(run.port, '/websocket.js')).status, 200);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('npm start serves the bundled demo', async () => {
    const run = await startCli(['--port', '0', '--quiet'], { script: path.join(REPO_ROOT, 'scripts', 'start.mjs') });
    try {
      const page = await get(run.port, '/');
      assert.match(page.body.toString(), /id="msgbox"/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
    }
  });

  describe('npm start takes no flag’s value for the folder: every flag of the table that takes one, on port 0', () => {
    const START = path.join(REPO_ROOT, 'scripts', 'start.mjs');
    const config = tempDir('echo-preview-start-');
    const configFile = path.join(config.dir, 'endpoints.json');
    writeFileSync(configFile, JSON.stringify({ endpoints: { '/from-config': { mode: 'echo' } } }));
    after(() => config.cleanup());
    /** A value each flag accepts, which is not a folder; a flag added to the table without one fails below. */
    const SAMPLES: Record<string, string> = {
      port: '0',
      host: '127.0.0.1',
      'ws-path': '/sample',
      config: configFile,
      'max-message-size': '4096',
      'allow-host': 'sample.test',
      'allow-origin': 'http://sample.test',
      'reload-ignore': 'dist/**',
      'capture-budget': '67108864',
      'inspect-port': '0',
    };
    /** Flags that only mean something beside another one. */
    const NEEDS: Record<string, string[]> = { 'inspect-port': ['--inspect'] };
    const withValue = Object.entries(FLAGS).filter(([, flag]) => flag.value !== undefined);

    it('has a sample value for every flag that takes one', () => {
      assert.deepEqual(withValue.map(([name]) => name).sort(), Object.keys(SAMPLES).sort());
    });

    for (const [name, flag] of withValue) {
      const spellings = [[`--${name}`, SAMPLES[name]], ...(flag.short ? [[`-${flag.short}`, SAMPLES[name]]] : [])];
      for (const [option, value] of spellings) {
        it(`${option} ${value} serves the demo, with the value applied`, async () => {
          const run = await startCli([option, value, ...(NEEDS[name] ?? []), ...(name === 'port' ? [] : ['--port', '0']), '--quiet'], { script: START });
          try {
            assert.ok(run.ready.startsWith(`Echo Preview: serving ${DEMO} at `), run.ready);
            if (name === 'config') assert.ok(run.ready.includes(`(config: ${configFile})`), run.ready);
            if (name === 'ws-path') assert.ok(run.ready.includes(`/sample)`), run.ready);
          } finally {
            run.child.kill('SIGTERM');
            await run.exit;
          }
        });
      }
    }

    it('a folder given before or after the flags is served instead of the demo', async () => {
      for (const args of [[config.dir, '--config', configFile], ['--reload-ignore', '*.log', config.dir]]) {
        const run = await startCli([...args, '--port', '0', '--quiet'], { script: START });
        try {
          assert.ok(run.ready.startsWith(`Echo Preview: serving ${config.dir} at `), run.ready);
        } finally {
          run.child.kill('SIGTERM');
          await run.exit;
        }
      }
    });
  });

  it('prints --help and --version', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: echo-preview \[folder\]/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
  });

  describe('refusals name the flag that opens them up', () => {
    it('a foreign Host gets 403 naming --allow-host, in the response and in the log', async () => {
      const run = await startCli([DEMO, '--port', '0']);
      try {
        const page = await get(run.port, '/', { Host: 'rebind.example' });
        assert.equal(page.status, 403);
        assert.match(page.body.toString(), /rebind\.example.*--allow-host/s);
        const upgrade = await rawHandshake(run.port, { Host: 'rebind.example' });
        upgrade.socket.destroy();
        assert.equal(upgrade.status, 403);
        assert.match(upgrade.head + upgrade.rest.toString(), /--allow-host/);
        await run.waitFor((out) => (out.match(/^refused host .*rebind\.example.*--allow-host <name>/gm) ?? []).length === 2, 'two refusal lines');
      } finally {
        run.child.kill('SIGKILL');
      }
    });

    it('a foreign Origin gets 403 naming --allow-origin, in the response and in the log', async () => {
      const run = await startCli([DEMO, '--port', '0']);
      try {
        const upgrade = await rawRequest(run.port, upgradeRequest(run.port, 'http://evil.example'));
        assert.equal(upgrade.status, 403);
        assert.match(upgrade.body.toString(), /evil\.example.*--allow-origin/);
        await run.waitFor((out) => /^refused origin .*evil\.example.*--allow-origin <origin>/m.test(out), 'the refusal line');
      } finally {
        run.child.kill('SIGKILL');
      }
    });

    it('--allow-host and --allow-origin do open them up', async () => {
      const run = await startCli([DEMO, '--port', '0', '--allow-host', 'rebind.example', '--allow-origin', 'http://evil.example']);
      try {
        assert.equal((await get(run.port, '/', { Host: 'rebind.example' })).status, 200);
        const upgrade = await rawHandshake(run.port, { Origin: 'http://evil.example' });
        upgrade.socket.destroy();
        assert.equal(upgrade.status, 101);
      } finally {
        run.child.kill('SIGKILL');
      }
    });
  });

  describe('webview origins', () => {
    // Needs the core's guard to stop accepting every vscode-webview:// origin (issue 9, guard.ts).
    it('are refused unless named with --allow-origin', async () => {
      const run = await startCli([DEMO, '--port', '0']);
      try {
        for (const origin of ['vscode-webview://abc', 'vscode-webview://0123456789abcdef', 'VSCODE-WEBVIEW://abc']) {
          const upgrade = await rawRequest(run.port, upgradeRequest(run.port, origin));
          assert.equal(upgrade.status, 403, origin);
          assert.match(upgrade.body.toString(), /--allow-origin/);
        }
      } finally {
        run.child.kill('SIGKILL');
      }
    });

    it('are accepted when named with --allow-origin, and only the one named', async () => {
      const run = await startCli([DEMO, '--port', '0', '--allow-origin', 'vscode-webview://abc']);
      try {
        const allowed = await rawHandshake(run.port, { Origin: 'vscode-webview://abc' });
        allowed.socket.destroy();
        assert.equal(allowed.status, 101);
        const other = await rawRequest(run.port, upgradeRequest(run.port, 'vscode-webview://other'));
        assert.equal(other.status, 403);
      } finally {
        run.child.kill('SIGKILL');
      }
    });
  });

  // The shipped bundle, not only the compiled core: esbuild resolves ws differently from Node.
  it('echoes a 4 MiB message sent as 65,536 fragments, and one of one-byte fragments up to --max-message-size', async () => {
    const run = await startCli([DEMO, '--port', '0', '--quiet', '--max-message-size', String(4 * 1024 * 1024)]);
    try {
      for (const [payload, fragment] of [
        [randomBytes(4 * 1024 * 1024), 64],
        [randomBytes(20_000), 1],
      ] as const) {
        const { socket, rest } = await rawHandshake(run.port);
        const reader = new FrameReader(socket, rest);
        socket.write(fragmentedMessage(0x2, payload, fragment).wire);
        const echo = await reader.nextData();
        assert.equal(echo.opcode, 0x2, echo.opcode === 0x8 ? `refused with close ${echo.payload.readUInt16BE(0)}` : `opcode ${echo.opcode}`);
        assert.ok(echo.payload.equals(payload), `echo of ${payload.length} bytes in ${fragment}-byte fragments is exact`);
        socket.destroy();
      }
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('refuses cross-site no-cors loads naming --allow-cross-site, and serves them with it', async () => {
    const crossSite = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'script' };
    const strict = await startCli([DEMO, '--port', '0']);
    try {
      const refused = await get(strict.port, '/websocket.js', crossSite);
      assert.equal(refused.status, 403);
      assert.match(refused.body.toString(), /--allow-cross-site/);
      assert.equal((await get(strict.port, '/websocket.js', { ...crossSite, 'Sec-Fetch-Site': 'same-site' })).status, 200);
    } finally {
      strict.child.kill('SIGKILL');
    }
    const open = await startCli([DEMO, '--port', '0', '--allow-cross-site']);
    try {
      const served = await get(open.port, '/websocket.js', crossSite);
      assert.equal(served.status, 200);
      assert.equal(served.body.toString(), readFileSync(path.join(DEMO, 'websocket.js'), 'utf8'));
    } finally {
      open.child.kill('SIGKILL');
    }
  });

  describe('bad input: one line on stderr that names the flag, exit 1, nothing listening', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['a missing folder', [path.join(REPO_ROOT, 'no-such-folder'), '--port', '0'], /Folder not found: .*no-such-folder/],
      ['a file instead of a folder', [path.join(DEMO, 'index.html'), '--port', '0'], /Not a folder: .*index\.html/],
      ['two folders', [DEMO, DEMO], /at most one folder/],
      ['a non-loopback host without opt-in', [DEMO, '--host', '0.0.0.0', '--port', '0'], /not a loopback address.*--allow-lan/],
      ['a bad WebSocket path', [DEMO, '--ws-path', 'socket', '--port', '0'], /^echo-preview: --ws-path: .*must start with "\/"/],
      ['an address this machine does not have', [DEMO, '--host', '192.0.2.1', '--allow-lan', '--port', '0'], /Cannot listen on 192\.0\.2\.1.*Check --host\./],
      ['an unknown flag', [DEMO, '--bogus'], /unknown option --bogus/],
      ['a misspelt flag, with the flag it resembles', [DEMO, '--prot', '0'], /unknown option --prot; did you mean --port\?/],
      ['a flag in the wrong case', [DEMO, '--Port', '0'], /unknown option --Port; did you mean --port\?/],
      ['the start of several flags', [DEMO, '--allow', 'x'], /unknown option --allow; did you mean --allow-lan or --allow-host or --allow-origin or --allow-cross-site\?/],
      ['an unknown short flag', [DEMO, '-x'], /unknown option -x/],
      ['an unknown flag with terminal sequences in it', [DEMO, '--b\x1b]0;t\x07ogus'], /unknown option --b\\x1b\]0;t\\x07ogus/],
      ['a port with a control character', [DEMO, '--port', '80\r'], /--port must be a whole number from 0 to 65535, not "80\\x0d"/],
      ['a value for a switch', [DEMO, '--quiet=yes'], /--quiet takes no value, not "yes"/],
      ['an origin with no scheme', [DEMO, '--allow-origin', 'localhost:3000'], /--allow-origin takes an origin like http:\/\/localhost:3000 .*not "localhost:3000"/],
      ['an origin with a path', [DEMO, '--allow-origin', 'http://a.test/app'], /--allow-origin takes an origin/],
      ['a URL instead of a host name', [DEMO, '--allow-host', 'http://a.test/'], /--allow-host takes a host name .*not "http:\/\/a\.test\/"/],
    ];
    for (const value of ['eighty', '70000', '65536', '-1', '0x50', '1e3', '80.0', '+80', ' 80', '８０']) {
      cases.push([`--port ${JSON.stringify(value)}`, [DEMO, '--port', value], new RegExp(`--port must be a whole number from 0 to 65535, not "${value.replace(/[+.]/g, '\\$&')}"`)]);
    }
    // 2147483648 and beyond would wrap inside ws (a 32-bit limit): 2^32 to 0 (no limit), 2^32 + 1 to 1.
    for (const value of ['0', '-5', '1.5', '0x10', '1e6', '16MiB', '2147483648', '4294967296', '4294967297', '99999999999999999999']) {
      cases.push([`--max-message-size ${JSON.stringify(value)}`, [DEMO, '--max-message-size', value], new RegExp(`--max-message-size must be a whole number of bytes from 1 to 2147483647, not "${value.replace(/[.]/g, '\\.')}"`)]);
    }
    // Every flag that takes a value, left without one in each way it can be.
    const needs: Array<[string, string, RegExp]> = [
      ['--port', '-p', /--port needs a value \(a port number, 0 for any free port\)/],
      ['--host', '-H', /--host needs a value \(an address to bind/],
      ['--ws-path', '', /--ws-path needs a value \(a path starting with "\/"/],
      ['--max-message-size', '', /--max-message-size needs a value \(a number of bytes/],
      ['--allow-host', '', /--allow-host needs a value \(a host name/],
      ['--allow-origin', '', /--allow-origin needs a value \(an origin/],
    ];
    for (const [flag, short, message] of needs) {
      cases.push([`${flag} at the end`, [DEMO, flag], message]);
      cases.push([`${flag} followed by another flag`, [DEMO, flag, '--quiet'], message]);
      cases.push([`${flag}= with nothing after it`, [DEMO, `${flag}=`], message]);
      cases.push([`${flag} with an empty argument`, [DEMO, flag, ''], message]);
      if (short) cases.push([`${short} at the end`, [DEMO, short], message]);
    }
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const result = await runCli(args);
        assert.equal(result.code, 1);
        assert.equal(result.stdout, '', 'nothing started');
        const lines = result.stderr.trim().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0], message);
        assert.doesNotMatch(lines[0], /<value>|-p, --port|ERR_PARSE_ARGS/, 'no parser-internal spelling');
        assert.deepEqual(unsafeCharsIn(result.stderr), [], 'what was typed is escaped');
      });
    }

    it('a port in use names the port and suggests --port 0', async () => {
      const blocker: Server = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
      const port = (blocker.address() as { port: number }).port;
      try {
        const result = await runCli([DEMO, '--port', String(port)]);
        assert.equal(result.code, 1);
        assert.equal(result.stderr.trim().split('\n').length, 1);
        assert.match(result.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use\\..*--port 0`));
      } finally {
        blocker.close();
      }
    });
  });
});

