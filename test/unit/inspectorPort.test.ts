/**
 * Where the inspector listens (--inspect, --inspect-port): a new free port each run by default
 * (never the server's + 1 for sure, so no origin served another day is the inspector's), with no
 * warning; an explicit --inspect-port, a clear failure when it is taken or is the server's own
 * port, with no port left bound. Real listeners throughout.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newInspectorToken } from '../../src/core/inspector/server';
import { StartError, startServer } from '../../src/core/server';
import { freePort, holdConsecutivePorts, portIsFree } from '../host/ports';
import { runCli, startCli } from '../support/cli';
import { REPO_ROOT, get } from '../support/http';
import { Feed, fakeInstall, feedUrlOf, inspectorUrlOf } from '../support/inspector';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');

/** A real listener on `port` (0: any) of 127.0.0.1, standing for another program. */
async function occupy(port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A port whose next one is free too (both held, then let go). */
async function freePair(): Promise<number> {
  const pair = await holdConsecutivePorts(2);
  await pair.release();
  return pair.first;
}

function inspectorPortOf(url: string | undefined): number {
  assert.ok(url !== undefined, 'an inspector URL');
  return Number(new URL(url).port);
}

describe("the inspector's port", { timeout: 60_000 }, () => {
  let install: ReturnType<typeof fakeInstall>;
  const token = newInspectorToken();
  let assets: { script: string; style: string };

  before(() => {
    install = fakeInstall();
    assets = { script: path.join(install.dir, 'dist', 'inspector.js'), style: path.join(install.dir, 'media', 'inspector', 'inspector.css') };
  });
  after(() => install.cleanup());

  it("is a new free port each run by default, also with port 0 or an explicit 0, never the server's", async () => {
    const port = await freePair();
    const seen = new Set<number>();
    for (let run = 0; run < 3; run++) {
      const fixed = await startServer({ root: DEMO, port, inspector: { token, assets } });
      try {
        const at = inspectorPortOf(fixed.inspectorUrl);
        assert.ok(at > 0 && at !== port, `${at} beside ${port}`);
        seen.add(at);
      } finally {
        await fixed.close();
      }
    }
    // The system hands out ports in turn: three runs in a row never got one port three times.
    assert.ok(seen.size > 1, `the inspector's port changes from run to run: ${[...seen].join(', ')}`);
    for (const options of [{ port: 0, inspector: { token, assets } }, { port: 0, inspector: { token, assets, port: 0 } }]) {
      const any = await startServer({ root: DEMO, ...options });
      try {
        const at = inspectorPortOf(any.inspectorUrl);
        assert.ok(at > 0 && at !== any.port, `${at} beside ${any.port}`);
      } finally {
        await any.close();
      }
    }
  });

  it('runs the CLI with the inspector on its own new port and no warning, and the inspector works there', async () => {
    const port = await freePair();
    const run = await startCli([DEMO, '--port', String(port), '--inspect'], { script: install.cli });
    try {
      const page = inspectorUrlOf(run.ready);
      assert.equal(run.port, port);
      assert.ok(page.port !== port, `the inspector is on ${page.port}`);
      const response = await get(page.port, new URL(page.url).pathname);
      assert.equal(response.status, 200);
      const feed = await Feed.open(feedUrlOf(page.url), page.origin);
      const snapshot = await feed.ready();
      assert.deepEqual(snapshot.clients, [], 'the feed answers');
      feed.ws.close();
      assert.equal(run.stderr(), '', 'no warning about the port');
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
    }
  });

  it('takes --inspect-port when given, beside --port 0 or a fixed --port', async () => {
    const chosen = await freePort();
    const run = await startCli([DEMO, '--port', '0', '--inspect', '--inspect-port', String(chosen)], { script: install.cli });
    try {
      const page = inspectorUrlOf(run.ready);
      assert.equal(page.port, chosen);
      assert.equal((await get(page.port, new URL(page.url).pathname)).status, 200);
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
    }
    const port = await freePair();
    const server = await startServer({ root: DEMO, port, inspector: { token, assets, port: chosen } });
    try {
      assert.equal(server.port, port);
      assert.equal(inspectorPortOf(server.inspectorUrl), chosen);
    } finally {
      await server.close();
    }
  });

  it('fails the start when an explicit --inspect-port is taken, naming that port and the flag, and leaves no port bound', async () => {
    const port = await freePair();
    const other = await occupy();
    try {
      const result = await runCli([DEMO, '--port', String(port), '--inspect', '--inspect-port', String(other.port)]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        `echo-preview: The inspector's port ${other.port} on 127.0.0.1 is already in use. Try another --inspect-port, or leave it out (a new free port each run).\n`,
      );
      await assert.rejects(
        startServer({ root: DEMO, port, inspector: { token, assets, port: other.port } }),
        (error: unknown) => error instanceof StartError && error.code === 'PORT_IN_USE' && error.message === `The inspector's port ${other.port} on 127.0.0.1 is already in use.`,
      );
      assert.deepEqual([await portIsFree(port), await portIsFree(port + 1)], [true, true], "neither the server's port nor the one after it is left bound");
    } finally {
      await other.close();
    }

    // The server's own port taken, the inspector's explicit one free: that one is given back.
    const chosen = await freePort();
    const taken = await occupy();
    try {
      const result = await runCli([DEMO, '--port', String(taken.port), '--inspect', '--inspect-port', String(chosen)]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`^echo-preview: Port ${taken.port} on 127\\.0\\.0\\.1 is already in use\\. Try --port 0`));
      assert.equal(await portIsFree(chosen), true, "the inspector's port is given back");
    } finally {
      await taken.close();
    }
  });

  it('refuses an --inspect-port equal to --port, out of range, or without --inspect, naming the flag', async () => {
    const port = await freePair();
    const same = await runCli([DEMO, '--port', String(port), '--inspect', '--inspect-port', String(port)]);
    assert.equal(same.code, 1);
    assert.equal(
      same.stderr,
      `echo-preview: --inspect-port: The inspector's port must differ from the server's port (${port}): the inspector needs an origin of its own, where no page of the folder is served.\n`,
    );
    await assert.rejects(
      startServer({ root: DEMO, port, inspector: { token, assets, port } }),
      (error: unknown) => error instanceof StartError && error.code === 'INVALID_OPTION' && /must differ from the server's port/.test(error.message),
    );
    for (const bad of [1.5, -1, 65536]) {
      await assert.rejects(
        startServer({ root: DEMO, port: 0, inspector: { token, assets, port: bad } }),
        (error: unknown) => error instanceof StartError && error.code === 'INVALID_OPTION' && error.message === `The inspector's port must be a whole number from 0 to 65535, not ${bad}.`,
      );
    }
    assert.deepEqual([await portIsFree(port), await portIsFree(port + 1)], [true, true], 'nothing was bound');

    const cases: Array<[string[], string]> = [
      [['--inspect', '--inspect-port', '65536'], '--inspect-port must be a whole number from 0 to 65535, not "65536"'],
      [['--inspect', '--inspect-port', 'http'], '--inspect-port must be a whole number from 0 to 65535, not "http"'],
      [['--inspect', '--inspect-port'], '--inspect-port needs a value (a port number for the inspector, 0 for any free port)'],
      [['--inspect-port', '9000'], "--inspect-port chooses the inspector's port: add --inspect to serve the inspector"],
    ];
    for (const [args, message] of cases) {
      const result = await runCli([DEMO, '--port', '0', ...args]);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stderr, `echo-preview: ${message} (see --help)\n`, args.join(' '));
    }
  });
});
