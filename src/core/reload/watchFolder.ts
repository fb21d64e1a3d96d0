/**
 * A server's one folder watcher and its three listeners: the file cache (what changed), live
 * reload (which pages to refresh) and the config (its file changed). With live reload off only
 * the config file's folder is watched.
 */
import type { ServerEvents } from '../events/events';
import type { FileCache } from '../http/fileCache';
import type { ReloadChannel } from './channel';
import type { IgnoreRules } from './ignore';
import { FolderWatcher } from './watcher';

/** How long a start waits for the watcher's first walk (0.5 s for 5,000 folders on a busy machine). */
const WATCH_READY_WAIT_MS = 2000;

/** How live reload is doing: `watching` while the whole folder is watched; `problem` says why not. */
export interface LiveReloadState {
  readonly watching: boolean;
  readonly problem: string | undefined;
}

export interface FolderWatchOptions {
  /** The served folder after realpath. */
  root: string;
  /** What live reload and the cache's trust ignore (the server's rules, made once at its start). */
  rules: IgnoreRules;
  cache: FileCache;
  /** Live reload's channel; undefined when it is off: then no tree is watched, only the config file. */
  reload: ReloadChannel | undefined;
  events: ServerEvents;
  /** The config file (absolute; inside the root or not, a dotfile or not) and what to tell of it. */
  config: { file: string; fileChanged(): void; unwatched(message: string): void };
}

/**
 * Starts the server's one watcher: each change refreshes the cache at once, each settled batch
 * goes to the pages, a change of the config file to the config; resolves once every folder is
 * watched (so a save right after start is seen), or after WATCH_READY_WAIT_MS at the most.
 * `state` is live reload's, undefined when it is off.
 */
export async function watchFolder(options: FolderWatchOptions): Promise<{ watcher: FolderWatcher; state: LiveReloadState | undefined }> {
  const { cache, reload, events, config } = options;
  const state = reload && { watching: false, problem: undefined as string | undefined };
  const watcher = new FolderWatcher(
    { root: options.root, rules: options.rules, tree: reload !== undefined, files: [config.file] },
    {
      changed: (paths) => cache.invalidate(paths),
      settled: (paths) => {
        reload?.announce(paths).catch((error: unknown) => {
          if (events.active) events.emit({ type: 'error', message: `live reload failed: ${String(error)}`, error });
        });
      },
      degraded: (message) => {
        cache.watching = false;
        if (state) Object.assign(state, { watching: false, problem: message });
        if (events.active) events.emit({ type: 'error', message });
      },
      file: () => config.fileChanged(),
      fileUnwatched: (message) => config.unwatched(message),
    },
  );
  if (state === undefined) return { watcher, state };
  // What the watcher does not see (node_modules, ignored globs, a folder it could not watch) is
  // served too, but checked on every request.
  cache.covers = (realPath) => watcher.covers(realPath);
  const ready = watcher.ready.then(() => {
    state.watching = cache.watching = watcher.healthy;
  });
  // A huge folder keeps being walked after the server is up rather than holding its start back.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, WATCH_READY_WAIT_MS)))]);
  clearTimeout(timer);
  return { watcher, state };
}
