/**
 * The config file's JSON, with comments and trailing commas as in VS Code's settings.json, parsed
 * by jsonc-parser with the place of every key and value, so a config problem can name its line
 * and column: a syntax error where the text goes wrong (in our words), a schema error at the
 * offending value.
 */
import { ParseErrorCode, visit } from 'jsonc-parser';
import { MAX_JSON_DEPTH, TOO_DEEP } from '../../shared/boundedJson';
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

/** The first problem, thrown from the visitor to stop the parse there. */
class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the text must hold next, which names what a syntax error expected. */
type Expecting = 'value' | 'key' | 'colon' | 'next';

const NOT_A_NUMBER = 'this is not a JSON number (no leading zeros, "+", or a bare "." )';

/**
 * Parses `text` (no BOM): the first problem stops it. Nesting deeper than MAX_JSON_DEPTH is
 * refused as soon as it is met, so a file nested 100,000 deep never reaches the parser's
 * recursion. A duplicate key is an error, as is anything after the value.
 */
export function parseJson(text: string): ParsedJson {
  const places = new Map<string, Place>();
  /** The open objects and arrays, innermost last, each with the key of its member being read. */
  const open: Array<{ value: JsonObject | JsonValue[]; key?: string }> = [];
  let root: JsonValue | undefined;
  let expecting: Expecting = 'value';

  const stop = (offset: number, message: string): never => {
    throw new SyntaxProblem(offset, message);
  };
  const add = (value: JsonValue, offset: number, path: ConfigPath): void => {
    const place = places.get(placeKey(path));
    if (place === undefined) places.set(placeKey(path), { value: offset });
    else place.value = offset;
    const parent = open.at(-1);
    if (parent === undefined) root = value;
    else if (Array.isArray(parent.value)) parent.value.push(value);
    // defineProperty, so that a "__proto__" key is a member like any other.
    else Object.defineProperty(parent.value, parent.key as string, { value, enumerable: true, writable: true, configurable: true });
    expecting = 'next';
  };
  const begin = (container: JsonObject | JsonValue[], offset: number, path: ConfigPath): void => {
    if (open.length >= MAX_JSON_DEPTH) stop(offset, TOO_DEEP);
    add(container, offset, path);
    open.push({ value: container });
    expecting = Array.isArray(container) ? 'value' : 'key';
  };
  const end = (): void => {
    open.pop();
    expecting = 'next';
  };
  /** The message for a token that is not what `expecting` allows. */
  const unexpected = (offset: number): string => {
    const found = describe(text, offset);
    if (expecting === 'value' && open.length === 0 && offset >= text.length) return 'the file holds no JSON value';
    if (expecting === 'value') return text[offset] === "'" ? 'JSON strings take double quotes ("), not single quotes' : `expected a value, found ${found}`;
    if (expecting === 'key') return `expected a property name in double quotes, found ${found}`;
    if (expecting === 'colon') return `expected ":" after the property name, found ${found}`;
    const parent = open.at(-1);
    if (parent === undefined) return `unexpected ${found} after the end of the JSON value`;
    return `expected "," or "${Array.isArray(parent.value) ? ']' : '}'}", found ${found}`;
  };

  try {
    visit(
      text,
      {
        onObjectBegin: (offset, _length, _line, _column, path) => begin({}, offset, path()),
        onArrayBegin: (offset, _length, _line, _column, path) => begin([], offset, path()),
        onObjectEnd: end,
        onArrayEnd: end,
        onObjectProperty: (key, offset, _length, _line, _column, path) => {
          const parent = open.at(-1) as { value: JsonObject; key?: string };
          if (Object.hasOwn(parent.value, key)) stop(offset, `duplicate property ${JSON.stringify(key)}`);
          parent.key = key;
          places.set(placeKey([...path(), key]), { key: offset, value: offset });
          expecting = 'colon';
        },
        onSeparator: (separator) => {
          expecting = separator === ':' || Array.isArray(open.at(-1)?.value) ? 'value' : 'key';
        },
        onLiteralValue: (value: JsonValue, offset, length, _line, _column, path) => {
          // jsonc-parser reads "01" as two numbers; JSON has no leading zeros.
          if (typeof value === 'number' && /[0-9.eE+-]/.test(text[offset + length] ?? '')) stop(offset, NOT_A_NUMBER);
          add(value, offset, path());
        },
        onError: (code, offset) => {
          switch (code) {
            case ParseErrorCode.UnexpectedEndOfString:
            case ParseErrorCode.InvalidEscapeCharacter:
            case ParseErrorCode.InvalidUnicode:
            case ParseErrorCode.InvalidCharacter: {
              // jsonc-parser points at the string; we point at the character that is wrong in it.
              const problem = stringProblem(text, offset);
              return stop(problem?.offset ?? offset, problem?.message ?? unexpected(offset));
            }
            case ParseErrorCode.UnexpectedEndOfNumber:
            case ParseErrorCode.InvalidNumberFormat:
              return stop(offset, NOT_A_NUMBER);
            case ParseErrorCode.UnexpectedEndOfComment:
              return stop(offset, 'this comment is not closed (a "*/" is missing)');
            case ParseErrorCode.CloseBraceExpected:
            case ParseErrorCode.CloseBracketExpected:
              // Reported after the container was ended: name it by the code.
              return stop(offset, `expected "," or "${code === ParseErrorCode.CloseBraceExpected ? '}' : ']'}", found ${describe(text, offset)}`);
            default:
              return stop(offset, unexpected(offset));
          }
        },
      },
      { allowTrailingComma: true, disallowComments: false },
    );
  } catch (error) {
    if (error instanceof SyntaxProblem) return { ok: false, offset: error.offset, message: error.message };
    throw error;
  }
  if (root === undefined) return { ok: false, offset: text.length, message: 'the file is empty' };
  return { ok: true, value: root, places };
}

/** What is at `offset`, for a message: a character (control characters by code point) or the end of the file. */
function describe(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the file';
  const code = text.charCodeAt(offset);
  return code < 0x20 || code === 0x7f ? `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})` : JSON.stringify(text[offset]);
}

/** The characters a backslash may escape in JSON, besides "u". */
const ESCAPES = '"\\/bfnrt';

/** The first thing wrong in the string whose quote is at `start`, and where. */
function stringProblem(text: string, start: number): { offset: number; message: string } | undefined {
  if (text[start] !== '"') return undefined;
  for (let at = start + 1; at < text.length; at++) {
    const char = text[at];
    if (char === '"') return undefined;
    if (char.charCodeAt(0) < 0x20) return { offset: at, message: `a string cannot hold ${describe(text, at)}; write it escaped, e.g. \\n` };
    if (char !== '\\') continue;
    const escape = text[at + 1];
    if (escape === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) return { offset: at, message: '"\\u" must be followed by four hex digits' };
      at += 5;
    } else if (escape !== undefined && ESCAPES.includes(escape)) {
      at++;
    } else {
      return { offset: at, message: `"\\${escape ?? ''}" is not a JSON escape (use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)` };
    }
  }
  return { offset: start, message: 'this string is not closed (a " is missing)' };
}
