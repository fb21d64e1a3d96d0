/**
 * One server's config file (`.echo-preview.json` in the root, or ServerOptions.configFile): read
 * without blocking and within bounds (userFile.ts), checked (check.ts), read again when the one
 * folder watcher says it changed (fileChanged), and applied in place. A broken edit keeps the
 * last good config.
 */
import type { EndpointSpec } from '../endpoints/types';
import type { Disposable, ServerEvents } from '../events/events';
import { readUserFile } from '../userFile';
import { checkConfigText, type CheckEnvironment } from './check';
import type { ConfigProblem, ConfigState } from './state';

/** Longest config file read; a sanity limit far beyond any hand-written one. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Wait this long after the last change of the file before reading (an editor's save is several events). */
const DEBOUNCE_MS = 40;

/** How long a file read as empty (zero bytes) must stay so before it is refused as empty. */
const EMPTY_SETTLE_MS = 300;

/**
 * One server's config: the file read at start and again whenever it changes (written in place,
 * saved by rename, created, removed). `apply` receives the endpoints to serve each time they
 * change: the file's, or `defaults` while there is no file.
 */
export class ConfigSource {
  private current: ConfigState;
  /** The text last read; undefined when the file was missing. */
  private lastText: string | undefined;
  private readonly listeners = new Set<(state: ConfigState) => void>();
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  /** When reads began to find the file empty (zero bytes); undefined while it is not. */
  private emptySince: number | undefined;
  private disposed = false;

  constructor(
    /** Absolute path of the config file (it need not exist). */
    readonly file: string,
    private readonly defaults: readonly EndpointSpec[],
    private readonly env: CheckEnvironment,
    private readonly events: ServerEvents,
    private readonly apply: (endpoints: readonly EndpointSpec[]) => void,
  ) {
    this.current = { file: undefined, endpoints: summarize(defaults), problem: undefined };
  }

  get state(): ConfigState {
    return this.current;
  }

  /**
   * The endpoints at start: the file's, or the defaults without one. A problem (or, when
   * `required`, no file) comes back as a problem and nothing is applied.
   */
  async initial(required: boolean): Promise<{ ok: true; endpoints: readonly EndpointSpec[] } | { ok: false; problem: ConfigProblem; missing?: true }> {
    const read = this.check(await readConfigText(this.file));
    if (read.kind === 'missing') {
      if (required) return { ok: false, problem: { file: this.file, message: 'the config file does not exist' }, missing: true };
      return { ok: true, endpoints: this.defaults };
    }
    if (read.kind === 'problem') return { ok: false, problem: read.problem };
    this.lastText = read.text;
    this.current = { file: this.file, endpoints: summarize(read.endpoints), problem: undefined };
    return { ok: true, endpoints: read.endpoints };
  }

  /** A problem that stopped a start, to follow on (followConfig): a fix, or the file removed, clears it. */
  seed(problem: ConfigProblem): void {
    this.current = { ...this.current, problem };
  }

  onConfig(listener: (state: ConfigState) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /**
   * The file may have changed (written, saved by rename, created, removed): the watcher's word.
   * Called once more when the watch starts, for an edit between the first read and the watch
   * (the same text changes nothing).
   */
  fileChanged(): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload(), DEBOUNCE_MS);
  }

  /** The file's changes can no longer be seen (its folder cannot be watched). */
  unwatched(message: string): void {
    if (this.events.active) this.events.emit({ type: 'error', message: `${message} (config changes are not seen)` });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  /** Reads again; one read at a time, and one more if the file changed during it. */
  private reload(): void {
    if (this.reading !== undefined) {
      this.again = true;
      return;
    }
    this.reading = this.readAndApply().finally(() => {
      this.reading = undefined;
      if (this.again && !this.disposed) {
        this.again = false;
        this.reload();
      }
    });
  }

  private async readAndApply(): Promise<void> {
    const raw = await readConfigText(this.file);
    if (this.disposed) return;
    if (raw.kind === 'text' && raw.text === '') {
      // Written in place, a file is empty between its truncation and the write, for longer than
      // the debounce on a busy machine: it counts as empty once it has stayed so for a while.
      this.emptySince ??= performance.now();
      const wait = this.emptySince + EMPTY_SETTLE_MS - performance.now();
      if (wait > 0) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload(), wait);
        return;
      }
    } else {
      this.emptySince = undefined;
    }
    const text = raw.kind === 'missing' ? undefined : raw.text;
    if (text === this.lastText && raw.kind !== 'missing') return; // touched, not changed: not checked again
    if (raw.kind === 'missing' && this.current.file === undefined && this.current.problem === undefined) return;
    this.lastText = text;
    const read = this.check(raw);
    if (read.kind === 'problem') {
      this.update({ ...this.current, problem: read.problem });
      return;
    }
    const endpoints = read.kind === 'missing' ? this.defaults : read.endpoints;
    this.apply(endpoints);
    this.update({ file: read.kind === 'missing' ? undefined : this.file, endpoints: summarize(endpoints), problem: undefined });
  }

  private update(state: ConfigState): void {
    this.current = state;
    if (this.events.active) this.events.emit({ type: 'config', state });
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch {
        // A faulty listener must not stop the others or the server.
      }
    }
  }

  /** A read's verdict: the text checked (against the schema, with this source's environment). */
  private check(raw: ConfigText): ConfigRead {
    if (raw.kind !== 'text') return raw;
    const checked = checkConfigText(this.file, raw.text, this.env);
    return checked.ok ? { kind: 'ok', text: raw.text, endpoints: checked.endpoints } : { kind: 'problem', text: raw.text, problem: checked.problem };
  }
}

/** One read of a config file: there is none, it is refused (unreadable or wrong), or its endpoints. */
type ConfigRead = { kind: 'missing' } | { kind: 'problem'; text: string; problem: ConfigProblem } | { kind: 'ok'; text: string; endpoints: EndpointSpec[] };
/** The file's text before it is checked, or why there is none. */
type ConfigText = { kind: 'missing' } | { kind: 'problem'; text: string; problem: ConfigProblem } | { kind: 'text'; text: string };

/**
 * Reads the config file at `file` (readUserFile: never blocks on a FIFO or a device, reads at most
 * MAX_CONFIG_BYTES). `text` tells one read from the next (an unreadable file's is its reason, so
 * a new reason is a change).
 */
async function readConfigText(file: string): Promise<ConfigText> {
  const read = await readUserFile(file, MAX_CONFIG_BYTES);
  if (!read.ok) {
    if (read.missing) return { kind: 'missing' };
    return { kind: 'problem', text: `\0unreadable: ${read.reason}`, problem: { file, message: `cannot read the config file: ${read.reason}` } };
  }
  return { kind: 'text', text: read.text };
}

function summarize(endpoints: readonly EndpointSpec[]): ConfigState['endpoints'] {
  return endpoints.map(({ path: endpointPath, config }) => ({ path: endpointPath, mode: config.mode }));
}
