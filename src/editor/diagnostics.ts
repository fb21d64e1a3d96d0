/**
 * The Problems view's entries for config files (.echo-preview.json or echoPreview.configFile):
 * at most one per folder, set from its server's config events and cleared when fixed or stopped.
 * A problem that stopped a start has no server: its file is followed by core's followConfig (the
 * one watcher module, the server's reading and checking) until fixed or replaced. Nothing here
 * watches a file.
 */
import * as vscode from 'vscode';
import type { FollowedConfig } from '../core/config/follow';
import type { ConfigProblem } from '../core/config/state';

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('echoPreview.config');
  /** Per folder (its key): the problem shown for it, and whether a server keeps running despite it. */
  private readonly shown = new Map<string, { problem: ConfigProblem; kept: boolean }>();
  /** Per folder: the file whose problem stopped the start, followed. */
  private readonly followed = new Map<string, FollowedConfig>();
  /** Servers still closing at shutdown clear their entries after VS Code has disposed this: dropped. */
  private disposed = false;

  /**
   * Shows `problem` for the folder `owner` (replacing what it showed), or clears it when
   * undefined. `kept`: the server runs on with its last good config (a refused edit), rather
   * than not having started.
   */
  set(owner: string, problem: ConfigProblem | undefined, kept = false): void {
    if (this.disposed) return;
    this.followed.get(owner)?.dispose();
    this.followed.delete(owner);
    const before = this.shown.get(owner);
    if (problem) this.shown.set(owner, { problem, kept });
    else this.shown.delete(owner);
    if (before) this.render(before.problem.file);
    if (problem) this.render(problem.file);
  }

  /**
   * Shows `problem`, which stopped the folder's start, and follows its file with `follow`'s
   * config events (each change read as the server reads it): a new problem replaces it, none
   * clears it. `follow` is disposed when the entry is replaced or cleared.
   */
  setUntilFixed(owner: string, problem: ConfigProblem, follow: FollowedConfig): void {
    if (this.disposed) return void follow.dispose();
    this.set(owner, problem);
    this.followed.set(owner, follow);
    follow.onConfig((state) => {
      if (this.followed.get(owner) !== follow) return; // replaced meanwhile
      if (state.problem === undefined) return this.set(owner, undefined);
      this.shown.set(owner, { problem: state.problem, kept: false });
      this.render(problem.file);
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const follow of this.followed.values()) follow.dispose();
    this.followed.clear();
    this.shown.clear();
    this.collection.dispose();
  }

  /** Every diagnostic on `file`: two folders may share one config through their settings. */
  private render(file: string): void {
    const uri = vscode.Uri.file(file);
    const diagnostics = [...this.shown.values()].filter((s) => s.problem.file === file).map(({ problem, kept }) => diagnosticOf(problem, kept));
    this.collection.set(uri, diagnostics.length > 0 ? diagnostics : undefined);
  }
}

/** Where `problem` points, as an editor position (ConfigProblem is 1-based); the file's start for a problem of the whole file. */
export function positionOf(problem: ConfigProblem): vscode.Position {
  return new vscode.Position(Math.max((problem.line ?? 1) - 1, 0), Math.max((problem.column ?? 1) - 1, 0));
}

function diagnosticOf(problem: ConfigProblem, kept: boolean): vscode.Diagnostic {
  const at = positionOf(problem);
  const consequence = kept ? ' (the server keeps the last good config)' : ' (the server did not start)';
  const diagnostic = new vscode.Diagnostic(new vscode.Range(at, at), problem.message + consequence, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'Echo Preview';
  return diagnostic;
}

/** Opens the config file with the cursor on the problem. */
export async function openConfig(problem: ConfigProblem): Promise<void> {
  const at = positionOf(problem);
  await vscode.window.showTextDocument(vscode.Uri.file(problem.file), { selection: new vscode.Range(at, at) });
}
