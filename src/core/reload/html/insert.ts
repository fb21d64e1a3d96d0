/**
 * Where the live reload `<script>` goes in a page so that the page's DOM gains that one element
 * and changes in nothing else: at the end, after closing a comment, CDATA or raw text left open
 * there, or before the last tag that makes an element in a plain HTML context (when the end is
 * inside a template, SVG, MathML, an unclosed script or plaintext, or a frameset), else nowhere.
 */
import { scanHtml, State } from './tokenizer';
import { TreeState } from './tree';

export type InsertionPlan =
  | {
      /** Bytes [0, at) stay, then `prefix` + the tag, then bytes [at + cut, end). */
      at: number;
      cut: number;
      prefix: string;
      /** The script nonce of the page's `<meta>` CSP, for the tag. */
      nonce: string | undefined;
      /** The page has a real `<base>`: the tag's src must not be relative. */
      base: boolean;
    }
  | { skipped: string };

/**
 * The closer that ends each comment state at EOF and keeps the comment's text as EOF would. (A
 * CDATA section open at EOF is in SVG or MathML, where the tag goes before the foreign element.)
 */
const COMMENT_CLOSERS: Partial<Record<State, string>> = {
  [State.CommentStart]: '-->',
  [State.CommentStartDash]: '->',
  [State.Comment]: '-->',
  [State.CommentLt]: '-->',
  [State.CommentLtBang]: '-->',
  [State.CommentLtBangDash]: '->',
  [State.CommentLtBangDashDash]: '>',
  [State.CommentEndDash]: '->',
  [State.CommentEnd]: '>',
  [State.CommentEndBang]: '>',
  [State.BogusComment]: '>',
};

const RAW_TEXT_FIRST = State.Rcdata;
const RAW_TEXT_LAST = State.RawtextEndName;

/** Plans the insertion into `html` (UTF-8 or any ASCII-compatible encoding; the caller refuses UTF-16). */
export function planInsertion(html: Buffer): InsertionPlan {
  const from = html[0] === 0xef && html[1] === 0xbb && html[2] === 0xbf ? 3 : 0;
  const tree = new TreeState(html);
  const end = scanHtml(html, from, tree);
  const found = (at: number, cut = 0, prefix = ''): InsertionPlan => ({ at, cut, prefix, nonce: scriptNonce(tree.policies), base: tree.base });
  const beforeLastTag = (why: string): InsertionPlan => {
    // A frameset that may replace the body would take a script in the body with it: then only the head will do.
    const framesetLater = tree.bodyReplaced || (end.state === -1 && tree.lastSafe !== undefined && /<frameset/i.test(html.toString('latin1', tree.lastSafe)));
    const safe = framesetLater ? tree.lastHeadSafe : tree.lastSafe;
    return safe === undefined ? { skipped: why } : found(safe);
  };

  if (end.state === -1) return beforeLastTag(`the page has ${tree.stopReason ?? 'markup the injection does not follow'}`);
  if (!tree.insertableHere()) return beforeLastTag('the page ends inside a template, SVG or MathML');
  const n = html.length;
  const state = end.state as State;
  switch (state) {
    case State.Data:
      return found(n);
    case State.TagOpen: // a lone `<` at the end is text, and stays text before our `<script`
      return found(n);
    case State.EndTagOpen: // `</` at the end is text, but only at the very end: write it as `&lt;/`
      return found(n - 2, 2, '&lt;/');
    case State.Doctype:
      // The first doctype decides quirks mode, which closing it could change: only a later one (ignored) is closed.
      return tree.initial ? { skipped: 'the page ends inside its doctype' } : found(n, 0, '>');
    case State.Plaintext:
      return found(end.elementStart);
    default:
  }
  const closer = COMMENT_CLOSERS[state];
  if (closer !== undefined) return found(n, 0, closer);
  if (state >= RAW_TEXT_FIRST && state <= RAW_TEXT_LAST) return found(n, 0, `</${end.element}>`);
  if (state >= State.Script && state <= State.ScriptDblEscEnd) return found(end.elementStart); // closing it would run it
  if (end.inTextEndTag) {
    if (end.element === 'script') return found(end.elementStart);
    return found(n, 0, state === State.AttrValueDq ? '">' : state === State.AttrValueSq ? "'>" : '>');
  }
  return found(end.tagStart); // a tag cut off by the end is dropped: go before it
}

/** The first script nonce (script-src-elem, else script-src, else default-src) of the head's `<meta>` CSPs. */
function scriptNonce(policies: readonly string[]): string | undefined {
  for (const policy of policies) {
    const directives = new Map<string, string>();
    for (const part of policy.split(';')) {
      const [name, ...values] = part.trim().split(/[\t\n\f\r ]+/);
      if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values.join(' '));
    }
    const scripts = directives.get('script-src-elem') ?? directives.get('script-src') ?? directives.get('default-src');
    const nonce = scripts === undefined ? undefined : /'nonce-([A-Za-z0-9+/_=-]+)'/.exec(scripts)?.[1];
    if (nonce !== undefined) return nonce;
  }
  return undefined;
}
