/**
 * The differential oracle for the injected reload tag: parse5 (a spec-compliant parser, scripting
 * on) parses a page before and after injection; the second must be the first plus exactly one
 * HTML script element with our src, outside any template, with no other node changed.
 */
import * as path from 'node:path';
import { importEsm } from './browser';
import { REPO_ROOT } from './http';

interface P5Node {
  nodeName: string;
  tagName?: string;
  namespaceURI?: string;
  attrs?: Array<{ name: string; value: string; prefix?: string; namespace?: string }>;
  childNodes?: P5Node[];
  content?: P5Node;
  value?: string;
  data?: string;
  name?: string;
  publicId?: string;
  systemId?: string;
  mode?: string;
}
interface Parse5 {
  parse(html: string, options: { scriptingEnabled: boolean }): P5Node;
}

let parse5: Parse5 | undefined;
export async function loadParse5(): Promise<void> {
  parse5 ??= await importEsm<Parse5>(path.join(REPO_ROOT, 'node_modules', 'parse5', 'dist', 'index.js'));
}

const HTML_NS = 'http://www.w3.org/1999/xhtml';

/** A canonical text form of a parsed document: one line per node, indented by depth. */
function dump(node: P5Node, depth: number, out: string[], skip?: P5Node): void {
  const pad = '  '.repeat(depth);
  for (const child of node.childNodes ?? []) {
    if (child === skip) continue;
    if (child.nodeName === '#text') out.push(`${pad}"${JSON.stringify(child.value).slice(1, -1)}"`);
    else if (child.nodeName === '#comment') out.push(`${pad}<!--${JSON.stringify(child.data).slice(1, -1)}-->`);
    else if (child.nodeName === '#documentType') out.push(`${pad}<!DOCTYPE ${child.name} "${child.publicId}" "${child.systemId}">`);
    else {
      const ns = child.namespaceURI === HTML_NS ? '' : `${String(child.namespaceURI).split('/').pop()}:`;
      const attrs = (child.attrs ?? []).map((a) => ` ${a.prefix ? `${a.prefix}:` : ''}${a.name}=${JSON.stringify(a.value)}`).join('');
      out.push(`${pad}<${ns}${child.tagName}${attrs}>`);
      dump(child, depth + 1, out, skip);
      if (child.content !== undefined) {
        out.push(`${pad}  #content`);
        dump(child.content, depth + 2, out, skip);
      }
    }
  }
}

/** Every element of the document (template contents included), with whether it is inside a template's content. */
function* elements(node: P5Node, inert = false): Generator<{ node: P5Node; parent: P5Node; inert: boolean }> {
  for (const child of node.childNodes ?? []) {
    if (child.tagName !== undefined) {
      yield { node: child, parent: node, inert };
      yield* elements(child, inert);
      if (child.content !== undefined) yield* elements(child.content, true);
    }
  }
}

export function parsedDump(html: string): string {
  if (parse5 === undefined) throw new Error('call loadParse5() first');
  const doc = parse5.parse(html, { scriptingEnabled: true });
  const out: string[] = [`mode=${doc.mode}`];
  dump(doc, 0, out);
  return out.join('\n');
}

/**
 * Undefined when `injected` is `original` plus exactly one running HTML script with one of `srcs`, else
 * what is wrong (with both trees, for the failure message).
 */
export function injectionProblem(original: string, injected: string, srcs: readonly string[]): string | undefined {
  if (parse5 === undefined) throw new Error('call loadParse5() first');
  const doc = parse5.parse(injected, { scriptingEnabled: true });
  const ours = [...elements(doc)].filter(({ node }) => node.tagName === 'script' && node.attrs?.some((a) => a.name === 'src' && srcs.includes(a.value)));
  if (ours.length !== 1) return `${ours.length} script elements with our src\n${parsedDump(injected)}`;
  const [{ node, parent, inert }] = ours;
  if (node.namespaceURI !== HTML_NS) return `our script is in ${node.namespaceURI}\n${parsedDump(injected)}`;
  if (inert) return `our script is inside a template's content\n${parsedDump(injected)}`;
  const before = parsedDump(original);
  const out: string[] = [`mode=${doc.mode}`];
  dump(doc, 0, out, node);
  const after = out.join('\n');
  if (before !== after) return `the rest of the DOM changed (our script's parent: ${parent.nodeName})\n--- original\n${before}\n--- injected, without our script\n${after}`;
  return undefined;
}
