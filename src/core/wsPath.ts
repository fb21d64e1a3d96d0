/**
 * The WebSocket path: what a valid one is (it ends up in URLs, a Content-Security-Policy and a
 * JSON answer, so it must be one plain absolute path) and how a request target matches it.
 */

/** Characters a path may not hold, each with the words that name it in an error. */
const FORBIDDEN: ReadonlyArray<[string, string]> = [
  [';', 'a semicolon (";")'],
  [',', 'a comma (",")'],
  ['"', 'a double quote'],
  ["'", 'a single quote'],
  ['`', 'a backtick'],
  ['?', 'a "?" (a query is not part of the path)'],
  ['#', 'a "#" (a fragment is not part of the path)'],
  ['\\', 'a backslash (browsers turn it into "/")'],
];

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Longest path accepted; a sanity limit, far beyond any real endpoint name. */
const MAX_LENGTH = 1024;

/**
 * Why `path` cannot be a WebSocket path, or undefined when it can. The path is written decoded
 * (`/ws-ü`, not `/ws-%C3%BC`); requests are matched on their decoded path.
 */
export function wsPathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path === '') return 'is empty';
  if (!path.startsWith('/')) return 'must start with "/"';
  if (path.startsWith('//')) return 'must not start with "//" (browsers read that as another host)';
  if (path.length > MAX_LENGTH) return `is longer than ${MAX_LENGTH} characters`;
  if (LONE_SURROGATE.test(path)) return 'holds a broken Unicode character (a lone surrogate)';
  for (const char of path) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      return `contains a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
    }
    if (/\s/u.test(char)) return code === 0x20 ? 'contains a space' : `contains white space (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  }
  for (const [char, name] of FORBIDDEN) if (path.includes(char)) return `contains ${name}`;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'contains a "." or ".." segment (browsers remove those, so it could never be reached)';
  }
  return undefined;
}

/** The full sentence for a refused path: which path, what is wrong, what would do. */
export function wsPathError(path: string, problem: string): string {
  // JSON escapes C0 controls, quotes and backslashes; DEL, C1 controls and line separators too.
  const shown = JSON.stringify(String(path).slice(0, 200)).replace(/[\x7f-\x9f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `The WebSocket path ${shown} ${problem}. Use one absolute path such as /websocket.`;
}

/**
 * True when the request path (as sent, percent-encoded) is `wsPath`: compared decoded, so a
 * path with non-ASCII or reserved characters matches however the client encoded it.
 */
export function isWsPath(requestPathname: string, wsPath: string): boolean {
  if (requestPathname === wsPath) return true;
  if (!requestPathname.includes('%')) return false;
  try {
    return decodeURIComponent(requestPathname) === wsPath;
  } catch {
    return false;
  }
}
