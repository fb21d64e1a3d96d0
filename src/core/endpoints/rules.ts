/**
 * The script rules as a pure module: validates a `script` (or a proxy's `rules`) config into a
 * compiled program and matches a message against it (templates.ts renders the replies). No
 * sockets, no timers: script.ts and proxy.ts deliver what this decides. Nothing in a config
 * runs code.
 */
import { setFlagsFromString } from 'node:v8';
import { parseBoundedJson } from '../../shared/boundedJson';
import { isSendableCloseCode, MAX_CLOSE_REASON_BYTES } from '../../shared/protocol';
import { notOneOf, unknownProperty } from './check';
import { RuleError } from './ruleError';
import { compileTemplate, type SlotScope, type Template } from './templates';
import type { ConfigPath, JsonValue } from './types';

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

// ---- Matching --------------------------------------------------------------------------------------

/** What a rule sees of a message. Binary messages never match a rule (the fallback applies). */
export interface Incoming {
  text: string;
  json: () => JsonValue | undefined;
}

/**
 * The message as parsed JSON, parsed at most once; undefined when it is not JSON, nested deeper
 * than MAX_JSON_DEPTH included (boundedJson.ts), so matching and templates never meet a value
 * deeper than that.
 */
export function lazyJson(text: string): () => JsonValue | undefined {
  let parsed: { value: JsonValue | undefined } | undefined;
  return () => {
    if (parsed === undefined) {
      try {
        parsed = { value: parseBoundedJson(text) as JsonValue };
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

/** The keys each object of a script config may have; the schema lists the same (a test compares them). */
export const KEYS = {
  script: ['mode', 'onConnect', 'rules', 'timers', 'fallback', 'faults'],
  greeting: ['send', 'to', 'delayMs'],
  rule: ['match', 'send', 'to', 'delayMs', 'close'],
  matcher: ['text', 'regex', 'flags', 'json'],
  timer: ['everyMs', 'send', 'times'],
  close: ['code', 'reason'],
  faults: ['closeAfter', 'drop', 'latencyMs'],
  closeAfter: ['messages', 'code', 'reason'],
  drop: ['every', 'match'],
} as const;

// ---- Validation ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function object(value: unknown, path: ConfigPath, what: string, keys: readonly string[]): Obj {
  if (!isObject(value)) throw new RuleError(path, `${what} is an object`);
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new RuleError([...path, key], unknownProperty(key, keys, `in ${what}`, Object.keys(value)), 'key');
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
  if (typeof value !== 'string' || !(TARGETS as readonly string[]).includes(value)) throw new RuleError(path, `"to" is "sender", "all" or "others"${notOneOf(value as JsonValue, TARGETS)}`);
  return value as Target;
}

function closeAction(value: unknown, path: ConfigPath): CloseAction {
  const raw = object(value, path, 'a close', KEYS.close);
  const code = raw.code;
  if (typeof code !== 'number' || !isSendableCloseCode(code)) throw new RuleError([...path, 'code'], 'a close code is 1000–1003, 1007–1014 or 3000–4999');
  const reason = raw.reason ?? '';
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) throw new RuleError([...path, 'reason'], `a close reason is a string of at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
  return { code, reason };
}

/** A matcher: exactly one of `text`, `regex` (with optional `flags`) or `json`. */
export function compileMatcher(value: unknown, path: ConfigPath): Matcher {
  const raw = object(value, path, 'a match', KEYS.matcher);
  const kinds = ['text', 'regex', 'json'].filter((key) => raw[key] !== undefined);
  if (kinds.length !== 1) throw new RuleError(path, 'a match has exactly one of "text" (the exact message), "regex" or "json" (a subset of the message\'s JSON), such as {"json": {"type": "ping"}}');
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
    const raw = object(item, at, 'a rule', KEYS.rule);
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
  if (isObject(value)) {
    object(value, path, 'the fallback', ['close']);
    if (value.close !== undefined) return { kind: 'close', close: closeAction(value.close, [...path, 'close']) };
  }
  throw new RuleError(path, `"fallback" is "echo", "ignore" or a close such as {"close": {"code": 4000, "reason": "no rule matched"}}${notOneOf(value as JsonValue, ['echo', 'ignore'])}`);
}

function compileFaults(value: unknown, path: ConfigPath): Faults {
  const raw = value === undefined ? {} : object(value, path, '"faults"', KEYS.faults);
  let closeAfter: Faults['closeAfter'];
  if (raw.closeAfter !== undefined) {
    const at = [...path, 'closeAfter'];
    const spec = object(raw.closeAfter, at, '"closeAfter"', KEYS.closeAfter);
    closeAfter = {
      messages: wholeNumber(spec.messages, [...at, 'messages'], '"messages"', 1, Number.MAX_SAFE_INTEGER),
      close: closeAction({ code: spec.code, reason: spec.reason }, at),
    };
  }
  let dropEvery: number | undefined;
  let dropMatch: Matcher | undefined;
  if (raw.drop !== undefined) {
    const at = [...path, 'drop'];
    const spec = object(raw.drop, at, '"drop"', KEYS.drop);
    if (spec.every === undefined && spec.match === undefined) throw new RuleError(at, '"drop" needs "every" (drop every Nth message), "match" or both');
    if (spec.every !== undefined) dropEvery = wholeNumber(spec.every, [...at, 'every'], '"every"', 1, Number.MAX_SAFE_INTEGER);
    if (spec.match !== undefined) dropMatch = compileMatcher(spec.match, [...at, 'match']);
  }
  return { closeAfter, dropEvery, dropMatch, latencyMs: raw.latencyMs === undefined ? 0 : wholeNumber(raw.latencyMs, [...path, 'latencyMs'], '"latencyMs"', 0, MAX_DELAY_MS) };
}


/** Validates and compiles a script endpoint's object (its `mode` key is the caller's); throws RuleError. */
export function compileScript(endpoint: Obj, path: ConfigPath = []): ScriptProgram {
  const noMessage: SlotScope = { message: false, regex: undefined };
  const onConnect = list(endpoint.onConnect, [...path, 'onConnect'], '"onConnect"').map((item, i) => {
    const at = [...path, 'onConnect', i];
    const raw = object(item, at, 'a greeting', KEYS.greeting);
    return sendAction(raw, at, noMessage, 'sender');
  });
  const timers = list(endpoint.timers, [...path, 'timers'], '"timers"').map((item, i): Timer => {
    const at = [...path, 'timers', i];
    const raw = object(item, at, 'a timer', KEYS.timer);
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
