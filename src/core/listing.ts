/** Directory listings: names HTML-escaped, links URL-encoded, hidden entries left out. */
import { promises as fs } from 'node:fs';
import { escapeHtml, page } from './html';
import { isHiddenSegment } from './resolve';

export async function renderListing(realDir: string, urlPath: string, showHidden: boolean): Promise<string> {
  const entries = await fs.readdir(realDir, { withFileTypes: true });
  const visible = entries
    .filter((e) => showHidden || !isHiddenSegment(e.name))
    .map((e) => ({ name: e.name, isDir: e.isDirectory() }))
    .sort((a, b) => (a.isDir === b.isDir ? a.name.localeCompare(b.name) : a.isDir ? -1 : 1));
  const items = visible.map(({ name, isDir }) => {
    const href = encodeURIComponent(name) + (isDir ? '/' : '');
    const label = escapeHtml(name) + (isDir ? '/' : '');
    return `<li><a href="./${href}">${label}</a></li>`;
  });
  if (urlPath !== '/') items.unshift('<li><a href="../">../</a></li>');
  const title = `Index of ${urlPath}`;
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<ul>\n${items.join('\n')}\n</ul>`);
}
