/** "Create Demo Files": the guide's index.html and websocket.js, copied from the extension's media. */
import * as vscode from 'vscode';

export const DEMO_FILES = ['index.html', 'websocket.js'] as const;

/** The line of media/demo/websocket.js that names the endpoint; the demo's only configurable line. */
const WS_PATH_LINE = /^const WS_PATH = '\/websocket';$/m;

/**
 * The demo's websocket.js for a server whose endpoint is `wsPath`: the WS_PATH line with the
 * configured path, everything else as shipped. A file without that line is returned unchanged.
 */
export function withWsPath(source: string, wsPath: string): string {
  // JSON escaping is also valid in a single-quoted JS string once "'" is escaped too.
  const literal = `'${JSON.stringify(wsPath).slice(1, -1).replace(/'/g, "\\'")}'`;
  return source.replace(WS_PATH_LINE, () => `const WS_PATH = ${literal};`);
}

/**
 * Writes the demo into `target`, its page talking to `wsPath`; asks before overwriting anything
 * and skips what the person keeps. Returns the files written.
 */
export async function createDemoFiles(extensionUri: vscode.Uri, target: vscode.Uri, wsPath: string): Promise<string[]> {
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
    let content = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'media', 'demo', name));
    if (name === 'websocket.js') {
      const shipped = new TextDecoder().decode(content);
      const configured = withWsPath(shipped, wsPath);
      if (configured !== shipped) content = new TextEncoder().encode(configured);
    }
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(target, name), content);
    written.push(name);
  }
  return written;
}
