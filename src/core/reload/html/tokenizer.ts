/**
 * A byte-level HTML tokenizer that follows the states of the WHATWG tokenizer far enough to know,
 * at every point of a page, whether markup there is real: which `<` opens a tag, where comments,
 * raw text and CDATA end. It builds no tokens: it reports tags, text and doctypes to a TreeSink
 * (htmlTree.ts), which answers with the state the tree construction switches to.
 */

/** The tokenizer states that carry over between tokens, as the tree construction sets them (Stop: the sink has seen enough). */
export const enum Content { Data, Rcdata, Rawtext, Script, Plaintext, Stop }

/** What the tokenizer reports to; see htmlTree.ts. */
export interface TreeSink {
  /** A start tag (name in ASCII lowercase; attrs only for the names `wantsAttrs` accepts), at byte `at`. */
  start(name: string, attrs: Map<string, string> | undefined, selfClosing: boolean, at: number): Content;
  /** An end tag at byte `at`; false stops the scan. */
  end(name: string, at: number): boolean;
  /** Character data in the data state, bytes [from, to). */
  text(from: number, to: number): void;
  /** A doctype: what follows `<!DOCTYPE` up to its `>`. */
  doctype(body: string): void;
  wantsAttrs(name: string): boolean;
  /**
   * True when the adjusted current node is not HTML (`<![CDATA[` opens a CDATA section), false
   * when it is, undefined when parsers disagree (an integration point): the scan stops.
   */
  foreign(): boolean | undefined;
}

/**
 * Where the scan stopped: the tokenizer state at EOF (-1: the sink stopped it), where the tag open
 * there started (its `<`), where the start tag of the raw text / script / plaintext element open
 * there started and its name (the appropriate end tag), and whether the open tag is its end tag.
 */
export interface ScanEnd {
  state: number;
  tagStart: number;
  elementStart: number;
  element: string;
  inTextEndTag: boolean;
}

/** Tokenizer states, named as in the HTML standard (§13.2.5). */
export const enum State {
  Data, TagOpen, EndTagOpen, TagName,
  Rcdata, RcdataLt, RcdataEndOpen, RcdataEndName,
  Rawtext, RawtextLt, RawtextEndOpen, RawtextEndName,
  Script, ScriptLt, ScriptEndOpen, ScriptEndName, ScriptEscStart, ScriptEscStartDash,
  ScriptEsc, ScriptEscDash, ScriptEscDashDash, ScriptEscLt, ScriptEscEndOpen, ScriptEscEndName,
  ScriptDblEscStart, ScriptDblEsc, ScriptDblEscDash, ScriptDblEscDashDash, ScriptDblEscLt, ScriptDblEscEnd,
  Plaintext,
  BeforeAttrName, AttrName, AfterAttrName, BeforeAttrValue, AttrValueDq, AttrValueSq, AttrValueUq,
  AfterAttrValueQuoted, SelfClosing,
  BogusComment, CommentStart, CommentStartDash, Comment, CommentLt, CommentLtBang, CommentLtBangDash,
  CommentLtBangDashDash, CommentEndDash, CommentEnd, CommentEndBang,
  Doctype, CdataSection, CdataBracket, CdataEnd,
}

const LT = 0x3c, GT = 0x3e, SLASH = 0x2f, BANG = 0x21, DASH = 0x2d, EQ = 0x3d, DQ = 0x22, SQ = 0x27, QM = 0x3f, RB = 0x5d;

/** Byte classes for the loops that skip to the next byte that matters. */
const SPACE = 1, SLASH_ = 2, GT_ = 4, EQ_ = 8, LT_ = 16, DASH_ = 32, UPPER = 64;
const CLASS = new Uint8Array(256);
const CLASSES: Array<[string, number]> = [[' \n\t\f\r', SPACE], ['/', SLASH_], ['>', GT_], ['=', EQ_], ['<', LT_], ['-', DASH_], ['ABCDEFGHIJKLMNOPQRSTUVWXYZ', UPPER]];
for (const [bytes, kind] of CLASSES) for (const b of bytes) CLASS[b.charCodeAt(0)] = kind;

/** Tab, LF, FF, CR (a CR becomes LF before tokenizing) and space. */
export const isSpace = (c: number): boolean => CLASS[c] === SPACE;
const isAlpha = (c: number): boolean => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
const lower = (c: number): number => (CLASS[c] === UPPER ? c + 0x20 : c);

/** The tokenizer state each content starts in. */
const CONTENT_STATE: Record<number, number> = { [Content.Rcdata]: State.Rcdata, [Content.Rawtext]: State.Rawtext, [Content.Script]: State.Script, [Content.Plaintext]: State.Plaintext };

/**
 * Runs the tokenizer over `buf` from byte `from` (after any BOM). Text runs are skipped with
 * indexOf, so the cost is a few passes over the bytes, whatever the markup.
 */
export function scanHtml(buf: Buffer, from: number, sink: TreeSink): ScanEnd {
  const n = buf.length;
  let state: number = State.Data;
  let i = from;
  let tagStart = 0;
  let elementStart = 0;
  let element = '';
  /** The open raw text element's base state, to return to when its end tag turns out not to be one. */
  let textBase: number = State.Data;
  let nameStart = 0;
  let isEnd = false;
  let name = '';
  let selfClosing = false;
  let attrs: Map<string, string> | undefined;
  let attrName = '';
  /** An attribute name was read and its value (if any) not yet. */
  let pending = false;
  let valueStart = 0;
  /** Lowercased letters after `</` in raw text, or after `<` / `</` in script's escaped states. */
  let buffer = '';

  /** The first byte from `at` on whose class is in `stop` (or n). */
  const skipTo = (at: number, stop: number): number => {
    while (at < n && (CLASS[buf[at]] & stop) === 0) at++;
    return at;
  };
  /** Bytes [from, to) as a lowercase string; names seen before come from a cache, without allocating. */
  const names = new Map<number, string>();
  const lowered = (from: number, to: number): string => {
    let hash = to - from;
    for (let k = from; k < to; k++) hash = (Math.imul(hash, 31) + lower(buf[k])) | 0;
    const known = names.get(hash);
    if (known !== undefined && known.length === to - from) {
      let k = 0;
      while (k < known.length && known.charCodeAt(k) === lower(buf[from + k])) k++;
      if (k === known.length) return known;
    }
    const text = buf.toString('latin1', from, to).toLowerCase();
    if (names.size < 1024) names.set(hash, text);
    return text;
  };
  const setAttr = (value: string): void => {
    pending = false;
    if (attrs !== undefined && !attrs.has(attrName)) attrs.set(attrName, value); // the first of a name wins
  };
  const flush = (): void => {
    if (pending) setAttr('');
  };
  /** A tag ends (at its `>`): report it and switch to what the sink says. */
  const emitTag = (): boolean => {
    flush();
    state = State.Data;
    if (isEnd) {
      const closing = textBase === State.Data ? name : element;
      textBase = State.Data;
      return sink.end(closing, tagStart);
    }
    const content = sink.start(name, attrs, selfClosing, tagStart);
    if (content === Content.Stop) return false;
    if (content !== Content.Data) {
      elementStart = tagStart;
      element = name;
      state = textBase = CONTENT_STATE[content];
    }
    return true;
  };
  const startTag = (end: boolean, at: number): void => {
    isEnd = end;
    nameStart = at;
    selfClosing = false;
    pending = false;
    attrs = undefined;
    state = State.TagName;
  };

  while (i < n) {
    const c = buf[i];
    switch (state) {
      // ---- Data, tag open, end tag open, tag name (§13.2.5.1, 6-8) ----
      case State.Data: {
        const lt = buf.indexOf(LT, i);
        const end = lt === -1 ? n : lt;
        if (end > i) sink.text(i, end);
        if (lt === -1) return { state, tagStart, elementStart, element, inTextEndTag: false };
        tagStart = lt;
        state = State.TagOpen;
        i = lt + 1;
        continue;
      }
      case State.TagOpen:
        if (c === BANG) {
          i = markupDeclaration(i + 1);
          if (i > n) return stopped();
          continue;
        }
        if (c === SLASH || c === QM) {
          state = c === SLASH ? State.EndTagOpen : State.BogusComment;
          break;
        }
        if (isAlpha(c)) startTag(false, i);
        else {
          sink.text(tagStart, tagStart + 1); // a `<` that opens nothing is text
          state = State.Data;
        }
        continue;
      case State.EndTagOpen:
        if (isAlpha(c)) startTag(true, i);
        else state = c === GT ? State.Data : State.BogusComment;
        if (c === GT) i++;
        continue;
      case State.TagName: {
        const j = skipTo(i, SPACE | SLASH_ | GT_);
        if (j === n) return atEof(n);
        name = lowered(nameStart, j);
        if (!isEnd && sink.wantsAttrs(name)) attrs = new Map();
        const d = buf[j];
        state = isSpace(d) ? State.BeforeAttrName : d === SLASH ? State.SelfClosing : State.Data;
        if (d === GT && !emitTag()) return stopped();
        i = j + 1;
        continue;
      }

      // ---- Attributes and self-closing (§13.2.5.32-40): quoting decides where the tag ends ----
      case State.BeforeAttrName:
        if (isSpace(c)) break;
        if (c !== SLASH && c !== GT) {
          flush();
          nameStart = i;
        }
        state = c === SLASH || c === GT ? State.AfterAttrName : State.AttrName;
        if (c === EQ) break; // `=` opens a name here
        continue;
      case State.AttrName: {
        const j = skipTo(i, SPACE | SLASH_ | GT_ | EQ_);
        if (j === n) return atEof(n);
        attrName = attrs === undefined ? '' : lowered(nameStart, j);
        pending = true;
        state = buf[j] === EQ ? State.BeforeAttrValue : State.AfterAttrName;
        i = buf[j] === EQ ? j + 1 : j;
        continue;
      }
      case State.AfterAttrName:
        if (isSpace(c)) break;
        if (c === SLASH) {
          flush();
          state = State.SelfClosing;
        } else if (c === EQ) state = State.BeforeAttrValue;
        else if (c === GT) {
          if (!emitTag()) return stopped();
        } else {
          flush();
          nameStart = i;
          state = State.AttrName;
          continue;
        }
        break;
      case State.BeforeAttrValue:
        if (isSpace(c)) break;
        if (c === DQ || c === SQ) {
          state = c === DQ ? State.AttrValueDq : State.AttrValueSq;
          valueStart = i + 1;
        } else if (c === GT) {
          if (!emitTag()) return stopped();
        } else {
          valueStart = i;
          state = State.AttrValueUq;
          continue;
        }
        break;
      case State.AttrValueDq:
      case State.AttrValueSq: {
        const close = buf.indexOf(state === State.AttrValueDq ? DQ : SQ, i);
        if (close === -1) return atEof(n);
        if (attrs !== undefined) setAttr(buf.toString('latin1', valueStart, close));
        state = State.AfterAttrValueQuoted;
        i = close + 1;
        continue;
      }
      case State.AttrValueUq: {
        const j = skipTo(i, SPACE | GT_);
        if (j === n) return atEof(n);
        if (attrs !== undefined) setAttr(buf.toString('latin1', valueStart, j));
        state = State.BeforeAttrName;
        if (buf[j] === GT && !emitTag()) return stopped();
        i = j + 1;
        continue;
      }
      case State.AfterAttrValueQuoted:
      case State.SelfClosing:
        if (c === GT) {
          selfClosing = state === State.SelfClosing;
          if (!emitTag()) return stopped();
        } else if (c === SLASH && state === State.AfterAttrValueQuoted) state = State.SelfClosing;
        else {
          state = State.BeforeAttrName;
          if (!isSpace(c)) continue;
        }
        break;

      // ---- RCDATA (title, textarea), RAWTEXT (style, xmp, iframe, noembed, noframes, noscript)
      // and script data: only the appropriate end tag ends them (§13.2.5.2-3, 9-20) ----
      case State.Rcdata:
      case State.Rawtext:
      case State.Script: {
        const lt = buf.indexOf(LT, i);
        if (lt === -1) return atEof(n);
        i = lt + 1;
        state++; // the family's `<` state
        continue;
      }
      case State.RcdataLt:
      case State.RawtextLt:
      case State.ScriptLt:
        if (c === SLASH || (state === State.ScriptLt && c === BANG)) {
          state = c === SLASH ? state + 1 : State.ScriptEscStart; // end tag open, or `<!` in a script
          break;
        }
        state = textBase;
        continue;
      case State.RcdataEndOpen:
      case State.RawtextEndOpen:
      case State.ScriptEndOpen:
      case State.ScriptEscEndOpen:
        if (isAlpha(c)) {
          tagStart = i - 2;
          buffer = '';
          state++; // end tag name
          continue;
        }
        state = state === State.ScriptEscEndOpen ? State.ScriptEsc : textBase;
        continue;
      case State.RcdataEndName:
      case State.RawtextEndName:
      case State.ScriptEndName:
      case State.ScriptEscEndName:
        if (isAlpha(c)) {
          buffer += String.fromCharCode(lower(c));
          break;
        }
        if ((isSpace(c) || c === SLASH || c === GT) && buffer === element) {
          isEnd = true;
          pending = false;
          attrs = undefined;
          state = isSpace(c) ? State.BeforeAttrName : c === SLASH ? State.SelfClosing : State.Data;
          if (c === GT && !emitTag()) return stopped();
          break;
        }
        state = state === State.ScriptEscEndName ? State.ScriptEsc : textBase;
        continue;

      // ---- Script data's escaped (`<!--`) and double-escaped (`<!--<script>`) states (§13.2.5.21-35) ----
      case State.ScriptEscStart:
      case State.ScriptEscStartDash:
        state = c !== DASH ? State.Script : state === State.ScriptEscStart ? State.ScriptEscStartDash : State.ScriptEscDashDash;
        if (c !== DASH) continue;
        break;
      case State.ScriptEsc:
      case State.ScriptEscDash:
      case State.ScriptEscDashDash:
        if (c === DASH) state = state === State.ScriptEsc ? State.ScriptEscDash : State.ScriptEscDashDash;
        else if (c === LT) state = State.ScriptEscLt;
        else if (c === GT && state === State.ScriptEscDashDash) state = State.Script;
        else state = State.ScriptEsc;
        break;
      case State.ScriptEscLt:
        if (c === SLASH) {
          state = State.ScriptEscEndOpen;
          break;
        }
        buffer = '';
        state = isAlpha(c) ? State.ScriptDblEscStart : State.ScriptEsc;
        continue;
      case State.ScriptDblEscStart:
      case State.ScriptDblEscEnd:
        if (isSpace(c) || c === SLASH || c === GT) {
          const escaping = state === State.ScriptDblEscStart;
          state = buffer === 'script' ? (escaping ? State.ScriptDblEsc : State.ScriptEsc) : escaping ? State.ScriptEsc : State.ScriptDblEsc;
        } else if (isAlpha(c)) buffer += String.fromCharCode(lower(c));
        else {
          state = state === State.ScriptDblEscStart ? State.ScriptEsc : State.ScriptDblEsc;
          continue;
        }
        break;
      case State.ScriptDblEsc:
      case State.ScriptDblEscDash:
      case State.ScriptDblEscDashDash:
        if (c === DASH) state = state === State.ScriptDblEsc ? State.ScriptDblEscDash : State.ScriptDblEscDashDash;
        else if (c === LT) state = State.ScriptDblEscLt;
        else if (c === GT && state === State.ScriptDblEscDashDash) state = State.Script;
        else state = State.ScriptDblEsc;
        break;
      case State.ScriptDblEscLt:
        buffer = '';
        state = c === SLASH ? State.ScriptDblEscEnd : State.ScriptDblEsc;
        if (c !== SLASH) continue;
        break;

      // ---- PLAINTEXT: nothing ends it (§13.2.5.5) ----
      case State.Plaintext:
        return atEof(n);

      // ---- Comments: `<!-->`, `<!--->`, `--!>`, nested `<!--` (§13.2.5.41-56), and bogus comments ----
      case State.BogusComment: {
        const gt = buf.indexOf(GT, i);
        if (gt === -1) return atEof(n);
        state = State.Data;
        i = gt + 1;
        continue;
      }
      case State.CommentStart:
      case State.CommentStartDash:
        state = c === DASH ? (state === State.CommentStart ? State.CommentStartDash : State.CommentEnd) : c === GT ? State.Data : State.Comment;
        if (state === State.Comment) continue;
        break;
      case State.Comment: {
        const j = skipTo(i, LT_ | DASH_);
        if (j === n) return atEof(n);
        state = buf[j] === LT ? State.CommentLt : State.CommentEndDash;
        i = j + 1;
        continue;
      }
      case State.CommentLt:
        if (c === BANG) state = State.CommentLtBang;
        else if (c !== LT) {
          state = State.Comment;
          continue;
        }
        break;
      case State.CommentLtBang:
      case State.CommentLtBangDash:
        if (c === DASH) state = state === State.CommentLtBang ? State.CommentLtBangDash : State.CommentLtBangDashDash;
        else {
          state = state === State.CommentLtBang ? State.Comment : State.CommentEndDash;
          continue;
        }
        break;
      case State.CommentLtBangDashDash:
        state = State.CommentEnd;
        continue;
      case State.CommentEndDash:
        if (c === DASH) state = State.CommentEnd;
        else {
          state = State.Comment;
          continue;
        }
        break;
      case State.CommentEnd:
        if (c === GT) state = State.Data;
        else if (c === BANG) state = State.CommentEndBang;
        else if (c !== DASH) {
          state = State.Comment;
          continue;
        }
        break;
      case State.CommentEndBang:
        if (c === DASH) state = State.CommentEndDash;
        else if (c === GT) state = State.Data;
        else {
          state = State.Comment;
          continue;
        }
        break;

      // ---- DOCTYPE: every doctype state ends at the first `>` (§13.2.5.53-68) ----
      case State.Doctype: {
        const gt = buf.indexOf(GT, i);
        if (gt === -1) return atEof(n);
        sink.doctype(buf.toString('latin1', i, gt));
        state = State.Data;
        i = gt + 1;
        continue;
      }

      // ---- CDATA sections, only in foreign content (§13.2.5.69-71) ----
      case State.CdataSection:
        if (c === RB) state = State.CdataBracket;
        break;
      case State.CdataBracket:
        state = c === RB ? State.CdataEnd : State.CdataSection;
        if (c !== RB) continue;
        break;
      case State.CdataEnd:
        if (c === GT) state = State.Data;
        else if (c !== RB) {
          state = State.CdataSection;
          continue;
        }
        break;
    }
    i++;
  }
  return atEof(n);

  /** After `<!`: a comment, a doctype, CDATA (in foreign content) or a bogus comment. */
  function markupDeclaration(at: number): number {
    if (buf[at] === DASH && buf[at + 1] === DASH) {
      state = State.CommentStart;
      return at + 2;
    }
    if (at + 7 <= n && buf.toString('latin1', at, at + 7).toLowerCase() === 'doctype') {
      state = State.Doctype;
      return at + 7;
    }
    const cdata = at + 7 <= n && buf.toString('latin1', at, at + 7) === '[CDATA[' ? sink.foreign() : false;
    if (cdata === undefined) return n + 1;
    if (cdata) {
      state = State.CdataSection;
      return at + 7;
    }
    state = State.BogusComment;
    return at;
  }
  function atEof(_at: number): ScanEnd {
    return { state, tagStart, elementStart, element, inTextEndTag: textBase !== State.Data && state >= State.BeforeAttrName && state <= State.SelfClosing };
  }
  function stopped(): ScanEnd {
    return { state: -1, tagStart, elementStart, element, inTextEndTag: false };
  }
}
