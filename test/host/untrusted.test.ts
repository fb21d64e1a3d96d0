/**
 * Echo Preview in a workspace the editor does not trust (restricted mode): the folder
 * test/fixtures/workspace/untrusted, whose own settings ask for a LAN bind, another root and extra
 * hosts and origins. Those settings are restricted (package.json capabilities), so they must be
 * ignored, and the extension must still serve the folder on this machine only. Run by
 * `node scripts/host/run-host-tests.mjs --untrusted`.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EchoPreviewApi } from '../../src/editor/extension';
import { get } from '../support/http';
import { STATUS, activateApi, echoOnce, folder, ourDiagnostics, serverFor, upgradeFrom, whenDiagnostics, whenServers } from './helpers';

/** Resolves when `port` at `address` refuses (or drops) a TCP connection; rejects if one opens. */
function refusesConnection(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error(`${address}:${port} accepted a connection`));
    });
    socket.once('error', () => resolve());
    socket.once('timeout', () => {
      socket.destroy();
      resolve();
    });
  });
}

describe('Echo Preview in an untrusted workspace', function () {
  this.timeout(30_000);
  let api: EchoPreviewApi;
  const site = (): vscode.WorkspaceFolder => folder('untrusted');

  before(async () => {
    api = await activateApi();
  });

  it('runs in restricted mode, with restricted settings present in the folder', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'the workspace is trusted: this run proves nothing');
    const text = await fs.readFile(path.join(site().uri.fsPath, '.vscode', 'settings.json'), 'utf8');
    for (const key of [
      '"echoPreview.host": "0.0.0.0"',
      '"echoPreview.root": "inner"',
      '"echoPreview.allowedHosts"',
      '"echoPreview.allowedOrigins"',
      '"echoPreview.allowCrossSite": true',
      '"echoPreview.configFile": "elsewhere.json"',
      '"echoPreview.proxy.allowRemote": true',
    ]) {
      assert.ok(text.includes(key), `the fixture sets ${key}`);
    }
  });

  it('Start serves the folder itself on loopback only, with no LAN prompt', async () => {
    // A LAN bind asks first, in a modal dialog: the test workbench refuses it (the start fails),
    // a real one would wait for an answer nobody gives here.
    const started = vscode.commands.executeCommand<string | undefined>('echoPreview.start', site().uri);
    const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('Start did not finish: a LAN prompt is open, so echoPreview.host applied')), 10_000));
    const url = await Promise.race([started, deadline]);
    const info = serverFor(api, site());
    assert.ok(info && url === info.url, `started: ${url}`);
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(api.testing.statusBarText(), STATUS.serving(info.port));
    const page = await (await fetch(info.url)).text();
    assert.match(page, /The untrusted folder itself/, 'echoPreview.root applied');
    const outward = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal);
    // Machines without an outward interface have nothing more to show here.
    for (const address of outward) await refusesConnection(address!.address, info.port);
  });

  it("ignores the workspace's allowedHosts, allowedOrigins and allowCrossSite, naming the settings in the refusals", async () => {
    const info = serverFor(api, site());
    assert.ok(info);
    const host = await get(info.port, '/', { Host: 'evil.example' });
    assert.equal(host.status, 403, 'echoPreview.allowedHosts applied');
    assert.match(host.body.toString(), /echoPreview\.allowedHosts/);
    const origin = await upgradeFrom(info.wsUrl, 'http://evil.example');
    assert.equal(origin.status, 403, 'echoPreview.allowedOrigins applied');
    assert.match(origin.body, /echoPreview\.allowedOrigins/);
    const crossSite = await get(info.port, '/index.html', { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'script' });
    assert.equal(crossSite.status, 403, 'echoPreview.allowCrossSite applied');
    assert.match(crossSite.body.toString(), /echoPreview\.allowCrossSite/);
  });

  it('still applies the settings that are not restricted: the WebSocket path echoes', async () => {
    const info = serverFor(api, site());
    assert.ok(info);
    assert.ok(info.wsUrl.endsWith('/untrusted-ws'), info.wsUrl);
    assert.equal(await echoOnce(info.wsUrl, 'untrusted echo'), 'untrusted echo');
  });

  it('the message panel connects', async () => {
    await vscode.commands.executeCommand('echoPreview.openPanel', site().uri);
    // The session's first webview: the editor's asExternalUri and the webview's cold load took
    // 5-12 s together on a busy 2-core machine, so 15 s was too close.
    await whenServers(api, () => serverFor(api, site())?.clients === 1, 'the panel to connect', 25_000);
  });

  it('Create Demo Files writes a demo that talks to the configured path', async () => {
    const target = vscode.Uri.joinPath(site().uri, 'demo');
    const written = await vscode.commands.executeCommand<string[]>('echoPreview.createDemo', target, 'echo');
    assert.deepEqual(written, ['index.html', 'websocket.js']);
    const script = await fs.readFile(path.join(target.fsPath, 'websocket.js'), 'utf8');
    assert.match(script, /^const WS_PATH = '\/untrusted-ws';$/m);
  });

  // Mocha runs these after the tests above, Stop among them: each starts its own server.
  describe('the config file', () => {
    const configFile = (): string => path.join(site().uri.fsPath, '.echo-preview.json');
    const ours = (): vscode.Diagnostic[] => ourDiagnostics(vscode.languages.getDiagnostics(vscode.Uri.file(configFile())));
    const proxyTo = (upstream: string): string => JSON.stringify({ endpoints: { '/untrusted-ws': { mode: 'echo' }, '/live': { mode: 'proxy', upstream } } }, null, 2) + '\n';
    const restart = (): Thenable<string | undefined> => vscode.commands.executeCommand<string | undefined>('echoPreview.restart', site().uri);
    const modes = (): string[] => (serverFor(api, site())?.endpoints ?? []).map((e) => `${e.path} ${e.mode}`).sort();

    afterEach(async () => {
      await vscode.workspace.getConfiguration('echoPreview').update('proxy.allowRemote', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('notifications.clearAll');
    });

    after(async () => {
      await fs.rm(configFile(), { force: true });
      await vscode.commands.executeCommand('echoPreview.stop', site().uri);
    });

    it("ignores the workspace's echoPreview.configFile: without the folder's own file, no config applies", async () => {
      await restart();
      const info = serverFor(api, site());
      assert.ok(info);
      assert.equal(info.configFile, undefined, 'echoPreview.configFile applied');
      assert.deepEqual(modes(), ['/untrusted-ws echo']);
      assert.equal((await upgradeFrom(new URL('/elsewhere', info.wsUrl).href, new URL(info.url).origin)).status, 404);
    });

    it("applies the folder's own .echo-preview.json (it cannot run code)", async () => {
      await fs.writeFile(configFile(), JSON.stringify({ endpoints: { '/untrusted-ws': { mode: 'echo' }, '/room': { mode: 'broadcast' } } }));
      await restart();
      assert.equal(serverFor(api, site())?.configFile, configFile());
      assert.deepEqual(modes(), ['/room broadcast', '/untrusted-ws echo']);
    });

    it('refuses a proxy upstream beyond loopback, naming echoPreview.proxy.allowRemote, though the workspace settings set it', async () => {
      for (const upstream of ['ws://192.0.2.10:9000/feed', 'wss://backend.example/feed', 'ws://[2001:db8::1]/x', 'ws://10.0.0.1/']) {
        await fs.writeFile(configFile(), proxyTo(upstream));
        assert.equal(await restart(), undefined, `started with a proxy to ${upstream}`);
        assert.equal(serverFor(api, site()), undefined);
        const [shown] = ours();
        assert.ok(shown, `no diagnostic for ${upstream}`);
        assert.match(shown.message, /echoPreview\.proxy\.allowRemote/, upstream);
        assert.equal(shown.range.start.line, proxyTo(upstream).split('\n').findIndex((line) => line.includes('upstream')), shown.message);
      }
    });

    it('a refused edit while it runs keeps the last good config, in the Problems view', async () => {
      await fs.writeFile(configFile(), proxyTo('ws://127.0.0.1:9/feed'));
      await restart();
      assert.deepEqual(modes(), ['/live proxy', '/untrusted-ws echo'], 'a loopback upstream needs no setting');
      // Written in place: the server may read the file while it is still empty (one diagnostic
      // that says so), so the wait is for the refusal itself.
      await fs.writeFile(configFile(), proxyTo('ws://192.0.2.10:9000/feed'));
      const refused = (d: readonly vscode.Diagnostic[]): vscode.Diagnostic[] => ourDiagnostics(d).filter((x) => /echoPreview\.proxy\.allowRemote/.test(x.message));
      const shown = refused(await whenDiagnostics(configFile(), (d) => refused(d).length === 1, 'the refused proxy edit'))[0];
      assert.equal(ours().length, 1, 'one diagnostic');
      assert.match(shown.message, /last good config/);
      assert.deepEqual(modes(), ['/live proxy', '/untrusted-ws echo']);
    });

    it("the user's own echoPreview.proxy.allowRemote lets the same config apply", async () => {
      await fs.writeFile(configFile(), proxyTo('ws://192.0.2.10:9000/feed'));
      await vscode.workspace.getConfiguration('echoPreview').update('proxy.allowRemote', true, vscode.ConfigurationTarget.Global);
      assert.ok(await restart(), 'not started with the user setting on');
      assert.deepEqual(modes(), ['/live proxy', '/untrusted-ws echo']);
      assert.deepEqual(ours(), []);
    });
  });

  it('Stop frees the port', async () => {
    const info = serverFor(api, site());
    assert.ok(info);
    await vscode.commands.executeCommand('echoPreview.stop', site().uri);
    assert.equal(api.testing.statusBarText(), STATUS.stopped);
    await refusesConnection('127.0.0.1', info.port);
  });
});
