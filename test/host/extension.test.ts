/**
 * Echo Preview inside a real extension host (code-server offline, or VS Code through
 * @vscode/test-electron), in a trusted multi-root workspace: test/fixtures/workspace/echo.code-workspace.
 * Every command is checked from outside: HTTP and WebSocket against the port it opened, a real
 * browser tab, the clipboard, and the small API that activate returns.
 */
import * as assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EchoPreviewApi } from '../../src/editor/extension';
import { WS_PATH_PATTERN, wsPathProblem } from '../../src/editor/settings';
import { get } from '../support/http';
import { closeCodeOf, openClient } from '../support/ws';
import { EXTENSION_ID, STATUS, activateApi, echoOnce, upgradeFrom, extensionPath, folder, nextConfigurationChange, nextSettled, serverFor, setFor, stopAll, whenServers } from './helpers';
import { freePort, holdConsecutivePorts, portIsFree } from './ports';

const siteA = (): vscode.WorkspaceFolder => folder('site-a');
const siteB = (): vscode.WorkspaceFolder => folder('site-b');

describe('Echo Preview extension', function () {
  this.timeout(30_000);
  let api: EchoPreviewApi;
  const server = (f: vscode.WorkspaceFolder) => serverFor(api, f);

  it('is not active until one of its commands runs, and contributes every command', async () => {
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, false, 'activated on startup');
    api = await activateApi();
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['start', 'stop', 'restart', 'openPanel', 'openInBrowser', 'createDemo', 'showLog', 'copyUrl']) {
      assert.ok(commands.includes(`echoPreview.${id}`), id);
    }
    assert.equal(api.testing.statusBarText(), STATUS.stopped);
  });

  it('Start Server serves the folder over HTTP and echoes over WebSocket', async () => {
    const url = await vscode.commands.executeCommand<string>('echoPreview.start', siteA().uri);
    const info = server(siteA());
    assert.ok(info, 'server registered for site-a');
    assert.equal(url, info.url);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(info.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<h1>Site A<\/h1>/);
    assert.equal(await echoOnce(info.wsUrl, 'hello host'), 'hello host');
    assert.equal(api.testing.statusBarText(), STATUS.serving(info.port));
  });

  it('starting a running server reports it and starts nothing new', async () => {
    const before = server(siteA());
    assert.ok(before);
    const url = await vscode.commands.executeCommand<string>('echoPreview.start', siteA().uri);
    assert.equal(url, before.url);
    assert.equal(server(siteA())?.id, before.id);
    assert.equal(api.servers().length, 1);
  });

  it('Stop Server resolves only when the port is free', async () => {
    const info = server(siteA());
    assert.ok(info);
    const stopped = await vscode.commands.executeCommand<boolean>('echoPreview.stop', siteA().uri);
    assert.equal(stopped, true);
    assert.equal(server(siteA()), undefined);
    assert.ok(await portIsFree(info.port), `port ${info.port} still taken after stop`);
    await assert.rejects(fetch(info.url));
    assert.equal(api.testing.statusBarText(), STATUS.stopped);
  });

  it('two Starts at once (a double click) start one server, and Stop leaves no port taken', async () => {
    let sawBusy = false;
    const watching = api.onDidChangeServers(() => (sawBusy ||= api.testing.statusBarText() === STATUS.busy));
    const urls = await Promise.all([
      vscode.commands.executeCommand<string>('echoPreview.start', siteA().uri),
      vscode.commands.executeCommand<string>('echoPreview.start', siteA().uri),
    ]);
    watching.dispose();
    assert.ok(sawBusy, `the status bar showed ${STATUS.busy} while starting`);
    assert.equal(urls[0], urls[1], 'both Starts name the same server');
    assert.equal(api.servers().length, 1);
    await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
    for (const url of urls) {
      const port = Number(new URL(url).port);
      assert.ok(await portIsFree(port), `port ${port} still taken after Stop`);
    }
    assert.equal(api.testing.statusBarText(), STATUS.stopped);
  });

  it('falls back to the next free port when the configured one is taken, leaving settings alone', async () => {
    const held = await holdConsecutivePorts(1);
    const restore = await setFor(siteB(), 'port', held.first);
    try {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const info = server(siteB());
      assert.ok(info, 'server started despite the taken port');
      assert.notEqual(info.port, held.first);
      assert.equal(vscode.workspace.getConfiguration('echoPreview', siteB().uri).get('port'), held.first, 'setting changed');
      assert.match(await (await fetch(info.url)).text(), /Site B/);
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      assert.ok(await portIsFree(info.port));
    } finally {
      await restore();
      await held.release();
    }
  });

  it('with the configured port and all ten after it taken, starts on any free port and leaves nothing behind', async () => {
    const held = await holdConsecutivePorts(11);
    const restore = await setFor(siteB(), 'port', held.first);
    try {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const info = server(siteB());
      assert.ok(info, 'server started after 11 taken ports');
      assert.ok(info.port < held.first || info.port > held.first + 10, `port ${info.port} is one of the taken ones`);
      assert.equal(api.testing.statusBarText(), STATUS.serving(info.port), 'no failure left on the status bar');
      assert.equal(await echoOnce(info.wsUrl, 'after 11 refusals'), 'after 11 refusals');
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      assert.ok(await portIsFree(info.port));
      assert.deepEqual(api.servers(), []);
      assert.equal(api.testing.statusBarText(), STATUS.stopped);
    } finally {
      await restore();
      await held.release();
    }
  });

  it('asks which folder when several are open (multi-root) and starts the one picked', async () => {
    let done = false;
    const starting = Promise.resolve(vscode.commands.executeCommand<string>('echoPreview.start')).finally(() => (done = true));
    // Accept the quick pick's first item (site-a) once it is showing.
    const deadline = Date.now() + 10_000;
    while (!done && Date.now() < deadline) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const url = await starting;
    assert.equal(server(siteA())?.url, url);
    assert.equal(server(siteB()), undefined);
  });

  it('Restart Server replaces the server: its clients are closed with 1001, a new one echoes', async () => {
    const before = server(siteA());
    assert.ok(before);
    const client = await openClient(before.wsUrl);
    const closed = closeCodeOf(client);
    const url = await vscode.commands.executeCommand<string>('echoPreview.restart', siteA().uri);
    const after = server(siteA());
    assert.ok(after);
    assert.equal(url, after.url);
    assert.notEqual(after.id, before.id, 'a new server instance');
    assert.equal(await closed, 1001, 'the old server closed its clients as going away');
    assert.equal(await echoOnce(after.wsUrl, 'after restart'), 'after restart');
  });

  describe('the restart prompt after a settings change', () => {
    let restore: (() => Promise<void>) | undefined;

    /** Changes a setting of site-a; resolves once the extension has put its prompt up. */
    async function changeSettings(): Promise<void> {
      await vscode.commands.executeCommand('notifications.clearAll');
      const changed = nextConfigurationChange();
      restore = await setFor(siteA(), 'maxMessageSize', 1_000_000 + Math.floor(Math.random() * 1000));
      // The extension's listener ran before ours (it subscribed first) and asked the workbench for
      // the prompt; our command below reaches the workbench after that request.
      await changed;
    }

    const answerRestart = (): Thenable<unknown> => vscode.commands.executeCommand('notification.acceptPrimaryAction');

    afterEach(async () => {
      const changed = nextConfigurationChange();
      await restore?.();
      if (restore) await changed; // its prompt, if any, is up before it is cleared
      restore = undefined;
      await vscode.commands.executeCommand('notifications.clearAll');
    });

    beforeEach(async () => {
      await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    });

    it('Restart restarts the server it asked about', async () => {
      const before = server(siteA());
      assert.ok(before);
      await changeSettings();
      const restarted = whenServers(api, () => server(siteA())?.id !== before.id && server(siteA()), 'the prompt to restart site-a');
      await answerRestart();
      const after = await restarted;
      assert.ok(after.id > before.id);
    });

    it('an old prompt answered after Stop starts nothing', async () => {
      assert.ok(server(siteA()));
      await changeSettings();
      await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
      const settled = nextSettled(api);
      await answerRestart();
      await settled;
      assert.equal(server(siteA()), undefined, 'the stale prompt started the stopped server');
      assert.equal(api.testing.statusBarText(), STATUS.stopped);
    });

    it('an old prompt answered after a restart leaves the newer server alone', async () => {
      await changeSettings();
      await vscode.commands.executeCommand('echoPreview.restart', siteA().uri);
      const current = server(siteA());
      assert.ok(current);
      const settled = nextSettled(api);
      await answerRestart();
      await settled;
      assert.equal(server(siteA())?.id, current.id, 'the stale prompt restarted the newer server');
    });
  });

  it('the message panel connects to its server, and reconnects after Stop and Start', async () => {
    assert.ok(server(siteA()));
    await whenServers(api, () => server(siteA())?.clients === 0, 'the earlier tests to leave no client');
    await vscode.commands.executeCommand('echoPreview.openPanel', siteA().uri);
    // The panel's socket arrives through code-server's forwarding, from a webview origin that the
    // server accepts only because the panel registered it.
    await whenServers(api, () => server(siteA())?.clients === 1, () => `the panel to connect (${JSON.stringify(api.servers())})`);
    await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
    await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    await whenServers(api, () => server(siteA())?.clients === 1, 'the panel to reconnect to the new server');
  });

  it('after a restart on the same port, the panel connects to the new server', async () => {
    const before = server(siteA());
    assert.ok(before);
    const restore = await setFor(siteA(), 'port', before.port);
    try {
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('echoPreview.restart', siteA().uri);
      const after = server(siteA());
      assert.ok(after);
      assert.equal(after.port, before.port);
      await whenServers(api, () => server(siteA())?.clients === 1, 'the panel to connect to the restarted server');
    } finally {
      await restore();
      await vscode.commands.executeCommand('notifications.clearAll');
    }
  });

  it('Open in Browser opens the forwarded page in a real browser tab', async () => {
    const info = server(siteA());
    assert.ok(info);
    // site-a's page opens a WebSocket when it loads: one more client is the tab.
    await vscode.commands.executeCommand('echoPreview.openInBrowser', siteA().uri);
    await whenServers(api, () => (server(siteA())?.clients ?? 0) === info.clients + 1, 'the browser tab to load the page and connect');
  });

  it('Copy URL copies the address the editor gives now (asExternalUri), not the local one', async () => {
    const info = server(siteA());
    assert.ok(info);
    await vscode.env.clipboard.writeText('');
    await vscode.commands.executeCommand('echoPreview.copyUrl', siteA().uri);
    const copied = await vscode.env.clipboard.readText();
    assert.equal(copied, (await vscode.env.asExternalUri(vscode.Uri.parse(info.url))).toString(true));
    assert.notEqual(copied, info.url, 'code-server forwards the port, so the address differs from the local one');
  });

  it('Create Demo Files writes the guide demo, and the server serves it', async () => {
    const target = vscode.Uri.joinPath(siteB().uri, 'demo');
    const written = await vscode.commands.executeCommand<string[]>('echoPreview.createDemo', target, 'echo');
    assert.deepEqual(written, ['index.html', 'websocket.js']);
    for (const name of written) {
      const created = await fs.readFile(path.join(target.fsPath, name), 'utf8');
      assert.equal(created, await fs.readFile(path.join(extensionPath(), 'media', 'demo', name), 'utf8'));
    }
    await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
    const info = server(siteB());
    assert.ok(info);
    const page = await (await fetch(new URL('demo/', info.url))).text();
    assert.match(page, /id="msgbox"/);
    assert.match(page, /id="replytxt"/);
    await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
  });

  it('Create Demo Files writes the configured websocketPath into the demo, which then echoes there', async () => {
    const shipped = readFileSync(path.join(extensionPath(), 'media', 'demo', 'websocket.js'), 'utf8');
    const line = /^const WS_PATH = '\/websocket';$/m;
    assert.match(shipped, line, "media/demo/websocket.js names its endpoint in one line: const WS_PATH = '/websocket';");
    const restore = await setFor(siteB(), 'websocketPath', '/demo-ws');
    try {
      const target = vscode.Uri.joinPath(siteB().uri, 'demo-custom');
      await vscode.commands.executeCommand('echoPreview.createDemo', target, 'echo');
      const created = await fs.readFile(path.join(target.fsPath, 'websocket.js'), 'utf8');
      assert.equal(created, shipped.replace(line, "const WS_PATH = '/demo-ws';"));
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const info = server(siteB());
      assert.ok(info);
      assert.equal(await (await fetch(new URL('demo-custom/websocket.js', info.url))).text(), created);
      assert.equal(await echoOnce(new URL('/demo-ws', info.wsUrl).href, 'demo path'), 'demo path');
    } finally {
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      await restore();
    }
  });

  it('refuses a root setting that leads outside the workspace folder', async () => {
    const restore = await setFor(siteB(), 'root', '../..');
    try {
      const url = await vscode.commands.executeCommand<string | undefined>('echoPreview.start', siteB().uri);
      assert.equal(url, undefined);
      assert.equal(server(siteB()), undefined);
      // site-a still runs: the item counts servers, the failure shows in its tooltip.
      const running = server(siteA());
      assert.equal(api.testing.statusBarText(), running ? STATUS.serving(running.port) : STATUS.failed);
    } finally {
      await restore();
    }
  });

  it('refuses every websocketPath that could break a URL or the panel CSP, naming the setting', async () => {
    await stopAll(api);
    const bad = ['websocket', '', '/a;b', '/a,b', "/a'b", '/a"b', '/a`b', '/a b', '/a\tb', '/a\nb', '/a\u00a0b', '/a\u2028b', '/a\u0000b', '/a\u007fb',
      '/a\u0085b', '/a\u202eb', '/a\u200bb', '/a?b', '/a#b', '/a%3Bb', '/a\\b', '/a<b', '/a>b', '/a{b', '/a|b', '/a^b', '/a[b', '/./a', '/a/../b', '/\ud800'];
    const pattern = (JSON.parse(readFileSync(path.join(extensionPath(), 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { pattern: string; patternErrorMessage?: string }> } };
    }).contributes.configuration.properties['echoPreview.websocketPath'];
    assert.equal(pattern.pattern, WS_PATH_PATTERN.source, "package.json's pattern is the one the extension checks");
    assert.match(pattern.patternErrorMessage ?? '', /;/);
    for (const value of bad) {
      assert.match(wsPathProblem(value) ?? '', /echoPreview\.websocketPath/, JSON.stringify(value));
    }
    for (const value of bad.slice(2, 6)) {
      const restore = await setFor(siteB(), 'websocketPath', value);
      try {
        assert.equal(await vscode.commands.executeCommand('echoPreview.start', siteB().uri), undefined, `started with ${JSON.stringify(value)}`);
        assert.equal(api.testing.statusBarText(), STATUS.failed);
      } finally {
        await restore();
      }
    }
    for (const good of ['/websocket', '/', '/a/b/', '/ws-1.2_~!$&()*+=:@', '/сокет', '/ü/日本']) assert.equal(wsPathProblem(good), undefined, good);
  });

  it('a non-ASCII websocketPath works: the echo, and the panel through its CSP', async () => {
    await stopAll(api);
    const restore = await setFor(siteB(), 'websocketPath', '/сокет/ü');
    try {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const info = server(siteB());
      assert.ok(info, 'started with a non-ASCII path');
      assert.ok(info.wsUrl.endsWith('/%D1%81%D0%BE%D0%BA%D0%B5%D1%82/%C3%BC'), info.wsUrl);
      assert.equal(await echoOnce(info.wsUrl, 'кириллица'), 'кириллица');
      await vscode.commands.executeCommand('echoPreview.openPanel', siteB().uri);
      await whenServers(api, () => server(siteB())?.clients === 1, 'the panel to connect to the non-ASCII path');
    } finally {
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      await restore();
    }
  });

  it('refusals name the setting that opens them up', async () => {
    const port = await freePort();
    const restore = await setFor(siteB(), 'port', port);
    try {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const host = await get(port, '/', { Host: 'evil.example' });
      assert.equal(host.status, 403);
      assert.match(host.body.toString(), /echoPreview\.allowedHosts/);
      const origin = await upgradeFrom(`ws://127.0.0.1:${port}/websocket`, 'http://evil.example');
      assert.equal(origin.status, 403);
      assert.match(origin.body, /echoPreview\.allowedOrigins/);
    } finally {
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      await restore();
    }
  });

  it("a trusted workspace's allowedHosts, allowedOrigins and allowCrossSite are applied (the untrusted run proves the opposite)", async () => {
    const port = await freePort();
    const crossSite = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'script' };
    const restores = [
      await setFor(siteB(), 'port', port),
      await setFor(siteB(), 'allowedHosts', ['evil.example']),
      await setFor(siteB(), 'allowedOrigins', ['http://evil.example']),
    ];
    try {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      assert.equal((await get(port, '/', { Host: 'evil.example' })).status, 200);
      assert.equal((await upgradeFrom(`ws://127.0.0.1:${port}/websocket`, 'http://evil.example')).status, 101);
      const refused = await get(port, '/', crossSite);
      assert.equal(refused.status, 403, 'cross-site loads are refused by default');
      assert.match(refused.body.toString(), /echoPreview\.allowCrossSite/);
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      restores.push(await setFor(siteB(), 'allowCrossSite', true));
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      assert.equal((await get(port, '/', crossSite)).status, 200, 'echoPreview.allowCrossSite applied');
    } finally {
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      for (const restore of restores) await restore();
    }
  });

  after(async () => {
    if (api) await stopAll(api);
  });
});
