/**
 * "Create Demo Files": the guide's echo demo (index.html, websocket.js from media/demo) or the
 * chat demo (chat.html, chat.js from media/chat, and a config with a /chat broadcast endpoint).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE_NAME } from '../core/config/state';

export const DEMO_FILES = ['index.html', 'websocket.js'] as const;
export const CHAT_FILES = ['chat.html', 'chat.js'] as const;

export type DemoKind = 'echo' | 'chat';

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
 * The chat demo's config (media/chat/.echo-preview.json) for a server whose echo endpoint is
 * `wsPath`: the shipped file itself when that is /websocket, else the same endpoints with the
 * echo at `wsPath`, so the guide's demo and the inspector's own client still find their echo.
 */
export function chatConfig(shipped: string, wsPath: string): string {
  if (wsPath === '/websocket') return shipped;
  const { endpoints, ...rest } = JSON.parse(shipped) as { endpoints: Record<string, unknown> };
  const { '/websocket': echo, ...others } = endpoints;
  return JSON.stringify({ ...rest, endpoints: { [wsPath]: echo, ...others } }, null, 2) + '\n';
}

/** One file the demo writes: where it goes and its content. */
interface DemoFile {
  /** Shown to the person: the name, relative to the target when it is not in it. */
  label: string;
  uri: vscode.Uri;
  content: () => Promise<Uint8Array>;
}

/** Where the demo's files come from and go, and what they say. */
export interface DemoTarget {
  /** The folder the pages are written into. */
  folder: vscode.Uri;
  /** The echo endpoint the folder's server will have. */
  wsPath: string;
  /** Where the folder's server reads its config: the chat demo writes its config there. */
  configFile: vscode.Uri;
}

/** Asks which demo; undefined when the person cancels. */
export async function pickDemo(): Promise<DemoKind | undefined> {
  const items: Array<vscode.QuickPickItem & { demo: DemoKind }> = [
    { label: 'Echo demo', description: 'index.html, websocket.js', detail: "The guide's page: every message comes back from /websocket.", demo: 'echo' },
    {
      label: 'Chat demo',
      description: `chat.html, chat.js, ${CONFIG_FILE_NAME}`,
      detail: 'A chat room: every message to /chat goes to every open page (broadcast mode).',
      demo: 'chat',
    },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Create Demo Files', placeHolder: 'Which demo?' });
  return picked?.demo;
}

/**
 * Writes the `kind` demo into `target`; asks before overwriting anything (the config too) and
 * skips what the person keeps. Returns the files written, as labelled (`chat.js`, `../.echo-preview.json`).
 */
export async function createDemoFiles(extensionUri: vscode.Uri, kind: DemoKind, target: DemoTarget): Promise<string[]> {
  const files = kind === 'echo' ? echoFiles(extensionUri, target) : chatFiles(extensionUri, target);
  const existing: DemoFile[] = [];
  const odd: DemoFile[] = [];
  for (const file of files) {
    try {
      const stat = await vscode.workspace.fs.stat(file.uri);
      // A folder, a FIFO or a device under a demo file's name: writing there could hang (a FIFO
      // blocks until someone reads it) or fail half-way, so nothing is written at all.
      if ((stat.type & vscode.FileType.File) === 0) odd.push(file);
      existing.push(file);
    } catch {
      // absent: will be written
    }
  }
  if (odd.length > 0) {
    const names = odd.map((f) => f.label).join(' and ');
    void vscode.window.showErrorMessage(
      `Create Demo Files wrote nothing: ${names} in ${target.folder.fsPath} ${odd.length > 1 ? 'are' : 'is'} not a regular file (a folder, a named pipe or a device). Rename or remove it, or pick another folder.`,
    );
    return [];
  }
  let overwrite = false;
  if (existing.length > 0) {
    const names = existing.map((f) => f.label);
    const configKept = kind === 'chat' && existing.some((f) => f.uri.fsPath === target.configFile.fsPath);
    const choice = await vscode.window.showWarningMessage(
      `${names.join(' and ')} already ${names.length > 1 ? 'exist' : 'exists'} in ${target.folder.fsPath}. Overwrite?`,
      {
        modal: true,
        detail:
          'Files you keep are left untouched; missing demo files are still created.' +
          (configKept ? ' A config you keep needs a "/chat" endpoint in broadcast mode for the chat page to work.' : ''),
      },
      'Overwrite',
      'Keep Existing',
    );
    if (choice === undefined) return [];
    overwrite = choice === 'Overwrite';
  }
  await vscode.workspace.fs.createDirectory(target.folder);
  const written: string[] = [];
  for (const file of files) {
    if (existing.includes(file) && !overwrite) continue;
    await vscode.workspace.fs.writeFile(file.uri, await file.content());
    written.push(file.label);
  }
  return written;
}

function echoFiles(extensionUri: vscode.Uri, target: DemoTarget): DemoFile[] {
  return DEMO_FILES.map((name) => ({
    label: name,
    uri: vscode.Uri.joinPath(target.folder, name),
    content: async () => {
      const content = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'media', 'demo', name));
      if (name !== 'websocket.js') return content;
      const shipped = new TextDecoder().decode(content);
      const configured = withWsPath(shipped, target.wsPath);
      return configured === shipped ? content : new TextEncoder().encode(configured);
    },
  }));
}

function chatFiles(extensionUri: vscode.Uri, target: DemoTarget): DemoFile[] {
  const media = (name: string): vscode.Uri => vscode.Uri.joinPath(extensionUri, 'media', 'chat', name);
  const pages = CHAT_FILES.map((name) => ({ label: name, uri: vscode.Uri.joinPath(target.folder, name), content: () => Promise.resolve(vscode.workspace.fs.readFile(media(name))) }));
  const config: DemoFile = {
    label: path.relative(target.folder.fsPath, target.configFile.fsPath),
    uri: target.configFile,
    content: async () => {
      const shipped = new TextDecoder().decode(await vscode.workspace.fs.readFile(media(CONFIG_FILE_NAME)));
      return new TextEncoder().encode(chatConfig(shipped, target.wsPath));
    },
  };
  return [...pages, config];
}
