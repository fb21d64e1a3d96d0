/**
 * The message panel: a webview that is a real WebSocket client of the server. The extension tells
 * it where to connect (the forwarded address, asked of the editor each time) and registers the
 * webview's own origin with the controller before the page is told to connect; everything else
 * (sending, the log, reconnecting) happens in media/panel/panel.js. One panel at a time,
 * following one workspace folder's server.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Controller, ExternalAddress, ServerEntry } from '../controller';
import { connectSource, panelCsp } from './csp';

export const PANEL_VIEW_TYPE = 'echoPreview.messagePanel';

interface PanelState {
  folderUri?: string;
}

/** What the page sends; checked before use, since it arrives as untyped data. */
type FromWebview = { type: 'ready'; origin: string } | { type: 'openInBrowser' } | { type: 'copyUrl' };

/** An origin as `location.origin` gives it: scheme://host[:port], nothing else. */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@]+$/i;

export class MessagePanel implements vscode.Disposable {
  private static current: MessagePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private folderUri: string | undefined;
  /** The connect-src source the current HTML allows; a different one needs new HTML. */
  private renderedSource: string | undefined | null = null;
  /** The page's origin, from its 'ready' message; undefined until the current HTML has loaded. */
  private webviewOrigin: string | undefined;
  private originGrant: { folderKey: string; origin: string; registration: vscode.Disposable } | undefined;
  /** Bumped by every sync: an older one still waiting on the editor gives way. */
  private syncs = 0;
  /** The server instance the page was last told about (undefined: none running). */
  private syncedEntryId: number | undefined | null = null;
  private disposed = false;

  static get instance(): MessagePanel | undefined {
    return MessagePanel.current;
  }

  /** Shows the panel for `entry`'s folder, creating it when needed. */
  static show(extensionUri: vscode.Uri, controller: Controller, entry: ServerEntry): MessagePanel {
    if (MessagePanel.current) {
      MessagePanel.current.follow(entry.folder.uri.toString());
      MessagePanel.current.panel.reveal(vscode.ViewColumn.Beside);
      return MessagePanel.current;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Echo Preview', vscode.ViewColumn.Beside, webviewOptions(extensionUri));
    MessagePanel.current = new MessagePanel(panel, extensionUri, controller, entry.folder.uri.toString());
    return MessagePanel.current;
  }

  /** Brings a panel back after a window reload (WebviewPanelSerializer). */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, controller: Controller, state: PanelState | undefined): void {
    panel.webview.options = webviewOptions(extensionUri);
    MessagePanel.current?.dispose();
    const folderUri = typeof state?.folderUri === 'string' ? state.folderUri : undefined;
    MessagePanel.current = new MessagePanel(panel, extensionUri, controller, folderUri);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly controller: Controller,
    folderUri: string | undefined,
  ) {
    this.folderUri = folderUri;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'panel', 'icon.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
      // Client counts and busy states change often; the panel needs news only of another server.
      controller.onDidChange(() => {
        if (this.entry?.id !== this.syncedEntryId) void this.sync();
      }),
    );
    void this.sync();
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
   * changes, otherwise tells the page. The page says 'ready' once loaded and is told then.
   */
  private async sync(): Promise<void> {
    const run = ++this.syncs;
    const entry = this.entry;
    this.syncedEntryId = entry?.id;
    let address: ExternalAddress | undefined;
    let source: string | undefined;
    try {
      address = entry && (await this.controller.externalAddress(entry));
      source = address && connectSource(address.wsUrl);
    } catch {
      address = source = undefined; // the editor gave no usable address: shown as not running
    }
    if (run !== this.syncs || this.disposed) return;
    this.panel.title = entry ? `Echo Preview: ${entry.folder.name}` : 'Echo Preview';
    if (source !== this.renderedSource) {
      this.renderedSource = source;
      this.webviewOrigin = undefined;
      this.panel.webview.html = this.html(address?.wsUrl);
      return;
    }
    this.postTarget(entry, address);
  }

  /** Registers the page's origin for `entry`'s server, then says where to connect (in that order). */
  private postTarget(entry: ServerEntry | undefined, address: ExternalAddress | undefined): void {
    if (!this.webviewOrigin) return; // not loaded yet: 'ready' brings us back here
    if (entry && address) {
      this.grantOrigin(entry.folder, this.webviewOrigin);
      void this.panel.webview.postMessage({
        type: 'target',
        running: true,
        wsUrl: address.wsUrl,
        url: address.url,
        folder: entry.folder.name,
        folderUri: entry.folder.uri.toString(),
      });
    } else {
      void this.panel.webview.postMessage({ type: 'target', running: false, folderUri: this.folderUri });
    }
  }

  /** Our page's origin is accepted by the followed folder's servers, and by no other folder's. */
  private grantOrigin(folder: vscode.WorkspaceFolder, origin: string): void {
    const folderKey = folder.uri.toString();
    if (this.originGrant?.folderKey === folderKey && this.originGrant.origin === origin) return;
    this.originGrant?.registration.dispose();
    this.originGrant = { folderKey, origin, registration: this.controller.allowWebviewOrigin(folder, origin) };
  }

  private onMessage(raw: unknown): void {
    const message = raw as Partial<FromWebview> | null;
    switch (message?.type) {
      case 'ready':
        // In desktop VS Code this is the panel's own vscode-webview://<id>; in a browser-hosted
        // editor it is the editor's origin. Either way the server accepts it only once told.
        if (typeof message.origin !== 'string' || !ORIGIN.test(message.origin)) return;
        this.webviewOrigin = message.origin;
        void this.sync();
        return;
      case 'openInBrowser':
        void vscode.commands.executeCommand('echoPreview.openInBrowser', this.entry?.folder.uri);
        return;
      case 'copyUrl':
        void vscode.commands.executeCommand('echoPreview.copyUrl', this.entry?.folder.uri);
        return;
    }
  }

  private html(wsUrl: string | undefined): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const media = (file: string): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'panel', file)).toString();
    const csp = panelCsp({ wsUrl, cspSource: webview.cspSource, nonce });
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('panel.css')}">
<title>Echo Preview</title>
</head>
<body>
<header>
  <span id="badge" class="badge" role="status" aria-live="polite">Connecting…</span>
  <span id="target" class="target"></span>
  <span class="actions">
    <button id="open" type="button" class="secondary" title="Open the served page in the browser">Open in Browser</button>
    <button id="copy" type="button" class="secondary" title="Copy the page URL">Copy URL</button>
  </span>
</header>
<main>
  <form id="form" autocomplete="off">
    <label for="msgbox">Message:</label>
    <input id="msgbox" type="text" aria-describedby="hint">
    <button id="send" type="submit">Send</button>
    <span id="hint" class="hint">Enter sends</span>
  </form>
  <h2 id="replytxt" aria-live="polite" aria-label="Latest reply"></h2>
  <section aria-labelledby="log-title">
    <div class="log-head">
      <h3 id="log-title">Messages</h3>
      <button id="clear" type="button" class="secondary">Clear</button>
    </div>
    <table id="log">
      <thead><tr><th scope="col">Time</th><th scope="col">Direction</th><th scope="col">Size</th><th scope="col">Kind</th><th scope="col">Data</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script nonce="${nonce}" src="${media('panel.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (MessagePanel.current === this) MessagePanel.current = undefined;
    this.originGrant?.registration.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: true, // keeps the socket and its log while the tab is in the background
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media', 'panel')],
  };
}
