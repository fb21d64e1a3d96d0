/**
 * echoPreview.reloadOnType: the editor's unsaved documents in the served folder as the server's
 * content overlay (served instead of the file, as UTF-8), and each edit told to the server
 * (RunningServer.changed) once typing pauses, so the pages reload as you type. A save, an undo
 * back to the saved text or closing the document drops the entry: the file is served again.
 */
import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ContentOverlay, RunningServer } from '../core/server';

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
    for (const document of vscode.workspace.textDocuments) {
      const real = document.isDirty ? this.realPathOf(document) : undefined;
      if (real !== undefined) this.texts.set(real, Buffer.from(document.getText(), 'utf8'));
    }
  }

  /** The server these buffers are served by: told of each change from now on. */
  attach(server: RunningServer): void {
    this.server = server;
  }

  read(realPath: string): Buffer | undefined {
    return this.texts.get(realPath);
  }

  /**
   * An edit or a change of the dirty state (VS Code reports them apart, the edit first). The pages
   * are told when what is served changes: a new unsaved text, or the saved text again after an
   * undo or a revert; not for a save, whose file change the watcher reports.
   */
  private update(document: vscode.TextDocument): void {
    const real = this.realPathOf(document);
    if (real === undefined) return;
    const held = this.texts.get(real);
    const text = Buffer.from(document.getText(), 'utf8');
    if (document.isDirty) {
      if (held?.equals(text)) return;
      this.texts.set(real, text);
      this.schedule(real);
    } else if (held) {
      this.texts.delete(real);
      if (!held.equals(text)) this.schedule(real); // undone or reverted; equal: just saved
    }
  }

  /**
   * Saved: the watcher sees the file change and reloads the pages (a reload still pending from
   * the typing would be a second one). Closed unsaved: the file on disk applies again.
   */
  private drop(document: vscode.TextDocument, closed: boolean): void {
    const real = this.realPathOf(document);
    if (real === undefined) return;
    const held = this.texts.delete(real);
    if (closed && held) this.schedule(real);
    else if (!closed) {
      clearTimeout(this.timers.get(real));
      this.timers.delete(real);
    }
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
