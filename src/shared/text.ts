/** Text for people, the same in Node and the browser: control characters escaped, values quoted, sizes and counts. */

/**
 * Characters that must never reach a terminal or log as they are, because they can move the
 * cursor, retitle or clear a terminal, split one log line into two, or reorder what is shown:
 * - Cc: C0 (U+0000-U+001F, including ESC, CR, LF and TAB), DEL (U+007F) and C1 (U+0080-U+009F,
 *   e.g. CSI U+009B, which is what obs-text bytes in a header become once decoded as latin1);
 * - Cf: format characters: bidi embeddings, overrides and isolates (U+202A-U+202E,
 *   U+2066-U+2069), marks (U+200E, U+200F, U+061C), zero-width characters, BOM, soft hyphen, tags;
 * - Zl, Zp: the line and paragraph separators U+2028 and U+2029;
 * - Cs: lone surrogates (never valid text).
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

function escapeOne(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = code.toString(16);
  if (code <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\u{${hex}}`;
}

/**
 * Text safe to print on one line: every control, format and separator character (see UNSAFE)
 * becomes a visible escape in JavaScript's notation, `\x1b`, `\u202e` or `\u{e0041}` (lower-case
 * hex). Everything else, backslashes included, is left as it is.
 */
export function escapeControls(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

/** A value someone typed, for a message: quoted as JSON, cut after `max` characters, with invisible characters escaped. */
export function quoted(value: string, max = 200): string {
  return escapeControls(JSON.stringify(value.length > max ? value.slice(0, max) + '…' : value));
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Whole numbers with thousands separators, the same on every machine: 1,234,567. */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
