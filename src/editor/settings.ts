/** Reads `echoPreview.*` for one workspace folder into server options, or says which setting is wrong. */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RefusalAdvice } from '../core/guard';
import { DEFAULTS } from '../core/defaults';
import type { ServerOptions } from '../core/server';
import { quoted } from '../shared/text';
import { CONFIG_FILE_NAME } from '../core/config/state';
import { kindOf, unreadableReason } from '../core/userFile';
import { wsPathProblem as corePathProblem } from '../core/ws/paths';

export type OpenOnStart = 'panel' | 'browser' | 'none';

export interface FolderSettings {
  options: ServerOptions & { port: number; host: string; wsPath: string; allowedOrigins: readonly string[] };
  openOnStart: OpenOnStart;
  /** echoPreview.reloadOnType: serve unsaved editor buffers and reload as you type. */
  reloadOnType: boolean;
  /** The config file the server reads (absolute): echoPreview.configFile, else `.echo-preview.json` in the root. */
  configPath: string;
}

/** How the server's refusals tell the person to open each check up: in the editor, the settings. */
export const EDITOR_ADVICE: RefusalAdvice = {
  host: 'Add it to the echoPreview.allowedHosts setting to accept it.',
  origin: 'Add it to the echoPreview.allowedOrigins setting to accept it.',
  crossSite: 'Turn on the echoPreview.allowCrossSite setting to let other sites load it.',
};

/**
 * The Settings editor's check of echoPreview.websocketPath (package.json's `pattern` is this
 * source): RFC 3986 path characters without `;`, `,` and `'`, or non-ASCII letters. The rule
 * that counts is the core's (wsPathProblem), which this only mirrors for the editor's UI.
 */
// eslint-disable-next-line no-control-regex -- ASCII is spelled out as \u0000-\u007f on purpose
export const WS_PATH_PATTERN = /^\/(?:[A-Za-z0-9._~!$&()*+=:@/-]|[^\u0000-\u007f\s\p{Cc}\p{Cf}\p{Cs}])*$/u;

/** Undefined when `wsPath` is usable; otherwise the message to show, naming the setting. */
export function wsPathProblem(wsPath: string): string | undefined {
  const problem = corePathProblem(wsPath);
  return problem && `The setting echoPreview.websocketPath (${quoted(wsPath)}) ${problem}. Use one absolute path such as /websocket.`;
}

/** Undefined when `file` is a regular file; "missing" when there is none; otherwise what it is instead. */
function notAFile(file: string): string | undefined {
  try {
    const stats = statSync(file);
    return stats.isFile() ? undefined : `is ${kindOf(stats)}, not a regular file`;
  } catch (error) {
    const reason = unreadableReason(error);
    return reason === undefined ? 'missing' : `cannot be read: ${reason}`;
  }
}

export function readSettings(folder: vscode.WorkspaceFolder): FolderSettings | { error: string } {
  const config = vscode.workspace.getConfiguration('echoPreview', folder.uri);
  const rootSetting = config.get<string>('root', '').trim();
  const folderPath = folder.uri.fsPath;
  const root = path.resolve(folderPath, rootSetting);
  const relative = path.relative(folderPath, root);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    return { error: `The setting echoPreview.root (${quoted(rootSetting)}) leads outside the workspace folder ${folder.name}.` };
  }
  const wsPath = config.get<string>('websocketPath', DEFAULTS.wsPath);
  const problem = wsPathProblem(wsPath);
  if (problem) return { error: problem };
  // Both restricted (package.json): in an untrusted workspace only the user's own values count.
  const configSetting = config.get<string>('configFile', '').trim();
  const configFile = configSetting ? path.resolve(folderPath, configSetting) : undefined;
  const notFile = configFile === undefined ? undefined : notAFile(configFile);
  if (notFile !== undefined && notFile !== 'missing') {
    return {
      error:
        `The setting echoPreview.configFile (${quoted(configSetting)}) names ${configFile}, which ${notFile}. ` +
        `Point it at a JSON file, or clear the setting to use ${CONFIG_FILE_NAME} in the served folder.`,
    };
  }
  if (notFile !== undefined) {
    return {
      error:
        `The setting echoPreview.configFile (${quoted(configSetting)}) names ${configFile}, which is not a file. ` +
        `Create it, or clear the setting to use ${CONFIG_FILE_NAME} in the served folder.`,
    };
  }
  const proxyBeyondLoopback = vscode.workspace.isTrusted || config.get<boolean>('proxy.allowRemote', false);
  return {
    options: {
      root,
      port: config.get<number>('port', DEFAULTS.port),
      host: config.get<string>('host', DEFAULTS.host).trim() || DEFAULTS.host,
      wsPath,
      maxMessageSize: config.get<number>('maxMessageSize', DEFAULTS.maxMessageSize),
      allowedHosts: config.get<string[]>('allowedHosts', []),
      allowedOrigins: config.get<string[]>('allowedOrigins', []),
      allowCrossSite: config.get<boolean>('allowCrossSite', false),
      advice: EDITOR_ADVICE,
      liveReload: config.get<boolean>('liveReload', true),
      configFile,
      proxyBeyondLoopback,
    },
    openOnStart: config.get<OpenOnStart>('openOnStart', 'panel'),
    reloadOnType: config.get<boolean>('reloadOnType', false),
    configPath: configFile ?? path.join(root, CONFIG_FILE_NAME),
  };
}
