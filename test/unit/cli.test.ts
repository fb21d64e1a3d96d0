/** The CLI as a child process: ready line, logging, signals, and every bad-input case. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { REPO_ROOT, get } from '../support/http';
import { runCli, startCli } from '../support/cli';
import { closeCodeOf, echoAll, openClient } from '../support/ws';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');

/** Waits until `predicate` holds for the growing output, or fails after a while. */
async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
      assert.equal(page.body.toString(), readFileSync(path.join(DEMO, 'index.html'), 'utf8'));
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      await echoAll(ws, ['hello cli']);
      ws.close();
      await waitFor(() => /ws #\d+ closed 1005/.test(run.stdout()), 'the close line');
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

  it('prints --help and --version', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: echo-preview \[folder\]/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
  });

  describe('bad input: one line on stderr, exit 1, nothing listening', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['a missing folder', [path.join(REPO_ROOT, 'no-such-folder'), '--port', '0'], /Folder not found: .*no-such-folder/],
      ['a file instead of a folder', [path.join(DEMO, 'index.html'), '--port', '0'], /Not a folder: .*index\.html/],
      ['a port that is not a number', [DEMO, '--port', 'eighty'], /--port must be a whole number from 0 to 65535, not "eighty"/],
      ['a port out of range', [DEMO, '--port', '70000'], /--port must be a whole number/],
      ['an unknown flag', [DEMO, '--bogus'], /Unknown option '--bogus'/],
      ['two folders', [DEMO, DEMO], /at most one folder/],
      ['a non-loopback host without opt-in', [DEMO, '--host', '0.0.0.0', '--port', '0'], /not a loopback address.*--allow-lan/],
      ['a bad message size', [DEMO, '--max-message-size', '0'], /--max-message-size must be a whole number/],
      ['a bad WebSocket path', [DEMO, '--ws-path', 'socket', '--port', '0'], /must start with "\/"/],
    ];
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const result = await runCli(args);
        assert.equal(result.code, 1);
        assert.equal(result.stdout, '');
        const lines = result.stderr.trim().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0], message);
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
