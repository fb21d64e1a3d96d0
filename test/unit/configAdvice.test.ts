/**
 * What the config's errors suggest loads: every example ("such as", "e.g."), every "did you mean"
 * and every placeholder a message offers is written where the problem is, and the config must
 * then load. Each closed set of names (top-level keys, modes, every section's keys, matcher kinds,
 * targets, fallbacks, placeholders) gets "did you mean" for a mistyped name. The config
 * examples of docs/config.md load too, and its error examples print what it says.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigText } from '../../src/core/config/check';
import { parseJson } from '../../src/core/config/json';
import { MODE_NAMES } from '../../src/core/endpoints';
import { PROXY_KEYS } from '../../src/core/endpoints/proxy';
import { KEYS, TARGETS } from '../../src/core/endpoints/rules';
import type { JsonValue } from '../../src/core/endpoints/types';
import { REPO_ROOT } from '../support/http';

const ENV = { proxyBeyondLoopback: true };
const FILE = '/site/.echo-preview.json';

type Suggestion = { kind: 'json'; value: JsonValue } | { kind: 'placeholder'; text: string } | { kind: 'raw'; text: string };

/** Where a message offers something to write instead: an example, a "did you mean", the placeholders there are. */
const MARKERS = ['such as ', 'e.g. ', 'did you mean ', 'the placeholders here are '];

/** One suggested thing at `at`: a JSON value, a `{{placeholder}}`, a bare path (`/websocket`, a string), or raw text. */
function readToken(text: string, at: number): { suggestion: Suggestion; end: number } {
  if (text.startsWith('{{', at)) {
    const end = text.indexOf('}}', at) + 2;
    return { suggestion: { kind: 'placeholder', text: text.slice(at, end) }, end };
  }
  const first = text[at];
  if (first === '"' || first === '{' || first === '[') {
    let depth = 0;
    let inString = false;
    for (let i = at; i < text.length; i++) {
      const char = text[i];
      if (inString) {
        if (char === '\\') i++;
        else if (char === '"') {
          inString = false;
          if (depth === 0) return { suggestion: { kind: 'json', value: JSON.parse(text.slice(at, i + 1)) as JsonValue }, end: i + 1 };
        }
      } else if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') {
        if (--depth === 0) return { suggestion: { kind: 'json', value: JSON.parse(text.slice(at, i + 1)) as JsonValue }, end: i + 1 };
      }
    }
    throw new Error(`an unclosed suggestion in: ${text}`);
  }
  const word = /^[^\s,;)?]+/.exec(text.slice(at))?.[0] ?? '';
  if (/^-?\d+$/.test(word)) return { suggestion: { kind: 'json', value: Number(word) }, end: at + word.length };
  if (word.startsWith('/')) return { suggestion: { kind: 'json', value: word }, end: at + word.length };
  return { suggestion: { kind: 'raw', text: word }, end: at + word.length };
}

/** Everything `message` suggests, after each marker: one item, or several joined by " or " (and ", " in a list). */
function suggestionsIn(message: string): Suggestion[] {
  const found: Suggestion[] = [];
  for (const marker of MARKERS) {
    let from = 0;
    for (let at = message.indexOf(marker, from); at !== -1; at = message.indexOf(marker, from)) {
      let end = at + marker.length;
      for (;;) {
        const token = readToken(message, end);
        found.push(token.suggestion);
        end = token.end;
        const joiner = [' or ', ', '].find((j) => message.startsWith(j, end) && (j === ' or ' || marker === 'the placeholders here are '));
        if (joiner === undefined) break;
        end += joiner.length;
      }
      from = end;
    }
  }
  return found;
}

/** The offset of a 1-based line and column in `text` (lines end with \n). */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

/** The document path a problem points at (its key, or its value), from the parser's places. */
function targetAt(text: string, offset: number): { path: (string | number)[]; key: boolean } {
  const parsed = parseJson(text);
  assert.ok(parsed.ok);
  let best: { path: (string | number)[]; key: boolean } | undefined;
  for (const [key, place] of parsed.places) {
    const at = JSON.parse(key) as (string | number)[];
    const hit = place.key === offset && place.value !== offset ? 'key' : place.value === offset ? 'value' : undefined;
    if (hit === undefined) continue;
    if (best === undefined || at.length > best.path.length) best = { path: at, key: hit === 'key' };
  }
  assert.ok(best !== undefined, `no key or value at offset ${offset} of ${text}`);
  return best;
}

/** `document` with `suggestion` written where the problem is: the value replaced, the key renamed, or the placeholder replaced in its string. */
function apply(document: JsonValue, target: { path: (string | number)[]; key: boolean }, suggestion: Suggestion, message: string): JsonValue {
  if (target.path.length === 0 && suggestion.kind === 'json') return suggestion.value;
  const copy = structuredClone(document);
  let parent = copy as Record<string | number, JsonValue>;
  for (const step of target.path.slice(0, -1)) parent = parent[step] as Record<string | number, JsonValue>;
  const last = target.path[target.path.length - 1];
  if (suggestion.kind === 'placeholder') {
    const wrong = /\{\{[^{}]*\}\}/.exec(message)?.[0];
    assert.ok(wrong !== undefined && typeof parent[last] === 'string', `a placeholder suggestion for a string: ${message}`);
    parent[last] = (parent[last] as string).replace(wrong, suggestion.text);
  } else if (suggestion.kind === 'raw') {
    assert.fail(`"${suggestion.text}" is suggested, which is neither JSON, a path nor a placeholder: ${message}`);
  } else if (target.key) {
    assert.equal(typeof suggestion.value, 'string', `a key is renamed to a string: ${message}`);
    const renamed: Record<string, JsonValue> = {};
    for (const [key, value] of Object.entries(parent)) renamed[key === last ? (suggestion.value as string) : key] = value;
    for (const key of Object.keys(parent)) delete parent[key];
    Object.assign(parent, renamed);
  } else {
    parent[last] = suggestion.value;
  }
  return copy;
}

/** The problem of `text`, and the config each of its suggestions makes; asserts each one loads. Returns the message. */
function checkSuggestions(text: string): { message: string; suggestions: Suggestion[] } {
  const checked = checkConfigText(FILE, text, ENV);
  assert.ok(!checked.ok, `expected a problem in ${text}`);
  const { message, line, column } = checked.problem;
  const suggestions = suggestionsIn(message);
  const parsed = parseJson(text);
  for (const suggestion of suggestions) {
    let fixed: string;
    if (!parsed.ok && /^[ \t\n\r]*$/.test(text) && suggestion.kind === 'json') {
      fixed = JSON.stringify(suggestion.value); // an empty file: the suggestion is the whole file
    } else if (!parsed.ok) {
      // A syntax error: the suggestion replaces the one character the problem is at.
      assert.ok(suggestion.kind === 'raw' && line !== undefined && column !== undefined, message);
      const at = offsetOf(text, line, column);
      fixed = text.slice(0, at) + suggestion.text + text.slice(at + 1);
    } else {
      assert.ok(line !== undefined && column !== undefined, message);
      fixed = JSON.stringify(apply(parsed.value, targetAt(text, offsetOf(text, line, column)), suggestion, message), null, 2);
    }
    const again = checkConfigText(FILE, fixed, ENV);
    assert.ok(again.ok, `"${message}" suggests ${JSON.stringify(suggestion)}, which does not load:\n${fixed}\n→ ${again.ok ? '' : again.problem.message}`);
  }
  return { message, suggestions };
}

const doc = (endpoints: Record<string, unknown>): string => JSON.stringify({ endpoints }, null, 2);
const script = (section: Record<string, unknown>): string => doc({ '/s': { mode: 'script', ...section } });
const rule = (fields: Record<string, unknown>): string => script({ rules: [{ match: { text: 'a' }, send: 'b', ...fields }] });

/** Problems whose messages carry an example; each must suggest something, and all of it must load. */
const EXAMPLES: Array<[string, string]> = [
  ['an empty file', ''],
  ['a file of white space', ' \n\t\n'],
  ['an array', '[]'],
  ['a string', '"endpoints"'],
  ['no endpoints', '{}'],
  ['endpoints as an array', '{"endpoints": []}'],
  ['no endpoint at all', '{"endpoints": {}}'],
  ['an endpoint path without "/"', doc({ chat: { mode: 'echo' } })],
  ['an endpoint path percent-encoded', doc({ '/ws-%C3%BC': { mode: 'echo' } })],
  ['an endpoint that is a string', doc({ '/a': 'echo' })],
  ['a control character in a string', '{"endpoints": {"/s": {"mode": "script", "onConnect": [{"send": "line one\nline two"}]}}}'],
  ['a regex that is no string', rule({ match: { regex: 5 } })],
  ['a match of no kind', rule({ match: {} })],
  ['a match of two kinds', rule({ match: { text: 'a', json: { type: 'a' } } })],
  ['a fallback that is no fallback', script({ fallback: 'reply' })],
  ['a fallback object without close', script({ fallback: {} })],
  ['an upstream that is no string', doc({ '/p': { mode: 'proxy', upstream: 9000 } })],
  ['a JSON path with an empty key in a reply', rule({ send: '{{json..a}}' })],
  ['an unknown placeholder in a reply', rule({ send: 'got {{txt}}' })],
  ['an unknown placeholder in a greeting', script({ onConnect: [{ send: 'hi {{clinet}}' }] })],
  ['an unknown placeholder in a timer', script({ timers: [{ everyMs: 1000, send: '{{tick}}' }] })],
  ['an unknown placeholder in a regex rule', script({ rules: [{ match: { regex: '^(?<name>\\w+) (\\d)$' }, send: '{{nme}}' }] })],
  ['a named group the regex lacks', script({ rules: [{ match: { regex: '^(?<name>\\w+)$' }, send: '{{groups.nme}}' }] })],
  ['an unknown placeholder in a JSON reply', rule({ send: { user: '{{clent}}' } })],
];

describe('what config errors suggest loads', () => {
  const messages: string[] = [];
  for (const [name, text] of EXAMPLES) {
    it(name, () => {
      const { message, suggestions } = checkSuggestions(text);
      messages.push(message);
      assert.ok(suggestions.length > 0, `no suggestion in: ${message}`);
    });
  }

  it('every example written in the config’s messages is among those checked above', () => {
    // Each "such as" or "e.g." in a message string of the config's sources, by the words before it.
    const sources = [path.join('src', 'core', 'config', 'source.ts'), path.join('src', 'core', 'config', 'json.ts'), ...readdirSync(path.join(REPO_ROOT, 'src', 'core', 'endpoints')).map((f) => path.join('src', 'core', 'endpoints', f))];
    const unchecked: string[] = [];
    for (const source of sources) {
      for (const line of readFileSync(path.join(REPO_ROOT, source), 'utf8').split('\n')) {
        if (/^\s*(\/\/|\/\*|\*)/.test(line)) continue;
        for (const found of line.matchAll(/([^'"`${}]{0,24})(such as |e\.g\. )/g)) {
          const context = found[1] + found[2];
          if (!messages.some((m) => m.includes(context.replace(/\\\\/g, '\\')))) unchecked.push(`${source}: …${context}`);
        }
      }
    }
    assert.deepEqual(unchecked, [], 'examples no test above has seen in a message');
  });
});

/** `to` mistyped the way people do: a letter short, or (for a short name) in capitals. */
function typo(name: string): string {
  return name.length > 3 ? name.slice(0, -1) : name.toUpperCase();
}

/** A mistyped name's message suggests the name, and writing it in loads. */
function suggests(text: string, name: string): void {
  const { message } = checkSuggestions(text);
  assert.ok(message.includes(`did you mean ${name}`) || message.includes(`did you mean `) && message.includes(` or ${name}`), `"${message}" does not suggest ${name}`);
}

/** A valid value for each key of the config, so that a mistyped key is the only problem. */
const SAMPLE: Record<string, unknown> = {
  $schema: './schema.json',
  endpoints: { '/a': { mode: 'echo' } },
  includeSender: false,
  upstream: 'ws://127.0.0.1:9/',
  onConnect: [{ send: 'hi' }],
  rules: [{ match: { text: 'a' }, send: 'b' }],
  timers: [{ everyMs: 1000, send: 't' }],
  fallback: 'ignore',
  faults: { latencyMs: 1 },
  send: 'x',
  to: 'all',
  delayMs: 5,
  match: { text: 'a' },
  close: { code: 4000 },
  text: 'a',
  regex: 'a',
  flags: 'm',
  json: { type: 'a' },
  everyMs: 1000,
  times: 2,
  code: 4000,
  reason: 'r',
  closeAfter: { messages: 2, code: 4000 },
  drop: { every: 2 },
  latencyMs: 3,
  messages: 2,
  every: 2,
};

/**
 * Every object of the config whose keys are a closed set: the keys, the rest an object needs to
 * be valid, and where it goes in a config.
 */
const KEY_SETS: Array<[string, readonly string[], Record<string, unknown>, (object: Record<string, unknown>) => string]> = [
  ['the top level', ['$schema', 'endpoints'], { endpoints: SAMPLE.endpoints }, (object) => JSON.stringify(object, null, 2)],
  ['an echo endpoint', ['mode'], { mode: 'echo' }, (object) => doc({ '/a': object })],
  ['a broadcast endpoint', ['mode', 'includeSender'], { mode: 'broadcast' }, (object) => doc({ '/a': object })],
  ['a script endpoint', KEYS.script, { mode: 'script' }, (object) => doc({ '/a': object })],
  ['a proxy endpoint', PROXY_KEYS, { mode: 'proxy', upstream: SAMPLE.upstream }, (object) => doc({ '/a': object })],
  ['a greeting', KEYS.greeting, { send: 'x' }, (object) => script({ onConnect: [object] })],
  ['a rule', KEYS.rule, { match: { text: 'a' }, send: 'b' }, (object) => script({ rules: [object] })],
  ['a proxy’s rule', KEYS.rule, { match: { text: 'a' }, send: 'b' }, (object) => doc({ '/p': { mode: 'proxy', upstream: SAMPLE.upstream, rules: [object] } })],
  ['a match (its kinds)', KEYS.matcher, {}, (object) => script({ rules: [{ match: object, send: 'b' }] })],
  ['a timer', KEYS.timer, { everyMs: 1000, send: 't' }, (object) => script({ timers: [object] })],
  ['a close', KEYS.close, { code: 4000 }, (object) => script({ rules: [{ match: { text: 'a' }, close: object }] })],
  ['a fallback close', ['close'], { close: { code: 4000 } }, (object) => script({ fallback: object })],
  ['faults', KEYS.faults, {}, (object) => script({ faults: object })],
  ['closeAfter', KEYS.closeAfter, { messages: 2, code: 4000 }, (object) => script({ faults: { closeAfter: object } })],
  ['drop', KEYS.drop, { every: 2 }, (object) => script({ faults: { drop: object } })],
];

describe('a mistyped name of any closed set gets "did you mean", and the name it offers loads', () => {
  for (const [where, keys, base, place] of KEY_SETS) {
    it(`the keys of ${where}`, () => {
      for (const key of keys) {
        // A mistyped "mode" leaves the endpoint without one: that is reported at the mistyped key too.
        const object: Record<string, unknown> = { ...base, [typo(key)]: key === 'mode' ? base.mode : SAMPLE[key] };
        if (typo(key) !== key) delete object[key];
        if (key === 'flags') object.regex = 'a';
        suggests(place(object), JSON.stringify(key));
      }
    });
  }

  it('the modes', () => {
    const rest: Record<string, Record<string, unknown>> = { proxy: { upstream: SAMPLE.upstream } };
    for (const mode of MODE_NAMES) {
      suggests(doc({ '/a': { mode: typo(mode), ...rest[mode] } }), JSON.stringify(mode));
      suggests(doc({ '/a': { mode: mode.toUpperCase(), ...rest[mode] } }), JSON.stringify(mode));
    }
  });

  it('the targets of "to"', () => {
    for (const target of TARGETS) suggests(rule({ to: typo(target) }), JSON.stringify(target));
  });

  it('the fallbacks', () => {
    for (const fallback of ['echo', 'ignore']) suggests(script({ fallback: typo(fallback) }), JSON.stringify(fallback));
  });

  it('the placeholders, each only where it is there', () => {
    for (const name of ['text', 'json', 'client', 'n', 'now']) suggests(rule({ send: `{{${typo(name)}}}` }), `{{${name}}}`);
    for (const name of ['client', 'n', 'now']) suggests(script({ onConnect: [{ send: `{{${typo(name)}}}` }] }), `{{${name}}}`);
    suggests(rule({ send: '{{jsn.user}}' }), '{{json.user}}');
    suggests(script({ timers: [{ everyMs: 1000, send: '{{qeury.room}}' }] }), '{{query.room}}');
    suggests(script({ rules: [{ match: { regex: '^(?<name>\\w+)$' }, send: '{{grups.name}}' }] }), '{{groups.name}}');
    // {{text}} and {{json…}} are not there in a greeting: never offered there.
    for (const send of ['{{tex}}', '{{json.}}', '{{jsn.a}}']) {
      const { message, suggestions } = checkSuggestions(script({ onConnect: [{ send }] }));
      assert.ok(!suggestions.some((s) => s.kind === 'placeholder' && /^\{\{(text|json)/.test(s.text)), message);
    }
  });

  it('a key the object already has is never offered (renaming to it would repeat it)', () => {
    for (const text of [doc({ '/a': { mode: 'echo', mdoe: 'echo' } }), rule({ sned: 'c' }), doc({ '/b': { mode: 'broadcast', includeSender: true, includesender: false } })]) {
      const { message } = checkSuggestions(text);
      assert.match(message, /^unknown property/);
      assert.doesNotMatch(message, /did you mean/, message);
    }
  });

  it('a name nothing resembles gets no guess', () => {
    for (const text of [doc({ '/a': { mode: 'shout' } }), rule({ to: 'everyone' }), rule({ send: '{{zzz}}' }), rule({ send: '{{xyz.}}' }), rule({ send: '{{query.}}' }), script({ greeting: 'hi' })]) {
      assert.doesNotMatch(checkSuggestions(text).message, /did you mean/);
    }
  });
});

describe('the config examples of docs/config.md', () => {
  const section = readFileSync(path.join(REPO_ROOT, 'docs', 'config.md'), 'utf8');
  const blocks = [...section.matchAll(/```(json|text)\n([\s\S]*?)\n```/g)].map((m) => ({ lang: m[1], body: m[2] }));

  it('load, unless docs/config.md shows them as refused, and then print what it says', () => {
    const jsons = blocks.flatMap((block, i) => (block.lang === 'json' ? [{ body: block.body, next: blocks[i + 1] }] : []));
    assert.ok(jsons.length >= 7, `${jsons.length} json examples`);
    let refused = 0;
    for (const { body, next } of jsons) {
      const checked = checkConfigText(FILE, body, ENV);
      const shown = next?.lang === 'text' ? /^echo-preview: \S*\.echo-preview\.json:(\d+):(\d+): (.*?)( \(keeping the last good config\))?$/.exec(next.body) : null;
      if (shown === null) {
        assert.ok(checked.ok, `docs/config.md's example does not load: ${checked.ok ? '' : checked.problem.message}\n${body}`);
        continue;
      }
      refused++;
      assert.ok(!checked.ok, `docs/config.md shows this as refused, but it loads:\n${body}`);
      assert.deepEqual([checked.problem.line, checked.problem.column, checked.problem.message], [Number(shown[1]), Number(shown[2]), shown[3]]);
    }
    assert.equal(refused, 2, 'the two error examples');
  });
});
