/**
 * Open Preview and reload-as-you-type in a real extension host (code-server in Chromium: the
 * webview really renders, and its frame really loads the page through the editor's forwarding).
 * Checked from outside: the frame's URL against the editor's asExternalUri answer, the page's
 * WebSocket reaching the server, HTTP GETs of the page, and the reload channel.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import type { EchoPreviewApi } from '../../src/editor/extension';
import { frameSource, previewCsp } from '../../src/editor/panels/previewHtml';
import { messagesOf } from '../support/inbox';
import { pollUntil } from '../support/poll';
import { activateApi, folder, serverFor, setFor, stopAll, whenServers } from './helpers';

const siteA = (): vscode.WorkspaceFolder => folder('site-a');

/** The body of a GET of `url`. */
async function bodyOf(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return res.text();
}

/** Applies `edit` to the document and resolves once the editor (and so the extension) has seen it. */
async function editUnsaved(document: vscode.TextDocument, from: string, to: string): Promise<void> {
  const at = document.getText().indexOf(from);
  assert.ok(at >= 0, `${from} is in ${document.uri.fsPath}`);
  const seen = new Promise<void>((resolve) => {
    const subscription = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document !== document) return;
      subscription.dispose();
      resolve();
    });
  });
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(at), document.positionAt(at + from.length)), to);
  assert.ok(await vscode.workspace.applyEdit(edit));
  await seen;
}

/** The server's reload channel, as a page opens it; `next(type)` resolves with the next message of that type. */
async function openReloadChannel(serverUrl: string): Promise<{ next(type: string): Promise<{ type: string; paths?: string[] }>; close(): void }> {
  const url = new URL(serverUrl);
  const ws = new WebSocket(`ws://${url.host}/__echo-preview/reload`, { origin: url.origin });
  const messages = messagesOf(ws, 'the reload channel', (data) => JSON.parse(String(data)) as { type: string; paths?: string[] });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    next: (type) => messages.next((m) => m.type === type, `a '${type}' message`, 15_000),
    close: () => ws.close(),
  };
}

describe('Open Preview', function () {
  this.timeout(45_000);
  let api: EchoPreviewApi;

  before(async () => {
    api = await activateApi();
    await stopAll(api);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await stopAll(api);
  });

  it('starts the server, opens a panel framing the page at the asExternalUri address, and the page loads', async () => {
    await vscode.commands.executeCommand('echoPreview.openPreview', siteA().uri);
    const info = await whenServers(api, () => serverFor(api, siteA()), 'the server of site-a to start');
    const external = (await vscode.env.asExternalUri(vscode.Uri.parse(info.url))).toString(true);
    // The UI reports where it sent the frame; no event says so to a test: polled.
    await pollUntil(() => api.testing.preview()?.frameUrl !== undefined, 'the preview UI to send its frame somewhere', 20_000);
    const state = api.testing.preview();
    assert.ok(state);
    assert.equal(state.folder, siteA().uri.fsPath);
    assert.equal(state.frameUrl, external);
    assert.equal(state.frameSrc, new URL(external).origin, 'the CSP frames exactly the forwarded origin');
    // The page ran in the frame: its script's WebSocket reached the server, and its reload client
    // told the panel the page's title.
    await whenServers(api, () => (serverFor(api, siteA())?.clients ?? 0) >= 1, 'the framed page to connect its WebSocket', 20_000);
    await pollUntil(() => api.testing.preview()?.pageTitle === 'Site A', () => `the page to report its title (now ${JSON.stringify(api.testing.preview())})`, 20_000);
  });

  it('Open Preview on an HTML file shows that file in the open panel', async () => {
    const file = path.join(siteA().uri.fsPath, 'third.html');
    await fs.writeFile(file, '<!DOCTYPE html><html><head><title>Third</title></head><body><h1>Third</h1></body></html>');
    await vscode.commands.executeCommand('echoPreview.openPreview', vscode.Uri.file(file));
    await pollUntil(() => api.testing.preview()?.pageTitle === 'Third', () => `the preview to show the file (now ${JSON.stringify(api.testing.preview())})`, 20_000);
    assert.equal(api.testing.preview()?.frameUrl?.endsWith('/third.html'), true);
  });

  it('follows the active HTML file of the served folder with echoPreview.preview.followActiveFile', async () => {
    const file = path.join(siteA().uri.fsPath, 'second page.html');
    await fs.writeFile(file, '<!DOCTYPE html><html><head><title>Second</title></head><body><h1>Second</h1></body></html>');
    const restore = await setFor(siteA(), 'preview.followActiveFile', true);
    try {
      await vscode.window.showTextDocument(vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.One });
      await pollUntil(() => api.testing.preview()?.pageTitle === 'Second', () => `the preview to show the file (now ${JSON.stringify(api.testing.preview())})`, 20_000);
      assert.equal(api.testing.preview()?.path, '/second%20page.html');
    } finally {
      await restore();
    }
  });

  it('shows the stopped state when the server stops, and the same page again when it starts on a new port', async () => {
    const before = api.testing.preview();
    assert.ok(before?.frameUrl?.endsWith('/second%20page.html'), JSON.stringify(before));
    await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
    await pollUntil(() => api.testing.preview()?.frameSrc === "'none'", 'the panel to frame nothing while stopped');
    await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    const info = serverFor(api, siteA());
    assert.ok(info);
    const external = (await vscode.env.asExternalUri(vscode.Uri.parse(info.url))).toString(true);
    await pollUntil(() => api.testing.preview()?.frameUrl === `${external}second%20page.html`, () => `the new server's page (now ${JSON.stringify(api.testing.preview())})`, 20_000);
    assert.equal(api.testing.preview()?.frameSrc, new URL(external).origin);
  });
});

describe('Reload as you type (echoPreview.reloadOnType)', function () {
  this.timeout(45_000);
  let api: EchoPreviewApi;
  let file: string;
  let restore: (() => Promise<void>) | undefined;

  before(async () => {
    api = await activateApi();
    await stopAll(api);
    // A browser-hosted editor (code-server) saves after a second by default: these tests decide when.
    await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Workspace);
    file = path.join(siteA().uri.fsPath, 'typed.html');
    await fs.writeFile(file, '<!DOCTYPE html><html><body><h1>Saved text</h1></body></html>');
  });

  after(() => vscode.workspace.getConfiguration('files').update('autoSave', undefined, vscode.ConfigurationTarget.Workspace));

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await restore?.();
    restore = undefined;
    await stopAll(api);
  });

  async function serve(): Promise<string> {
    await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    const info = serverFor(api, siteA());
    assert.ok(info, 'site-a is served');
    return `${info.url}${path.basename(file)}`;
  }

  it('serves the unsaved text and reloads the page on each edit; undo and save serve the file again', async () => {
    restore = await setFor(siteA(), 'reloadOnType', true);
    const url = await serve();
    const document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document);
    const channel = await openReloadChannel(url);
    try {
      await channel.next('hello');
      const reloaded = channel.next('reload');
      await editUnsaved(document, 'Saved text', 'Typed, not saved');
      assert.ok(document.isDirty);
      assert.match(await bodyOf(url), /<h1>Typed, not saved<\/h1>/, 'the unsaved text is served');
      assert.deepEqual((await reloaded.catch((error: Error) => assert.fail(`after the edit: ${error.message}`))).paths, ['/typed.html']);
      assert.equal(await fs.readFile(file, 'utf8'), '<!DOCTYPE html><html><body><h1>Saved text</h1></body></html>', 'nothing was written');
      // Undo back to the saved text: the file is served again, and the page reloads to show it.
      const undone = channel.next('reload');
      await vscode.commands.executeCommand('undo');
      await pollUntil(() => !document.isDirty, 'the undo to apply');
      await undone.catch((error: Error) => assert.fail(`after the undo: ${error.message}`));
      assert.match(await bodyOf(url), /<h1>Saved text<\/h1>/);
      // Edit and save: the file has the text, and it is what is served; the save reloads the page once.
      await editUnsaved(document, 'Saved text', 'Saved at last');
      const saved = channel.next('reload');
      assert.ok(await document.save());
      assert.deepEqual((await saved.catch((error: Error) => assert.fail(`after the save: ${error.message}`))).paths, ['/typed.html']);
      assert.match(await fs.readFile(file, 'utf8'), /Saved at last/);
      assert.match(await bodyOf(url), /<h1>Saved at last<\/h1>/);
      // The next reload is for the next edit, elsewhere: none was left over from the typing before the save.
      const other = await vscode.workspace.openTextDocument(path.join(siteA().uri.fsPath, 'index.html'));
      const next = channel.next('reload');
      await editUnsaved(other, 'Site A', 'Site A, edited');
      assert.deepEqual((await next.catch((error: Error) => assert.fail(`after the edit elsewhere: ${error.message}`))).paths, ['/index.html'], 'one reload for the save');
      await editUnsaved(other, 'Site A, edited', 'Site A');
      assert.ok(await other.save()); // as it was
    } finally {
      channel.close();
    }
  });

  it('is off by default: an unsaved edit is not served, the save is', async () => {
    file = path.join(siteA().uri.fsPath, 'typed-off.html'); // a document the editor has not opened yet
    await fs.writeFile(file, '<!DOCTYPE html><html><body><h1>Saved text</h1></body></html>');
    const url = await serve();
    const document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document);
    await editUnsaved(document, 'Saved text', 'Typed, not saved');
    assert.match(await bodyOf(url), /<h1>Saved text<\/h1>/, 'the file, not the buffer');
    const channel = await openReloadChannel(url);
    try {
      await channel.next('hello');
      const reloaded = channel.next('reload');
      assert.ok(await document.save());
      assert.deepEqual((await reloaded).paths, ['/typed-off.html'], 'the save reloads the page');
      assert.match(await bodyOf(url), /<h1>Typed, not saved<\/h1>/);
    } finally {
      channel.close();
    }
  });
});

describe('echoPreview.liveReload', function () {
  this.timeout(30_000);
  let api: EchoPreviewApi;

  before(async () => {
    api = await activateApi();
    await stopAll(api);
  });

  it('is on by default (pages get the reload script) and off when the setting says so', async () => {
    for (const [value, injected] of [[undefined, true], [false, false]] as const) {
      const restore = value === undefined ? undefined : await setFor(siteA(), 'liveReload', value);
      try {
        await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
        const info = serverFor(api, siteA());
        assert.ok(info);
        assert.equal(/<script src="[^"]*__echo-preview\/reload\.js"/.test(await bodyOf(info.url)), injected, `liveReload ${String(value)}`);
      } finally {
        await stopAll(api);
        await restore?.();
      }
    }
  });
});

describe('the preview panel CSP', () => {
  it('frames exactly one http(s) origin, and refuses addresses or sources that would add directives', () => {
    const nonce = 'bm9uY2Vub25jZW5vbmNlMQ==';
    assert.equal(
      previewCsp('http://8080.localhost:9000/proxy/x?y#z', 'https://*.vscode-cdn.net', nonce),
      "default-src 'none'; style-src https://*.vscode-cdn.net; img-src https://*.vscode-cdn.net; script-src 'nonce-bm9uY2Vub25jZW5vbmNlMQ=='; frame-src http://8080.localhost:9000",
    );
    assert.match(previewCsp(undefined, "'self'", nonce), /frame-src 'none'$/);
    for (const bad of ['javascript:alert(1)', 'ws://127.0.0.1:8080/', 'http://user:pw@127.0.0.1/', 'file:///etc/passwd', 'not a url']) {
      assert.throws(() => frameSource(bad), bad);
    }
    assert.throws(() => previewCsp('http://127.0.0.1:8080/', "https://a.example; script-src 'unsafe-inline'", nonce));
    assert.throws(() => previewCsp('http://127.0.0.1:8080/', "'self'", "x'; script-src *"));
  });
});
