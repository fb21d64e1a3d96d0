/**
 * Wires the editor to the core: registers commands, the status bar, the log and the panel
 * serializer (the inspector), and returns a small API. Activated only by its commands and the panel.
 */
import * as vscode from 'vscode';
import { Controller, pickFolder, type ServerEntry } from './controller';
import { CONFIG_FILE_NAME } from '../core/config/state';
import { createDemoFiles, pickDemo } from './demoFiles';
import { Log } from './log';
import { InspectorPanel, PANEL_VIEW_TYPE } from './panels/inspectorPanel';
import { PreviewPanel, pagePathOf, type PreviewTestState } from './panels/previewPanel';
import { readSettings } from './settings';
import { QUICK_ACTIONS_COMMAND, StatusBar, showQuickActions } from './statusBar';
import { DEFAULTS } from '../core/defaults';
import { frameUrlOf } from '../shared/previewAddress';

export interface ServerInfo {
  folder: string;
  /** The server's own address (`http://127.0.0.1:<port>/`); ask `vscode.env.asExternalUri` for the browser's. */
  url: string;
  /** The server's own WebSocket address, percent-encoded. */
  wsUrl: string;
  port: number;
  /** Grows with every server started in this window: a restart gives a new id. */
  id: number;
  clients: number;
  /** Each WebSocket endpoint with its reply mode, as the config in force says. */
  endpoints: Array<{ path: string; mode: string }>;
  /** The config file in force (absolute), or undefined when there is none. */
  configFile: string | undefined;
}

/**
 * What `activate` returns. `servers` and `onDidChangeServers` are the API. `testing` exists for
 * this repository's extension host tests (test/host) only; it is not a stable API and may change
 * in any release (CONTRIBUTING.md).
 */
export interface EchoPreviewApi {
  servers(): ServerInfo[];
  /** Fires when a server starts or stops, a client connects or leaves, or a start or stop begins or ends. */
  readonly onDidChangeServers: vscode.Event<void>;
  readonly testing: {
    /** The status bar item's text, e.g. `$(radio-tower) Echo :8080` (the workbench DOM is out of reach). */
    statusBarText(): string;
    /** The preview panel's frame as its UI last reported it; undefined while no preview is open. */
    preview(): PreviewTestState | undefined;
    /** The status bar item's tooltip (Markdown source), which lists each endpoint with its mode. */
    statusBarTooltip(): string;
  };
}

let controller: Controller | undefined;

export function activate(context: vscode.ExtensionContext): EchoPreviewApi {
  const log = new Log();
  controller = new Controller(log);
  const ctl = controller;
  const statusBar = new StatusBar(ctl);
  const extensionUri = context.extensionUri;

  const folderOf = (uri?: vscode.Uri): vscode.WorkspaceFolder | undefined => (uri instanceof vscode.Uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined);

  /** The server for `uri`'s folder; the only/picked running one; or a newly started one. */
  async function ensureRunning(uri?: vscode.Uri): Promise<ServerEntry | undefined> {
    const folder = folderOf(uri);
    const running = ctl.entries;
    if (folder) return ctl.entryFor(folder) ?? (await ctl.start(folder))?.entry;
    if (running.length === 1) return running[0];
    if (running.length > 1) {
      const picked = await ctl.pickRunning('Which server?');
      return picked && ctl.entryFor(picked);
    }
    return (await ctl.start())?.entry;
  }

  function openPanel(entry: ServerEntry): void {
    InspectorPanel.show(context, ctl, entry);
  }

  /** Opens the served page (`pagePath` under the root, `/` by default) in the person's browser. */
  async function openInBrowser(entry: ServerEntry, pagePath = '/'): Promise<void> {
    const { url: root } = await ctl.externalAddress(entry);
    const url = frameUrlOf(root, pagePath) ?? root;
    log.info(`Opening ${url} in the browser`);
    const opened = await vscode.env.openExternal(vscode.Uri.parse(url, true));
    if (!opened) void vscode.window.showWarningMessage(`Could not open a browser. The page is at ${url}`);
  }

  async function afterStart(entry: ServerEntry): Promise<void> {
    if (entry.openOnStart === 'panel') openPanel(entry);
    else if (entry.openOnStart === 'browser') await openInBrowser(entry);
  }

  const commands: Record<string, (uri?: vscode.Uri, ...rest: unknown[]) => unknown> = {
    'echoPreview.start': async (uri) => {
      const result = await ctl.start(folderOf(uri));
      if (result?.started) await afterStart(result.entry);
      return result?.entry.server.url;
    },
    'echoPreview.stop': (uri) => ctl.stop(folderOf(uri)),
    'echoPreview.restart': async (uri) => (await ctl.restart(folderOf(uri)))?.server.url,
    'echoPreview.openPanel': async (uri) => {
      const entry = await ensureRunning(uri);
      if (entry) openPanel(entry);
    },
    'echoPreview.openPreview': async (uri) => {
      const entry = await ensureRunning(uri);
      if (!entry) return;
      // The file asked for (a menu on an HTML file), else the HTML file being edited, else the root.
      const editor = vscode.window.activeTextEditor?.document.uri;
      const target = uri instanceof vscode.Uri ? uri : editor;
      PreviewPanel.show(context, ctl, { openInBrowser }, entry, target && pagePathOf(entry, target));
    },
    'echoPreview.openInBrowser': async (uri) => {
      const entry = await ensureRunning(uri);
      if (entry) await openInBrowser(entry);
    },
    'echoPreview.copyUrl': async (uri) => {
      const entry = await ensureRunning(uri);
      if (!entry) return;
      const { url } = await ctl.externalAddress(entry);
      await vscode.env.clipboard.writeText(url);
      void vscode.window.showInformationMessage(`Copied ${url}`);
    },
    'echoPreview.createDemo': async (uri, which?: unknown) => {
      // A folder given (explorer context, tests) is the target; otherwise the served root of
      // the workspace folder the person picks. A demo kind given (tests) is not asked for.
      let target = uri instanceof vscode.Uri ? uri : undefined;
      if (!target) {
        const picked = await pickFolder(vscode.workspace.workspaceFolders ?? [], 'Create the demo files in which folder?');
        if (!picked) return [];
        const settings = readSettings(picked);
        target = 'error' in settings ? picked.uri : vscode.Uri.file(settings.options.root);
      }
      const kind = which === 'echo' || which === 'chat' ? which : await pickDemo();
      if (!kind) return [];
      const folder = vscode.workspace.getWorkspaceFolder(target);
      const read = folder && readSettings(folder);
      const settings = read && !('error' in read) ? read : undefined;
      // The page talks to the endpoint its folder's server will have (an unusable setting: the
      // default); the chat config goes where that server reads it (outside a workspace folder: beside the page).
      const wsPath = settings?.options.wsPath ?? DEFAULTS.wsPath;
      const configFile = settings ? vscode.Uri.file(settings.configPath) : vscode.Uri.joinPath(target, CONFIG_FILE_NAME);
      const written = await createDemoFiles(extensionUri, kind, { folder: target, wsPath, configFile });
      if (written.length > 0) {
        log.info(`Created ${written.join(', ')} in ${target.fsPath} (WebSocket path ${wsPath})`);
        const page = kind === 'chat' ? ' Open chat.html in two tabs to chat.' : '';
        void vscode.window.showInformationMessage(`Created ${written.join(' and ')} in ${target.fsPath}.${page}`, ...(folder ? ['Start Server'] : [])).then((choice) => {
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
        InspectorPanel.revive(panel, context, ctl, state);
      },
    }),
    { dispose: () => InspectorPanel.instance?.dispose() },
    vscode.window.onDidChangeActiveTextEditor((editor) => PreviewPanel.instance?.followEditor(editor)),
    { dispose: () => PreviewPanel.instance?.dispose() },
  );

  return {
    servers: () =>
      ctl.entries.map((e) => ({
        folder: e.folder.uri.fsPath,
        url: e.server.url,
        wsUrl: new URL(e.server.wsUrl).href,
        port: e.server.port,
        id: e.id,
        clients: e.server.clientCount,
        endpoints: e.server.config.endpoints.map(({ path, mode }) => ({ path, mode })),
        configFile: e.server.config.file,
      })),
    onDidChangeServers: ctl.onDidChange,
    testing: { statusBarText: () => statusBar.text, statusBarTooltip: () => statusBar.tooltip, preview: () => PreviewPanel.instance?.testState },
  };
}

/**
 * Resolves once every server, including one still starting, has closed and its port is free.
 * VS Code disposes the subscriptions (the log among them) right after calling this, without
 * waiting: what still runs then logs nowhere.
 */
export async function deactivate(): Promise<void> {
  await controller?.shutdown();
  controller = undefined;
}
