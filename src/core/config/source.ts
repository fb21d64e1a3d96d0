/**
 * The config file (`.echo-preview.json` in the root, or ServerOptions.configFile): read, checked
 * by hand against schemas/echo-preview.schema.json so that every problem names its line and
 * column, watched, and applied in place. A broken edit keeps the last good config.
 */
import { watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { parseJson, lineColumn, placeKey, type Place } from './json';
import { didYouMean, nearestNames } from '../../shared/didYouMean';
import { MODE_NAMES, modeOf } from '../endpoints';
import { jsonTypeOf, notOneOf, onlyKeys } from '../endpoints/check';
import type { ConfigPath, EndpointMode, JsonObject, JsonValue, SectionCheck } from '../endpoints/types';
import type { Disposable, ServerEvents } from '../events/events';
import type { EndpointSpec } from '../ws/hub';
import { readUserFile } from '../userFile';
import { wsPathProblem } from '../ws/paths';

export const CONFIG_FILE_NAME = '.echo-preview.json';

/** Paths under this prefix are the server's own (builtin.ts); no endpoint may take one. */
const RESERVED_PREFIX = '/__echo-preview/';

/** The smallest config that loads, which messages suggest. */
const EXAMPLE = '{"endpoints": {"/websocket": {"mode": "echo"}}}';

/**
 * A refused config: where (1-based line and column) and what is wrong. A problem of the file as a
 * whole (missing, unreadable) has no position: neither line nor column.
 */
export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

export interface ConfigState {
  /** The config file in force (absolute); undefined when there is none. */
  file: string | undefined;
  endpoints: readonly { path: string; mode: EndpointMode }[];
  /** The last edit was refused; the last good config applies. */
  problem: ConfigProblem | undefined;
}

/** What checking a config needs besides the text. */
export interface CheckEnvironment {
  /** False when a proxy upstream must be loopback (ServerOptions.proxyBeyondLoopback). */
  proxyBeyondLoopback: boolean;
}

export type CheckedConfig = { ok: true; endpoints: EndpointSpec[] } | { ok: false; problem: ConfigProblem };

/** `file:line:col: message`, as the CLI and StartError show a problem; `file: message` for one without a position. */
export function formatProblem(problem: ConfigProblem): string {
  if (problem.line === undefined) return `${problem.file}: ${problem.message}`;
  return `${problem.file}:${problem.line}:${problem.column ?? 1}: ${problem.message}`;
}

/**
 * One line for a config state: `config applied: 2 endpoints (/chat broadcast, /websocket echo)`, or
 * the problem with `(keeping the last good config)`.
 */
export function describeConfig(state: ConfigState): string {
  if (state.problem !== undefined) return `${formatProblem(state.problem)} (keeping the last good config)`;
  const count = `${state.endpoints.length} ${state.endpoints.length === 1 ? 'endpoint' : 'endpoints'}`;
  const list = state.endpoints.map((e) => `${e.path} ${e.mode}`).join(', ');
  return state.file === undefined ? `no config file: ${count} (${list})` : `config applied: ${count} (${list})`;
}

/** Parses and checks a config file's text; a problem points at the offending text. */
export function checkConfigText(file: string, text: string, env: CheckEnvironment): CheckedConfig {
  // A BOM some editors write; they do not count it as a column, so neither do we.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // The suggestion is a config that loads: one echo endpoint.
  if (/^[ \t\n\r]*$/.test(body)) return { ok: false, problem: { file, ...lineColumn(body, body.length), message: `the file is empty; it needs a JSON object such as ${EXAMPLE}` } };
  const parsed = parseJson(body);
  if (!parsed.ok) return { ok: false, problem: { file, ...lineColumn(body, parsed.offset), message: parsed.message } };
  let found: { path: ConfigPath; message: string; target: 'value' | 'key' } | undefined;
  const report = (at: ConfigPath, message: string, target: 'value' | 'key' = 'value'): void => {
    found ??= { path: at, message, target };
  };
  const endpoints = checkDocument(parsed.value, report, env);
  if (endpoints !== undefined && found === undefined) return { ok: true, endpoints };
  const where = found ?? { path: [], message: 'the config was refused', target: 'value' as const };
  const offset = offsetOf(parsed.places, where.path, where.target);
  return { ok: false, problem: { file, ...lineColumn(body, offset), message: where.message } };
}

/** The offset of the value (or key) at `at`, or of its nearest ancestor that is in the text. */
function offsetOf(places: Map<string, Place>, at: ConfigPath, target: 'value' | 'key'): number {
  for (let length = at.length; length >= 0; length--) {
    const place = places.get(placeKey(at.slice(0, length)));
    if (place === undefined) continue;
    return length === at.length && target === 'key' ? (place.key ?? place.value) : place.value;
  }
  return 0;
}

type Report = (at: ConfigPath, message: string, target?: 'value' | 'key') => void;

const isObject = (value: JsonValue | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkDocument(document: JsonValue, report: Report, env: CheckEnvironment): EndpointSpec[] | undefined {
  if (!isObject(document)) return void report([], `the config must be a JSON object such as ${EXAMPLE}, not ${jsonTypeOf(document)}`);
  const top: SectionCheck = { at: [], problem: (at, message, target) => report(at, message, target), proxyBeyondLoopback: env.proxyBeyondLoopback };
  if (!onlyKeys(document, ['$schema', 'endpoints'], top, 'at the top level')) return undefined;
  if (document.$schema !== undefined && typeof document.$schema !== 'string') return void report(['$schema'], `"$schema" must be a string (a URL or path of the schema)`);
  const endpoints = document.endpoints;
  if (endpoints === undefined) return void report([], `"endpoints" is missing: name at least one path, e.g. ${EXAMPLE}`);
  if (!isObject(endpoints)) return void report(['endpoints'], `"endpoints" must be an object of paths, e.g. {"/websocket": {"mode": "echo"}}, not ${jsonTypeOf(endpoints)}`);
  const paths = Object.keys(endpoints);
  if (paths.length === 0) return void report(['endpoints'], '"endpoints" is empty: name at least one path, e.g. {"/websocket": {"mode": "echo"}}');
  const specs: EndpointSpec[] = [];
  for (const endpointPath of paths) {
    const at = ['endpoints', endpointPath];
    const problem = wsPathProblem(endpointPath);
    if (problem !== undefined) return void report(at, `the endpoint path ${JSON.stringify(endpointPath)} ${problem}; use one absolute path such as /websocket`, 'key');
    if (endpointPath.startsWith(RESERVED_PREFIX) || endpointPath === RESERVED_PREFIX.slice(0, -1)) {
      return void report(at, `the endpoint path ${JSON.stringify(endpointPath)} is under ${RESERVED_PREFIX}, which the server keeps for itself`, 'key');
    }
    const config = checkSection(endpoints[endpointPath], at, report, env);
    if (config === undefined) return undefined;
    specs.push({ path: endpointPath, config });
  }
  return specs;
}

function checkSection(section: JsonValue, at: ConfigPath, report: Report, env: CheckEnvironment): EndpointSpec['config'] | undefined {
  const modes = MODE_NAMES.map((m) => `"${m}"`).join(', ');
  if (!isObject(section)) return void report(at, `an endpoint is an object with a "mode" (${modes}), such as {"mode": "echo"}, not ${jsonTypeOf(section)}`);
  const mode = section.mode;
  if (mode === undefined) {
    // A key that is "mode" mistyped ("mdoe") is reported at that key, as any mistyped name is.
    const typo = Object.keys(section).find((key) => nearestNames(key, ['mode']).length > 0);
    if (typo !== undefined) return void report([...at, typo], `this endpoint has no "mode" (${modes})${didYouMean(typo, ['mode'])}`, 'key');
    return void report(at, `this endpoint has no "mode": use one of ${modes}`);
  }
  if (typeof mode !== 'string' || !(MODE_NAMES as readonly string[]).includes(mode)) {
    return void report([...at, 'mode'], `"mode" must be one of ${modes}${notOneOf(mode, MODE_NAMES)}`);
  }
  const definition = modeOf(mode as EndpointMode);
  if (definition === undefined) return void report([...at, 'mode'], `mode "${mode}" is not available in this version of Echo Preview`);
  const check: SectionCheck = {
    at,
    problem: (relative, message, target) => report([...at, ...relative], message, target),
    proxyBeyondLoopback: env.proxyBeyondLoopback,
  };
  return definition.check(section, check);
}

/** Longest config file read; a sanity limit far beyond any hand-written one. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Wait this long after the last change in the folder before reading (an editor's save is several events). */
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
  private watcher: FSWatcher | undefined;
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
    const read = await this.read();
    if (read.kind === 'missing') {
      if (required) return { ok: false, problem: { file: this.file, message: 'the config file does not exist' }, missing: true };
      return { ok: true, endpoints: this.defaults };
    }
    if (read.kind === 'problem') return { ok: false, problem: read.problem };
    this.lastText = read.text;
    this.current = { file: this.file, endpoints: summarize(read.endpoints), problem: undefined };
    return { ok: true, endpoints: read.endpoints };
  }

  onConfig(listener: (state: ConfigState) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** Watches the file's folder, so a rename-save, a new file and a removed one are all seen. */
  watch(): void {
    const folder = path.dirname(this.file);
    const name = path.basename(this.file);
    try {
      this.watcher = watch(folder, { persistent: false }, (_event, filename) => {
        if (filename === null || filename.toString() === name) this.schedule();
      });
      this.watcher.on('error', (error) => this.report(`watching ${folder} for config changes failed: ${error.message}`, error));
    } catch (error) {
      this.report(`cannot watch ${folder} for config changes: ${(error as Error).message}`, error);
    }
    this.schedule(); // an edit between the first read and the watch (the same text changes nothing)
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    this.listeners.clear();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload(), DEBOUNCE_MS);
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
    const read = await this.read();
    if (this.disposed) return;
    if (read.kind === 'problem' && read.text === '') {
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
    const text = read.kind === 'missing' ? undefined : read.text;
    if (text === this.lastText && read.kind !== 'missing') return; // touched, not changed
    if (read.kind === 'missing' && this.current.file === undefined && this.current.problem === undefined) return;
    this.lastText = text;
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

  private read(): Promise<ConfigRead> {
    return readConfigFile(this.file, this.env);
  }

  private report(message: string, error: unknown): void {
    if (this.events.active) this.events.emit({ type: 'error', message, error });
  }
}

/** One read of a config file: there is none, it is refused (unreadable or wrong), or its endpoints. */
export type ConfigRead = { kind: 'missing' } | { kind: 'problem'; text: string; problem: ConfigProblem } | { kind: 'ok'; text: string; endpoints: EndpointSpec[] };

/**
 * Reads and checks the config file at `file` (readUserFile: never blocks on a FIFO or a device,
 * reads at most MAX_CONFIG_BYTES). `text` tells one read from the next (an unreadable file's is
 * its reason, so a new reason is a change).
 */
export async function readConfigFile(file: string, env: CheckEnvironment): Promise<ConfigRead> {
  const read = await readUserFile(file, MAX_CONFIG_BYTES);
  if (!read.ok) {
    if (read.missing) return { kind: 'missing' };
    return { kind: 'problem', text: `\0unreadable: ${read.reason}`, problem: { file, message: `cannot read the config file: ${read.reason}` } };
  }
  const checked = checkConfigText(file, read.text, env);
  return checked.ok ? { kind: 'ok', text: read.text, endpoints: checked.endpoints } : { kind: 'problem', text: read.text, problem: checked.problem };
}

function summarize(endpoints: readonly EndpointSpec[]): ConfigState['endpoints'] {
  return endpoints.map(({ path: endpointPath, config }) => ({ path: endpointPath, mode: config.mode }));
}
