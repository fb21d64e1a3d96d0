/**
 * The preview's addresses: what the person types in the address bar, as a URL under the served
 * root (nothing outside it opens in the frame), and a frame URL back as the path the bar shows.
 * Plain functions over URL, so both the webview and the tests use them.
 */

/** The frame URL for `input` (a path like `/a.html?x#y`, or a full URL under `base`); undefined when outside. */
export function frameUrlOf(base: string, input: string): string | undefined {
  const root = new URL(base);
  const text = input.trim();
  let target: URL;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    try {
      target = new URL(text);
    } catch {
      return undefined;
    }
  } else {
    // "./" keeps a path such as "//host" or "a:b" from reading as another origin or scheme.
    target = new URL(`./${text.replace(/^\/+/, '')}`, rootDir(root));
  }
  return pathOf(base, target.href) === undefined ? undefined : target.href;
}

/** The path under `base` of `url` (`/a.html?x#y`), or undefined when `url` is not under it. */
export function pathOf(base: string, url: string): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const root = rootDir(new URL(base));
  if (target.origin !== root.origin || !target.pathname.startsWith(root.pathname)) return undefined;
  return `/${target.pathname.slice(root.pathname.length)}${target.search}${target.hash}`;
}

/** The path as a person reads it: percent-escapes of letters decoded, the rest kept. */
export function displayPath(path: string): string {
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

/** The root as a directory URL (a trailing slash), without query or fragment. */
function rootDir(root: URL): URL {
  const dir = new URL(root.href);
  dir.search = '';
  dir.hash = '';
  if (!dir.pathname.endsWith('/')) dir.pathname += '/';
  return dir;
}
