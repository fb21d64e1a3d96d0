/** Directory listings: names HTML-escaped with invisible characters shown, links URL-encoded, hidden entries left out, a bounded length. */
import { promises as fs } from 'node:fs';
import { escapeControls } from '../../shared/text';
import { escapeHtml, page } from './html';
import { isHiddenSegment } from './resolve';

/**
 * At most this many entries are listed; the rest are counted on a last "N more" line. A page of
 * a thousand links is already past reading, and a folder of 100,000 files must not build a
 * page of many megabytes on every request.
 */
export const MAX_LISTED_ENTRIES = 1000;

/** Natural order (file2 before file10), the same for every listing; ties broken by code point. */
const NAME_ORDER = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

interface Entry {
  name: string;
  isDir: boolean;
}

function compareEntries(a: Entry, b: Entry): number {
  if (a.isDir !== b.isDir) return a.isDir ? -1 : 1;
  return NAME_ORDER.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The listing page of `dirPath` (which names the directory to read), shown as `urlPath`. */
export async function renderListing(dirPath: string, urlPath: string, showHidden: boolean): Promise<string> {
  const entries = await fs.readdir(dirPath, { withFileTypes: true });
  const visible = entries
    .filter((e) => showHidden || !isHiddenSegment(e.name))
    .map((e) => ({ name: e.name, isDir: e.isDirectory() }))
    .sort(compareEntries);
  const items = visible.slice(0, MAX_LISTED_ENTRIES).map(({ name, isDir }) => {
    const href = encodeURIComponent(name) + (isDir ? '/' : '');
    // Shown with invisible and reordering characters (bidi overrides, zero-width, controls)
    // made visible as escapes, so no name can pose as another on screen; the link is exact.
    const label = escapeHtml(escapeControls(name)) + (isDir ? '/' : '');
    return `<li><a href="./${href}">${label}</a></li>`;
  });
  if (urlPath !== '/') items.unshift('<li><a href="../">../</a></li>');
  const more = visible.length - MAX_LISTED_ENTRIES;
  if (more > 0) items.push(`<li class="more">… ${more} more ${more === 1 ? 'entry' : 'entries'} not listed</li>`);
  const title = `Index of ${urlPath}`;
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<ul>\n${items.join('\n')}\n</ul>`);
}
