/**
 * HTML's element categories as tree construction uses them (special, scope boundaries, foreign
 * content breakout, implied end tags, raw text elements) and the stack entry type of htmlTree.ts.
 */
import { decoded } from '../../http/html';
import { Content } from './tokenizer';

export const HTML = 0, SVG = 1, MATHML = 2;

export interface Entry {
  name: string;
  ns: number;
  /** 1: an HTML integration point; 2: a MathML text integration point. */
  ip: number;
  /** A context element's insertion mode (a template's: once its first child decides it). */
  mode: string | undefined;
}

export const set = (names: string): Set<string> => new Set(names.split(' '));
/** Elements whose presence decides the insertion mode. */
export const CONTEXTS = set('select td th tr tbody thead tfoot caption colgroup table template');
export const VOID = set('area base basefont bgsound br col embed frame hr img image input keygen link meta param source track wbr');
export const CLOSES_P = set('address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer header hgroup main menu nav ol p search section summary ul h1 h2 h3 h4 h5 h6 pre listing form plaintext xmp hr table');
export const HEADINGS = set('h1 h2 h3 h4 h5 h6');
export const FORMATTING = set('a b big code em font i nobr s small strike strong tt u');
export const IMPLIED_END = set('dd dt li optgroup option p rb rp rt rtc');
export const SPECIAL = set(
  'address applet area article aside base basefont bgsound blockquote body br button caption center col colgroup dd details dir div dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li link listing main marquee menu meta nav noembed noframes noscript object ol p param plaintext pre script search section select source style summary table tbody td template textarea tfoot th thead title tr track ul wbr xmp',
);
export const SCOPE = set('applet caption html table td th marquee object template');
/** Start tags that leave foreign content (§13.2.6.5). */
export const BREAKOUT = set('b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var');
export const TABLE_PARTS = set('caption col colgroup tbody td tfoot th thead tr');
/** Start tags that are ignored in body (so are no element to put a script before). */
export const IGNORED_IN_BODY = set('caption col colgroup frame head tbody td tfoot th thead tr html body frameset form');
/** Start tags that tables keep inside the table (rather than foster-parenting them before it). */
export const IN_TABLE = set('caption colgroup col tbody thead tfoot tr td th table style script template');
export const HEAD_TAGS = set('base basefont bgsound link meta noframes script style template title noscript');
/** What a template's content hands to the head's rules (noscript is not among them). */
export const TEMPLATE_HEAD_TAGS = set('base basefont bgsound link meta noframes script style template title');
export const TBODY = set('tbody thead tfoot');
export const RAW = new Map<string, Content>([
  ['title', Content.Rcdata], ['textarea', Content.Rcdata], ['style', Content.Rawtext], ['xmp', Content.Rawtext], ['iframe', Content.Rawtext],
  ['noembed', Content.Rawtext], ['noframes', Content.Rawtext], ['noscript', Content.Rawtext], ['script', Content.Script], ['plaintext', Content.Plaintext],
]);

export const BUTTON = set('button'), LIST = set('ol ul'), LI = set('li'), DD_DT = set('dd dt'), A = set('a');
/** Elements that put a marker in the list of active formatting elements. */
export const MARKERS = set('td th caption template applet object marquee');
export const ROW_CTX = set('tr template'), TBODY_CTX = set('tbody thead tfoot template'), TABLE_CTX = set('table template');
/** In each table mode: the part it closes, and the outer parts whose end tags close it first. */
export const OWN_PARTS: Record<string, Set<string>> = { cell: set('td th'), caption: set('caption'), row: set('tr'), tbody: TBODY, table: set('table') };
export const OUTER_PARTS: Record<string, Set<string>> = { cell: set('table tbody tfoot thead tr'), caption: set('table'), row: set('table tbody tfoot thead'), tbody: set('table'), table: set('') };
/** Start tags that "in body" does more with than push an element. */
export const IN_BODY_RULES = new Set([...HEAD_TAGS, ...IGNORED_IN_BODY, ...CLOSES_P, ...VOID, ...RAW.keys(), ...set('svg math li dd dt button a nobr option optgroup rb rtc rp rt')]);
/** The insertion mode that each context element (but a template) puts the parser in. */
export const MODE_OF: Record<string, string> = { td: 'cell', th: 'cell', tr: 'row', tbody: 'tbody', thead: 'tbody', tfoot: 'tbody', select: 'select', caption: 'caption', colgroup: 'colgroup', table: 'table' };

/** Whether a foreign element is an integration point (§13.2.6.5). */
export function foreignIp(ns: number, name: string, attrs: Map<string, string> | undefined): number {
  if (ns === SVG) return name === 'foreignobject' || name === 'desc' || name === 'title' ? 1 : 0;
  if (name === 'mi' || name === 'mo' || name === 'mn' || name === 'ms' || name === 'mtext') return 2;
  const encoding = name === 'annotation-xml' ? decoded(attrs?.get('encoding'))?.toLowerCase() : undefined;
  return encoding === 'text/html' || encoding === 'application/xhtml+xml' ? 1 : 0;
}
