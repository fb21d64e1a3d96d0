/**
 * Reply templates: strings with {{placeholders}}, or JSON values whose strings hold them,
 * checked when the config is read (unknown placeholders, groups the regex lacks) and rendered
 * per message. A JSON template renders as a value and is serialised, so a message's text can
 * never change a JSON reply's structure.
 */
import { didYouMean } from '../../shared/didYouMean';
import { RuleError } from './ruleError';
import type { ConfigPath, JsonValue } from './types';

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
  /** The message parsed as JSON, when it is JSON (parsed once, lazily, by the caller: rules.ts lazyJson, bounded in depth). */
  json?: () => JsonValue | undefined;
  match?: RegExpExecArray;
  client: number;
  /** The rule's counter: the message's number from this client (1, 2, …) or the timer's tick. */
  n: number;
  /** The handshake's query string parameters. */
  query: URLSearchParams;
}

/** Which placeholders a template may use where it is. */
export interface SlotScope {
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

/** The placeholders a template may use where it is (a rule's reply, with its regex's groups; a greeting or a timer), as messages list them. */
function placeholdersIn(scope: SlotScope): string[] {
  const list = scope.message ? ['{{text}}', '{{json}}', '{{json.a.b}}'] : [];
  if (scope.regex !== undefined) {
    const groups = Array.from({ length: Math.min(countGroups(scope.regex), 9) + 1 }, (_, i) => `{{${i}}}`);
    list.push(...groups, ...groupNames(scope.regex).map((name) => `{{groups.${name}}}`));
  }
  list.push('{{client}}', '{{n}}', '{{now}}', '{{query.name}}');
  return list;
}

/**
 * The placeholders a mistyped one is compared with: the plain ones, and its own dotted rest after
 * each prefix (`{{qeury.room}}` may mean `{{query.room}}`), each valid where it is.
 */
function placeholderNames(expression: string, scope: SlotScope, path: ConfigPath): string[] {
  const dot = expression.indexOf('.');
  const rest = dot === -1 ? '' : expression.slice(dot);
  const names = [...(scope.message ? ['text', 'json'] : []), 'client', 'n', 'now', ...(rest === '' ? [] : ['json', 'query', 'groups'].map((head) => head + rest))];
  return names.filter((name) => {
    try {
      compileSlot(name, scope, path, false);
      return true;
    } catch {
      return false;
    }
  });
}

/** One placeholder's slot, or a RuleError; `advise`: say what a mistyped one may have meant (off while trying candidates). */
function compileSlot(expression: string, scope: SlotScope, path: ConfigPath, advise = true): Slot {
  const needsMessage = (slot: Slot): Slot => {
    if (!scope.message) throw new RuleError(path, `{{${expression}}} is only there when a message is answered (a rule's reply), not in onConnect or timers`);
    return slot;
  };
  if (expression === 'text') return needsMessage({ kind: 'text' });
  if (expression === 'json') return needsMessage({ kind: 'json', path: [] });
  if (expression.startsWith('json.')) {
    needsMessage({ kind: 'json', path: [] }); // before the path's own check, whose examples need a message too
    const keys = expression.slice(5).split('.');
    if (keys.some((key) => key === '')) throw new RuleError(path, `{{${expression}}}: a JSON path is keys joined by dots, such as {{json.user.name}} or {{json.items.0}}`);
    return { kind: 'json', path: keys };
  }
  if (/^\d+$/.test(expression)) {
    const index = Number(expression);
    const groups = countGroups(needsRegex(scope.regex, expression, path));
    if (index > groups) throw new RuleError(path, `{{${expression}}}: the rule's regex has ${groups} group${groups === 1 ? '' : 's'}`);
    return needsMessage({ kind: 'group', index });
  }
  if (expression.startsWith('groups.')) {
    const name = expression.slice(7);
    const names = groupNames(needsRegex(scope.regex, expression, path));
    if (!names.includes(name)) throw new RuleError(path, `{{${expression}}}: the rule's regex has no group (?<${name}>…)${didYouMean(name, names, (near) => `{{groups.${near}}}`)}`);
    return needsMessage({ kind: 'named', name });
  }
  if (expression === 'client') return { kind: 'client' };
  if (expression === 'n') return { kind: 'n' };
  if (expression === 'now') return { kind: 'now' };
  if (expression.startsWith('query.') && expression.length > 6) return { kind: 'query', name: expression.slice(6) };
  const advice = advise ? didYouMean(expression, placeholderNames(expression, scope, path), (name) => `{{${name}}}`) : '';
  throw new RuleError(path, `unknown placeholder {{${expression}}} (the placeholders here are ${placeholdersIn(scope).join(', ')})${advice}`);
}

function needsRegex(regex: RegExp | undefined, expression: string, path: ConfigPath): RegExp {
  if (regex === undefined) throw new RuleError(path, `{{${expression}}} is a regex group: only in a rule that matches a regex`);
  return regex;
}

/** How many groups a regex has. An empty alternative always matches, so exec shows every group (unmatched ones undefined). */
function countGroups(regex: RegExp): number {
  return (new RegExp(`${regex.source}|`).exec('')?.length ?? 1) - 1;
}

function groupNames(regex: RegExp | undefined): string[] {
  return regex === undefined ? [] : Object.keys(new RegExp(`${regex.source}|`).exec('')?.groups ?? {});
}

export function compileTemplate(value: unknown, scope: SlotScope, path: ConfigPath): Template {
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

/** A reply that would be larger than the endpoint's largest message; thrown before it is built whole. */
export class ReplyTooLarge extends Error {
  constructor(limit: number) {
    super(`the reply would be larger than the largest message (${limit} bytes): not sent`);
    this.name = 'ReplyTooLarge';
  }
}

/**
 * What a reply may still take, in UTF-16 units, counted as placeholders fill it: a template that
 * repeats a large message's text many times stops at the limit instead of building hundreds of
 * megabytes first. (Units, not bytes: a reply under the limit in units may still be over it in
 * bytes; ws closes nothing for what we send, and the final check below is in bytes.)
 */
class Budget {
  private left: number;
  constructor(readonly limit: number) {
    this.left = limit;
  }
  take(length: number): void {
    this.left -= length;
    if (this.left < 0) throw new ReplyTooLarge(this.limit);
  }
}

function renderPieces(pieces: readonly Piece[], context: TemplateContext, budget: Budget): string {
  let out = '';
  for (const piece of pieces) {
    const text = typeof piece === 'string' ? piece : asText(slotValue(piece, context));
    budget.take(text.length);
    out += text;
  }
  return out;
}

function renderJson(template: JsonTemplate, context: TemplateContext, budget: Budget): JsonValue {
  if (template === null || typeof template !== 'object') return template;
  if (Array.isArray(template)) return template.map((item) => renderJson(item, context, budget));
  if ('pieces' in template) {
    const [only] = template.pieces;
    // A string that is one placeholder takes the value's own JSON type ("{{json.id}}" → 7, a missing one → null).
    if (template.pieces.length === 1 && typeof only !== 'string') {
      const value = slotValue(only, context) ?? null;
      budget.take(typeof value === 'string' ? value.length : value !== null && typeof value === 'object' ? JSON.stringify(value).length : 0);
      return value;
    }
    return renderPieces(template.pieces, context, budget);
  }
  const object: Record<string, JsonValue> = {};
  for (const [key, item] of template.object) Object.defineProperty(object, key, { value: renderJson(item, context, budget), enumerable: true, writable: true, configurable: true });
  return object;
}

/**
 * The text to send, at most `maxBytes` of UTF-8 (else ReplyTooLarge). A JSON template is
 * rendered as a value and serialised, so whatever a placeholder brings (quotes, backslashes,
 * `}`) is escaped by JSON.stringify and can never change the reply's structure. JSON.stringify
 * recurses, but nothing here is deep enough to exhaust the stack: a message's JSON is at most
 * MAX_JSON_DEPTH deep (lazyJson parses it through boundedJson.ts, deeper is no JSON at all) and a
 * template at most as deep (the config file's limit, json.ts).
 */
export function render(template: Template, context: TemplateContext, maxBytes: number): string {
  const budget = new Budget(maxBytes);
  const text = template.kind === 'text' ? renderPieces(template.pieces, context, budget) : JSON.stringify(renderJson(template.value, context, budget));
  if (Buffer.byteLength(text) > maxBytes) throw new ReplyTooLarge(maxBytes);
  return text;
}
