/**
 * The inspector panel: a webview hosting the inspector UI (dist/inspector.js). It relays the
 * followed server's capture to the UI in batches (each postMessage awaited, so a busy webview is
 * sent no more than it takes), carries the UI's requests back to the capture and the clients,
 * and registers the webview's origin with the controller before the UI's own client connects.
 * One panel at a time, following one workspace folder's server; it survives hiding and (through
 * its serializer) a window reload, restoring from the capture, not from webview state.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { wsUrlFor, type Controller, type ExternalAddress, type ServerEntry } from '../controller';
import type { Capture, ClientControl } from '../../core/capture/capture';
import type { Disposable } from '../../core/events/events';
import type { RunningServer } from '../../core/server';
import { loadCore } from '../core';
import {
  CONFIG_ELEMENT_ID,
  parseInspectorRequest,
  parsePanelRequest,
  savedMessagesOf,
  type HostMessage,
  type InspectorConfig,
  type PanelHostMessage,
  type PanelRequest,
} from '../../shared/protocol';
import { connectSource, panelCsp } from './csp';
import { OriginGrant } from './originGrant';
import { webviewPage } from './webviewPage';

export const PANEL_VIEW_TYPE = 'echoPreview.messagePanel';
const SAVED_KEY = 'echoPreview.savedMessages';

interface PanelState {
  folderUri?: string;
}

/** The capture and client API of a server (RunningServer has them once the capture tap is in). */
function inspectable(server: RunningServer): { capture: Capture; control: ClientControl } | undefined {
  const parts = server as Partial<{ capture: Capture; clients: ClientControl }>;
  return parts.capture && parts.clients ? { capture: parts.capture, control: parts.clients } : undefined;
}

export class InspectorPanel implements vscode.Disposable {
  private static current: InspectorPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private folderUri: string | undefined;
  /** The connect-src source the current HTML allows; a different one needs new HTML. */
  private renderedSource: string | undefined | null = null;
  /** The page's origin, from its webviewOrigin message; undefined until the current HTML has loaded. */
  private webviewOrigin: string | undefined;
  /** Bumped by every sync: an older one still waiting on the editor gives way. */
  private syncs = 0;
  /** The server instance the page was last told about (undefined: none running). */
  private syncedEntryId: number | undefined | null = null;
  /** The endpoint paths the page was last told (a config edit changes them without a new server). */
  private syncedEndpoints: string | undefined;
  /** The UI has said 'ready' since the HTML was last set: it takes batches. */
  private uiReady = false;
  private subscription: { entryId: number; capture: Disposable } | undefined;
  /** Our page's origin is accepted by the followed folder's servers, and by no other folder's. */
  private readonly originGrant: OriginGrant;
  private disposed = false;

  static get instance(): InspectorPanel | undefined {
    return InspectorPanel.current;
  }

  /** Shows the panel for `entry`'s folder, creating it when needed. */
  static show(context: vscode.ExtensionContext, controller: Controller, entry: ServerEntry): InspectorPanel {
    if (InspectorPanel.current) {
      InspectorPanel.current.follow(entry.folder.uri.toString());
      InspectorPanel.current.panel.reveal(vscode.ViewColumn.Beside);
      return InspectorPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Echo Preview Inspector', vscode.ViewColumn.Beside, webviewOptions(context.extensionUri));
    InspectorPanel.current = new InspectorPanel(panel, context, controller, entry.folder.uri.toString());
    return InspectorPanel.current;
  }

  /** Brings a panel back after a window reload (WebviewPanelSerializer). */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, controller: Controller, state: PanelState | undefined): void {
    panel.webview.options = webviewOptions(context.extensionUri);
    InspectorPanel.current?.dispose();
    const folderUri = typeof state?.folderUri === 'string' ? state.folderUri : undefined;
    InspectorPanel.current = new InspectorPanel(panel, context, controller, folderUri);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly controller: Controller,
    folderUri: string | undefined,
  ) {
    this.folderUri = folderUri;
    this.originGrant = new OriginGrant((folder, origin) => controller.allowWebviewOrigin(folder, origin));
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'inspector', 'icon.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: unknown) => void this.onMessage(message)),
      // Client counts and busy states change often; the panel needs news only of another server.
      controller.onDidChange(() => {
        if (this.entry?.id !== this.syncedEntryId || this.endpointPaths() !== this.syncedEndpoints) void this.sync();
      }),
    );
    void this.sync();
  }

  private endpointPaths(): string | undefined {
    return this.entry?.server.config.endpoints.map((e) => e.path).join('\n');
  }

  private get entry(): ServerEntry | undefined {
    const running = this.controller.entries;
    return running.find((e) => e.folder.uri.toString() === this.folderUri) ?? (this.folderUri ? undefined : running[0]);
  }

  private follow(folderUri: string): void {
    this.folderUri = folderUri;
    void this.sync();
  }

  /**
   * Asks the editor where the server is now; re-renders when the allowed WebSocket (the CSP)
   * changes, otherwise tells the page and follows the server's capture.
   */
  private async sync(): Promise<void> {
    const run = ++this.syncs;
    const entry = this.entry;
    this.syncedEntryId = entry?.id;
    this.syncedEndpoints = this.endpointPaths();
    let address: ExternalAddress | undefined;
    let source: string | undefined;
    try {
      address = entry && (await this.controller.externalAddress(entry));
      source = address && connectSource(address.wsUrl);
    } catch {
      address = source = undefined; // the editor gave no usable address: shown as not running
    }
    if (run !== this.syncs || this.disposed) return;
    this.panel.title = entry ? `Inspector: ${entry.folder.name}` : 'Echo Preview Inspector';
    if (source !== this.renderedSource) {
      this.renderedSource = source;
      this.webviewOrigin = undefined;
      this.uiReady = false;
      this.unsubscribe();
      this.panel.webview.html = this.html(entry, address);
      return;
    }
    this.postTarget(entry, address);
    this.followCapture(entry);
  }

  /** Registers the page's origin for `entry`'s server, then says where to connect (in that order). */
  private postTarget(entry: ServerEntry | undefined, address: ExternalAddress | undefined): void {
    if (!this.webviewOrigin) return; // not loaded yet: its webviewOrigin message brings us back here
    if (entry && address) {
      this.originGrant.set(entry.folder, this.webviewOrigin);
      this.post({
        type: 'target',
        running: true,
        endpoints: endpointsOf(entry, address),
        pageUrl: address.url,
        folder: entry.folder.name,
        folderUri: entry.folder.uri.toString(),
      });
    } else {
      this.post({ type: 'target', running: false, endpoints: [], folderUri: this.folderUri });
    }
  }

  /** Subscribes the ready UI to `entry`'s capture (replaying what it holds); a new server replaces the old. */
  private followCapture(entry: ServerEntry | undefined): void {
    if (!this.uiReady) return;
    if (this.subscription && this.subscription.entryId === entry?.id) return;
    this.unsubscribe();
    const parts = entry && inspectable(entry.server);
    if (!entry || !parts) return;
    // Replay: the first batch resets the UI and carries what the ring holds, the rest follow in
    // batches of at most 2,000 frames, each sent once the webview took the one before.
    const capture = parts.capture.subscribe((batch) => this.panel.webview.postMessage({ type: 'batch', batch: loadCore().toBatchDTO(batch) } satisfies HostMessage), { replay: true });
    this.subscription = { entryId: entry.id, capture };
  }

  private unsubscribe(): void {
    this.subscription?.capture.dispose();
    this.subscription = undefined;
  }

  private post(message: HostMessage | PanelHostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const panelRequest = parsePanelRequest(raw);
    if (panelRequest) return this.onPanelRequest(panelRequest);
    const parsed = parseInspectorRequest(raw);
    if (!parsed.ok) {
      const requestId = (raw as { requestId?: unknown } | null)?.requestId;
      if (typeof requestId === 'number') this.post({ type: 'result', requestId, ok: false, error: parsed.error });
      return;
    }
    const request = parsed.request;
    if (request.type === 'ready') {
      // In desktop VS Code the page's origin is vscode-webview://<id>; in a browser-hosted editor
      // it is the editor's origin. Either way the server accepts it only once told (webviewOrigin).
      this.uiReady = true;
      this.post({ type: 'saved', messages: savedMessagesOf(this.context.workspaceState.get(SAVED_KEY)) ?? [] });
      this.unsubscribe();
      this.followCapture(this.entry);
      return;
    }
    const parts = this.entry && inspectable(this.entry.server);
    if (!parts) {
      if ('requestId' in request) this.post({ type: 'result', requestId: request.requestId, ok: false, error: 'No server is running.' });
      return;
    }
    const reply = loadCore().applyInspectorRequest(request, parts.capture, parts.control);
    if (reply) this.post(reply);
  }

  private async onPanelRequest(request: PanelRequest): Promise<void> {
    switch (request.type) {
      case 'webviewOrigin':
        this.webviewOrigin = request.origin;
        await this.sync();
        return;
      case 'saveMessages':
        await this.context.workspaceState.update(SAVED_KEY, request.messages);
        return;
      case 'export':
        this.post(await this.saveExport(request.requestId, request.fileName, request.content));
        return;
      case 'openInBrowser':
        void vscode.commands.executeCommand('echoPreview.openInBrowser', this.entry?.folder.uri);
        return;
      case 'copyUrl':
        void vscode.commands.executeCommand('echoPreview.copyUrl', this.entry?.folder.uri);
        return;
    }
  }

  /** The editor's save dialog, then the file: in the followed folder by default. */
  private async saveExport(requestId: number, fileName: string, content: string): Promise<HostMessage> {
    const folder = this.entry?.folder.uri ?? (this.folderUri ? vscode.Uri.parse(this.folderUri) : vscode.workspace.workspaceFolders?.[0]?.uri);
    const har = fileName.endsWith('.har');
    const uri = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : undefined,
      filters: har ? { HAR: ['har'] } : { 'JSON lines': ['jsonl'] },
      saveLabel: 'Export',
      title: har ? 'Export the capture as HAR' : 'Export the capture as JSON lines',
    });
    if (!uri) return { type: 'result', requestId, ok: false, error: 'Export cancelled.' };
    try {
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
    } catch (error) {
      return { type: 'result', requestId, ok: false, error: `Could not write ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}` };
    }
    return { type: 'result', requestId, ok: true };
  }

  private html(entry: ServerEntry | undefined, address: ExternalAddress | undefined): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const asset = (...parts: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, ...parts)).toString();
    const csp = panelCsp({ wsUrl: address?.wsUrl, cspSource: webview.cspSource, nonce });
    const config: InspectorConfig = {
      host: 'vscode',
      endpoints: entry && address ? endpointsOf(entry, address) : [],
      version: String((this.context.extension.packageJSON as { version?: unknown }).version ?? ''),
      folder: entry?.folder.name,
    };
    return webviewPage({
      title: 'Echo Preview Inspector',
      csp,
      styleUrl: asset('media', 'inspector', 'inspector.css'),
      scriptUrl: asset('dist', 'inspector.js'),
      nonce,
      configId: CONFIG_ELEMENT_ID,
      config,
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (InspectorPanel.current === this) InspectorPanel.current = undefined;
    this.unsubscribe();
    this.originGrant.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/** Each endpoint of `entry`'s server with its URL as the webview reaches it; the first is the one the page's own client opens. */
function endpointsOf(entry: ServerEntry, address: ExternalAddress): Array<{ path: string; url: string }> {
  return entry.server.config.endpoints.map((e) => ({ path: e.path, url: wsUrlFor(address.url, e.path) }));
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: true, // keeps the UI, its socket and its rows while the tab is in the background
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media', 'inspector')],
  };
}
