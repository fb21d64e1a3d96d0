/**
 * The WebSocket path: what a valid one is (it ends up in URLs, a Content-Security-Policy and a
 * JSON answer, so it must be one plain absolute path) and how a request target matches it.
 */
import { quoted } from '../../shared/text';

/** Characters a path may not hold, each with the words that name it in an error. */
const NAMED: ReadonlyMap<string, string> = new Map([
  [';', 'a semicolon (";")'],
  [',', 'a comma (",")'],
  ['"', 'a double quote'],
  ["'", 'a single quote'],
  ['`', 'a backtick'],
  ['?', 'a "?" (a query is not part of the path)'],
  ['#', 'a "#" (a fragment is not part of the path)'],
  ['\\', 'a backslash (browsers turn it into "/")'],
  ['%', 'a "%" (write the path decoded, e.g. /ws-ü rather than /ws-%C3%BC)'],
]);

/**
 * ASCII a path may hold as it is: RFC 3986 path characters (unreserved, sub-delims, ":", "@",
 * "/") without ";", ",", "'", whose meaning in a CSP or a header list would change. Letters of
 * any script are fine beyond ASCII.
 */
const PLAIN_ASCII = /^[A-Za-z0-9._~!$&()*+=:@/-]$/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Longest path accepted; a sanity limit, far beyond any real endpoint name. */
const MAX_LENGTH = 1024;

const codePoint = (char: string): string => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** What is wrong with one character of a path, or undefined when it may be there. */
function characterProblem(char: string): string | undefined {
  const named = NAMED.get(char);
  if (named !== undefined) return named;
  if (/\p{Cc}/u.test(char)) return `a control character (${codePoint(char)})`;
  if (char === ' ') return 'a space';
  if (/[\s\p{Z}]/u.test(char)) return `white space (${codePoint(char)})`;
  if (/\p{Cf}/u.test(char)) return `an invisible formatting character (${codePoint(char)})`;
  if (char.charCodeAt(0) < 0x80 && !PLAIN_ASCII.test(char)) return `"${char}", which a URL path cannot hold as it is`;
  return undefined;
}

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
    const problem = characterProblem(char);
    if (problem !== undefined) return `contains ${problem}`;
  }
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'contains a "." or ".." segment (browsers remove those, so it could never be reached)';
  }
  return undefined;
}

/** The full sentence for a refused path: which path, what is wrong, what would do. */
export function wsPathError(path: string, problem: string): string {
  return `The WebSocket path ${quoted(String(path))} ${problem}. Use one absolute path such as /websocket.`;
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
