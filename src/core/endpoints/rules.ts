/**
 * The script rules as a pure module: validates a `script` (or a proxy's `rules`) config into a
 * compiled program, matches a message against it and renders reply templates. No sockets, no
 * timers: script.ts and proxy.ts deliver what this decides. Nothing in a config runs code.
 */
import { setFlagsFromString } from 'node:v8';
import { isSendableCloseCode, MAX_CLOSE_REASON_BYTES } from '../../protocol';
import type { ConfigPath, JsonValue } from './types';

/** A config value this module refuses, with where it is (from the endpoint's object down) and a message for the person who wrote it. */
export class RuleError extends Error {
  constructor(
    readonly path: ConfigPath,
    message: string,
    /** `key` when the key itself is wrong (an unknown property), else the value is. */
    readonly target: 'value' | 'key' = 'value',
  ) {
    super(message);
    this.name = 'RuleError';
  }
}

/** Who gets a message: the client it answers, every client of the endpoint, or every one but that client. */
export type Target = 'sender' | 'all' | 'others';
export const TARGETS: readonly Target[] = ['sender', 'all', 'others'];

/** The longest delay, interval or latency (one hour), and the shortest timer interval. */
export const MAX_DELAY_MS = 3_600_000;
export const MIN_TIMER_MS = 10;

export type Matcher =
  | { kind: 'text'; text: string }
  | { kind: 'regex'; regex: RegExp; source: string }
  | { kind: 'json'; json: JsonValue };

export interface CloseAction {
  code: number;
  reason: string;
}

/** One message to send: what, to whom, after how long. */
export interface SendAction {
  template: Template;
  to: Target;
  delayMs: number;
}

export interface Rule {
  match: Matcher;
  send: SendAction | undefined;
  /** Close the client's socket after the reply (if any) has gone. */
  close: CloseAction | undefined;
}

export interface Timer {
  everyMs: number;
  /** Stop after this many ticks; undefined: until the client leaves. */
  times: number | undefined;
  template: Template;
}

export type Fallback = { kind: 'echo' } | { kind: 'ignore' } | { kind: 'close'; close: CloseAction };

export interface Faults {
  /** After the Nth message from a client has been handled, close it with this code. */
  closeAfter: { messages: number; close: CloseAction } | undefined;
  /** Drop (do not handle at all) every Nth message of a client, and/or messages that match. */
  dropEvery: number | undefined;
  dropMatch: Matcher | undefined;
  /** Added before each message of a client is handled (order is kept). */
  latencyMs: number;
}

/** A compiled `script` endpoint. */
export interface ScriptProgram {
  onConnect: SendAction[];
  rules: Rule[];
  timers: Timer[];
  fallback: Fallback;
  faults: Faults;
}

// ---- Templates ------------------------------------------------------------------------------------

/** A placeholder: where its value comes from. */
type Slot =
  | { kind: 'text' }
  | { kind: 'json'; path: string[] }
  | { kind: 'group'; index: number }
  | { kind: 'named'; name: string }
  | { kind: 'client' }
  | { kind: 'n' }
  | { kind: 'now' }
  | { kind: 'query'; name: string };

type Piece = string | Slot;

/** A reply: text with placeholders, or a JSON value whose strings hold placeholders. */
export type Template = { kind: 'text'; pieces: Piece[] } | { kind: 'json'; value: JsonTemplate };
type JsonTemplate = null | boolean | number | { pieces: Piece[] } | JsonTemplate[] | { object: Array<[string, JsonTemplate]> };

/** What a template can draw on. `match` is the regex match when the rule matched a regex. */
export interface TemplateContext {
  text?: string;
  /** The message parsed as JSON, when it is JSON (parsed once, lazily, by the caller). */
  json?: () => JsonValue | undefined;
  match?: RegExpExecArray;
  client: number;
  /** The rule's counter: the message's number from this client (1, 2, …) or the timer's tick. */
  n: number;
  /** The handshake's query string parameters. */
  query: URLSearchParams;
}

/** Which placeholders a template may use where it is. */
interface SlotScope {
  /** A message is being answered (text and json are there). */
  message: boolean;
  /** The regex the rule matches: groups are there (count and names checked). */
  regex: RegExp | undefined;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

function compilePieces(source: string, scope: SlotScope, path: ConfigPath): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const found of source.matchAll(PLACEHOLDER)) {
    if (found.index > last) pieces.push(source.slice(last, found.index));
    pieces.push(compileSlot(found[1], scope, path));
    last = found.index + found[0].length;
  }
  const rest = source.slice(last);
  if (rest.includes('{{')) throw new RuleError(path, `"{{" opens a placeholder that is never closed with "}}"`);
  if (rest !== '') pieces.push(rest);
  return pieces;
}

const KNOWN = '{{text}}, {{json}}, {{json.a.b}}, {{0}}…{{9}}, {{groups.name}}, {{client}}, {{n}}, {{now}}, {{query.name}}';

function compileSlot(expression: string, scope: SlotScope, path: ConfigPath): Slot {
  const needsMessage = (slot: Slot): Slot => {
    if (!scope.message) throw new RuleError(path, `{{${expression}}} is only there when a message is answered (a rule's reply), not in onConnect or timers`);
    return slot;
  };
  if (expression === 'text') return needsMessage({ kind: 'text' });
  if (expression === 'json') return needsMessage({ kind: 'json', path: [] });
  if (expression.startsWith('json.')) {
    const keys = expression.slice(5).split('.');
    if (keys.some((key) => key === '')) throw new RuleError(path, `{{${expression}}}: a JSON path is keys joined by dots, such as {{json.user.name}} or {{json.items.0}}`);
    return needsMessage({ kind: 'json', path: keys });
  }
  if (/^\d+$/.test(expression)) {
    const index = Number(expression);
    const groups = groupCount(scope.regex, expression, path);
    if (index > groups) throw new RuleError(path, `{{${expression}}}: the rule's regex has ${groups} group${groups === 1 ? '' : 's'}`);
    return needsMessage({ kind: 'group', index });
  }
  if (expression.startsWith('groups.')) {
    const name = expression.slice(7);
    groupCount(scope.regex, expression, path);
    const names = Object.keys(new RegExp(`${scope.regex?.source ?? ''}|`).exec('')?.groups ?? {});
    if (!names.includes(name)) throw new RuleError(path, `{{${expression}}}: the rule's regex has no group (?<${name}>…)`);
    return needsMessage({ kind: 'named', name });
  }
  if (expression === 'client') return { kind: 'client' };
  if (expression === 'n') return { kind: 'n' };
  if (expression === 'now') return { kind: 'now' };
  if (expression.startsWith('query.') && expression.length > 6) return { kind: 'query', name: expression.slice(6) };
  throw new RuleError(path, `unknown placeholder {{${expression}}}; the placeholders are ${KNOWN}`);
}

function groupCount(regex: RegExp | undefined, expression: string, path: ConfigPath): number {
  if (regex === undefined) throw new RuleError(path, `{{${expression}}} is a regex group: only in a rule that matches a regex`);
  // An empty alternative always matches, so exec shows every group (unmatched ones undefined).
  return (new RegExp(`${regex.source}|`).exec('')?.length ?? 1) - 1;
}

function compileTemplate(value: unknown, scope: SlotScope, path: ConfigPath): Template {
  if (typeof value === 'string') return { kind: 'text', pieces: compilePieces(value, scope, path) };
  if (value === undefined) throw new RuleError(path, 'a message to send is a string (sent as text) or a JSON value (sent as JSON text)');
  return { kind: 'json', value: compileJsonTemplate(value, scope, path) };
}

function compileJsonTemplate(value: unknown, scope: SlotScope, path: ConfigPath): JsonTemplate {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'string') return { pieces: compilePieces(value, scope, path) };
  if (Array.isArray(value)) return value.map((item, i) => compileJsonTemplate(item, scope, [...path, i]));
  if (typeof value === 'object') return { object: Object.entries(value).map(([key, item]) => [key, compileJsonTemplate(item, scope, [...path, key])]) };
  throw new RuleError(path, 'not a JSON value');
}

/** The value of one placeholder; undefined when it has none (a missing field, an unmatched group). */
function slotValue(slot: Slot, context: TemplateContext): JsonValue | undefined {
  switch (slot.kind) {
    case 'text':
      return context.text;
    case 'json':
      return lookup(context.json?.(), slot.path);
    case 'group':
      return context.match?.[slot.index];
    case 'named':
      return context.match?.groups?.[slot.name];
    case 'client':
      return context.client;
    case 'n':
      return context.n;
    case 'now':
      return new Date().toISOString();
    case 'query':
      return context.query.get(slot.name) ?? undefined;
  }
}

/** A dotted path into parsed JSON, own keys only (no `__proto__` or `constructor` from the prototype). */
function lookup(value: JsonValue | undefined, keys: readonly string[]): JsonValue | undefined {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, JsonValue>)[key];
  }
  return current;
}

/** A value inside text: strings as they are, anything else as its JSON text, nothing as nothing. */
function asText(value: JsonValue | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function renderPieces(pieces: readonly Piece[], context: TemplateContext): string {
  let out = '';
  for (const piece of pieces) out += typeof piece === 'string' ? piece : asText(slotValue(piece, context));
  return out;
}

function renderJson(template: JsonTemplate, context: TemplateContext): JsonValue {
  if (template === null || typeof template !== 'object') return template;
  if (Array.isArray(template)) return template.map((item) => renderJson(item, context));
  if ('pieces' in template) {
    const [only] = template.pieces;
    // A string that is one placeholder takes the value's own JSON type ("{{json.id}}" → 7, a missing one → null).
    if (template.pieces.length === 1 && typeof only !== 'string') return slotValue(only, context) ?? null;
    return renderPieces(template.pieces, context);
  }
  const object: Record<string, JsonValue> = {};
  for (const [key, item] of template.object) Object.defineProperty(object, key, { value: renderJson(item, context), enumerable: true, writable: true, configurable: true });
  return object;
}

/**
 * The text to send. A JSON template is rendered as a value and serialised, so whatever a
 * placeholder brings (quotes, backslashes, `}`) is escaped by JSON.stringify and can never
 * change the reply's structure.
 */
export function render(template: Template, context: TemplateContext): string {
  return template.kind === 'text' ? renderPieces(template.pieces, context) : JSON.stringify(renderJson(template.value, context));
}

// ---- Matching --------------------------------------------------------------------------------------

/** What a rule sees of a message. Binary messages never match a rule (the fallback applies). */
export interface Incoming {
  text: string;
  json: () => JsonValue | undefined;
}

/** The message as parsed JSON, parsed at most once; undefined when it is not JSON. */
export function lazyJson(text: string): () => JsonValue | undefined {
  let parsed: { value: JsonValue | undefined } | undefined;
  return () => {
    if (parsed === undefined) {
      try {
        parsed = { value: JSON.parse(text) as JsonValue };
      } catch {
        parsed = { value: undefined };
      }
    }
    return parsed.value;
  };
}

/** The regex match when a regex matched, true for another match, false for none. */
export function matches(matcher: Matcher, message: Incoming): RegExpExecArray | boolean {
  switch (matcher.kind) {
    case 'text':
      return message.text === matcher.text;
    case 'regex':
      return matcher.regex.exec(message.text) ?? false;
    case 'json': {
      const value = message.json();
      return value !== undefined && isSubset(matcher.json, value);
    }
  }
}

/**
 * The JSON subset rule: an object pattern matches an object that has each of its keys with a
 * matching value (other keys are ignored); an array pattern matches an array of the same length,
 * item by item; anything else must be equal.
 */
export function isSubset(pattern: JsonValue, value: JsonValue): boolean {
  if (Array.isArray(pattern)) return Array.isArray(value) && value.length === pattern.length && pattern.every((item, i) => isSubset(item, value[i]));
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    return Object.entries(pattern).every(([key, item]) => Object.hasOwn(value, key) && isSubset(item, value[key]));
  }
  return pattern === value;
}

/** The first rule that matches, with what its templates draw on; undefined when none does. */
export function firstMatch(rules: readonly Rule[], message: Incoming): { rule: Rule; match: RegExpExecArray | undefined } | undefined {
  for (const rule of rules) {
    const result = matches(rule.match, message);
    if (result !== false) return { rule, match: result === true ? undefined : result };
  }
  return undefined;
}

// ---- Safe regexes -----------------------------------------------------------------------------------

/**
 * Regexes from a config run on V8's linear-time engine (the `l` flag), so no pattern and no
 * message can make matching backtrack catastrophically: a pattern that engine cannot run is
 * refused when the config is read. The engine is behind a V8 flag; turning it on only makes
 * the `l` flag available, it changes no other regex.
 */
let linearEngine: boolean | undefined;
const LINEAR = 'l';
function hasLinearEngine(): boolean {
  if (linearEngine === undefined) {
    try {
      new RegExp('', LINEAR);
      linearEngine = true;
    } catch {
      try {
        setFlagsFromString('--enable-experimental-regexp-engine');
        new RegExp('', LINEAR);
        linearEngine = true;
      } catch {
        linearEngine = false;
      }
    }
  }
  return linearEngine;
}

const REGEX_FLAGS = /^[ms]*$/;
export const MAX_REGEX_LENGTH = 1000;

function compileRegex(source: unknown, flags: unknown, path: ConfigPath): RegExp {
  if (typeof source !== 'string') throw new RuleError([...path, 'regex'], 'a regex is a string, such as "^hello (\\\\w+)$"');
  if (source.length > MAX_REGEX_LENGTH) throw new RuleError([...path, 'regex'], `a regex is at most ${MAX_REGEX_LENGTH} characters`);
  if (flags !== undefined && (typeof flags !== 'string' || !REGEX_FLAGS.test(flags))) {
    throw new RuleError([...path, 'flags'], 'flags may hold only "m" (^ and $ at line ends) and "s" (. matches line ends); "i", "u", "g" and "y" are not available');
  }
  if (!hasLinearEngine()) throw new RuleError([...path, 'regex'], 'regex rules need a Node.js whose V8 has the linear-time regex engine; match with "text" or "json" instead');
  try {
    new RegExp(source, flags ?? '');
  } catch (error) {
    throw new RuleError([...path, 'regex'], `not a valid regex: ${(error as Error).message}`);
  }
  try {
    return new RegExp(source, `${flags ?? ''}${LINEAR}`);
  } catch {
    throw new RuleError(
      [...path, 'regex'],
      'this regex cannot run in linear time, so a hostile message could stall the server: backreferences (\\1, \\k<name>), lookahead and lookbehind ((?=…), (?<=…)) and counted repeats over 16 ({17}, {1,99}) are not available',
    );
  }
}

// ---- Validation ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function object(value: unknown, path: ConfigPath, what: string, keys: readonly string[]): Obj {
  if (!isObject(value)) throw new RuleError(path, `${what} is an object`);
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new RuleError([...path, key], `unknown property ${JSON.stringify(key)} in ${what} (allowed: ${keys.map((k) => JSON.stringify(k)).join(', ')})`, 'key');
  }
  return value;
}

function list(value: unknown, path: ConfigPath, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RuleError(path, `${what} is an array`);
  return value;
}

function wholeNumber(value: unknown, path: ConfigPath, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RuleError(path, `${what} is a whole number from ${min} to ${max}`);
  }
  return value;
}

function delay(value: unknown, path: ConfigPath): number {
  return value === undefined ? 0 : wholeNumber(value, path, 'a delay in milliseconds', 0, MAX_DELAY_MS);
}

function target(value: unknown, path: ConfigPath, fallback: Target): Target {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(TARGETS as readonly string[]).includes(value)) throw new RuleError(path, '"to" is "sender", "all" or "others"');
  return value as Target;
}

function closeAction(value: unknown, path: ConfigPath): CloseAction {
  const raw = object(value, path, 'a close', ['code', 'reason']);
  const code = raw.code;
  if (typeof code !== 'number' || !isSendableCloseCode(code)) throw new RuleError([...path, 'code'], 'a close code is 1000–1003, 1007–1014 or 3000–4999');
  const reason = raw.reason ?? '';
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) throw new RuleError([...path, 'reason'], `a close reason is a string of at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
  return { code, reason };
}

/** A matcher: exactly one of `text`, `regex` (with optional `flags`) or `json`. */
export function compileMatcher(value: unknown, path: ConfigPath): Matcher {
  const raw = object(value, path, 'a match', ['text', 'regex', 'flags', 'json']);
  const kinds = ['text', 'regex', 'json'].filter((key) => raw[key] !== undefined);
  if (kinds.length !== 1) throw new RuleError(path, 'a match has exactly one of "text" (the exact message), "regex" or "json" (a subset such as {"type": "ping"})');
  if (raw.flags !== undefined && kinds[0] !== 'regex') throw new RuleError([...path, 'flags'], '"flags" goes only with "regex"');
  if (kinds[0] === 'text') {
    if (typeof raw.text !== 'string') throw new RuleError([...path, 'text'], '"text" is the exact message, a string');
    return { kind: 'text', text: raw.text };
  }
  if (kinds[0] === 'regex') return { kind: 'regex', regex: compileRegex(raw.regex, raw.flags, path), source: raw.regex as string };
  return { kind: 'json', json: raw.json as JsonValue };
}

function sendAction(raw: Obj, path: ConfigPath, scope: SlotScope, defaultTarget: Target): SendAction {
  return {
    template: compileTemplate(raw.send, scope, [...path, 'send']),
    to: target(raw.to, [...path, 'to'], defaultTarget),
    delayMs: delay(raw.delayMs, [...path, 'delayMs']),
  };
}

/** The `rules` array (script and proxy share it). */
export function compileRules(value: unknown, path: ConfigPath): Rule[] {
  return list(value, path, '"rules"').map((item, i) => {
    const at = [...path, i];
    const raw = object(item, at, 'a rule', ['match', 'send', 'to', 'delayMs', 'close']);
    if (raw.match === undefined) throw new RuleError(at, 'a rule needs "match"');
    const match = compileMatcher(raw.match, [...at, 'match']);
    if (raw.send === undefined && raw.close === undefined) throw new RuleError(at, 'a rule needs "send" (the reply), "close" or both');
    if (raw.send === undefined && (raw.to !== undefined || raw.delayMs !== undefined)) throw new RuleError(at, '"to" and "delayMs" go with "send"');
    const scope: SlotScope = { message: true, regex: match.kind === 'regex' ? match.regex : undefined };
    return {
      match,
      send: raw.send === undefined ? undefined : sendAction(raw, at, scope, 'sender'),
      close: raw.close === undefined ? undefined : closeAction(raw.close, [...at, 'close']),
    };
  });
}

function compileFallback(value: unknown, path: ConfigPath): Fallback {
  if (value === undefined || value === 'echo') return { kind: 'echo' };
  if (value === 'ignore') return { kind: 'ignore' };
  if (isObject(value) && value.close !== undefined) {
    object(value, path, 'the fallback', ['close']);
    return { kind: 'close', close: closeAction(value.close, [...path, 'close']) };
  }
  throw new RuleError(path, '"fallback" is "echo", "ignore" or {"close": {"code": 4000, "reason": "…"}}');
}

function compileFaults(value: unknown, path: ConfigPath): Faults {
  const raw = value === undefined ? {} : object(value, path, '"faults"', ['closeAfter', 'drop', 'latencyMs']);
  let closeAfter: Faults['closeAfter'];
  if (raw.closeAfter !== undefined) {
    const at = [...path, 'closeAfter'];
    const spec = object(raw.closeAfter, at, '"closeAfter"', ['messages', 'code', 'reason']);
    closeAfter = {
      messages: wholeNumber(spec.messages, [...at, 'messages'], '"messages"', 1, Number.MAX_SAFE_INTEGER),
      close: closeAction({ code: spec.code, reason: spec.reason }, at),
    };
  }
  let dropEvery: number | undefined;
  let dropMatch: Matcher | undefined;
  if (raw.drop !== undefined) {
    const at = [...path, 'drop'];
    const spec = object(raw.drop, at, '"drop"', ['every', 'match']);
    if (spec.every === undefined && spec.match === undefined) throw new RuleError(at, '"drop" needs "every" (drop every Nth message), "match" or both');
    if (spec.every !== undefined) dropEvery = wholeNumber(spec.every, [...at, 'every'], '"every"', 1, Number.MAX_SAFE_INTEGER);
    if (spec.match !== undefined) dropMatch = compileMatcher(spec.match, [...at, 'match']);
  }
  return { closeAfter, dropEvery, dropMatch, latencyMs: raw.latencyMs === undefined ? 0 : wholeNumber(raw.latencyMs, [...path, 'latencyMs'], '"latencyMs"', 0, MAX_DELAY_MS) };
}

/** The keys of a `script` endpoint besides `mode`. */
export const SCRIPT_KEYS = ['onConnect', 'rules', 'timers', 'fallback', 'faults'] as const;

/** Validates and compiles a script endpoint's object (its `mode` key is the caller's); throws RuleError. */
export function compileScript(endpoint: Obj, path: ConfigPath = []): ScriptProgram {
  const noMessage: SlotScope = { message: false, regex: undefined };
  const onConnect = list(endpoint.onConnect, [...path, 'onConnect'], '"onConnect"').map((item, i) => {
    const at = [...path, 'onConnect', i];
    const raw = object(item, at, 'a greeting', ['send', 'to', 'delayMs']);
    return sendAction(raw, at, noMessage, 'sender');
  });
  const timers = list(endpoint.timers, [...path, 'timers'], '"timers"').map((item, i): Timer => {
    const at = [...path, 'timers', i];
    const raw = object(item, at, 'a timer', ['everyMs', 'send', 'times']);
    return {
      everyMs: wholeNumber(raw.everyMs, [...at, 'everyMs'], '"everyMs"', MIN_TIMER_MS, MAX_DELAY_MS),
      times: raw.times === undefined ? undefined : wholeNumber(raw.times, [...at, 'times'], '"times"', 1, Number.MAX_SAFE_INTEGER),
      template: compileTemplate(raw.send, noMessage, [...at, 'send']),
    };
  });
  return {
    onConnect,
    rules: compileRules(endpoint.rules, [...path, 'rules']),
    timers,
    fallback: compileFallback(endpoint.fallback, [...path, 'fallback']),
    faults: compileFaults(endpoint.faults, [...path, 'faults']),
  };
}
