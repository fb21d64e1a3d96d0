/**
 * The part of HTML's tree construction that decides where an injected `<script>` may go: the
 * stack of open elements (HTML, SVG, MathML, integration points, templates, table and select
 * contexts), the head/body phase and a frameset. Fed by htmlTokenizer.ts; it tells the tokenizer
 * which elements switch it to raw text, and records the last point where a script can be
 * inserted without changing anything else. What it cannot follow exactly, it gives up on
 * (`uncertain`) rather than guess.
 */
import { decoded } from '../../http/html';
import {
  BREAKOUT, CLOSES_P, CONTEXTS, FORMATTING, HEAD_TAGS, HEADINGS, HTML, IGNORED_IN_BODY, IMPLIED_END, IN_TABLE, MATHML, MODE_OF, RAW, SCOPE, SPECIAL, SVG,
  TABLE_PARTS, TBODY, TEMPLATE_HEAD_TAGS, VOID, foreignIp, type Entry,
  A, BUTTON, DD_DT, IN_BODY_RULES, LI, LIST, MARKERS, OUTER_PARTS, OWN_PARTS, ROW_CTX, TABLE_CTX, TBODY_CTX,
} from './elements';
import { Content, isSpace, type TreeSink } from './tokenizer';


export class TreeState implements TreeSink {
  private readonly stack: Entry[] = [];
  /** The entries of CONTEXTS on the stack, in order (the insertion mode comes from the last). */
  private readonly contexts: Entry[] = [];
  /** Templates, foreign (SVG, MathML) entries and HTML p elements on the stack. */
  private templates = 0;
  private foreignCount = 0;
  private openP = 0;
  private phase: 'initial' | 'head' | 'body' = 'initial';
  /** False once the stack may differ from the parser's in plain HTML elements (misnested formatting). */
  private exact = true;
  private quirksMaybe = true;
  private formOpen = false;
  /** Steps left for stack walks: keeps pathological markup linear. */
  private budget: number;
  /** Why the scan stopped before the end (the state after that point is not followed). */
  stopReason: string | undefined;
  /** True when the stop is a frameset that replaces a body (a script put in the body would go). */
  bodyReplaced = false;
  /** The last byte before a start tag where a script can go, and the last where it lands in the head (which a frameset keeps). */
  lastSafe: number | undefined;
  lastHeadSafe: number | undefined;
  /** The content of each `<meta http-equiv="Content-Security-Policy">` in the head. */
  readonly policies: string[] = [];
  /** A real `<base>` was seen. */
  base = false;

  constructor(private readonly buf: Buffer) {
    this.budget = 8 * buf.length + 4096;
  }

  /** No token but whitespace, comments and a doctype yet. */
  get initial(): boolean {
    return this.phase === 'initial';
  }

  /** Whether a script appended now would be an HTML script that runs. */
  insertableHere(): boolean {
    const top = this.top();
    return this.templates === 0 && (top === undefined || top.ns === HTML || top.ip !== 0);
  }

  wantsAttrs = (name: string): boolean => name === 'meta' || name === 'input' || name === 'font' || name === 'annotation-xml';

  foreign(): boolean | undefined {
    const top = this.top();
    if (top === undefined || top.ns === HTML) return false;
    if (top.ip !== 0) this.stop('CDATA at an SVG or MathML integration point, which parsers read differently');
    return top.ip === 0 ? true : undefined;
  }

  doctype(body: string): void {
    if (this.phase !== 'initial') return;
    this.quirksMaybe = !/^[\t\n\f\r ]+html[\t\n\f\r ]*(?:system[\t\n\f\r ]*(["'])about:legacy-compat\1[\t\n\f\r ]*)?$/i.test(body);
  }

  /** Text matters only where it starts the body, or ends a column group. */
  text(from: number, to: number): void {
    const inHead = this.phase !== 'body' && this.contexts.length === 0;
    if (!inHead && (this.contexts.length === 0 || this.mode() !== 'colgroup')) return;
    if (!this.hasNonSpace(from, to)) return;
    if (inHead) this.phase = 'body';
    else if (this.top()?.name === 'colgroup') this.pop(); // back to the table, which fosters the text
  }

  start(name: string, attrs: Map<string, string> | undefined, selfClosing: boolean, at: number): Content {
    const top = this.top();
    if (this.phase === 'initial') this.phase = 'head';
    if (top !== undefined && top.ns !== HTML && !this.htmlStartAt(top, name)) {
      if (!BREAKOUT.has(name) && !(name === 'font' && attrs !== undefined && (attrs.has('color') || attrs.has('face') || attrs.has('size')))) {
        if (!selfClosing) this.push(name, top.ns, foreignIp(top.ns, name, attrs));
        return Content.Data;
      }
      this.popForeign(); // an HTML tag breaks out of SVG or MathML
    } else this.noteSafePoint(name, at, top === undefined || top.ns === HTML || top.ip !== 0);
    const content = this.stopReason === undefined ? this.htmlStart(name, attrs, selfClosing) : Content.Stop;
    return this.stopReason === undefined ? content : Content.Stop;
  }

  end(name: string): boolean {
    const top = this.top();
    if (top === undefined || top.ns === HTML || name === 'p' || name === 'br') {
      this.popForeign(); // </p> and </br> break out of foreign content
      this.htmlEnd(name, false);
    } else {
      // Foreign content's end tag: pop to a foreign element of that name, else hand it to HTML.
      let i = this.stack.length - 1;
      while (this.stack[i].name !== name && i > 0 && this.stack[i - 1].ns !== HTML && --this.budget >= 0) i--;
      if (this.budget < 0) return this.stop('nesting too deep to follow');
      if (this.stack[i].name === name) this.popTo(i);
      else this.htmlEnd(name, true);
    }
    if (this.phase === 'initial') this.phase = 'head';
    return this.stopReason === undefined;
  }

  // ---- The stack ----

  private top(): Entry | undefined {
    const k = this.stack.length;
    return k === 0 ? undefined : this.stack[k - 1];
  }

  private push(name: string, ns: number, ip = 0): void {
    const entry: Entry = { name, ns, ip, mode: undefined }; // one shape for every entry
    // Chromium stops nesting at 512 (deeper elements become siblings), unlike the standard.
    if (this.stack.push(entry) > 511) this.stop('elements nested deeper than browsers follow');
    if (ns !== HTML) this.foreignCount++;
    else if (name === 'p') this.openP++;
    else if (CONTEXTS.has(name)) {
      if (name !== 'template') entry.mode = MODE_OF[name];
      this.contexts.push(entry);
      if (name === 'template') this.templates++;
    }
  }

  /** Pops the top entry; `target`: the one being closed on purpose (others closed by implication). */
  private pop(target?: Entry): void {
    const entry = this.stack.pop() as Entry;
    if (entry.ns !== HTML) this.foreignCount--;
    else if (entry.name === 'p') this.openP--;
    if (this.contexts.length > 0 && this.contexts[this.contexts.length - 1] === entry) {
      this.contexts.pop();
      if (entry.name === 'template') this.templates--;
    }
    if (entry !== target && entry.ns === HTML && FORMATTING.has(entry.name)) {
      // It stays in the list of active formatting elements and comes back at the next text:
      // from here on the plain HTML part of the stack is a guess.
      this.exact = false;
      if (this.foreignCount > 0) this.stop('misnested formatting inside SVG or MathML');
    }
  }

  /** Pops foreign elements until an HTML element or an integration point is the current node. */
  private popForeign(): void {
    for (let top = this.top(); top !== undefined && top.ns !== HTML && top.ip === 0; top = this.top()) this.pop();
  }

  /** A foreign element that is a scope boundary and special: integration points and annotation-xml. */
  private static foreignBoundary(e: Entry): boolean {
    return e.ip !== 0 || (e.ns === MATHML && e.name === 'annotation-xml');
  }

  /** Pops entries down to and including stack[index] (none for -1). */
  private popTo(index: number): void {
    if (index < 0) return;
    const target = this.stack[index];
    while (this.stack.length > index) this.pop(target);
  }

  /**
   * Index of the nearest HTML element with one of `names` in scope, else -1. `extra`: more
   * boundaries (button, list item scope); `table`: table scope (html, table, template only).
   */
  private inScope(names: Set<string> | string, extra?: Set<string>, table = false): number {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const e = this.stack[i];
      if (e.ns === HTML && (typeof names === 'string' ? e.name === names : names.has(e.name))) return i;
      if (table ? e.ns === HTML && (e.name === 'table' || e.name === 'template') : e.ns === HTML ? SCOPE.has(e.name) || extra?.has(e.name) === true : TreeState.foreignBoundary(e)) return -1;
      if (--this.budget < 0) break;
    }
    if (this.budget < 0) this.stop('nesting too deep to follow');
    return -1;
  }

  private inTableScope = (names: Set<string> | string): number => this.inScope(names, undefined, true);

  /** Index of the nearest HTML element with one of `names`, walking no further than a `stopAt` one (or a special foreign one). */
  private nearest(names: Set<string>, stopAt: Set<string>): number {
    for (let i = this.stack.length - 1; i >= 0 && --this.budget >= 0; i--) {
      const e = this.stack[i];
      if (e.ns === HTML && names.has(e.name)) return i;
      if (e.ns === HTML ? stopAt.has(e.name) : TreeState.foreignBoundary(e)) return -1;
    }
    if (this.budget < 0) this.stop('nesting too deep to follow');
    return -1;
  }

  private stop(reason: string): boolean {
    this.stopReason ??= reason;
    return false;
  }

  private halt = (reason: string): Content => (this.stop(reason) ? Content.Data : Content.Stop);

  /** The innermost context element (only where the mode says there is one). */
  private context = (): Entry => this.contexts[this.contexts.length - 1];

  /** The insertion mode, from the innermost context element (a template's content mode). */
  private mode(): string {
    const k = this.contexts.length; // (reading past an array's end is slow in V8)
    if (k === 0) return this.phase === 'body' ? 'body' : 'head';
    return this.contexts[k - 1].mode ?? 'template';
  }

  /** A start tag processed as HTML right where a foreign element is the current node. */
  private htmlStartAt(top: Entry, name: string): boolean {
    if (top.ip === 1) return true;
    if (top.ip === 2) return name !== 'mglyph' && name !== 'malignmark';
    return top.ns === MATHML && top.name === 'annotation-xml' && name === 'svg';
  }

  /**
   * Records a point before this start tag where a script would be inserted and leave everything
   * after it as it was: no template open, HTML context, and a tag that makes an element right
   * there (so no text node on either side is split).
   */
  private noteSafePoint(name: string, at: number, html: boolean): void {
    if (this.stopReason !== undefined || this.templates > 0 || !html) return;
    const mode = this.mode();
    let ok: boolean;
    if (mode === 'head') ok = name !== 'html' && name !== 'head';
    // Not before a table there: text fostered out of the table later would land after our script instead of joining the text before it.
    else if (mode === 'body') ok = !IGNORED_IN_BODY.has(name) && name !== 'table';
    else if (mode === 'cell' || mode === 'caption') ok = name !== 'html' && name !== 'body' && name !== 'head' && name !== 'frameset' && name !== 'form' && name !== 'frame' && name !== 'table';
    else ok = (mode === 'table' || mode === 'tbody' || mode === 'row') && IN_TABLE.has(name);
    if (ok) this.lastSafe = at;
    if (ok && this.phase !== 'body') this.lastHeadSafe = at;
  }

  // ---- Start tags in HTML content, by insertion mode (§13.2.6.4) ----

  private htmlStart(name: string, attrs: Map<string, string> | undefined, selfClosing: boolean): Content {
    for (let guard = 0; guard < 8; guard++) {
      const mode = this.mode();
      switch (mode) {
        case 'head':
          if (name === 'frameset') return this.halt('a frameset document');
          if (HEAD_TAGS.has(name)) return this.headTag(name, attrs, true);
          if (name === 'html' || name === 'head') return Content.Data;
          this.phase = 'body';
          if (name === 'body') return Content.Data;
          continue;
        case 'template':
          if (TEMPLATE_HEAD_TAGS.has(name)) return this.headTag(name, attrs, false);
          this.context().mode = name === 'col' ? 'colgroup' : name === 'tr' ? 'tbody' : name === 'td' || name === 'th' ? 'row' : TABLE_PARTS.has(name) ? 'table' : 'body';
          continue;
        case 'colgroup':
          if (name === 'col' || name === 'html') return Content.Data;
          if (name === 'template') return this.headTag(name, attrs, false);
          if (this.context().name !== 'colgroup' || this.top() !== this.context()) return Content.Data; // a template's columns ignore the rest
          this.pop();
          continue;
        case 'select':
          // The select parser changed in 2025 (customizable select); browsers and parsers differ.
          if (name === 'option' || name === 'optgroup') {
            if (this.top()?.name === 'option') this.pop();
            if (name === 'optgroup' && this.top()?.name === 'optgroup') this.pop();
            this.push(name, HTML);
            return Content.Data;
          }
          if (name === 'script') return Content.Script;
          return this.halt('a tag inside <select> that browsers and parsers treat differently');
        case 'row':
        case 'tbody':
        case 'table':
          if (mode === 'row' && (name === 'td' || name === 'th')) {
            this.clearTo(ROW_CTX);
            this.push(name, HTML);
            return Content.Data;
          }
          if (mode === 'row' && TABLE_PARTS.has(name)) {
            if (this.inTableScope('tr') < 0) return Content.Data;
            this.clearTo(ROW_CTX);
            this.pop();
            continue;
          }
          if (mode === 'tbody' && (name === 'tr' || name === 'td' || name === 'th')) {
            this.clearTo(TBODY_CTX);
            this.push('tr', HTML);
            if (name === 'tr') return Content.Data;
            continue;
          }
          if (mode === 'tbody' && TABLE_PARTS.has(name)) {
            if (this.inTableScope(TBODY) < 0) return Content.Data;
            this.clearTo(TBODY_CTX);
            this.pop();
            continue;
          }
          if (TABLE_PARTS.has(name)) {
            this.clearTo(TABLE_CTX);
            const part = name === 'col' ? 'colgroup' : name === 'td' || name === 'th' || name === 'tr' ? 'tbody' : name;
            this.push(part, HTML);
            if (part === name) return Content.Data;
            continue;
          }
          if (name === 'table') {
            const i = this.inTableScope('table');
            if (i < 0) return Content.Data;
            this.popTo(i);
            continue;
          }
          if (name === 'style' || name === 'script' || name === 'template') return this.headTag(name, attrs, false);
          if (name === 'input' && decoded(attrs?.get('type'))?.toLowerCase() === 'hidden') return Content.Data;
          if (name === 'form') {
            if (this.templates === 0 && !this.formOpen) this.formOpen = true;
            return Content.Data;
          }
          return this.bodyStart(name, attrs, selfClosing); // fostered before the table
        case 'cell':
        case 'caption':
          if (TABLE_PARTS.has(name)) {
            const i = this.inTableScope(OWN_PARTS[mode]);
            if (i < 0) return Content.Data;
            this.popTo(i);
            continue;
          }
          return this.bodyStart(name, attrs, selfClosing);
        default:
          return this.bodyStart(name, attrs, selfClosing);
      }
    }
    return this.halt('a start tag that reprocesses too often');
  }

  /** base, link, meta, script, style, template, title, noscript, noframes: the head's rules. */
  private headTag(name: string, attrs: Map<string, string> | undefined, inHead: boolean): Content {
    if (name === 'template') this.push('template', HTML);
    if (name === 'meta' && inHead && decoded(attrs?.get('http-equiv'))?.trim().toLowerCase() === 'content-security-policy') this.policies.push(decoded(attrs?.get('content')) ?? '');
    if (name === 'base' && this.templates === 0) this.base = true;
    return RAW.get(name) ?? Content.Data;
  }

  /** "In body" start tags (also fostered ones from table modes). */
  private bodyStart(name: string, attrs: Map<string, string> | undefined, selfClosing: boolean): Content {
    if (!IN_BODY_RULES.has(name)) {
      this.push(name, HTML); // most elements: nothing more to it
      return Content.Data;
    }
    if (HEAD_TAGS.has(name)) return this.headTag(name, attrs, false);
    if (name === 'frameset') {
      this.bodyReplaced = true;
      return this.halt('a frameset after body content');
    }
    if (name === 'svg' || name === 'math') {
      if (!selfClosing) this.push(name, name === 'svg' ? SVG : MATHML);
      return Content.Data;
    }
    if (IGNORED_IN_BODY.has(name) && name !== 'form') return Content.Data;
    if (name === 'form') {
      if (this.formOpen && this.templates === 0) return Content.Data;
      if (this.templates === 0) this.formOpen = true;
    }
    if (CLOSES_P.has(name)) {
      if (name === 'table' && this.quirksMaybe && this.inScope('p', BUTTON) >= 0) this.exact = false;
      else this.closeP();
    }
    if (HEADINGS.has(name) && HEADINGS.has(this.top()?.name ?? '') && this.top()?.ns === HTML) this.pop();
    if (name === 'li' || name === 'dd' || name === 'dt') {
      const names = name === 'li' ? LI : DD_DT;
      for (let i = this.stack.length - 1; i >= 0; i--) {
        const e = this.stack[i];
        if (e.ns === HTML && names.has(e.name)) {
          this.popTo(i);
          break;
        }
        if ((e.ns === HTML ? SPECIAL.has(e.name) && e.name !== 'address' && e.name !== 'div' && e.name !== 'p' : TreeState.foreignBoundary(e)) || --this.budget < 0) break;
      }
      this.closeP();
    }
    if (name === 'button') this.popTo(this.inScope('button'));
    if ((name === 'a' && this.nearest(A, MARKERS) >= 0) || (name === 'nobr' && this.inScope('nobr') >= 0)) {
      this.exact = false; // the adoption agency restructures: give up on the plain HTML elements
      if (this.foreignCount > 0) this.stop('a nested <a> or <nobr> inside SVG or MathML');
    }
    if ((name === 'option' || name === 'optgroup') && this.top()?.name === 'option' && this.top()?.ns === HTML) this.pop();
    if (name === 'rb' || name === 'rtc' || name === 'rp' || name === 'rt') {
      if (this.inScope('ruby') >= 0) this.generateImpliedEnd(name === 'rp' || name === 'rt' ? 'rtc' : undefined);
    }
    const raw = RAW.get(name);
    if (raw !== undefined) return raw;
    if (!VOID.has(name)) this.push(name, HTML);
    return Content.Data;
  }

  private closeP(): void {
    if (this.openP > 0) this.popTo(this.inScope('p', BUTTON));
  }

  private generateImpliedEnd(except?: string): void {
    for (let top = this.top(); top !== undefined && top.ns === HTML && IMPLIED_END.has(top.name) && top.name !== except; top = this.top()) this.pop();
  }

  /** Clear the stack back to a table, table body or row context. */
  private clearTo(names: Set<string>): void {
    for (let top = this.top(); top !== undefined && !(top.ns === HTML && names.has(top.name)); top = this.top()) this.pop();
  }

  // ---- End tags in HTML content ----

  /** `fromForeign`: handed over by foreign content, so its handling may reach below the SVG/MathML. */
  private htmlEnd(name: string, fromForeign: boolean): void {
    const mode = this.mode();
    if (name === 'template') {
      if (this.templates > 0) this.popTo(this.stack.lastIndexOf(this.lastTemplate()));
      return;
    }
    if (mode === 'head') {
      if (name === 'body' || name === 'html' || name === 'br') this.phase = 'body';
      return;
    }
    if (mode === 'select') {
      const top = this.top();
      if (name === 'select') this.popTo(this.stack.lastIndexOf(this.context()));
      else if (name === 'option' && top?.name === 'option') this.pop(top);
      else if (name === 'optgroup') {
        if (top?.name === 'option' && this.stack[this.stack.length - 2]?.name === 'optgroup') this.pop(top);
        if (this.top()?.name === 'optgroup') this.pop(this.top());
      }
      return;
    }
    if (mode === 'template' || (mode === 'colgroup' && this.context().name === 'template')) return;
    if (mode === 'colgroup') {
      if (name === 'col') return;
      this.pop(this.context());
      if (name !== 'colgroup') this.htmlEnd(name, fromForeign);
      return;
    }
    if (mode === 'cell' || mode === 'caption' || mode === 'row' || mode === 'tbody' || mode === 'table') {
      const own = OWN_PARTS[mode];
      if (own.has(name)) return this.popTo(this.inTableScope(name));
      // An end tag of an outer table part closes this one first, then is handled again.
      const outer = OUTER_PARTS[mode];
      if (outer.has(name)) {
        if (this.inTableScope(name === 'table' && mode !== 'cell' ? own : name) < 0 || this.inTableScope(own) < 0) return;
        this.popTo(this.inTableScope(own));
        return this.htmlEnd(name, fromForeign);
      }
      if (name === 'body' || name === 'html' || TABLE_PARTS.has(name) || name === 'table') return;
    }
    if (name === 'body' || name === 'html') return;
    if (fromForeign && !this.exact) {
      this.stop('an end tag closing SVG or MathML across misnested tags');
      return;
    }
    if (name === 'br' || (name === 'p' && this.inScope('p', BUTTON) < 0)) return; // they make an element
    if (name === 'form' && this.templates === 0) {
      this.formOpen = false;
      const i = this.inScope('form');
      if (i >= 0) {
        if (i < this.stack.length - 1) this.exact = false; // a form taken from under open elements
        if (i < this.stack.length - 1 && this.foreignCount > 0) this.stop('</form> under SVG or MathML');
        this.stack.splice(i, 1);
      }
      return;
    }
    if (HEADINGS.has(name) || SPECIAL.has(name) || name === 'applet' || name === 'marquee' || name === 'object') {
      return this.popTo(this.inScope(HEADINGS.has(name) ? HEADINGS : name, name === 'li' ? LIST : name === 'p' ? BUTTON : undefined));
    }
    if (FORMATTING.has(name)) {
      // The adoption agency: with no special element above it, it pops to the element; else it moves elements around.
      for (let i = this.stack.length - 1, special = false; i >= 0 && --this.budget >= 0; i--) {
        const e = this.stack[i];
        if (e.ns === HTML && e.name === name) {
          if (!special) return this.popTo(i);
          this.exact = false;
          if (this.foreignCount > 0) this.stop('a misnested formatting end tag inside SVG or MathML');
          return;
        }
        if (e.ns === HTML ? SCOPE.has(e.name) : TreeState.foreignBoundary(e)) return;
        special ||= e.ns === HTML ? SPECIAL.has(e.name) : TreeState.foreignBoundary(e);
      }
      return;
    }
    // Any other end tag: the nearest element of that name, unless a special element comes first.
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const e = this.stack[i];
      if (e.ns === HTML && e.name === name) return this.popTo(i);
      if ((e.ns === HTML ? SPECIAL.has(e.name) : TreeState.foreignBoundary(e)) || --this.budget < 0) return;
    }
  }

  private lastTemplate(): Entry {
    for (let i = this.contexts.length - 1; ; i--) if (this.contexts[i].name === 'template') return this.contexts[i];
  }

  // ---- Helpers ----

  private hasNonSpace(from: number, to: number): boolean {
    for (let i = from; i < to; i++) if (!isSpace(this.buf[i])) return true;
    return false;
  }
}
