/**
 * The one watcher per server, for the served folder: reports changed real paths, debounced into
 * batches (a quiet period with a maximum wait, so a `git checkout` of 1,000 files is one batch),
 * skipping `.git`, `node_modules`, dotfiles and the configured globs, and within the machine's
 * inotify limit. It also reports its few `files` (the config file), even where it skips the rest
 * (a dotfile, an ignored folder, a file outside the root) or watches no tree (live reload off):
 * then it watches just their folders.
 *
 * Why plain fs.watch, one per kept directory, on Linux (measured on 5,051 folders / 50,000 files
 * plus a node_modules of 2,021 folders, Node 20, 2 busy cores; BENCHMARKS.md "Live reload
 * watcher"): this watcher is ready in ~0.46 s with +20 MB and 5,051 inotify watches. Node 20's
 * `fs.watch(root, { recursive: true })` walks the tree in JS and takes a watch for every file
 * and folder, node_modules and .git included (it cannot skip them): 3.2 s, +146 MB, 59,073
 * watches. chokidar 4 skips node_modules but still watches every file: 16 s, +416 MB, 55,052
 * watches, and 22 KB minified in the .vsix. Event latency is ~1 ms for ours, ~9 ms for chokidar.
 * On macOS and Windows fs.watch is natively recursive (one FSEvents stream or
 * ReadDirectoryChangesW handle), so there we use it and filter in the callback.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Debouncer } from './debounce';
import { IgnoreRules } from './ignore';


export interface WatchOptions {
  /** The served folder after realpath. */
  root: string;
  /** Globs of paths relative to the root (`dist/**`, `*.log`) whose changes are ignored. Default none. */
  ignore?: readonly string[];
  /** Dotfiles are served (`--dotfiles`): then they are watched too (never .git). Default off. */
  dotfiles?: boolean;
  /** `ignore` and `dotfiles` as rules already made (the server's, checked at its start): used as they are. */
  rules?: IgnoreRules;
  /** A batch is reported once this long passes without a change. Default 100 ms. */
  quietMs?: number;
  /** …or at the latest this long after its first change. Default 1500 ms. */
  maxWaitMs?: number;
  /** Most directories watched on Linux. Default: half of fs.inotify.max_user_watches. */
  maxWatches?: number;
  /**
   * Watch the folder's tree (default true): live reload and the file cache. False: watch only the
   * folders of `files` (live reload off, or a file no server serves).
   */
  tree?: boolean;
  /**
   * Files (absolute) whose changes go to WatchListener.file, ignored or not, inside the root or
   * not. Their folder is watched by the tree's watch when it has one, else by a watch of its own.
   * Each is told once as the watcher starts: what changed before its watch was taken is read then.
   */
  files?: readonly string[];
}

export interface WatchListener {
  /** Each change at once (for the file cache): real paths, or 'all' when a folder moved. */
  changed?(realPaths: readonly string[] | 'all'): void;
  /** The debounced batch (for live reload): every real path changed since the last batch. */
  settled?(realPaths: readonly string[]): void;
  /** The watcher stopped covering the whole folder; `message` says why and what to do. */
  degraded?(message: string): void;
  /** One of WatchOptions.files may have changed (written, created, removed, renamed over, or unseen for a while). */
  file?(file: string): void;
  /** The folder of one of WatchOptions.files cannot be watched: its changes go unseen. */
  fileUnwatched?(message: string): void;
}

const DEFAULT_QUIET_MS = 100;
const DEFAULT_MAX_WAIT_MS = 1500;
/** fs.inotify.max_user_watches, or undefined where there is no such limit (not Linux). */
export function inotifyWatchLimit(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const value = Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim());
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** One folder's watch (off Linux: the root's recursive one). */
interface Watch {
  /** Part of the folder's tree (live reload, the file cache); false: only for WatchOptions.files there. */
  tree: boolean;
  /** The fs.watch handle; undefined while suspended. */
  handle: fs.FSWatcher | undefined;
  /** `dev:ino` of the folder watched (Linux; undefined until read), to tell it from another folder renamed over its name. */
  id: string | undefined;
  /** While suspended: the timer that takes it again. */
  resume: NodeJS.Timeout | undefined;
  /** The walk from this folder missed some of it (renamed or removed as it was read): not to be trusted as whole. */
  partial: boolean;
}

/** A batch names at most this many paths; past that it names the root alone (one reload of every page). */
const MAX_BATCH_PATHS = 2000;
/** A folder's check looks at this many changed names one by one at most; past that it reads the folder whole. */
const MAX_NAMES_CHECKED = 64;
/** Paths handed to the file cache one by one in one turn of the event loop; past that, each change drops it whole. */
const TURN_PATHS_BUDGET = 256;
/**
 * Events taken in one turn of the event loop. libuv reads inotify until its queue is empty, so a
 * writer faster than the callbacks would keep the loop in that read and no request would be
 * served: past this, each watch that delivers one more is closed for SUSPEND_MS, then taken
 * again and its folder read whole (whatever changed meanwhile is reported as the folder).
 */
const TURN_EVENTS_BUDGET = 10_000;
const SUSPEND_MS = 250;
/** Checks start this long after the first change, and a round of them this long after the last: a storm is one check per round. */
const CHECK_PAUSE_MS = 10;

/**
 * Work per event is O(1): the cache is told, the path joins the bounded batch and (Linux) its
 * folder's pending check. Checks run one folder at a time: one in flight, one pending per folder.
 */
export class FolderWatcher {
  private readonly rules: IgnoreRules;
  private readonly debouncer: Debouncer<string>;
  /** Linux: one watch per watched folder, by real path. Elsewhere: the one recursive watch of the root. */
  private readonly watchers = new Map<string, Watch>();
  private readonly maxWatches: number;
  private readonly linux = process.platform === 'linux';
  private readonly rootPrefix: string;
  private readonly tree: boolean;
  /** WatchOptions.files, and their folders with their names there. */
  private readonly files: ReadonlySet<string>;
  private readonly fileFolders = new Map<string, Set<string>>();
  private closed = false;
  private degradedReason: string | undefined;
  /** Linux: folders with changed entries and the names that changed ('all': read it whole), in the order they came. */
  private readonly toCheck = new Map<string, Set<string> | 'all'>();
  private checking = false;
  /** Watches closed for now by a storm of events. */
  private suspended = 0;
  /** Events and paths told to the cache in this turn of the event loop (reset by setImmediate, once the poll phase ends). */
  private turnEvents = 0;
  private turnPaths = 0;
  /** Resolves once the initial walk has set up every watch. */
  readonly ready: Promise<void>;

  constructor(
    private readonly options: WatchOptions,
    private readonly listener: WatchListener,
  ) {
    this.rules = options.rules ?? new IgnoreRules(options.ignore ?? [], options.dotfiles ?? false);
    this.rootPrefix = options.root.endsWith(path.sep) ? options.root : options.root + path.sep;
    this.tree = options.tree ?? true;
    this.files = new Set(options.files?.map((file) => path.resolve(file)));
    for (const file of this.files) {
      const folder = path.dirname(file);
      const names = this.fileFolders.get(folder) ?? new Set<string>();
      this.fileFolders.set(folder, names.add(path.basename(file)));
    }
    const bound = { max: MAX_BATCH_PATHS, whole: options.root };
    this.debouncer = new Debouncer(options.quietMs ?? DEFAULT_QUIET_MS, options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, (paths) => listener.settled?.(paths), bound);
    const limit = inotifyWatchLimit();
    this.maxWatches = options.maxWatches ?? (limit === undefined ? Infinity : Math.floor(limit / 2));
    // On Linux the files' folders are watched first and the walk takes over those in the tree.
    if (!this.tree) this.ready = Promise.resolve(this.watchFileFolders(false));
    else if (this.linux) this.ready = (this.watchFileFolders(false), this.walk(options.root));
    else this.ready = Promise.resolve((this.watchRoot(), this.watchFileFolders(false)));
    // The files' watches are in place now: a change since the caller last read one went unseen.
    for (const file of this.files) listener.file?.(file);
  }

  /** True while every folder that is not ignored is watched. */
  get healthy(): boolean {
    return !this.closed && this.degradedReason === undefined;
  }

  /** Folders watched now (Linux; 1 elsewhere). */
  get watchCount(): number {
    return this.watchers.size;
  }

  /**
   * True when a change to the file at `realPath` would be reported now: its folder is watched
   * (on Linux, one watch per folder; elsewhere the one recursive watch), no watch is suspended
   * and it is not ignored. The file cache asks this before it trusts a file without a stat.
   */
  covers(realPath: string): boolean {
    if (!this.tree || !this.healthy || this.suspended > 0) return false;
    const relative = this.relative(realPath);
    if (relative === undefined || relative === '' || this.rules.ignores(relative)) return false;
    return !this.linux || this.watchers.get(path.dirname(realPath))?.tree === true;
  }

  /** Reports paths changed by other means (the editor's unsaved buffers) in the same batches. */
  report(realPaths: readonly string[]): void {
    if (!this.closed) this.debouncer.add(realPaths);
  }

  close(): void {
    this.closed = true;
    this.debouncer.dispose();
    for (const watch of this.watchers.values()) this.stop(watch);
    this.watchers.clear();
    this.toCheck.clear();
  }

  private relative(realPath: string): string | undefined {
    // Every event comes here: a plain path below the root (no segment that starts with a dot) is just sliced.
    if (path.sep === '/' && realPath.startsWith(this.rootPrefix)) {
      const rest = realPath.slice(this.rootPrefix.length);
      if (rest !== '' && !rest.startsWith('.') && !rest.includes('/.') && !rest.includes('//')) return rest;
    }
    const relative = path.relative(this.options.root, realPath);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return relative === '' ? '' : undefined;
    return relative.split(path.sep).join('/');
  }

  /** Off Linux: the one recursive watch, of the root. */
  private watchRoot(): void {
    const watch = newWatch(true);
    if (this.open(this.options.root, watch)) this.watchers.set(this.options.root, watch);
  }

  /**
   * Watches the folder of each of `files` that no watch covers: one small watch per folder, not
   * part of the tree (off Linux the root's recursive watch covers the files below it). `again`:
   * a folder watched anew after it went, so its files are reported as changed.
   */
  private watchFileFolders(again: boolean): void {
    for (const [folder, names] of this.fileFolders) {
      if (this.closed || this.watchers.has(folder)) continue;
      if (!this.linux && this.tree && this.relative(folder) !== undefined) continue;
      if (again && !fs.existsSync(folder)) continue; // still gone: no error at each new folder of the tree
      const watch = newWatch(false);
      if (!this.open(folder, watch)) continue;
      this.watchers.set(folder, watch);
      if (again) for (const name of names) this.listener.file?.(path.join(folder, name));
    }
  }

  /** Starts `watch`'s handle on `dir` (off Linux: recursive, at the root); false if it could not be taken. */
  private open(dir: string, watch: Watch): boolean {
    try {
      const recursive = !this.linux && watch.tree;
      const handle = fs.watch(dir, { recursive, persistent: false }, (event, name) => this.onEvent(dir, watch, event, name));
      handle.on('error', (error) => {
        if (watch.handle !== handle || this.watchers.get(dir) !== watch) return;
        if (!watch.tree) this.dropFileWatch(dir, watch, `watching ${dir} for changes of ${this.fileNames(dir)} stopped: ${error.message}`);
        else if (this.linux) this.unwatch(dir);
        else this.degrade(`the watcher stopped: ${error.message}`);
      });
      watch.handle = handle;
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!watch.tree) this.listener.fileUnwatched?.(`cannot watch ${dir} for changes of ${this.fileNames(dir)}: ${(error as Error).message}`);
      else if (!this.linux) this.degrade(`the folder cannot be watched: ${(error as Error).message}`);
      else if (code === 'ENOSPC' || code === 'EMFILE') this.degrade(`the system's limit of file watches is reached (${code}; fs.inotify.max_user_watches)`);
      return false;
    }
  }

  /** Stops a file's folder's own watch (only it: the root may be below that folder). */
  private dropFileWatch(dir: string, watch: Watch, message?: string): void {
    this.stop(watch);
    this.watchers.delete(dir);
    if (message !== undefined) this.listener.fileUnwatched?.(message);
  }

  private fileNames(dir: string): string {
    return [...(this.fileFolders.get(dir) ?? [])].join(', ');
  }

  /** Tells the file listener of the files at `realPath` (one of them, or a folder of theirs: all there). */
  private noticeFiles(realPath: string): void {
    if (this.files.has(realPath)) return this.listener.file?.(realPath);
    const names = this.fileFolders.get(realPath);
    if (names !== undefined) for (const name of names) this.listener.file?.(path.join(realPath, name));
  }

  /** Stops a watch for good (and its pending resume). */
  private stop(watch: Watch): void {
    watch.handle?.close();
    watch.handle = undefined;
    if (watch.resume !== undefined) this.suspended--;
    clearTimeout(watch.resume);
    watch.resume = undefined;
  }

  /** Watches `dir` and every folder under it that is not ignored, breadth first (shallow folders first). */
  private async walk(dir: string): Promise<void> {
    const queue = [dir];
    let complete = true;
    while (queue.length > 0 && !this.closed && this.degradedReason === undefined) {
      const current = queue.shift() as string;
      let watch = this.watchers.get(current);
      if (watch?.tree === true) continue;
      if (watch !== undefined) watch.tree = true; // a file's folder, in the tree after all: its watch serves both
      else watch = this.watchDir(current);
      if (watch === undefined) {
        complete = false;
        continue;
      }
      // Which folder it is, read beside (not before) its entries: tells it from one renamed over its name later.
      fs.lstat(current, (error, stats) => {
        if (!error) watch.id ??= `${stats.dev}:${stats.ino}`;
      });
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(current, { withFileTypes: true });
      } catch {
        complete = false;
        continue; // gone or unreadable meanwhile
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue; // symlinked folders are not followed: no loops, nothing outside
        const child = path.join(current, entry.name);
        const relative = this.relative(child);
        if (relative !== undefined && !this.rules.ignores(relative)) queue.push(child);
      }
    }
    // A folder renamed away and back as it was walked keeps its name and id with folders below it
    // unwatched: the next check of its parent walks it again rather than trusting it (settle).
    const top = this.watchers.get(dir);
    if (top !== undefined) top.partial = !complete;
  }

  /** One inotify watch on `dir`, or undefined if it could not be taken. */
  private watchDir(dir: string): Watch | undefined {
    if (this.watchers.size >= this.maxWatches) {
      this.degrade(`the folder has more than ${this.maxWatches} folders to watch (half of fs.inotify.max_user_watches)`);
      return undefined;
    }
    const watch = newWatch(true);
    if (!this.open(dir, watch)) return undefined;
    this.watchers.set(dir, watch);
    return watch;
  }

  /** Stops watching the folders in `dirs` and the folders under them (removed or renamed away). */
  private unwatch(dirs: string | ReadonlySet<string>): void {
    const gone = typeof dirs === 'string' ? new Set([dirs]) : dirs;
    if (gone.size === 0) return;
    for (const [watched, watch] of this.watchers) {
      if (!within(watched, gone)) continue;
      this.stop(watch);
      this.watchers.delete(watched);
    }
  }

  /** One event of `watch`, on `dir`: O(1) work, the rest coalesced. */
  private onEvent(dir: string, watch: Watch, event: string, name: string | null): void {
    if (this.closed || watch.handle === undefined) return;
    if (this.turnEvents++ === 0) setImmediate(() => (this.turnEvents = this.turnPaths = 0));
    if (this.turnEvents > TURN_EVENTS_BUDGET) return this.suspend(dir, watch);
    // An inotify name is one plain entry name (never "." or ".."); off Linux it is a path below the root.
    const realPath = name === null ? dir : this.linux ? `${dir}${dir.endsWith(path.sep) ? '' : path.sep}${name}` : path.join(dir, name);
    if (this.files.size > 0) this.noticeFiles(realPath);
    if (!watch.tree) return;
    const relative = this.relative(realPath);
    if (relative === undefined || (relative !== '' && this.rules.ignores(relative))) return;
    const wholeFolder = this.linux && name === null;
    const wasFolder = this.watchers.has(realPath);
    this.listener.changed?.(wholeFolder || wasFolder || ++this.turnPaths > TURN_PATHS_BUDGET ? 'all' : [realPath]);
    this.debouncer.add([realPath]);
    // A folder created, moved in, removed or replaced ('rename': not a write or chmod): its watches follow, in a check of `dir`.
    if (this.linux && (wholeFolder || event === 'rename')) this.queueCheck(dir, wholeFolder ? undefined : (name as string));
  }

  /** Closes a watch that got more events than one turn should take, and takes it again SUSPEND_MS later. */
  private suspend(dir: string, watch: Watch): void {
    watch.handle?.close();
    watch.handle = undefined;
    this.suspended++;
    // Nothing is seen there meanwhile: the cache checks every file, and the pages reload once it is back.
    this.seeWhole(dir, watch);
    watch.resume = setTimeout(() => {
      watch.resume = undefined;
      this.suspended--;
      if (this.closed || this.watchers.get(dir) !== watch) return;
      if (!this.open(dir, watch)) {
        if (!watch.tree) this.dropFileWatch(dir, watch);
        else if (this.linux) this.unwatch(dir);
        return;
      }
      this.seeWhole(dir, watch);
      if (this.linux && watch.tree) this.queueCheck(dir, undefined);
    }, SUSPEND_MS).unref();
  }

  /** Anything in `dir` may have changed unseen: every listener hears of it. */
  private seeWhole(dir: string, watch: Watch): void {
    this.noticeFiles(dir);
    if (!watch.tree) return;
    this.listener.changed?.('all');
    this.debouncer.add([dir]);
  }

  /** Notes that `name` in `dir` changed (undefined: anything in it may have), to be checked once, soon. */
  private queueCheck(dir: string, name: string | undefined): void {
    const names = this.toCheck.get(dir);
    if (names === 'all') return;
    if (name === undefined || (names !== undefined && names.size >= MAX_NAMES_CHECKED)) this.toCheck.set(dir, 'all');
    else if (names === undefined) this.toCheck.set(dir, new Set([name]));
    else names.add(name);
    if (this.checking) return;
    this.checking = true;
    setTimeout(() => void this.drain(), CHECK_PAUSE_MS);
  }

  /** Checks the queued folders one at a time, in rounds: what is queued again meanwhile waits for the next round. */
  private async drain(): Promise<void> {
    try {
      while (this.toCheck.size > 0 && !this.closed) {
        const round = [...this.toCheck];
        this.toCheck.clear();
        for (const [dir, names] of round) {
          if (this.closed) return;
          await this.check(dir, names);
        }
        if (this.toCheck.size > 0) await new Promise((resolve) => setTimeout(resolve, CHECK_PAUSE_MS));
      }
    } catch (error) {
      this.degrade(`the watcher failed: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  private async check(dir: string, names: ReadonlySet<string> | 'all'): Promise<void> {
    if (!this.watchers.has(dir)) return; // gone since: the check of its parent saw to it
    if (names === 'all') return this.rescan(dir);
    for (const name of names) {
      const child = path.join(dir, name);
      const stats = await fs.promises.lstat(child).catch(() => undefined);
      if (this.closed) return;
      await this.settle(child, stats, true);
    }
  }

  /** Reads `dir` whole: drops the watches of folders that went, and settles each folder there. */
  private async rescan(dir: string): Promise<void> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dir !== this.options.root) this.unwatch(dir);
      return;
    }
    const present = new Set<string>();
    for (const entry of entries) {
      if (entry.isDirectory()) present.add(path.join(dir, entry.name));
    }
    const gone = [...this.watchers].filter(([watched, watch]) => watch.tree && watched !== dir && path.dirname(watched) === dir && !present.has(watched));
    this.unwatch(new Set(gone.map(([watched]) => watched)));
    for (const child of present) {
      const stats = await fs.promises.lstat(child).catch(() => undefined);
      if (this.closed) return;
      await this.settle(child, stats, false);
    }
  }

  /**
   * Brings the watches of `child` in line with what it is now (`stats`; undefined: gone). `moved`:
   * an event named it as created, moved or removed, so a folder there now is watched anew (even
   * the same folder: moved away and back, what is below it may have been dropped meanwhile).
   */
  private async settle(child: string, stats: fs.Stats | undefined, moved: boolean): Promise<void> {
    const id = stats?.isDirectory() ? `${stats.dev}:${stats.ino}` : undefined;
    const watch = this.watchers.get(child);
    if (watch !== undefined) {
      if (!moved && id !== undefined && watch.id === id && !watch.partial) return; // the same folder, watched whole
      this.unwatch(child); // gone, no folder now, another folder under its name, or moved
    }
    const relative = this.relative(child);
    if (id === undefined || relative === undefined || this.rules.ignores(relative)) return;
    await this.walk(child);
    if (this.closed) return;
    // A file's folder that went with it (and is not in the tree) is watched again.
    this.watchFileFolders(true);
    // What was written into it before its watches were in place went unseen: the cache checks it
    // again, and the pages hear of the folder once more (in the same batch, unless that was sent).
    this.listener.changed?.([child]);
    this.debouncer.add([child]);
  }

  private degrade(reason: string): void {
    if (this.degradedReason !== undefined || this.closed) return;
    this.degradedReason = reason;
    this.listener.degraded?.(
      `live reload: ${reason}; changes in the ${this.watchers.size} folders watched still reload, others do not. ` +
        'Ignore big folders with --reload-ignore <glob> or raise fs.inotify.max_user_watches.',
    );
  }
}

function newWatch(tree: boolean): Watch {
  return { tree, handle: undefined, id: undefined, resume: undefined, partial: false };
}

/** True when `file` is one of `dirs` or below one of them. */
function within(file: string, dirs: ReadonlySet<string>): boolean {
  for (let at = file.length; at > 0; at = file.lastIndexOf(path.sep, at - 1)) {
    if (dirs.has(file.slice(0, at))) return true;
  }
  return false;
}
