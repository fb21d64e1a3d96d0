/**
 * Live reload's wiring of the folder's one watcher: each change refreshes the file cache, each
 * settled batch goes to the reload channel's pages, and a degraded watch is told as a state.
 */
import type { ServerEvents } from '../events/events';
import type { FileCache } from '../http/fileCache';
import type { ReloadChannel } from './channel';
import { FolderWatcher } from './watcher';

/** How live reload is doing: `watching` while the whole folder is watched; `problem` says why not. */
export interface LiveReloadState {
  readonly watching: boolean;
  readonly problem: string | undefined;
}

/** How long a start waits for the watcher's first walk (0.5 s for 5,000 folders on a busy machine). */
const WATCH_READY_WAIT_MS = 2000;

/**
 * Starts the folder's one watcher: each change refreshes the cache at once, each settled batch
 * goes to the pages; resolves once every folder is watched (so a save right after start is seen),
 * or after WATCH_READY_WAIT_MS at the most.
 */
export async function watchFolder(
  root: string,
  ignore: readonly string[],
  dotfiles: boolean,
  cache: FileCache,
  reload: ReloadChannel,
  events: ServerEvents,
): Promise<{ watcher: FolderWatcher; state: LiveReloadState }> {
  const state = { watching: false, problem: undefined as string | undefined };
  const watcher = new FolderWatcher(
    { root, ignore, dotfiles },
    {
      changed: (paths) => cache.invalidate(paths),
      settled: (paths) => {
        reload.announce(paths).catch((error: unknown) => {
          if (events.active) events.emit({ type: 'error', message: `live reload failed: ${String(error)}`, error });
        });
      },
      degraded: (message) => {
        state.watching = cache.watching = false;
        state.problem = message;
        if (events.active) events.emit({ type: 'error', message });
      },
    },
  );
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
