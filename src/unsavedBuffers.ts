/**
 * echoPreview.reloadOnType: the editor's unsaved documents in the served folder as the server's
 * content overlay (served instead of the file, as UTF-8), and each edit told to the server
 * (RunningServer.changed) once typing pauses, so the pages reload as you type. A save, an undo
 * back to the saved text or closing the document drops the entry: the file is served again.
 */
import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ContentOverlay, RunningServer } from './core/server';

/** How long typing pauses before the pages reload (the server then debounces its own batch). */
export const TYPING_PAUSE_MS = 300;

export class UnsavedBuffers implements ContentOverlay, vscode.Disposable {
  /** Real path → the document's text, encoded. */
  private readonly texts = new Map<string, Buffer>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[];
  private readonly root: string;
  private server: RunningServer | undefined;

  constructor(root: string) {
    this.root = realOf(root) ?? root;
    this.disposables = [
      vscode.workspace.onDidChangeTextDocument((e) => this.update(e.document)),
      vscode.workspace.onDidSaveTextDocument((document) => this.drop(document, false)),
      vscode.workspace.onDidCloseTextDocument((document) => this.drop(document, true)),
    ];
    for (const document of vscode.workspace.textDocuments) if (document.isDirty) this.update(document);
  }

  /** The server these buffers are served by: told of each change from now on. */
  attach(server: RunningServer): void {
    this.server = server;
  }

  read(realPath: string): Buffer | undefined {
    return this.texts.get(realPath);
  }

  private update(document: vscode.TextDocument): void {
    const real = this.realPathOf(document);
    if (real === undefined) return;
    if (document.isDirty) this.texts.set(real, Buffer.from(document.getText(), 'utf8'));
    else if (!this.texts.delete(real)) return; // undone to the saved text: the file again
    this.schedule(real);
  }

  /** Saved (the watcher sees the file change) or closed (the file on disk applies again). */
  private drop(document: vscode.TextDocument, announce: boolean): void {
    const real = this.realPathOf(document);
    if (real !== undefined && this.texts.delete(real) && announce) this.schedule(real);
  }

  private schedule(real: string): void {
    clearTimeout(this.timers.get(real));
    this.timers.set(
      real,
      setTimeout(() => {
        this.timers.delete(real);
        this.server?.changed([real]);
      }, TYPING_PAUSE_MS),
    );
  }

  /** The document's real path when it is a file on disk inside the served folder. */
  private realPathOf(document: vscode.TextDocument): string | undefined {
    if (document.uri.scheme !== 'file') return undefined;
    const real = realOf(document.uri.fsPath);
    if (real === undefined) return undefined;
    const relative = path.relative(this.root, real);
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? real : undefined;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.texts.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function realOf(file: string): string | undefined {
  try {
    return realpathSync.native(file);
  } catch {
    return undefined; // not on disk (yet, or any more)
  }
}
