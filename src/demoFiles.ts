/** "Create Demo Files": the guide's index.html and websocket.js, copied from the extension's media. */
import * as vscode from 'vscode';

export const DEMO_FILES = ['index.html', 'websocket.js'] as const;

/**
 * Writes the demo into `target`; asks before overwriting anything and skips what the person
 * keeps. Returns the files written.
 */
export async function createDemoFiles(extensionUri: vscode.Uri, target: vscode.Uri): Promise<string[]> {
  const existing: string[] = [];
  for (const name of DEMO_FILES) {
    try {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(target, name));
      existing.push(name);
    } catch {
      // absent: will be written
    }
  }
  let overwrite = false;
  if (existing.length > 0) {
    const choice = await vscode.window.showWarningMessage(
      `${existing.join(' and ')} already ${existing.length > 1 ? 'exist' : 'exists'} in ${target.fsPath}. Overwrite?`,
      { modal: true, detail: 'Files you keep are left untouched; missing demo files are still created.' },
      'Overwrite',
      'Keep Existing',
    );
    if (choice === undefined) return [];
    overwrite = choice === 'Overwrite';
  }
  await vscode.workspace.fs.createDirectory(target);
  const written: string[] = [];
  for (const name of DEMO_FILES) {
    if (existing.includes(name) && !overwrite) continue;
    const content = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'media', 'demo', name));
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(target, name), content);
    written.push(name);
  }
  return written;
}
