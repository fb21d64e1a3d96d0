/**
 * The endpoints' config file in the editor (trusted workspace): applied at start and on every
 * change without dropping clients; a broken one in the Problems view at its line and column,
 * cleared once fixed or stopped; echoPreview.configFile; the chat demo of Create Demo Files.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EchoPreviewApi, ServerInfo } from '../../src/editor/extension';
import { chatConfig } from '../../src/editor/demoFiles';
import { messagesOf, type WsInbox } from '../support/inbox';
import { openClient } from '../support/ws';
import { STATUS, activateApi, echoOnce, extensionPath, folder, ourDiagnostics, serverFor, upgradeFrom, whenDiagnostics, whenServers } from './helpers';

const siteA = (): vscode.WorkspaceFolder => folder('site-a');
const siteB = (): vscode.WorkspaceFolder => folder('site-b');

/** A config as text, one endpoint a line (so a test knows the line of each). */
function configText(endpoints: Record<string, Record<string, unknown>>): string {
  const lines = Object.entries(endpoints).map(([p, section]) => `    ${JSON.stringify(p)}: ${JSON.stringify(section)}`);
  return `{\n  "endpoints": {\n${lines.join(',\n')}\n  }\n}\n`;
}

const GOOD = configText({ '/websocket': { mode: 'echo' }, '/chat': { mode: 'broadcast' } });
const byPath = (info: ServerInfo | undefined): string =>
  JSON.stringify(
    [...(info?.endpoints ?? [])].sort((a, b) => a.path.localeCompare(b.path)).map((e) => `${e.path} ${e.mode}`),
  );

/** The 0-based line and column of the first `needle` in `text`. */
function positionIn(text: string, needle: string): { line: number; character: number } {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} is in the config`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** Opens a ws client with an inbox of its messages. */
async function listening(url: string): Promise<WsInbox> {
  return messagesOf(await openClient(url));
}

/** Sends `text` on `from`; resolves with what each of `to` received next. */
async function relay(from: WsInbox, to: WsInbox[], text: string): Promise<string[]> {
  from.ws.send(text);
  return Promise.all(to.map(async (inbox) => (await inbox.next()).text));
}

describe('the config file in the editor', function () {
  this.timeout(30_000);
  let api: EchoPreviewApi;
  const configA = (): string => path.join(siteA().uri.fsPath, '.echo-preview.json');
  const server = (f: vscode.WorkspaceFolder): ServerInfo | undefined => serverFor(api, f);
  const ours = (): vscode.Diagnostic[] => ourDiagnostics(vscode.languages.getDiagnostics(vscode.Uri.file(configA())));

  before(async () => {
    api = await activateApi();
  });

  after(async () => {
    for (const f of [siteA(), siteB()]) await vscode.commands.executeCommand('echoPreview.stop', f.uri);
    await fs.rm(configA(), { force: true });
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('applies .echo-preview.json at start: each endpoint with its mode, in the API and the status bar tooltip', async () => {
    await fs.writeFile(configA(), GOOD);
    await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    const info = server(siteA());
    assert.ok(info, 'started');
    assert.equal(info.configFile, configA());
    assert.equal(byPath(info), JSON.stringify(['/chat broadcast', '/websocket echo']));
    const tooltip = api.testing.statusBarTooltip();
    assert.match(tooltip, /`\/websocket` \(echo\)/);
    assert.match(tooltip, /`\/chat` \(broadcast\)/);
    assert.match(tooltip, /^Live reload: on$/m, 'echoPreview.liveReload is on by default');
    const [a, b] = await Promise.all([listening(new URL('/chat', info.wsUrl).href), listening(new URL('/chat', info.wsUrl).href)]);
    try {
      assert.deepEqual(await relay(a, [a, b], 'to everyone'), ['to everyone', 'to everyone']);
    } finally {
      a.ws.close();
      b.ws.close();
    }
  });

  it('a broken edit while it runs: a diagnostic at its line and column, the last good config kept and every client connected; fixed: cleared and applied', async () => {
    const info = server(siteA());
    assert.ok(info);
    const chatUrl = new URL('/chat', info.wsUrl).href;
    const [echo, a, b] = await Promise.all([listening(info.wsUrl), listening(chatUrl), listening(chatUrl)]);
    const closes: number[] = [];
    for (const { ws } of [echo, a, b]) ws.on('close', (code: number) => closes.push(code));
    try {
      // A missing comma: the problem is the token after it, "/extra" on line 5, column 5.
      const broken = GOOD.replace('{"mode":"broadcast"}\n', '{"mode":"broadcast"}\n    "/extra": {"mode":"echo"}\n');
      const at = positionIn(broken, '"/extra"');
      await fs.writeFile(configA(), broken);
      // Written in place, the file may be read while still empty (a diagnostic at 1:1): the wait is for this one.
      const [shown] = ourDiagnostics(await whenDiagnostics(configA(), (d) => ourDiagnostics(d)[0]?.range.start.line === at.line, 'the broken edit in the Problems view'));
      assert.equal(shown.severity, vscode.DiagnosticSeverity.Error);
      assert.deepEqual({ line: shown.range.start.line, character: shown.range.start.character }, at, shown.message);
      assert.match(shown.message, /last good config/);
      assert.match(api.testing.statusBarTooltip(), new RegExp(`Config edit refused \\(line ${at.line + 1}\\)`));
      assert.equal(byPath(server(siteA())), JSON.stringify(['/chat broadcast', '/websocket echo']), 'the last good config applies');
      assert.deepEqual(await relay(a, [a, b], 'still chatting'), ['still chatting', 'still chatting']);

      // A mode that does not exist: the problem is on its line (at the key or the value).
      const unknownMode = GOOD.replace('{"mode":"broadcast"}', '{"mode":"broadcst"}');
      await fs.writeFile(configA(), unknownMode);
      const modeLine = positionIn(unknownMode, 'broadcst').line;
      const [moved] = ourDiagnostics(await whenDiagnostics(configA(), (d) => ourDiagnostics(d)[0]?.range.start.line === modeLine, 'the diagnostic to move to the mode'));
      const pointed = unknownMode.split('\n')[modeLine].slice(moved.range.start.character);
      assert.match(pointed, /^("mode"|"broadcst"|\{)/, `the column points at ${pointed}`);
      assert.equal(ours().length, 1, 'one diagnostic per folder');

      const fixed = configText({ '/websocket': { mode: 'echo' }, '/chat': { mode: 'broadcast' }, '/news': { mode: 'broadcast', includeSender: false } });
      const applied = whenServers(api, () => byPath(server(siteA())).includes('/news broadcast'), 'the fixed config to apply');
      await fs.writeFile(configA(), fixed);
      await applied;
      await whenDiagnostics(configA(), (d) => ourDiagnostics(d).length === 0, 'the diagnostic to go once fixed');
      assert.doesNotMatch(api.testing.statusBarTooltip(), /refused/);
      assert.match(api.testing.statusBarTooltip(), /`\/news` \(broadcast\)/);
      assert.deepEqual(closes, [], 'a client was closed by a config edit');
      assert.equal(server(siteA())?.id, info.id, 'the same server');
      // The old connections work on; the new endpoint takes clients.
      assert.deepEqual(await relay(echo, [echo], 'echo after edit'), ['echo after edit']);
      assert.deepEqual(await relay(a, [a, b], 'chat after edit'), ['chat after edit', 'chat after edit']);
      assert.equal((await upgradeFrom(new URL('/news', info.wsUrl).href, new URL(info.url).origin)).status, 101);
    } finally {
      for (const { ws } of [echo, a, b]) ws.close();
    }
  });

  it('Stop clears the diagnostic of a refused edit', async () => {
    assert.ok(server(siteA()));
    await fs.writeFile(configA(), '{ "endpoints": [] }\n');
    await whenDiagnostics(configA(), (d) => ourDiagnostics(d).length === 1, 'the refused edit in the Problems view');
    await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
    assert.deepEqual(ours(), [], 'the diagnostic outlived the server');
  });

  it('a broken config at start: no server, the Problems view points at it, follows its edits and clears once fixed', async () => {
    const broken = '{\n  "endpoints": {\n    "/chat": { "mode": "broadcast", "includeSender": "yes" }\n  }\n}\n';
    await fs.writeFile(configA(), broken);
    await vscode.commands.executeCommand('notifications.clearAll');
    const url = await vscode.commands.executeCommand<string | undefined>('echoPreview.start', siteA().uri);
    assert.equal(url, undefined, 'started with a broken config');
    assert.equal(server(siteA()), undefined);
    assert.equal(api.testing.statusBarText(), STATUS.failed);
    const [shown] = ours();
    assert.ok(shown, 'no diagnostic for the broken config');
    assert.equal(shown.range.start.line, 2);
    assert.match(shown.message, /includeSender/);
    assert.match(shown.message, /did not start/);
    // The error's first action opens the file at the problem.
    const opened = new Promise<vscode.TextEditor>((resolve) => {
      const subscription = vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor?.document.uri.fsPath !== configA()) return;
        subscription.dispose();
        resolve(editor);
      });
    });
    await vscode.commands.executeCommand('notification.acceptPrimaryAction');
    const editor = await opened;
    assert.deepEqual({ line: editor.selection.active.line, character: editor.selection.active.character }, { line: 2, character: shown.range.start.character });
    assert.ok(shown.range.start.character > 0, 'the column is the value, not the line start');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    // No server watches the file: the Problems view still follows it.
    await fs.writeFile(configA(), '{\n  "endpoints": {}\n}\n');
    await whenDiagnostics(configA(), (d) => ourDiagnostics(d)[0]?.range.start.line === 1, 'the diagnostic to follow the edit');
    await fs.writeFile(configA(), GOOD);
    await whenDiagnostics(configA(), (d) => ourDiagnostics(d).length === 0, 'the diagnostic to go once fixed, before any start');
    await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    assert.ok(server(siteA()), 'started once fixed');
    assert.deepEqual(ours(), []);
  });

  it('without the file the server is the plain echo at /websocket; a file created while it runs applies', async () => {
    await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
    await fs.rm(configA());
    await vscode.commands.executeCommand('echoPreview.start', siteA().uri);
    const info = server(siteA());
    assert.ok(info);
    assert.equal(info.configFile, undefined);
    assert.equal(byPath(info), JSON.stringify(['/websocket echo']));
    const client = await listening(info.wsUrl);
    const closed = { code: undefined as number | undefined };
    client.ws.on('close', (code: number) => (closed.code = code));
    try {
      const applied = whenServers(api, () => byPath(server(siteA())).includes('/chat broadcast'), 'the new file to apply');
      await fs.writeFile(configA(), GOOD);
      await applied;
      assert.equal(server(siteA())?.configFile, configA());
      assert.equal(closed.code, undefined, 'the echo client was closed');
      assert.deepEqual(await relay(client, [client], 'still echoing'), ['still echoing']);
    } finally {
      client.ws.close();
      await vscode.commands.executeCommand('echoPreview.stop', siteA().uri);
      await fs.rm(configA(), { force: true });
    }
  });

  it('echoPreview.configFile names another file, relative to the folder; its problems show on that file', async () => {
    const config = vscode.workspace.getConfiguration('echoPreview', siteB().uri);
    const file = path.join(siteB().uri.fsPath, 'conf', 'endpoints.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, configText({ '/elsewhere': { mode: 'broadcast' } }));
    await config.update('configFile', 'conf/endpoints.json', vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const info = server(siteB());
      assert.ok(info, 'started');
      assert.equal(info.configFile, file);
      assert.ok(byPath(info).includes('/elsewhere broadcast'), byPath(info));
      await fs.writeFile(file, '{ "endpoints": { "/elsewhere": { "mode": 7 } } }\n');
      const [shown] = ourDiagnostics(await whenDiagnostics(file, (d) => ourDiagnostics(d).length === 1, 'the problem on the configured file'));
      assert.equal(shown.range.start.line, 0);
    } finally {
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      await config.update('configFile', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
      await fs.rm(path.dirname(file), { recursive: true, force: true });
      await vscode.commands.executeCommand('notifications.clearAll');
    }
    assert.deepEqual(ourDiagnostics(vscode.languages.getDiagnostics(vscode.Uri.file(file))), []);
  });

  it('an echoPreview.configFile that names no file is refused at start, naming the setting', async () => {
    const config = vscode.workspace.getConfiguration('echoPreview', siteB().uri);
    for (const value of ['conf/missing.json', '.', '../site-a']) {
      await config.update('configFile', value, vscode.ConfigurationTarget.WorkspaceFolder);
      try {
        assert.equal(await vscode.commands.executeCommand('echoPreview.start', siteB().uri), undefined, `started with configFile ${value}`);
        assert.equal(api.testing.statusBarText(), STATUS.failed);
        const tooltip = api.testing.statusBarTooltip();
        assert.match(tooltip, /echoPreview\.configFile/, value);
        assert.ok(tooltip.includes(path.resolve(siteB().uri.fsPath, value)), tooltip);
      } finally {
        await config.update('configFile', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
        await vscode.commands.executeCommand('notifications.clearAll');
      }
    }
  });

  it('an echoPreview.configFile the server cannot read is refused naming the setting, with no line and column', async () => {
    const config = vscode.workspace.getConfiguration('echoPreview', siteB().uri);
    const file = path.join(siteB().uri.fsPath, 'huge.json');
    // Beyond the 4 MiB a config file may have: a problem of the file as a whole.
    await fs.writeFile(file, `{"endpoints": {"/a": {"mode": "echo"}}}${' '.repeat(4 * 1024 * 1024)}`);
    await config.update('configFile', 'huge.json', vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      assert.equal(await vscode.commands.executeCommand('echoPreview.start', siteB().uri), undefined, 'started with an unreadable config');
      const tooltip = api.testing.statusBarTooltip();
      assert.match(tooltip, /The setting echoPreview\.configFile names /, tooltip);
      assert.ok(tooltip.includes(`${file}: cannot read the config file: `), tooltip);
      assert.match(tooltip, /4194304 bytes/, tooltip);
      assert.doesNotMatch(tooltip, /:\d+:\d+:/, 'no position');
    } finally {
      await config.update('configFile', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
      await fs.rm(file, { force: true });
      await vscode.commands.executeCommand('notifications.clearAll');
    }
  });

  it("the editor checks .echo-preview.json against the contributed schema: a mode that does not exist is flagged, the modes are completed", async () => {
    const file = path.join(siteB().uri.fsPath, 'schema-check', '.echo-preview.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const text = '{\n  "endpoints": {\n    "/chat": { "mode": "broadcst" }\n  }\n}\n';
    await fs.writeFile(file, text);
    try {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      assert.equal(document.languageId, 'jsonc', 'JSON with Comments (contributes.languages)');
      await vscode.window.showTextDocument(document);
      // The JSON language service's own diagnostics (not ours: no server runs for this file).
      const flagged = await whenDiagnostics(file, (d) => d.some((x) => x.source !== 'Echo Preview' && x.range.start.line === 2), 'the schema check of the mode');
      assert.ok(flagged.some((d) => /broadcast|echo|allowed|enum/i.test(d.message)), JSON.stringify(flagged.map((d) => d.message)));
      const inValue = new vscode.Position(2, text.split('\n')[2].indexOf('broadcst'));
      const completions = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', document.uri, inValue);
      const labels = completions.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      for (const mode of ['"echo"', '"broadcast"', '"script"', '"proxy"']) assert.ok(labels.includes(mode), `${mode} not completed: ${labels.join(' ')}`);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await fs.rm(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('the editor flags neither comments nor trailing commas in .echo-preview.json, and still checks it against the schema', async () => {
    const file = path.join(siteB().uri.fsPath, 'jsonc-check', '.echo-preview.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    const text = '{\n  // a line comment\n  /* a block comment */\n  "endpoints": {\n    "/chat": { "mode": "broadcst", },\n  },\n}\n';
    await fs.writeFile(file, text);
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(file)));
      // The JSON language service reports all of a document's problems at once: the schema's with any syntax ones.
      const flagged = await whenDiagnostics(file, (d) => d.some((x) => x.source !== 'Echo Preview' && x.range.start.line === 4), 'the schema check of the mode');
      const elsewhere = flagged.filter((d) => d.range.start.line !== 4 || !/broadcast|echo|allowed|enum/i.test(d.message));
      assert.deepEqual(elsewhere.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.message}`), []);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await fs.rm(path.dirname(file), { recursive: true, force: true });
    }
  });

  describe('Create Demo Files: the chat demo', () => {
    const target = (): vscode.Uri => vscode.Uri.joinPath(siteB().uri, 'chat-demo');
    const configB = (): string => path.join(siteB().uri.fsPath, '.echo-preview.json');

    after(async () => {
      await vscode.commands.executeCommand('echoPreview.stop', siteB().uri);
      await fs.rm(target().fsPath, { recursive: true, force: true });
      await fs.rm(configB(), { force: true });
    });

    it('writes chat.html and chat.js, and the config with /chat in broadcast mode where the server reads it', async () => {
      const written = await vscode.commands.executeCommand<string[]>('echoPreview.createDemo', target(), 'chat');
      assert.deepEqual(written, ['chat.html', 'chat.js', path.join('..', '.echo-preview.json')]);
      const shipped = (name: string): Promise<string> => fs.readFile(path.join(extensionPath(), 'media', 'chat', name), 'utf8');
      for (const name of ['chat.html', 'chat.js']) assert.equal(await fs.readFile(path.join(target().fsPath, name), 'utf8'), await shipped(name), name);
      assert.equal(await fs.readFile(configB(), 'utf8'), await shipped('.echo-preview.json'));
    });

    it('two clients chat through it: each message reaches both pages, the sender included', async () => {
      await vscode.commands.executeCommand('echoPreview.start', siteB().uri);
      const info = server(siteB());
      assert.ok(info, 'started with the demo config');
      assert.ok(byPath(info).includes('/chat broadcast'), byPath(info));
      const page = await fetch(new URL('chat-demo/chat.html', info.url));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script src="chat\.js"/);
      const script = await (await fetch(new URL('chat-demo/chat.js', info.url))).text();
      assert.match(script, /^const CHAT_PATH = '\/chat';$/m);
      const chatUrl = new URL('/chat', info.wsUrl).href;
      const [ada, bob] = await Promise.all([listening(chatUrl), listening(chatUrl)]);
      try {
        const hello = JSON.stringify({ name: 'Ada', text: 'Hello, Bob' });
        assert.deepEqual(await relay(ada, [ada, bob], hello), [hello, hello]);
        const reply = JSON.stringify({ name: 'Bob', text: 'Hi, Ada' });
        assert.deepEqual(await relay(bob, [ada, bob], reply), [reply, reply]);
        // The guide's echo stays where it was.
        assert.equal(await echoOnce(info.wsUrl, 'echo beside chat'), 'echo beside chat');
      } finally {
        ada.ws.close();
        bob.ws.close();
      }
    });

    it('does not overwrite an existing config without asking (the test workbench refuses the dialog)', async () => {
      const mine = configText({ '/websocket': { mode: 'echo' } });
      await fs.writeFile(configB(), mine);
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('echoPreview.createDemo', target(), 'chat')), /refused to show dialog.*\.echo-preview\.json already exist.*Overwrite\?/s);
      assert.equal(await fs.readFile(configB(), 'utf8'), mine);
    });

    it("keeps the folder's websocketPath as the chat config's echo endpoint", () => {
      const shipped = JSON.stringify({ endpoints: { '/websocket': { mode: 'echo' }, '/chat': { mode: 'broadcast', includeSender: true } } });
      const custom = JSON.parse(chatConfig(shipped, '/demo-ws')) as { endpoints: Record<string, unknown> };
      assert.deepEqual(Object.keys(custom.endpoints), ['/demo-ws', '/chat']);
      assert.deepEqual(custom.endpoints['/demo-ws'], { mode: 'echo' });
      assert.equal(chatConfig(shipped, '/websocket'), shipped);
    });

    /**
     * Runs Create Demo Files on `uri` without naming a demo, answering its quick pick with the
     * workbench command `answer` until the command is done (no event says the pick is showing).
     */
    async function createAnswering(uri: vscode.Uri, answer: string): Promise<string[]> {
      let done = false;
      const creating = Promise.resolve(vscode.commands.executeCommand<string[]>('echoPreview.createDemo', uri)).finally(() => (done = true));
      const deadline = Date.now() + 10_000;
      while (!done && Date.now() < deadline) await vscode.commands.executeCommand(answer);
      return creating;
    }

    it('asks which demo when none is named: dismissed, it writes nothing', async () => {
      const dismissed = vscode.Uri.joinPath(target(), 'dismissed');
      assert.deepEqual(await createAnswering(dismissed, 'workbench.action.closeQuickOpen'), []);
      await assert.rejects(fs.stat(dismissed.fsPath), 'the folder was made');
    });

    it('the first choice of the question is the echo demo', async () => {
      const written = await createAnswering(vscode.Uri.joinPath(target(), 'echo'), 'workbench.action.acceptSelectedQuickOpenItem');
      assert.deepEqual(written, ['index.html', 'websocket.js']);
    });
  });
});
