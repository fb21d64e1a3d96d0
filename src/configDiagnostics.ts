/**
 * The Problems view's entries for config files (.echo-preview.json or echoPreview.configFile):
 * at most one per folder, set from its server's config problem and cleared when fixed or stopped.
 */
import * as vscode from 'vscode';
import type { ConfigProblem } from './core/config';

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('echoPreview.config');
  /** Per folder (its key): the problem shown for it, and whether a server keeps running despite it. */
  private readonly shown = new Map<string, { problem: ConfigProblem; kept: boolean }>();

  /**
   * Shows `problem` for the folder `owner` (replacing what it showed), or clears it when
   * undefined. `kept`: the server runs on with its last good config (a refused edit), rather
   * than not having started.
   */
  set(owner: string, problem: ConfigProblem | undefined, kept = false): void {
    const before = this.shown.get(owner);
    if (problem) this.shown.set(owner, { problem, kept });
    else this.shown.delete(owner);
    if (before) this.render(before.problem.file);
    if (problem) this.render(problem.file);
  }

  dispose(): void {
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

/** Where `problem` points, as an editor position (ConfigProblem is 1-based). */
export function positionOf(problem: ConfigProblem): vscode.Position {
  return new vscode.Position(Math.max(problem.line - 1, 0), Math.max(problem.column - 1, 0));
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
