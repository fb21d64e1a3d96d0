/**
 * Strict JSON (RFC 8259) parsed with the place of every key and value, so a config problem can
 * name its line and column: a syntax error where the text goes wrong, a schema error at the
 * offending value.
 */
import type { ConfigPath, JsonObject, JsonValue } from '../endpoints/types';

/** Where one value (and, for an object member, its key) starts in the text, as offsets. */
export interface Place {
  value: number;
  key?: number;
}

export type ParsedJson =
  | { ok: true; value: JsonValue; places: Map<string, Place> }
  | { ok: false; offset: number; message: string };

/** The key of a path in `places`. */
export function placeKey(path: ConfigPath): string {
  return JSON.stringify(path);
}

/** 1-based line and column (in UTF-16 code units, as editors count) of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x0a || (char === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** Nesting deeper than this is refused rather than risking the stack. */
const MAX_DEPTH = 200;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

export function parseJson(text: string): ParsedJson {
  const places = new Map<string, Place>();
  let at = 0;

  const describe = (offset: number): string => {
    if (offset >= text.length) return 'the end of the file';
    const char = text[offset];
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})` : JSON.stringify(char);
  };
  const fail = (message: string, offset = at): never => {
    throw new SyntaxProblem(offset, message);
  };
  const skipSpace = (): void => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at++;
  };
  const expect = (char: string, what: string): void => {
    skipSpace();
    if (text[at] !== char) fail(`expected ${what}, found ${describe(at)}`);
    at++;
  };

  const parseString = (): string => {
    const start = at;
    at++; // the opening quote
    let out = '';
    for (;;) {
      if (at >= text.length) fail('this string is not closed (a " is missing)', start);
      const char = text[at];
      if (char === '"') {
        at++;
        return out;
      }
      if (char.charCodeAt(0) < 0x20) fail(`a string cannot hold ${describe(at)}; write it escaped, e.g. \\n`);
      if (char !== '\\') {
        out += char;
        at++;
        continue;
      }
      const escape = text[at + 1];
      if (escape === 'u') {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('"\\u" must be followed by four hex digits');
        out += String.fromCharCode(parseInt(hex, 16));
        at += 6;
      } else if (escape !== undefined && Object.hasOwn(ESCAPES, escape)) {
        out += ESCAPES[escape];
        at += 2;
      } else {
        fail(`"\\${escape ?? ''}" is not a JSON escape (use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)`);
      }
    }
  };

  const parseNumber = (): number => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    if (match === null) return fail(`expected a value, found ${describe(at)}`);
    const next = text[at + match[0].length];
    if (next !== undefined && /[0-9.eE+-]/.test(next)) fail('this is not a JSON number (no leading zeros, "+", or a bare "." )', at);
    at += match[0].length;
    return Number(match[0]);
  };

  const parseValue = (path: (string | number)[], depth: number): JsonValue => {
    skipSpace();
    const place = places.get(placeKey(path));
    if (place === undefined) places.set(placeKey(path), { value: at });
    else place.value = at;
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    const char = text[at];
    if (char === '{') return parseObject(path, depth);
    if (char === '[') return parseArray(path, depth);
    if (char === '"') return parseString();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return value;
      }
    }
    if (char === '-' || (char >= '0' && char <= '9')) return parseNumber();
    if (char === "'") return fail('JSON strings take double quotes ("), not single quotes');
    if (char === '}' || char === ']') return fail(`expected a value, found ${describe(at)} (a trailing comma?)`);
    return fail(`expected a value, found ${describe(at)}`);
  };

  const parseObject = (path: (string | number)[], depth: number): JsonObject => {
    const object: JsonObject = {};
    at++;
    skipSpace();
    if (text[at] === '}') {
      at++;
      return object;
    }
    for (;;) {
      skipSpace();
      if (text[at] !== '"') {
        fail(text[at] === '}' ? 'a trailing comma before "}" is not allowed in JSON' : `expected a property name in double quotes, found ${describe(at)}`);
      }
      const keyAt = at;
      const key = parseString();
      if (Object.hasOwn(object, key)) fail(`duplicate property ${JSON.stringify(key)}`, keyAt);
      const memberPath = [...path, key];
      places.set(placeKey(memberPath), { key: keyAt, value: keyAt });
      expect(':', `":" after the property name`);
      object[key] = parseValue(memberPath, depth + 1);
      skipSpace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === '}') {
        at++;
        return object;
      }
      fail(`expected "," or "}", found ${describe(at)}`);
    }
  };

  const parseArray = (path: (string | number)[], depth: number): JsonValue[] => {
    const array: JsonValue[] = [];
    at++;
    skipSpace();
    if (text[at] === ']') {
      at++;
      return array;
    }
    for (;;) {
      skipSpace();
      if (text[at] === ']') fail('a trailing comma before "]" is not allowed in JSON');
      array.push(parseValue([...path, array.length], depth + 1));
      skipSpace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === ']') {
        at++;
        return array;
      }
      fail(`expected "," or "]", found ${describe(at)}`);
    }
  };

  try {
    skipSpace();
    if (at >= text.length) return { ok: false, offset: at, message: 'the file is empty' };
    const value = parseValue([], 0);
    skipSpace();
    if (at < text.length) fail(`unexpected ${describe(at)} after the end of the JSON value`);
    return { ok: true, value, places };
  } catch (error) {
    if (error instanceof SyntaxProblem) return { ok: false, offset: error.offset, message: error.message };
    throw error;
  }
}
