/**
 * The only owner of running servers: one per workspace folder. Every start, stop and restart of
 * a folder runs in that folder's queue, so a double click never starts two servers; shutdown
 * waits for what is in flight and resolves once every port is free.
 */
import * as vscode from 'vscode';
import { ConfigDiagnostics, openConfig } from './diagnostics';
import { describeConfig, formatProblem, type ConfigProblem, type ConfigState } from '../core/config/state';
import type { CheckEnvironment } from '../core/config/check';
import { isLoopbackHost } from '../core/guard';
import { DEFAULTS } from '../core/defaults';
import type { RunningServer, ServerOptions } from '../core/server';
import { loadCore } from './core';
import type { Log } from './log';
import { readSettings, type OpenOnStart } from './settings';
import { UnsavedBuffers } from './unsavedBuffers';

export interface ServerEntry {
  readonly folder: vscode.WorkspaceFolder;
  readonly server: RunningServer;
  /** Grows with every server started in this window: a restart gives a new id. */
  readonly id: number;
  readonly openOnStart: OpenOnStart;
}

/** Where the user's browser or a webview reaches a server now (asExternalUri: remote, Codespaces). */
export interface ExternalAddress {
  url: string;
  /** ws:// or wss://, percent-encoded. */
  wsUrl: string;
}

export interface StartResult {
  entry: ServerEntry;
  /** False when the folder's server was already running. */
  started: boolean;
}

/** How many ports after a taken one are tried before asking the system for any free port. */
const PORT_ATTEMPTS = 10;

/** The WebSocket URL of the endpoint at `wsPath` of the server whose page is at `pageUrl` (http → ws, https → wss). */
export function wsUrlFor(pageUrl: string, wsPath: string): string {
  const page = new URL(pageUrl);
  const ws = new URL(page.href);
  ws.protocol = page.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.pathname = page.pathname.replace(/\/?$/, '') + wsPath; // URL percent-encodes the path
  ws.search = '';
  ws.hash = '';
  return ws.href;
}

/** Our panel's webview origin for one folder, and its grant on the folder's server now running (one at a time). */
interface OriginGrant {
  folderKey: string;
  origin: string;
  onServer?: { dispose(): void };
}

interface Running {
  entry: ServerEntry;
  /** The server's event and config listeners, released once the server has closed. */
  listener: vscode.Disposable;
  /** The unsaved documents it serves (echoPreview.reloadOnType), released with it. */
  buffers?: UnsavedBuffers;
  configListener: vscode.Disposable;
}

export class Controller implements vscode.Disposable {
  private readonly running = new Map<string, Running>();
  /** Per folder: the tail of its queue of starts, stops and restarts (never rejects). */
  private readonly queues = new Map<string, Promise<void>>();
  private pending = 0;
  private lastId = 0;
  /** Origins our own message panel reported, per folder it follows: given to every server it starts. */
  private readonly webviewOrigins = new Set<OriginGrant>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Config problems in the Problems view, one per folder. */
  private readonly diagnostics = new ConfigDiagnostics();
  private readonly disposables: vscode.Disposable[] = [this.changed, this.diagnostics];
  private shuttingDown: Promise<void> | undefined;
  private announceShutdown: () => void = () => undefined;
  /** Settles when shutdown begins, so a prompt still open cannot hold it up. */
  private readonly shutdownBegun = new Promise<undefined>((resolve) => (this.announceShutdown = () => resolve(undefined)));
  /** The last start that failed, shown by the status bar until the next change. */
  lastError: string | undefined;

  /** Fires when a server starts, stops, changes its number of clients, or work begins or ends. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: Log) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => this.offerRestart(e)),
      vscode.workspace.onDidChangeWorkspaceFolders((e) => {
        for (const folder of e.removed) void this.stop(folder);
      }),
    );
  }

  get entries(): ServerEntry[] {
    return [...this.running.values()].map((r) => r.entry);
  }

  get isBusy(): boolean {
    return this.pending > 0;
  }

  entryFor(folder: vscode.WorkspaceFolder): ServerEntry | undefined {
    return this.running.get(keyOf(folder))?.entry;
  }

  /** Starts the server for `folder` (asking which when there are several), or reports the one running. */
  async start(folder?: vscode.WorkspaceFolder): Promise<StartResult | undefined> {
    folder ??= await pickFolder(vscode.workspace.workspaceFolders ?? [], 'Start Echo Preview for which folder?');
    if (!folder) return undefined;
    const target = folder;
    return this.exclusive(target, async () => {
      // Checked inside the queue: a second Start waits for the first and then finds its server.
      const existing = this.entryFor(target);
      if (existing) {
        void vscode.window.showInformationMessage(`Echo Preview is already running for ${target.name} on port ${existing.server.port}.`);
        return { entry: existing, started: false };
      }
      const entry = await this.doStart(target);
      return entry && { entry, started: true };
    });
  }

  async stop(folder?: vscode.WorkspaceFolder): Promise<boolean> {
    folder ??= await this.pickRunning('Stop Echo Preview for which folder?');
    if (!folder) return false;
    const target = folder;
    return this.exclusive(target, () => this.doStop(target));
  }

  async restart(folder?: vscode.WorkspaceFolder): Promise<ServerEntry | undefined> {
    if (!folder && this.running.size === 0) return (await this.start())?.entry;
    folder ??= await this.pickRunning('Restart Echo Preview for which folder?');
    if (!folder) return undefined;
    const target = folder;
    return this.exclusive(target, async () => {
      await this.doStop(target);
      return this.doStart(target);
    });
  }

  /**
   * The server's address as the user's browser reaches it, asked of the editor each time (its
   * documentation says not to keep the answer). The forwarded host and origin are accepted by
   * the server from then on: pages opened through the editor's forwarding are ours.
   */
  async externalAddress(entry: ServerEntry): Promise<ExternalAddress> {
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(entry.server.url));
    const url = external.toString(true);
    const parsed = new URL(url);
    entry.server.allowHost(parsed.hostname);
    entry.server.allowOrigin(parsed.origin);
    return { url, wsUrl: wsUrlFor(url, entry.server.wsPath) };
  }

  /**
   * Accepts WebSocket upgrades from our own message panel's webview origin on `folder`'s server:
   * now, and for every server started for that folder while the registration lasts (so a restarted
   * server knows the panel before it listens).
   */
  allowWebviewOrigin(folder: vscode.WorkspaceFolder, origin: string): vscode.Disposable {
    const grant: OriginGrant = { folderKey: keyOf(folder), origin, onServer: this.entryFor(folder)?.server.allowOrigin(origin) };
    this.webviewOrigins.add(grant);
    return {
      dispose: () => {
        this.webviewOrigins.delete(grant);
        grant.onServer?.dispose();
      },
    };
  }

  /** Asks which running server is meant when there are several; undefined when none runs. */
  async pickRunning(title: string): Promise<vscode.WorkspaceFolder | undefined> {
    const running = this.entries;
    if (running.length === 0) {
      void vscode.window.showInformationMessage('No Echo Preview server is running.');
      return undefined;
    }
    return pickFolder(
      running.map((e) => e.folder),
      title,
    );
  }

  /** Stops every server, after any start in flight; resolves once every port is free. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.announceShutdown();
      await Promise.all([...this.queues.values()]);
      await Promise.all([...this.running.values()].map(({ entry }) => this.exclusive(entry.folder, () => this.doStop(entry.folder))));
    })();
    return this.shuttingDown;
  }

  dispose(): void {
    void this.shutdown();
    for (const d of this.disposables) d.dispose();
  }

  /** Runs `work` after everything queued for `folder` before it. */
  private async exclusive<T>(folder: vscode.WorkspaceFolder, work: () => Promise<T>): Promise<T> {
    const key = keyOf(folder);
    const run = (this.queues.get(key) ?? Promise.resolve()).then(work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    this.pending++;
    this.changed.fire();
    try {
      return await run;
    } finally {
      this.pending--;
      if (this.queues.get(key) === tail) this.queues.delete(key);
      this.changed.fire();
    }
  }

  private get isShuttingDown(): boolean {
    return this.shuttingDown !== undefined;
  }

  private async doStart(folder: vscode.WorkspaceFolder): Promise<ServerEntry | undefined> {
    if (this.isShuttingDown) return undefined;
    const settings = readSettings(folder);
    if ('error' in settings) return this.fail(settings.error, true);
    const { options } = settings;
    // A problem shown from an earlier start goes; this start shows its own, if any.
    this.diagnostics.set(keyOf(folder), undefined);
    let allowLan = false;
    if (!isLoopbackHost(options.host)) {
      const choice = await Promise.race([
        vscode.window.showWarningMessage(
          `echoPreview.host is ${options.host}: other machines on the network will be able to read ${folder.name}.`,
          { modal: true },
          'Start Anyway',
        ),
        this.shutdownBegun,
      ]);
      if (choice !== 'Start Anyway' || this.isShuttingDown) return undefined;
      allowLan = true;
    }
    const buffers = settings.reloadOnType ? new UnsavedBuffers(options.root) : undefined;
    const server = await this.listen(folder, { ...options, allowLan, overlay: buffers });
    if (!server) {
      buffers?.dispose();
      return undefined;
    }
    buffers?.attach(server);
    // Granted before this continuation yields, so before the server handles any handshake: the
    // panel of this folder may connect the moment the port opens.
    for (const grant of this.webviewOrigins) {
      if (grant.folderKey === keyOf(folder)) grant.onServer = server.allowOrigin(grant.origin);
    }
    if (this.isShuttingDown) {
      await server.close();
      buffers?.dispose();
      return undefined;
    }
    if (server.port !== options.port && options.port !== 0) {
      void vscode.window.showInformationMessage(
        `Port ${options.port} is in use, so Echo Preview is serving ${folder.name} on port ${server.port}. Your settings are unchanged.`,
      );
    }
    const entry: ServerEntry = { folder, server, id: ++this.lastId, openOnStart: settings.openOnStart };
    const listener = server.events.on((event) => {
      this.log.event(folder.name, event);
      if (event.type === 'client-open' || event.type === 'client-close') this.changed.fire();
    });
    const configListener = server.onConfig((state) => this.configChanged(folder, state));
    this.running.set(keyOf(folder), { entry, listener, configListener, buffers });
    this.lastError = undefined;
    // Asked once now so the forwarded address is set up and accepted; asked again whenever used.
    const external = await this.externalAddress(entry).catch(() => undefined);
    this.log.info(`Serving ${server.root} at ${server.url} (WebSocket ${server.wsUrl}${external ? `; opened as ${external.url}` : ''})`);
    this.log.info(`[${folder.name}] ${describeConfig(server.config)}`);
    if (server.config.file !== undefined && options.wsPath !== DEFAULTS.wsPath) {
      this.log.warn(`[${folder.name}] echoPreview.websocketPath is ignored: ${server.config.file} defines the endpoints`);
    }
    return entry;
  }

  /**
   * Listens on the configured port, else one of the next PORT_ATTEMPTS ports, else any free one.
   * Every failed attempt has released what it took (startServer's contract); only the last
   * failure is reported.
   */
  private async listen(folder: vscode.WorkspaceFolder, options: ServerOptions & { port: number }): Promise<RunningServer | undefined> {
    let port = options.port;
    for (let attempt = 0; ; attempt++) {
      try {
        return await loadCore().startServer({ ...options, port });
      } catch (error) {
        if (!(error instanceof loadCore().StartError)) return this.fail(`Echo Preview could not start: ${String(error)}`, false);
        // A problem of the file as a whole (gone since the settings were read, unreadable) that echoPreview.configFile chose names the setting.
        const bySetting = options.configFile !== undefined && error.problem?.line === undefined ? 'The setting echoPreview.configFile names ' : '';
        if (error.code === 'CONFIG_MISSING') return this.fail(`${bySetting}${error.message}`, true);
        if (error.code === 'CONFIG_INVALID' && error.problem) {
          return this.failConfig(folder, error.problem, `${bySetting}${error.message}`, { proxyBeyondLoopback: options.proxyBeyondLoopback ?? true });
        }
        if (error.code !== 'PORT_IN_USE' || port === 0 || this.isShuttingDown) return this.fail(error.message, error.code.startsWith('ROOT'));
        this.log.info(`${error.message} Trying another port.`);
        port = attempt < PORT_ATTEMPTS && port < 65535 ? port + 1 : 0;
      }
    }
  }

  private async doStop(folder: vscode.WorkspaceFolder): Promise<boolean> {
    const running = this.running.get(keyOf(folder));
    if (!running) return false;
    await running.entry.server.close();
    running.listener.dispose();
    running.buffers?.dispose();
    running.configListener.dispose();
    this.diagnostics.set(keyOf(folder), undefined);
    this.running.delete(keyOf(folder));
    this.log.info(`Stopped the server for ${folder.name} (port ${running.entry.server.port} is free).`);
    return true;
  }

  private fail(message: string, offerSettings: boolean): undefined {
    if (this.isShuttingDown) return undefined;
    this.lastError = message;
    this.log.error(message);
    const actions = offerSettings ? ['Open Settings', 'Show Log'] : ['Show Log'];
    void vscode.window.showErrorMessage(message, ...actions).then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'echoPreview');
      if (choice === 'Show Log') this.log.show();
    });
    return undefined;
  }

  /** A config file broken at start: in the Problems view, and an error offering to open it. */
  private failConfig(folder: vscode.WorkspaceFolder, problem: ConfigProblem, message: string, env: CheckEnvironment): undefined {
    if (this.isShuttingDown) return undefined;
    // Checked as the server would at its next start; a removed file is no problem then.
    this.diagnostics.setUntilFixed(keyOf(folder), problem, loadCore().followConfig(problem, env));
    this.lastError = message;
    this.log.error(`[${folder.name}] ${formatProblem(problem)} (the server did not start)`);
    void vscode.window.showErrorMessage(`Echo Preview did not start: ${message}`, 'Open Config', 'Show Log').then((choice) => {
      if (choice === 'Open Config') void openConfig(problem);
      if (choice === 'Show Log') this.log.show();
    });
    return undefined;
  }

  /** A running server's config changed (applied, refused or removed): the Problems view and the status bar (the log has its event). */
  private configChanged(folder: vscode.WorkspaceFolder, state: ConfigState): void {
    this.diagnostics.set(keyOf(folder), state.problem, true);
    this.changed.fire();
  }

  /** One prompt per affected server, all at once; each is about the server instance it names. */
  private offerRestart(event: vscode.ConfigurationChangeEvent): void {
    for (const entry of this.entries) {
      // echoPreview.preview.* are the preview panel's own and apply at once: no restart for them.
      if (event.affectsConfiguration('echoPreview.preview', entry.folder.uri) && !affectsServer(event, entry.folder.uri)) continue;
      if (event.affectsConfiguration('echoPreview', entry.folder.uri)) void this.promptRestart(entry);
    }
  }

  private async promptRestart(asked: ServerEntry): Promise<void> {
    const { folder } = asked;
    const choice = await vscode.window.showInformationMessage(
      `Echo Preview settings changed. Restart the server for ${folder.name} to apply them?`,
      'Restart',
    );
    if (choice !== 'Restart' || this.isShuttingDown) return;
    await this.exclusive(folder, async () => {
      // An old notification answered late: the server it asked about was stopped or restarted
      // since (a restarted one already has the new settings), so there is nothing to do.
      if (this.entryFor(folder) !== asked) {
        this.log.info(`Not restarting ${folder.name}: the server the prompt was about has stopped since.`);
        return;
      }
      await this.doStop(folder);
      await this.doStart(folder);
    });
  }
}

/** Settings of the panels, not of the server (they apply without a restart). */
const EDITOR_ONLY_SETTINGS = ['preview.followActiveFile'];

/** Whether `event` touches an echoPreview setting other than the editor-only ones (best effort: the event lists no keys). */
function affectsServer(event: vscode.ConfigurationChangeEvent, uri: vscode.Uri): boolean {
  const keys = Object.keys(vscode.workspace.getConfiguration('echoPreview', uri)).filter((k) => !EDITOR_ONLY_SETTINGS.some((e) => k === e || e.startsWith(`${k}.`)));
  return keys.some((k) => event.affectsConfiguration(`echoPreview.${k}`, uri));
}

function keyOf(folder: vscode.WorkspaceFolder): string {
  return folder.uri.toString();
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
