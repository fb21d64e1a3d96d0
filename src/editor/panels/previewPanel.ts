/**
 * The preview panel: a webview beside the inspector showing the served page in an iframe
 * (dist/preview.js draws the toolbar). The frame's address is asked of the editor
 * (asExternalUri), so it works in code-server and remote windows, and the panel's CSP lets it
 * frame exactly that origin. One panel at a time, following one workspace folder's server; a new
 * server (restart, another port) renders it again at the page it was showing. The UI's own origin
 * is registered with the folder's servers (as the inspector panel's is): the framed page's reload
 * client tells only such a parent where it is.
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Controller, ExternalAddress, ServerEntry } from '../controller';
import { frameUrlOf } from '../../shared/previewAddress';
import { parsePreviewRequest, type PreviewHostMessage, type PreviewRequest } from '../../shared/previewProtocol';
import { OriginGrant } from './originGrant';
import { frameSource, previewHtml } from './previewHtml';

export const PREVIEW_VIEW_TYPE = 'echoPreview.preview';
export const FOLLOW_SETTING = 'preview.followActiveFile';

/** What the panel asks of the extension (one owner for opening pages outside the editor). */
export interface PreviewActions {
  openInBrowser(entry: ServerEntry, path: string): Promise<void>;
}

/** What the host tests read: where the UI last sent the frame, and the origin the CSP lets it frame. */
export interface PreviewTestState {
  folder: string | undefined;
  frameUrl: string | undefined;
  path: string;
  frameSrc: string;
  /** The title the framed page reported (its reload client), if any. */
  pageTitle: string | undefined;
}

/** The URL path of an HTML file under the server's root (`/docs/a%20b.html`), or undefined. */
export function pagePathOf(entry: ServerEntry, uri: vscode.Uri): string | undefined {
  if (uri.scheme !== 'file' || !/\.html?$/i.test(uri.fsPath)) return undefined;
  const root = entry.server.root;
  const candidates = [uri.fsPath];
  try {
    candidates.push(realpathSync.native(uri.fsPath));
  } catch {
    // not on disk (yet): its own path is all there is
  }
  for (const file of candidates) {
    for (const base of new Set([root, safeRealpath(root)])) {
      const relative = path.relative(base, file);
      if (relative && !relative.startsWith('..') && !path.isAbsolute(relative)) return `/${relative.split(path.sep).map(encodeURIComponent).join('/')}`;
    }
  }
  return undefined;
}

function safeRealpath(file: string): string {
  try {
    return realpathSync.native(file);
  } catch {
    return file;
  }
}

export class PreviewPanel implements vscode.Disposable {
  private static current: PreviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The page shown, as its UI last reported it (kept across renders). */
  private path = '/';
  private frameUrl: string | undefined;
  private pageTitle: string | undefined;
  /** The server instance and address the HTML was rendered for (null: not rendered yet). */
  private rendered: string | null = null;
  private renderedSource = "'none'";
  private syncs = 0;
  /** The server instance last synced (null: none yet); client counts and busy states need no sync. */
  private syncedEntryId: number | undefined | null = null;
  /** The UI's origin as it reported it, registered with the followed folder's servers. */
  private readonly originGrant: OriginGrant;
  private disposed = false;

  static get instance(): PreviewPanel | undefined {
    return PreviewPanel.current;
  }

  /** Shows the preview of `entry`'s folder at `pagePath` (or where it was), creating the panel when needed. */
  static show(context: vscode.ExtensionContext, controller: Controller, actions: PreviewActions, entry: ServerEntry, pagePath?: string): PreviewPanel {
    const existing = PreviewPanel.current;
    if (existing) {
      existing.folderUri = entry.folder.uri.toString();
      if (pagePath !== undefined) existing.navigate(pagePath);
      void existing.sync();
      existing.panel.reveal(vscode.ViewColumn.Beside);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, `Preview: ${entry.folder.name}`, vscode.ViewColumn.Beside, {
      enableScripts: true,
      retainContextWhenHidden: true, // the page keeps its state (and its sockets) while the tab is in the background
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media', 'preview')],
    });
    PreviewPanel.current = new PreviewPanel(panel, context, controller, actions, entry.folder.uri.toString(), pagePath ?? '/');
    return PreviewPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly controller: Controller,
    private readonly actions: PreviewActions,
    private folderUri: string,
    pagePath: string,
  ) {
    this.path = pagePath;
    this.originGrant = new OriginGrant((folder, origin) => controller.allowWebviewOrigin(folder, origin));
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'preview', 'icon.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message: unknown) => void this.onMessage(message)),
      controller.onDidChange(() => {
        if (this.entry?.id !== this.syncedEntryId) void this.sync();
      }),
    );
    void this.sync();
  }

  get testState(): PreviewTestState {
    return { folder: this.entry?.folder.uri.fsPath, frameUrl: this.frameUrl, path: this.path, frameSrc: this.renderedSource, pageTitle: this.pageTitle };
  }

  private get entry(): ServerEntry | undefined {
    return this.controller.entries.find((e) => e.folder.uri.toString() === this.folderUri);
  }

  /** Sends the frame to `pagePath` (a path under the served root); the title shown before is no longer the page's. */
  navigate(pagePath: string): void {
    this.path = pagePath;
    this.pageTitle = undefined;
    if (this.rendered !== null) void this.panel.webview.postMessage({ type: 'navigate', path: pagePath } satisfies PreviewHostMessage);
  }

  /** With echoPreview.preview.followActiveFile on: an HTML file opened in the served folder is shown. */
  followEditor(editor: vscode.TextEditor | undefined): void {
    const entry = this.entry;
    if (!editor || !entry) return;
    const uri = editor.document.uri;
    if (vscode.workspace.getWorkspaceFolder(uri)?.uri.toString() !== this.folderUri) return;
    if (!vscode.workspace.getConfiguration('echoPreview', uri).get<boolean>(FOLLOW_SETTING, false)) return;
    const pagePath = pagePathOf(entry, uri);
    if (pagePath !== undefined && pagePath !== this.path.replace(/[?#].*$/, '')) this.navigate(pagePath);
  }

  /** Renders again when the server instance or its address changed; otherwise nothing. */
  private async sync(): Promise<void> {
    const run = ++this.syncs;
    if (this.originGrant.origin !== undefined) this.grantOrigin(this.originGrant.origin); // the followed folder may have changed
    const entry = this.entry;
    this.syncedEntryId = entry?.id;
    let address: ExternalAddress | undefined;
    try {
      address = entry && (await this.controller.externalAddress(entry));
      if (address) frameSource(address.url);
    } catch {
      address = undefined; // the editor gave no usable address: shown as not running
    }
    if (run !== this.syncs || this.disposed) return;
    const key = `${entry?.id}|${address?.url}`;
    if (key === this.rendered) return;
    this.rendered = key;
    const title = entry ? `Preview: ${entry.folder.name}` : 'Echo Preview';
    if (this.panel.title !== title) this.panel.title = title;
    this.frameUrl = this.pageTitle = undefined;
    this.panel.webview.html = this.html(address?.url, vscode.Uri.parse(this.folderUri));
  }

  private async onMessage(raw: unknown): Promise<void> {
    const request: PreviewRequest | undefined = parsePreviewRequest(raw);
    if (!request) return;
    const entry = this.entry;
    switch (request.type) {
      case 'webviewOrigin':
        this.grantOrigin(request.origin);
        return;
      case 'navigated':
        this.path = request.path;
        this.frameUrl = request.url;
        // Not shown as the panel's title: in code-server, retitling the panel right after the
        // framed page loads left the webview deaf to every later postMessage.
        this.pageTitle = request.title;
        return;
      case 'openInBrowser':
        if (entry) await this.actions.openInBrowser(entry, request.path);
        return;
      case 'start': {
        const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(this.folderUri));
        if (folder) await this.controller.start(folder);
        return;
      }
    }
  }

  /** The UI's origin is a parent the followed folder's servers talk to (and no other folder's). */
  private grantOrigin(origin: string): void {
    this.originGrant.set(vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(this.folderUri)), origin);
  }

  private html(base: string | undefined, folderUri: vscode.Uri): string {
    const webview = this.panel.webview;
    const asset = (...parts: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, ...parts)).toString();
    this.renderedSource = base === undefined ? "'none'" : frameSource(base);
    const startPath = base !== undefined && frameUrlOf(base, this.path) !== undefined ? this.path : '/';
    return previewHtml({
      config: { base, path: startPath, folder: vscode.workspace.getWorkspaceFolder(folderUri)?.name },
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      styleUrl: asset('media', 'preview', 'preview.css'),
      scriptUrl: asset('dist', 'preview.js'),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (PreviewPanel.current === this) PreviewPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.originGrant.dispose();
    this.panel.dispose();
  }
}
