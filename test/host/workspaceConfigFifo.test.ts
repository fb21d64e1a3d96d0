/**
 * A FIFO as the folder's config file in the editor: the start refuses it by name instead of
 * hanging the extension host (also when echoPreview.configFile names it), and the Problems view, which reads the file again on each change
 * while no server runs, follows a FIFO renamed over it as well as a broken and a good file.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EchoPreviewApi } from '../../src/editor/extension';
import { activateApi, folder, ourDiagnostics, serverFor, setFor, whenDiagnostics } from './helpers';

const GOOD = '{\n  "endpoints": {\n    "/websocket": { "mode": "echo" }\n  }\n}\n';

describe('a FIFO as the config file in the editor', function () {
  this.timeout(30_000);
  let api: EchoPreviewApi;
  const site = (): vscode.WorkspaceFolder => folder('site-a');
  const config = (): string => path.join(site().uri.fsPath, '.echo-preview.json');
  const message = (): string => ourDiagnostics(vscode.languages.getDiagnostics(vscode.Uri.file(config())))[0]?.message ?? '';

  /** Puts a FIFO (or a file with `text`) at a temporary name and renames it over the config. */
  async function renameOver(text?: string): Promise<void> {
    const temporary = `${config()}.tmp`;
    if (text === undefined) execFileSync('mkfifo', [temporary]);
    else await fs.writeFile(temporary, text);
    await fs.rename(temporary, config());
  }

  before(async () => {
    api = await activateApi();
    await vscode.commands.executeCommand('echoPreview.stop', site().uri);
  });

  after(async () => {
    await vscode.commands.executeCommand('echoPreview.stop', site().uri);
    await fs.rm(config(), { force: true });
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('refuses to start, naming the FIFO; the Problems view follows a broken file, a FIFO and a good file renamed over it', async () => {
    await fs.rm(config(), { force: true });
    await renameOver();
    let timer: NodeJS.Timeout | undefined;
    const started = await Promise.race([
      vscode.commands.executeCommand<string | undefined>('echoPreview.start', site().uri),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('the start still running after 10 s'), 10_000))),
    ]);
    clearTimeout(timer);
    assert.equal(started, undefined, 'started, or hung, with a FIFO as the config');
    assert.equal(serverFor(api, site()), undefined);
    assert.match(message(), /^cannot read the config file: it is a named pipe \(FIFO\), not a regular file \(the server did not start\)$/);
    // Named by echoPreview.configFile, the setting is refused, saying what the file is.
    const restore = await setFor(site(), 'configFile', '.echo-preview.json');
    try {
      assert.equal(await vscode.commands.executeCommand('echoPreview.start', site().uri), undefined);
      assert.ok(api.testing.statusBarTooltip().includes(`names ${config()}, which is a named pipe (FIFO), not a regular file.`), api.testing.statusBarTooltip());
    } finally {
      await restore();
      await vscode.commands.executeCommand('notifications.clearAll');
    }
    await renameOver('{\n  "endpoints": []\n}\n');
    await whenDiagnostics(config(), () => message().startsWith('"endpoints" must be an object'), 'the broken file in the Problems view');
    await renameOver();
    await whenDiagnostics(config(), () => message().includes('named pipe (FIFO)'), 'the FIFO renamed over it in the Problems view');
    await renameOver(GOOD);
    await whenDiagnostics(config(), () => message() === '', 'the diagnostic to go once a good file is back');
    await vscode.commands.executeCommand('echoPreview.start', site().uri);
    assert.ok(serverFor(api, site()), 'started with the good file');
  });

  it('Create Demo Files writes nothing over a FIFO (which would block the write) and says why', async () => {
    const target = vscode.Uri.joinPath(site().uri, 'fifo-demo');
    await fs.mkdir(target.fsPath, { recursive: true });
    const page = path.join(target.fsPath, 'index.html');
    execFileSync('mkfifo', [page]);
    try {
      // No dialog may open (the test host refuses dialogs: asking to overwrite would reject).
      const written = await vscode.commands.executeCommand<string[]>('echoPreview.createDemo', target, 'echo');
      assert.deepEqual(written, []);
      assert.ok((await fs.lstat(page)).isFIFO(), 'the FIFO is left alone');
      await assert.rejects(fs.stat(path.join(target.fsPath, 'websocket.js')), 'nothing else written either');
    } finally {
      await fs.rm(target.fsPath, { recursive: true, force: true });
      await vscode.commands.executeCommand('notifications.clearAll');
    }
  });
});
