/** A panel's webview origin, granted to the servers of one folder at a time: another folder or origin replaces the grant. */
import type * as vscode from 'vscode';

export class OriginGrant implements vscode.Disposable {
  private current: { folderKey: string; origin: string; registration: vscode.Disposable } | undefined;

  constructor(private readonly allow: (folder: vscode.WorkspaceFolder, origin: string) => vscode.Disposable) {}

  /** The origin granted now, if any. */
  get origin(): string | undefined {
    return this.current?.origin;
  }

  /** Grants `origin` to `folder`'s servers (no folder: to none), unless that is the grant already. */
  set(folder: vscode.WorkspaceFolder | undefined, origin: string): void {
    const folderKey = folder?.uri.toString();
    if (this.current !== undefined && this.current.folderKey === folderKey && this.current.origin === origin) return;
    this.dispose();
    if (folder !== undefined && folderKey !== undefined) this.current = { folderKey, origin, registration: this.allow(folder, origin) };
  }

  dispose(): void {
    this.current?.registration.dispose();
    this.current = undefined;
  }
}
