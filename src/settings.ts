/** Reads `echoPreview.*` for one workspace folder into server options, or says what is wrong. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULTS, type ServerOptions } from './core/server';

export type OpenOnStart = 'panel' | 'browser' | 'none';

export interface FolderSettings {
  options: ServerOptions & { port: number; host: string };
  openOnStart: OpenOnStart;
}

export function readSettings(folder: vscode.WorkspaceFolder): FolderSettings | { error: string } {
  const config = vscode.workspace.getConfiguration('echoPreview', folder.uri);
  const rootSetting = config.get<string>('root', '').trim();
  const folderPath = folder.uri.fsPath;
  const root = path.resolve(folderPath, rootSetting);
  const relative = path.relative(folderPath, root);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    return { error: `The setting echoPreview.root ("${rootSetting}") leads outside the workspace folder ${folder.name}.` };
  }
  return {
    options: {
      root,
      port: config.get<number>('port', DEFAULTS.port),
      host: config.get<string>('host', DEFAULTS.host).trim() || DEFAULTS.host,
      wsPath: config.get<string>('websocketPath', DEFAULTS.wsPath),
      maxMessageSize: config.get<number>('maxMessageSize', DEFAULTS.maxMessageSize),
      allowedHosts: config.get<string[]>('allowedHosts', []),
      allowedOrigins: config.get<string[]>('allowedOrigins', []),
    },
    openOnStart: config.get<OpenOnStart>('openOnStart', 'panel'),
  };
}
