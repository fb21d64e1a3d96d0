/**
 * Echo Preview inside a real extension host (code-server offline, or VS Code through
 * @vscode/test-electron). Every command is checked from outside: HTTP and WebSocket against the
 * port it opened, and the API that activate returns. Workspace: test/fixtures/workspace/echo.code-workspace.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import type { EchoPreviewApi } from '../../src/extension';

const EXTENSION_ID = 'echo-preview.echo-preview';

function folder(name: string): vscode.WorkspaceFolder {
  const found = vscode.workspace.workspaceFolders?.find((f) => f.name === name);
  assert.ok(found, `workspace folder ${name} is open`);
  return found;
}

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string | (() => string), timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function echoOnce(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => ws.send(text));
    ws.on('message', (data) => {
      resolve(String(data));
      ws.close();
    });
    ws.on('error', reject);
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('Echo Preview extension', function () {
  this.timeout(30_000);
  let api: EchoPreviewApi;
  const siteA = (): vscode.WorkspaceFolder => folder('site-a');
  const siteB = (): vscode.WorkspaceFolder => folder('site-b');
  const serverFor = (f: vscode.WorkspaceFolder) => api.servers().find((s) => s.folder === f.uri.fsPath);

  it('is not active until one of its commands runs, and contributes every command', async () => {
    const extension = vscode.extensions.getExtension<EchoPreviewApi>(EXTENSION_ID);
    assert.ok(extension, 'extension is installed');
    assert.equal(extension.isActive, false, 'activated on startup');
    await vscode.commands.executeCommand('echoPreview.showLog');
    assert.equal(extension.isActive, true);
    api = extension.exports;
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['start', 'stop', 'restart', 'openPanel', 'openInBrowser', 'createDemo', 'showLog', 'copyUrl']) {
      assert.ok(commands.includes(`echoPreview.${id}`), id);
    }
    assert.match(api.statusBarText(), /Echo Preview/);
  });

  it('Start Server serves the folder over HTTP and echoes over WebSocket', async () => {
    const url = await vscode.commands.executeCommand<string>('echoPreview.start', siteA().uri);
    const info = serverFor(siteA());
    assert.ok(info, 'server registered for site-a');
    assert.equal(url, info.url);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(info.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<h1>Site A<\/h1>/);
    assert.equal(await echoOnce(info.wsUrl, 'hello host'), 'hello host');
    assert.equal(api.statusBarText(), `$(radio-tower) Echo :${info.port}`);
  });

  it('starting a running server reports it and starts nothing new', async () => {
    const before = serverFor(siteA());
    const url = await vscode.commands.executeCommand<string>('echoPreview.start', siteA().uri);
    assert.equal(url, before?.url);
    assert.equal(api.servers().length, 1);
  });

  it('Stop Server resolves only when the port is free', async () => {
    const info = serverFor(siteA());
    assert.ok(info);
    const stopped = await vscode.commands.executeCommand<boolean>('echoPreview.stop', siteA().uri);
    assert.equal(stopped, true);
    assert.equal(serverFor(siteA()), undefined);
    assert.ok(await portIsFree(info.port), `port ${info.port} still taken after stop`);
    await assert.rejects(fetch(info.url));
    assert.equal(api.statusBarText(), '$(circle-slash) Echo Preview');
  });

  it('falls back to the next free port when the configured one is taken, leaving settings alone', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const taken = (blocker.address() as { port: number }).port;
    const config = vscode.workspace.getConfiguration('echoPreview', siteB().uri);
    await config.update('port', taken, vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const info = serverFor(siteB());
      assert.ok(info, 'server started despite the taken port');
      assert.notEqual(info.port, taken);
      assert.equal(vscode.workspace.getConfiguration('echoPreview', siteB().uri).get('port'), taken, 'setting changed');
      assert.match(await (await fetch(info.url)).text(), /Site B/);
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      assert.ok(await portIsFree(info.port));
    } finally {
      await config.update('port', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
      blocker.close();
    }
  });

  it('asks which folder when several are open (multi-root) and starts the one picked', async () => {
    let done = false;
    const starting = Promise.resolve(vscode.commands.executeCommand<string>('echoPreview.start')).finally(() => (done = true));
    // Accept the quick pick's first item (site-a) once it is showing.
    await until(async () => {
      if (!done) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return done;
    }, 'the folder pick to be answered');
    const url = await starting;
    assert.equal(serverFor(siteA())?.url, url);
    assert.equal(serverFor(siteB()), undefined);
  });

  it('Restart Server gives a working server again', async () => {
    const url = await vscode.commands.executeCommand<string>('echoPreview.restart', siteA().uri);
    const info = serverFor(siteA());
    assert.ok(info);
    assert.equal(url, info.url);
    assert.equal(await echoOnce(info.wsUrl, 'after restart'), 'after restart');
  });

  it('the message panel is a real WebSocket client: round trip, stop shows it, restart reconnects', async () => {
    await vscode.commands.executeCommand('echoPreview.openPanel', siteA().uri);
    await until(() => api.panelStatus()?.connection === 'open', () => `the panel to connect (${JSON.stringify({ panel: api.panelStatus(), servers: api.servers() })})`, 20_000);
    const info = serverFor(siteA());
    assert.ok(info);
    assert.ok(info.clients >= 1, 'the panel holds a socket to this server');
    assert.equal(await api.sendFromPanel('hello from the panel'), 'hello from the panel');
    assert.equal(api.panelStatus()?.lastReply, 'hello from the panel');
    await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
    await until(() => api.panelStatus()?.connection === 'stopped', 'the panel to show the server stopped');
    await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    await until(() => api.panelStatus()?.connection === 'open', 'the panel to reconnect', 20_000);
    assert.equal(await api.sendFromPanel('after reconnect'), 'after reconnect');
  });

  it('Open in Browser opens the externally reachable URL of the server', async () => {
    await vscode.commands.executeCommand('echoPreview.openInBrowser', siteA().uri);
    const info = serverFor(siteA());
    assert.ok(info);
    const expected = (await vscode.env.asExternalUri(vscode.Uri.parse(info.url))).toString(true);
    assert.equal(api.lastOpenedInBrowser(), expected);
  });

  it('Create Demo Files writes the guide demo, and the server serves it', async () => {
    const target = vscode.Uri.joinPath(siteB().uri, 'demo');
    const written = await vscode.commands.executeCommand<string[]>('echoPreview.createDemo', target);
    assert.deepEqual(written, ['index.html', 'websocket.js']);
    const extensionPath = vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? '';
    for (const name of written) {
      const created = await fs.readFile(path.join(target.fsPath, name), 'utf8');
      assert.equal(created, await fs.readFile(path.join(extensionPath, 'media', 'demo', name), 'utf8'));
    }
    await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
    const info = serverFor(siteB());
    assert.ok(info);
    const page = await (await fetch(new URL('demo/', info.url))).text();
    assert.match(page, /id="msgbox"/);
    assert.match(page, /id="replytxt"/);
    await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
  });

  it('refuses a root setting that leads outside the workspace folder', async () => {
    const config = vscode.workspace.getConfiguration('echoPreview', siteB().uri);
    await config.update('root', '../..', vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      const url = await vscode.commands.executeCommand<string | undefined>('echoPreview.start', siteB().uri);
      assert.equal(url, undefined);
      assert.equal(serverFor(siteB()), undefined);
      assert.match(api.statusBarText(), /Echo/);
    } finally {
      await config.update('root', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    }
  });

  after(async () => {
    for (const info of api?.servers() ?? []) {
      await vscode.commands.executeCommand('echoPreview.stop', vscode.Uri.file(info.folder));
    }
  });
});
