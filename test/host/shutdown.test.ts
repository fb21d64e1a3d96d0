/**
 * Shutdown in the real extension host, run last (index.ts): VS Code calls deactivate() and then,
 * without waiting, disposes the extension's subscriptions, the log among them. A start still in
 * flight must end closed with its port free, and nothing may write to the closed log.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Controller } from '../../src/editor/controller';
import type { ServerEvent } from '../../src/core/events/events';
import { Log } from '../../src/editor/log';
import { STATUS, activateApi, extensionPath, folder, ourDiagnostics, serverFor, whenDiagnostics } from './helpers';
import { freePort, portIsFree } from './ports';

/** Resolves on the next onDidChange: for a start, the moment it has entered the controller's queue. */
function nextChange(event: vscode.Event<void>): Promise<void> {
  return new Promise((resolve) => {
    const subscription = event(() => {
      subscription.dispose();
      resolve();
    });
  });
}

async function withPortSetting<T>(f: vscode.WorkspaceFolder, port: number, work: () => Promise<T>): Promise<T> {
  const config = vscode.workspace.getConfiguration('echoPreview', f.uri);
  await config.update('port', port, vscode.ConfigurationTarget.WorkspaceFolder);
  try {
    return await work();
  } finally {
    await config.update('port', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
  }
}

describe('shutdown', function () {
  // The deactivate test goes first: the tests after it make Log instances of their own, which
  // share the extension's output channel (the host hands out one channel per name).
  this.timeout(30_000);

  it('deactivate resolves once every server, one still starting among them, is closed and its port free', async () => {
    const api = await activateApi();
    await vscode.commands.executeCommand('echoPreview.start', folder('site-a').uri);
    const running = serverFor(api, folder('site-a'));
    assert.ok(running);
    const port = await freePort();
    await withPortSetting(folder('site-b'), port, async () => {
      const entered = nextChange(api.onDidChangeServers);
      const starting = vscode.commands.executeCommand('echoPreview.start', folder('site-b').uri);
      await entered;
      // The module the extension host loaded (require's cache): its deactivate, not a copy's.
      const extension = (await import(path.join(extensionPath(), 'dist', 'extension.js'))) as { deactivate(): Promise<void> };
      await extension.deactivate();
      assert.notEqual(api.testing.statusBarText(), STATUS.busy, 'deactivate resolved with a start still in flight');
      assert.ok(await portIsFree(running.port), `site-a's port ${running.port} still taken`);
      assert.ok(await portIsFree(port), `site-b's port ${port}, started during deactivate, still taken`);
      await starting;
    });
  });

  it('a disposed log takes every write and drops it', () => {
    const log = new Log();
    log.dispose();
    const events: ServerEvent[] = [
      { type: 'client-close', id: 1, code: 1001, reason: 'server shutting down' },
      { type: 'request', method: 'GET', path: '/', status: 404, bytes: 0, durationMs: 1, remote: '127.0.0.1' },
      { type: 'error', message: 'late' },
    ];
    log.info('after dispose');
    log.warn('after dispose');
    log.error('after dispose');
    for (const event of events) log.event('site-a', event);
    log.show();
  });

  it("shutdown in VS Code's order (the log disposed meanwhile) stops a running server and a start in flight, ports free", async () => {
    const port = await freePort();
    await withPortSetting(folder('site-b'), port, async () => {
      const log = new Log();
      const controller = new Controller(log);
      const running = await controller.start(folder('site-a'));
      assert.ok(running?.started);
      const entered = nextChange(controller.onDidChange);
      const starting = controller.start(folder('site-b'));
      await entered;
      // VS Code's order: deactivate() (our shutdown), then dispose every subscription at once.
      const shutdown = controller.shutdown();
      log.dispose();
      controller.dispose();
      await shutdown;
      assert.equal(controller.isBusy, false, 'shutdown resolved with a start still in flight');
      assert.ok(await portIsFree(port), `port ${port} still taken after shutdown`);
      assert.ok(await portIsFree(running.entry.server.port), 'the running server was stopped after the log closed');
      assert.equal(running.entry.server.events.active, false, 'the stopped server still has our event listener');
      assert.equal(await starting, undefined, 'a start that shutdown overtook reports no server');
      assert.deepEqual(controller.entries, []);
    });
  });

  it("shutdown in VS Code's order with a refused config edit in the Problems view: the server stops, the port is free", async () => {
    const config = path.join(folder('site-a').uri.fsPath, '.echo-preview.json');
    await fs.writeFile(config, '{ "endpoints": { "/websocket": { "mode": "echo" } } }\n');
    try {
      const log = new Log();
      const controller = new Controller(log);
      const running = await controller.start(folder('site-a'));
      assert.ok(running?.started);
      await fs.writeFile(config, '{ "endpoints": {} }\n');
      await whenDiagnostics(config, (d) => ourDiagnostics(d).length === 1, 'the refused edit in the Problems view');
      const shutdown = controller.shutdown();
      log.dispose();
      controller.dispose();
      await shutdown;
      assert.ok(await portIsFree(running.entry.server.port), 'the server outlived the shutdown');
      assert.deepEqual(ourDiagnostics(vscode.languages.getDiagnostics(vscode.Uri.file(config))), [], 'the disposed collection still shows the problem');
    } finally {
      await fs.rm(config, { force: true });
    }
  });
});
