/**
 * The message panel: a webview that is a real WebSocket client of the server. The extension tells
 * it where to connect (the forwarded address from asExternalUri) and registers the webview's own
 * origin with the server's guard; everything else (sending, the log, reconnecting) happens in
 * media/panel/panel.js. One panel at a time, following one workspace folder's server.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Controller, ServerEntry } from '../controller';

export const PANEL_VIEW_TYPE = 'echoPreview.messagePanel';

/** What the webview reports about itself; also what the extension's API shows tests. */
export interface PanelStatus {
  connection: 'connecting' | 'open' | 'closed' | 'stopped';
  lastReply: string;
  sent: number;
  received: number;
}

interface PanelState {
  folderUri?: string;
}

type FromWebview =
  | { type: 'ready'; origin: string }
  | { type: 'status'; status: PanelStatus }
  | { type: 'received'; text: string }
  | { type: 'openInBrowser' }
  | { type: 'copyUrl' };

export class MessagePanel implements vscode.Disposable {
  private static current: MessagePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private folderUri: string | undefined;
  /** The WebSocket URL the current HTML allows in its CSP; a different one needs new HTML. */
  private renderedWsUrl: string | undefined | null = null;
  private webviewOrigin: string | undefined;
  private status: PanelStatus | undefined;
  private readonly replyWaiters: Array<(text: string) => void> = [];

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
    MessagePanel.current = new MessagePanel(panel, extensionUri, controller, state?.folderUri);
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
      panel.webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(message)),
      controller.onDidChange(() => this.sync()),
    );
    this.sync();
  }

  get panelStatus(): PanelStatus | undefined {
    return this.status;
  }

  /** Sends `text` from the panel's own WebSocket and resolves with the reply the panel received. */
  sendFromPanel(text: string): Promise<string> {
    return new Promise((resolve) => {
      this.replyWaiters.push(resolve);
      void this.panel.webview.postMessage({ type: 'send', text });
    });
  }

  private get entry(): ServerEntry | undefined {
    const running = this.controller.running;
    return running.find((e) => e.folder.uri.toString() === this.folderUri) ?? (this.folderUri ? undefined : running[0]);
  }

  private follow(folderUri: string): void {
    this.folderUri = folderUri;
    this.sync();
  }

  /** Re-renders when the allowed WebSocket URL changes (CSP), otherwise just tells the page. */
  private sync(): void {
    const entry = this.entry;
    const wsUrl = entry?.externalWsUrl;
    this.panel.title = entry ? `Echo Preview: ${entry.folder.name}` : 'Echo Preview';
    if (wsUrl !== this.renderedWsUrl) {
      this.renderedWsUrl = wsUrl;
      this.webviewOrigin = undefined;
      this.panel.webview.html = this.html(wsUrl);
      return; // the page says 'ready' once loaded, and is told where to connect then
    }
    this.postTarget();
  }

  private postTarget(): void {
    const entry = this.entry;
    if (entry && this.webviewOrigin) entry.server.allowOrigin(this.webviewOrigin);
    void this.panel.webview.postMessage(
      entry
        ? { type: 'target', running: true, wsUrl: entry.externalWsUrl, url: entry.externalUrl, folder: entry.folder.name, folderUri: entry.folder.uri.toString() }
        : { type: 'target', running: false, folderUri: this.folderUri },
    );
  }

  private onMessage(message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        // In desktop VS Code this is vscode-webview://…, which the guard accepts anyway; in a
        // browser-hosted editor it is the editor's own origin, which the server must learn.
        this.webviewOrigin = message.origin;
        this.postTarget();
        return;
      case 'status':
        this.status = message.status;
        return;
      case 'received':
        this.replyWaiters.shift()?.(message.text);
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
    const csp = [
      "default-src 'none'",
      `connect-src ${wsUrl ?? "'none'"}`,
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
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
    if (MessagePanel.current === this) MessagePanel.current = undefined;
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
