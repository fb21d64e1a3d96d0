/**
 * Wires the editor to the core: registers commands, the status bar, the log and the panel
 * serializer, and returns a small API for tests. Activated only by its commands and the panel.
 */
import * as vscode from 'vscode';
import { Controller, pickFolder, type ServerEntry } from './controller';
import { createDemoFiles } from './demoFiles';
import { Log } from './log';
import { MessagePanel, PANEL_VIEW_TYPE, type PanelStatus } from './panel/messagePanel';
import { readSettings } from './settings';
import { QUICK_ACTIONS_COMMAND, StatusBar, showQuickActions } from './statusBar';

export interface ServerInfo {
  folder: string;
  url: string;
  wsUrl: string;
  port: number;
  externalUrl: string;
  externalWsUrl: string;
  clients: number;
}

/** What `activate` returns: enough for tests to check commands from outside. */
export interface EchoPreviewApi {
  servers(): ServerInfo[];
  readonly onDidChangeServers: vscode.Event<void>;
  statusBarText(): string;
  panelStatus(): PanelStatus | undefined;
  /** Sends from the panel's own WebSocket; resolves with the reply the panel shows. */
  sendFromPanel(text: string): Promise<string>;
  lastOpenedInBrowser(): string | undefined;
}

let controller: Controller | undefined;

export function activate(context: vscode.ExtensionContext): EchoPreviewApi {
  const log = new Log();
  controller = new Controller(log);
  const ctl = controller;
  const statusBar = new StatusBar(ctl);
  const extensionUri = context.extensionUri;
  let openedInBrowser: string | undefined;

  const folderOf = (uri?: vscode.Uri): vscode.WorkspaceFolder | undefined => (uri instanceof vscode.Uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined);

  /** The server for `uri`'s folder; the only/picked running one; or a newly started one. */
  async function ensureRunning(uri?: vscode.Uri): Promise<ServerEntry | undefined> {
    const folder = folderOf(uri);
    if (folder) return ctl.entryFor(folder) ?? ctl.start(folder);
    if (ctl.running.length === 1) return ctl.running[0];
    if (ctl.running.length > 1) {
      const picked = await ctl.pickRunning('Which server?');
      return picked && ctl.entryFor(picked);
    }
    return ctl.start();
  }

  function openPanel(entry: ServerEntry): void {
    MessagePanel.show(extensionUri, ctl, entry);
  }

  async function openInBrowser(entry: ServerEntry): Promise<void> {
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(entry.server.url));
    openedInBrowser = external.toString(true);
    log.info(`Opening ${openedInBrowser} in the browser`);
    const opened = await vscode.env.openExternal(external);
    if (!opened) void vscode.window.showWarningMessage(`Could not open a browser. The page is at ${openedInBrowser}`);
  }

  async function afterStart(entry: ServerEntry | undefined): Promise<void> {
    if (!entry) return;
    if (entry.openOnStart === 'panel') openPanel(entry);
    else if (entry.openOnStart === 'browser') await openInBrowser(entry);
  }

  const commands: Record<string, (uri?: vscode.Uri) => unknown> = {
    'echoPreview.start': async (uri) => {
      const folder = folderOf(uri);
      const alreadyRunning = folder ? ctl.entryFor(folder) : undefined;
      const entry = await ctl.start(folder);
      if (!alreadyRunning) await afterStart(entry);
      return entry?.server.url;
    },
    'echoPreview.stop': (uri) => ctl.stop(folderOf(uri)),
    'echoPreview.restart': async (uri) => (await ctl.restart(folderOf(uri)))?.server.url,
    'echoPreview.openPanel': async (uri) => {
      const entry = await ensureRunning(uri);
      if (entry) openPanel(entry);
    },
    'echoPreview.openInBrowser': async (uri) => {
      const entry = await ensureRunning(uri);
      if (entry) await openInBrowser(entry);
    },
    'echoPreview.copyUrl': async (uri) => {
      const entry = await ensureRunning(uri);
      if (!entry) return;
      await vscode.env.clipboard.writeText(entry.externalUrl);
      void vscode.window.showInformationMessage(`Copied ${entry.externalUrl}`);
    },
    'echoPreview.createDemo': async (uri) => {
      // A folder given (explorer context, tests) is the target; otherwise the served root of
      // the workspace folder the person picks.
      let target = uri instanceof vscode.Uri ? uri : undefined;
      if (!target) {
        const folder = await pickFolder(vscode.workspace.workspaceFolders ?? [], 'Create the demo files in which folder?');
        if (!folder) return [];
        const settings = readSettings(folder);
        target = 'error' in settings ? folder.uri : vscode.Uri.file(settings.options.root);
      }
      const written = await createDemoFiles(extensionUri, target);
      if (written.length > 0) {
        log.info(`Created ${written.join(', ')} in ${target.fsPath}`);
        const folder = vscode.workspace.getWorkspaceFolder(target);
        void vscode.window.showInformationMessage(`Created ${written.join(' and ')} in ${target.fsPath}.`, ...(folder ? ['Start Server'] : [])).then((choice) => {
          if (choice && folder) void vscode.commands.executeCommand('echoPreview.start', folder.uri);
        });
      }
      return written;
    },
    'echoPreview.showLog': () => log.show(),
    [QUICK_ACTIONS_COMMAND]: () => showQuickActions(ctl),
  };
  for (const [id, handler] of Object.entries(commands)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
  context.subscriptions.push(
    log,
    ctl,
    statusBar,
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: { folderUri?: string } | undefined) => {
        MessagePanel.revive(panel, extensionUri, ctl, state);
      },
    }),
    { dispose: () => MessagePanel.instance?.dispose() },
  );

  return {
    servers: () =>
      ctl.running.map((e) => ({
        folder: e.folder.uri.fsPath,
        url: e.server.url,
        wsUrl: e.server.wsUrl,
        port: e.server.port,
        externalUrl: e.externalUrl,
        externalWsUrl: e.externalWsUrl,
        clients: e.server.clientCount,
      })),
    onDidChangeServers: ctl.onDidChange,
    statusBarText: () => statusBar.text,
    panelStatus: () => MessagePanel.instance?.panelStatus,
    sendFromPanel: (text) => {
      const panel = MessagePanel.instance;
      return panel ? panel.sendFromPanel(text) : Promise.reject(new Error('The message panel is not open.'));
    },
    lastOpenedInBrowser: () => openedInBrowser,
  };
}

/** Resolves once every server has closed and its port is free. */
export async function deactivate(): Promise<void> {
  await controller?.stopAll();
  controller = undefined;
}
