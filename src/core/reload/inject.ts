/**
 * The live-reload client's tag in HTML pages: where it goes (html/insert.ts finds a place that
 * changes nothing else in the page's DOM), its src, a CSP nonce copied from the page, and the
 * ETag suffix that keeps an injected page's validators apart from the file's own.
 */
import { createHash } from 'node:crypto';
import { RESERVED_PREFIX } from '../reserved';
import { reloadClient } from './client';
import { planInsertion } from './html/insert';

export const RELOAD_SCRIPT_PATH = `${RESERVED_PREFIX}reload.js`;

/** The client, as served: the function's own source, called. */
export const RELOAD_SCRIPT = `(${reloadClient.toString()})();\n`;

/** Marks the ETag of an injected page, so it never matches the file's own (uninjected) tag. */
export const INJECTED_ETAG_SUFFIX = '-r1';

/** The page with the reload script, or why it is served as it is. */
export type ReloadInjection = { page: Buffer; skipped?: undefined } | { page?: undefined; skipped: string };

/**
 * `html` with the reload script added where it changes nothing else in the page's DOM (see
 * htmlInsert.ts: at the end, after closing what is left open there, or before the last tag that
 * makes an element in plain HTML), or why not (UTF-16, which an ASCII tag would corrupt, or no
 * such place). `depth` is how many folders deep the page's URL is: the tag's src is relative to
 * it, so the script is found behind a proxy that serves us under a path prefix (code-server's
 * /proxy/<port>/), except in a page with a `<base>`, which would move a relative src: that one
 * gets the absolute path. A page with a nonce in a `<meta>` CSP gets that nonce on our tag, as
 * its own scripts have.
 */
export function planReloadInjection(html: Buffer, depth = 0): ReloadInjection {
  if ((html[0] === 0xff && html[1] === 0xfe) || (html[0] === 0xfe && html[1] === 0xff)) return { skipped: 'the page is UTF-16' };
  const plan = planInsertion(html);
  if ('skipped' in plan) return plan;
  const src = plan.base ? RELOAD_SCRIPT_PATH : '../'.repeat(depth) + RELOAD_SCRIPT_PATH.slice(1);
  const tag = `${plan.prefix}<script src="${src}"${plan.nonce === undefined ? '' : ` nonce="${plan.nonce}"`} defer></script>`;
  return { page: Buffer.concat([html.subarray(0, plan.at), Buffer.from(tag, 'latin1'), html.subarray(plan.at + plan.cut)]) };
}

/** The page with the reload script, or undefined when it is served as it is (see planReloadInjection). */
export function injectReloadScript(html: Buffer, depth = 0): Buffer | undefined {
  return planReloadInjection(html, depth).page;
}

/** A strong-enough weak tag for bytes that are not a file on disk (the editor's unsaved buffer). */
export function contentEtag(body: Buffer): string {
  return `W/"o-${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}
