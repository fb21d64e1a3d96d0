/**
 * JSON from outside (a client's message, an inspector's request, a captured frame), bounded in
 * depth: the one nesting limit the server and the inspector UI apply, checked by a scan that
 * cannot overflow the stack whatever the text. Pure: runs in Node and in the browser.
 */

/**
 * The deepest nesting of arrays and objects parsed from outside. Deeper text is not JSON to its
 * reader: a `json` match does not match it, `{{json}}` has no value, the inspector's feed refuses
 * it as a request and the inspector UI shows it as text. Every value parsed through here can then
 * be walked and serialised recursively (JSON.stringify is recursive and throws a RangeError near
 * a few thousand levels; JSON.parse itself is not).
 */
export const MAX_JSON_DEPTH = 100;

/** What too-deep JSON is called in errors and notices. */
export const TOO_DEEP = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * True when `text` nests arrays and objects deeper than `limit`: brackets and braces counted
 * outside strings, in one pass without recursion (strings are skipped with indexOf). It says
 * nothing about whether the text is valid JSON; for valid JSON the answer is exact.
 */
export function nestsDeeperThan(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let i = 0;
  // Only an array or an object nests: any other JSON value starts with something else.
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  const first = text.charCodeAt(i);
  if (first !== OPEN_ARRAY && first !== OPEN_OBJECT) return false;
  let depth = 0;
  for (; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      i = closingQuote(text, i + 1);
      if (i === -1) return false; // an unterminated string: not JSON, and no deeper than what came before it
    } else if (char === OPEN_ARRAY || char === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (char === CLOSE_ARRAY || char === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends a string whose text starts at `from` (one not escaped by an odd run of backslashes), or -1. */
export function closingQuote(text: string, from: number): number {
  for (let at = text.indexOf('"', from); at !== -1; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

function isSpace(char: number): boolean {
  return char === SPACE || char === TAB || char === LF || char === CR;
}

/**
 * JSON.parse for text from outside: throws a SyntaxError whose message is TOO_DEEP when the text
 * nests deeper than MAX_JSON_DEPTH (checked before anything is parsed, so a deep message costs no
 * more than one scan), and JSON.parse's own SyntaxError when it is not JSON.
 */
export function parseBoundedJson(text: string): unknown {
  if (nestsDeeperThan(text)) throw new SyntaxError(TOO_DEEP);
  return JSON.parse(text);
}
