/**
 * The only owner of running servers: one per workspace folder. Start picks the folder, reads the
 * settings, falls back to the next free port, and registers the editor's forwarded address with
 * the server's guard; stop resolves once the port is free.
 */
import * as vscode from 'vscode';
import { isLoopbackHost } from './core/guard';
import { StartError, startServer, type RunningServer } from './core/server';
import type { Log } from './log';
import { readSettings, type OpenOnStart } from './settings';

export interface ServerEntry {
  readonly folder: vscode.WorkspaceFolder;
  readonly server: RunningServer;
  /** The page URL as the user's browser reaches it (asExternalUri: remote, Codespaces). */
  readonly externalUrl: string;
  /** The WebSocket URL as a webview or browser reaches it (ws:// or wss://). */
  readonly externalWsUrl: string;
  readonly openOnStart: OpenOnStart;
}

export type ControllerState = 'idle' | 'starting' | 'stopping';

/** How many ports after a taken one are tried before asking the system for any free port. */
const PORT_ATTEMPTS = 10;

export class Controller implements vscode.Disposable {
  private readonly entries = new Map<string, ServerEntry>();
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** The last start that failed, shown by the status bar until the next change. */
  lastError: string | undefined;

  readonly onDidChange = this.changed.event;

  constructor(private readonly log: Log) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => void this.offerRestart(e)),
      vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        for (const folder of e.removed) void this.stop(folder);
      }),
    );
  }

  get running(): ServerEntry[] {
    return [...this.entries.values()];
  }

  get isBusy(): boolean {
    return this.busy.size > 0;
  }

  entryFor(folder: vscode.WorkspaceFolder): ServerEntry | undefined {
    return this.entries.get(folder.uri.toString());
  }

  /** Starts the server for `folder` (asking which when there are several), or reports the one running. */
  async start(folder?: vscode.WorkspaceFolder): Promise<ServerEntry | undefined> {
    folder ??= await pickFolder(vscode.workspace.workspaceFolders ?? [], 'Start Echo Preview for which folder?');
    if (!folder) return undefined;
    const existing = this.entryFor(folder);
    if (existing) {
      void vscode.window.showInformationMessage(`Echo Preview is already running for ${folder.name} at ${existing.externalUrl}`);
      return existing;
    }
    return this.exclusive(folder, () => this.doStart(folder));
  }

  async stop(folder?: vscode.WorkspaceFolder): Promise<boolean> {
    folder ??= await this.pickRunning('Stop Echo Preview for which folder?');
    if (!folder) return false;
    const target = folder;
    return this.exclusive(target, () => this.doStop(target));
  }

  async restart(folder?: vscode.WorkspaceFolder): Promise<ServerEntry | undefined> {
    if (!folder && this.running.length === 0) return this.start();
    folder ??= await this.pickRunning('Restart Echo Preview for which folder?');
    if (!folder) return undefined;
    const target = folder;
    return this.exclusive(target, async () => {
      await this.doStop(target);
      return this.doStart(target);
    });
  }

  /** Asks which running server is meant when there are several; undefined when none runs. */
  async pickRunning(title: string): Promise<vscode.WorkspaceFolder | undefined> {
    const running = this.running;
    if (running.length === 0) {
      void vscode.window.showInformationMessage('No Echo Preview server is running.');
      return undefined;
    }
    return pickFolder(
      running.map((e) => e.folder),
      title,
    );
  }

  /** One start/stop at a time per folder, so a double click can't start two servers. */
  private async exclusive<T>(folder: vscode.WorkspaceFolder, work: () => Promise<T>): Promise<T> {
    const key = folder.uri.toString();
    while (this.busy.has(key)) await this.busy.get(key)?.catch(() => undefined);
    const promise = work();
    this.busy.set(key, promise);
    this.changed.fire();
    try {
      return await promise;
    } finally {
      this.busy.delete(key);
      this.changed.fire();
    }
  }

  private async doStart(folder: vscode.WorkspaceFolder): Promise<ServerEntry | undefined> {
    const settings = readSettings(folder);
    if ('error' in settings) return this.fail(settings.error, true);
    const { options } = settings;
    let allowLan = false;
    if (!isLoopbackHost(options.host)) {
      const choice = await vscode.window.showWarningMessage(
        `echoPreview.host is ${options.host}: other machines on the network will be able to read ${folder.name}.`,
        { modal: true },
        'Start Anyway',
      );
      if (choice !== 'Start Anyway') return undefined;
      allowLan = true;
    }

    let server: RunningServer | undefined;
    let port = options.port;
    for (let attempt = 0; !server; attempt++) {
      try {
        server = await startServer({ ...options, port, allowLan });
      } catch (error) {
        if (!(error instanceof StartError)) return this.fail(`Echo Preview could not start: ${String(error)}`, false);
        if (error.code !== 'PORT_IN_USE' || port === 0) return this.fail(error.message, error.code.startsWith('ROOT'));
        this.log.info(`${error.message} Trying another port.`);
        port = attempt < PORT_ATTEMPTS && port < 65535 ? port + 1 : 0;
      }
    }
    if (server.port !== options.port && options.port !== 0) {
      void vscode.window.showInformationMessage(
        `Port ${options.port} is in use, so Echo Preview is serving ${folder.name} on port ${server.port}. Your settings are unchanged.`,
      );
    }

    const external = await vscode.env.asExternalUri(vscode.Uri.parse(server.url));
    const externalUrl = external.toString(true);
    const externalWs = new URL(server.wsPath.slice(1), externalUrl.endsWith('/') ? externalUrl : externalUrl + '/');
    externalWs.protocol = externalWs.protocol === 'https:' ? 'wss:' : 'ws:';
    // The editor forwards the port (remote, Codespaces, code-server): pages reached that way are ours.
    const forwardedOrigin = new URL(externalUrl).origin;
    server.allowOrigin(forwardedOrigin);
    server.allowHost(new URL(externalUrl).hostname);

    const entry: ServerEntry = { folder, server, externalUrl, externalWsUrl: externalWs.toString(), openOnStart: settings.openOnStart };
    // The listener lives as long as the server object; no separate disposal needed.
    server.events.on((event) => this.log.event(folder.name, event));
    this.entries.set(folder.uri.toString(), entry);
    this.lastError = undefined;
    this.log.info(`Serving ${server.root} at ${server.url} (WebSocket ${server.wsUrl}; opened as ${externalUrl})`);
    return entry;
  }

  private async doStop(folder: vscode.WorkspaceFolder): Promise<boolean> {
    const entry = this.entryFor(folder);
    if (!entry) return false;
    await entry.server.close();
    this.entries.delete(folder.uri.toString());
    this.log.info(`Stopped the server for ${folder.name} (port ${entry.server.port} is free).`);
    return true;
  }

  private fail(message: string, offerSettings: boolean): undefined {
    this.lastError = message;
    this.log.error(message);
    const actions = offerSettings ? ['Open Settings', 'Show Log'] : ['Show Log'];
    void vscode.window.showErrorMessage(message, ...actions).then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'echoPreview');
      if (choice === 'Show Log') this.log.show();
    });
    return undefined;
  }

  private async offerRestart(event: vscode.ConfigurationChangeEvent): Promise<void> {
    for (const entry of this.running) {
      if (!event.affectsConfiguration('echoPreview', entry.folder.uri)) continue;
      const choice = await vscode.window.showInformationMessage(
        `Echo Preview settings changed. Restart the server for ${entry.folder.name} to apply them?`,
        'Restart',
      );
      if (choice === 'Restart') await this.restart(entry.folder);
    }
  }

  /** Stops every server; resolves when every port is free. */
  async stopAll(): Promise<void> {
    await Promise.all(this.running.map((entry) => this.doStop(entry.folder)));
  }

  dispose(): void {
    void this.stopAll();
    for (const d of this.disposables) d.dispose();
  }
}

/** The only folder, or the one the person picks; undefined when there is none or they cancel. */
export async function pickFolder(folders: readonly vscode.WorkspaceFolder[], title: string): Promise<vscode.WorkspaceFolder | undefined> {
  if (folders.length === 0) {
    const choice = await vscode.window.showErrorMessage('Echo Preview serves a workspace folder: open a folder first.', 'Open Folder');
    if (choice === 'Open Folder') void vscode.commands.executeCommand('vscode.openFolder');
    return undefined;
  }
  if (folders.length === 1) return folders[0];
  const picked = await vscode.window.showQuickPick(
    folders.map((folder) => ({ label: folder.name, description: folder.uri.fsPath, folder })),
    { title, placeHolder: 'Workspace folder' },
  );
  return picked?.folder;
}
