/** What the host suites share: the extension's API, folders by name, and waits on its events. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import type { EchoPreviewApi, ServerInfo } from '../../src/editor/extension';

export const EXTENSION_ID = 'echo-preview.echo-preview';

/** The status bar texts, one per state. */
export const STATUS = {
  stopped: '$(circle-slash) Echo Preview',
  busy: '$(loading~spin) Echo Preview',
  failed: '$(error) Echo Preview',
  serving: (port: number): string => `$(radio-tower) Echo :${port}`,
} as const;

export function extensionPath(): string {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, 'extension is installed');
  return extension.extensionPath;
}

/** Activates the extension through one of its commands and returns its API. */
export async function activateApi(): Promise<EchoPreviewApi> {
  await vscode.commands.executeCommand('echoPreview.showLog');
  const extension = vscode.extensions.getExtension<EchoPreviewApi>(EXTENSION_ID);
  assert.ok(extension?.isActive, 'activated by its command');
  return extension.exports;
}

export function folder(name: string): vscode.WorkspaceFolder {
  const found = vscode.workspace.workspaceFolders?.find((f) => f.name === name);
  assert.ok(found, `workspace folder ${name} is open`);
  return found;
}

/** Sets one echoPreview setting for a folder until the returned function puts it back. */
export async function setFor(f: vscode.WorkspaceFolder, key: string, value: unknown): Promise<() => Promise<void>> {
  const config = vscode.workspace.getConfiguration('echoPreview', f.uri);
  await config.update(key, value, vscode.ConfigurationTarget.WorkspaceFolder);
  return () => Promise.resolve(config.update(key, undefined, vscode.ConfigurationTarget.WorkspaceFolder));
}

export async function stopAll(api: EchoPreviewApi): Promise<void> {
  for (const info of api.servers()) await vscode.commands.executeCommand('echoPreview.stop', vscode.Uri.file(info.folder));
}

export function serverFor(api: EchoPreviewApi, f: vscode.WorkspaceFolder): ServerInfo | undefined {
  return api.servers().find((s) => s.folder === f.uri.fsPath);
}

/**
 * Resolves with `probe`'s first truthy answer, checked now and after every onDidChangeServers
 * (servers, clients, busy states); rejects after `timeoutMs` saying what it waited for.
 */
export function whenServers<T>(api: EchoPreviewApi, probe: () => T | undefined | false, what: string | (() => string), timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const value = probe();
      if (!value) return false;
      clearTimeout(timer);
      subscription.dispose();
      resolve(value);
      return true;
    };
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`));
    }, timeoutMs);
    const subscription = api.onDidChangeServers(() => void check());
    check();
  });
}

/** The next moment the controller is idle again after the work that is about to begin. */
export async function nextSettled(api: EchoPreviewApi): Promise<void> {
  let sawWork = false;
  await whenServers(
    api,
    () => {
      const busy = api.testing.statusBarText() === STATUS.busy;
      sawWork ||= busy;
      return sawWork && !busy;
    },
    'the controller to finish the work it began',
  );
}

/** Resolves on the next configuration change that touches echoPreview. */
export function nextConfigurationChange(): Promise<void> {
  return new Promise((resolve) => {
    const subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('echoPreview')) return;
      subscription.dispose();
      resolve();
    });
  });
}

/** Sends `text` and resolves with the reply once the socket has closed (the server counts it gone). */
export function echoOnce(url: string, text: string, options: WebSocket.ClientOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    let reply: string | undefined;
    ws.on('open', () => ws.send(text));
    ws.on('message', (data) => {
      reply = String(data);
      ws.close();
    });
    ws.on('close', () => (reply === undefined ? reject(new Error(`${url} closed without a reply`)) : resolve(reply)));
    ws.on('error', reject);
  });
}

/** Opens a WebSocket from `origin`: 101, or the refusal's status and body. */
export function upgradeFrom(url: string, origin: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

/**
 * Resolves with the diagnostics on `file` once `probe` accepts them: checked now and on every
 * change of the Problems view's entries; rejects after `timeoutMs` with what it last saw.
 */
export function whenDiagnostics(file: string, probe: (diagnostics: readonly vscode.Diagnostic[]) => boolean, what: string, timeoutMs = 15_000): Promise<readonly vscode.Diagnostic[]> {
  const uri = vscode.Uri.file(file);
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const diagnostics = vscode.languages.getDiagnostics(uri);
      if (!probe(diagnostics)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(diagnostics);
    };
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`timed out waiting for ${what}; the Problems view has ${JSON.stringify(vscode.languages.getDiagnostics(uri).map((d) => d.message))}`));
    }, timeoutMs);
    const subscription = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.fsPath === uri.fsPath)) check();
    });
    check();
  });
}

/** The diagnostics Echo Preview shows on `file` (the editor's own JSON checks left out). */
export function ourDiagnostics(diagnostics: readonly vscode.Diagnostic[]): vscode.Diagnostic[] {
  return diagnostics.filter((d) => d.source === 'Echo Preview');
}
