/**
 * Tricky HTML documents for the injected reload tag: every tokenizer context holding `</body>`,
 * `</head>` and live-looking markup, at the end of the file and before a later real `</body>`,
 * plus a seeded random mix of the same pieces. Each names what it holds.
 */

export interface CorpusDoc {
  name: string;
  html: string;
  /** True when the tag must be injected (false: the corpus accepts a page served unmodified). */
  mustInject: boolean;
}

/** What inert text holds: markup that would come alive if the tag landed inside it. */
const PAYLOADS = ['</body>', '</head>', '</BODY >', '</body><img src=x onerror="window.__inertRan=1">', '</html></body>', '</body\t/>', '</b\0ody>'];

/** [name, opening, closing]: each context the payload can sit in. */
const CONTEXTS: Array<[string, string, string]> = [
  ['script string', '<script>var s = "', '";</script>'],
  ['script comment-like', '<script><!--', '--></script>'],
  ['script double-escaped', '<script><!--<script>', '</script>--></script>'],
  ['script escaped end', '<script><!-- x </scrip', '</script>'],
  ['attribute dq', '<div title="', '">x</div>'],
  ['attribute sq', "<div title='", "'>x</div>"],
  ['attribute unquoted', '<div data-x=', '>x</div>'],
  ['attribute name', '<div ', '>x</div>'],
  ['comment', '<!-- ', ' -->'],
  ['comment dashes', '<!--- ', ' --->'],
  ['comment bang', '<!-- ', ' --!>'],
  ['comment nested', '<!-- <!-- ', ' -->'],
  ['bogus comment ?', '<?php ', ' ?>'],
  ['bogus comment !', '<!x ', ' >'],
  ['textarea', '<textarea>', '</textarea>'],
  ['title', '<title>', '</title>'],
  ['style', '<style>', '</style>'],
  ['xmp', '<xmp>', '</xmp>'],
  ['iframe', '<iframe>', '</iframe>'],
  ['noembed', '<noembed>', '</noembed>'],
  ['noframes', '<noframes>', '</noframes>'],
  ['noscript', '<noscript>', '</noscript>'],
  ['svg CDATA', '<svg><![CDATA[', ']]></svg>'],
  ['svg style', '<svg><style>', '</style></svg>'],
  ['svg title', '<svg><title>', '</title></svg>'],
  ['svg script', '<svg><script>', '</script></svg>'],
  ['svg foreignObject textarea', '<svg><foreignObject><textarea>', '</textarea></foreignObject></svg>'],
  ['math CDATA', '<math><mi><![CDATA[', ']]></mi></math>'],
  ['math annotation-xml', '<math><annotation-xml encoding="text/html"><style>', '</style></annotation-xml></math>'],
  ['template', '<template>', '</template>'],
  ['template in table', '<table><template><tr><td>', '</td></tr></template></table>'],
  ['table', '<table><tr><td>', '</td></tr></table>'],
  ['table caption', '<table><caption>', '</caption></table>'],
  ['select', '<select><option>', '</option></select>'],
  ['TEXTAREA upper case', '<TEXTAREA>', '</TEXTarea>'],
  ['title with attribute end', '<title>', '</title x="y">'],
];

const PREFIXES: Array<[string, string]> = [
  ['', ''],
  ['doctype', '<!DOCTYPE html>'],
  ['head', '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>t</title>\n</head>\n<body>\n'],
  ['crlf', '<!DOCTYPE html>\r\n<html>\r\n<body>\r\n'],
  ['bom', '\ufeff<!doctype html><p>'],
];

const SUFFIXES: Array<[string, string]> = [
  ['', ''],
  ['real body end', '\n</body>\n</html>\n'],
  ['trailing comment', '</body></html><!-- trailing -->'],
  ['more content', '<p id="after">after</p></body>'],
];

/** How an unclosed context may end at EOF: partial closers that leave the tokenizer mid-way. */
const TAILS = ['', '-', '--', '--!', '<', '</', '</t', '</title', '</title ', '</title a="', ']', ']]', '<!', '<!-', '<!--', '<!--<script>', '</script', '"', '&amp'];

/** Whole documents of their own: the classes that have no payload. */
const SPECIAL: Array<[string, string, boolean]> = [
  ['empty file', '', true],
  ['only whitespace', '\n\n', true],
  ['only text', 'hello', true],
  ['only a doctype', '<!DOCTYPE html>', true],
  ['unterminated doctype', '<!DOCTYPE html', false],
  ['doctype then unterminated doctype', '<!DOCTYPE html><p>x<!DOCTYPE html', true],
  ['no head no body', '<p>para', true],
  ['head only', '<html><head><title>x</title></head></html>', true],
  ['frameset', '<!DOCTYPE html><html><head><title>f</title></head><frameset cols="50%,50%"><frame src="a.html"><frame src="b.html"></frameset></html>', true],
  ['frameset with noframes', '<html><frameset><noframes></body></noframes></frameset></html>', false],
  ['bare frameset', '<frameset></frameset>', false],
  ['plaintext', '<p>before</p><plaintext></body><img src=x onerror="window.__inertRan=1">', true],
  ['plaintext in table', '<table><plaintext></body>', true],
  ['plaintext after body', '<body><p>x</p></body><plaintext>tail', true],
  ['unclosed script', '<p>x</p><script>window.__inertRan = 1; </body>', true],
  ['unclosed script in template', '<template><script>x</body>', true],
  ['svg unclosed', '<p>x</p><svg><g><circle r="1"></body>', true],
  ['svg breakout', '<svg><g></g><p>out</p></body>', true],
  ['svg font breakout', '<svg><font color="red">out</font></svg></body>', true],
  ['svg font no breakout', '<svg><font>in</font></body>', true],
  ['math mi textarea', '<math><mi><textarea></body></textarea></mi></math>', true],
  ['math mglyph', '<math><mi><mglyph><style></body></style></mglyph></mi></math>', true],
  ['annotation-xml svg', '<math><annotation-xml><svg><style></body></style></svg></annotation-xml></math>', true],
  ['nested templates', '<template><template><div>', true],
  ['template then body end', '<template><p>t</p></template></body>', true],
  ['colgroup', '<table><colgroup><col></body>', true],
  ['template colgroup', '<template><col><xmp></body></xmp>', true],
  ['select then xmp', '<select><option>a</option><xmp></body></xmp>', true],
  ['select closed then xmp', '<select><option>a</option></select><xmp></body></xmp>', true],
  ['table text', '<table> x </body>', true],
  ['table whitespace', '<table> <tr> </tr> </table>', true],
  ['misnested formatting', '<p><b>bold</p>more</b></body>', true],
  ['misnested formatting into svg', '<p><b>x</p><svg><g></b></body>', true],
  ['form', '<form><div></form></div></body>', true],
  ['nul bytes', '<p>\0</p><title>\0</body></title>\0', true],
  ['cr only', '<title>\r</body>\r</title>\r<p>x\r', true],
  ['bom and body', '\ufeff<body>x</body>', true],
  ['lone lt at end', '<p>a <', true],
  ['lone lt slash at end', '<p>a </', true],
  ['end tag cut off', '<p>a</p', true],
  ['start tag cut off', '<p>a</p><div class="x', true],
  ['comment dash end', '<p>a</p><!-- c -', true],
  ['comment double dash end', '<p>a</p><!-- c --', true],
  ['comment bang end', '<p>a</p><!-- c --!', true],
  ['comment start dash', '<p>a</p><!---', true],
  ['abrupt comment', '<p>a</p><!--><!--->', true],
  ['body then head end', '<body><p>x</p></body></head>', true],
  ['head end then text', '<head></head>text', true],
  ['uppercase everything', '<HTML><HEAD><TITLE>X</TITLE></HEAD><BODY><P>Y</P></BODY></HTML>', true],
  ['base', '<head><base href="/sub/"></head><body></body>', true],
  ['csp meta', `<head><meta http-equiv="Content-Security-Policy" content="script-src 'nonce-abc'"></head><body></body>`, true],
];

/** A seeded generator (mulberry32), so every run checks the same documents. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '<svg>', '</svg>', '<math>', '</math>', '<mi>', '</mi>', '<foreignObject>', '</foreignObject>', '<desc>', '<g>', '</g>', '<svg/>',
  '<annotation-xml encoding="text/html">', '<template>', '</template>', '<table>', '</table>', '<tr>', '<td>', '</td>', '<caption>',
  '<colgroup>', '<col>', '<select>', '<option>', '</select>', '<p>', '</p>', '<b>', '</b>', '<i>', '</i>', '<a>', '</a>', '<div>',
  '</div>', '<span>', '</span>', '<li>', '<h1>', '</h2>', '<textarea>', '</textarea>', '<title>', '</title>', '<style>', '</style>',
  '<script>', '</script>', '<xmp>', '</xmp>', '<noscript>', '</noscript>', '<!--', '-->', '--!>', '-', '<![CDATA[', ']]>', '</body>',
  '</head>', '<body>', '<head>', '</html>', 'text', ' ', '\n', '<font color=red>', '<br>', '</br>', '<img src=x>', '"', "'", '<', '</',
  '>', '<!DOCTYPE html>', '<form>', '</form>', '<input type=hidden>', '<button>', '<nobr>', '\0', '\r\n', '&lt;', '<iframe>', '<frameset>',
  '<plaintext>', '<div title="', '<!x', '<?', '=',
];

export function corpus(): CorpusDoc[] {
  const docs: CorpusDoc[] = [];
  for (const [context, open, close] of CONTEXTS) {
    for (const payload of PAYLOADS) {
      for (const [prefixName, prefix] of PREFIXES) {
        for (const [suffixName, suffix] of SUFFIXES) {
          docs.push({ name: `${context} / ${JSON.stringify(payload)} / prefix ${prefixName || 'none'} / suffix ${suffixName || 'none'}`, html: prefix + open + payload + close + suffix, mustInject: true });
        }
      }
      for (const tail of TAILS) docs.push({ name: `${context} / ${JSON.stringify(payload)} / at EOF + ${JSON.stringify(tail)}`, html: `<p>x</p>${open}${payload}${tail}`, mustInject: true });
    }
    // Nested in each other: the inner context inside an attribute of a tag inside the outer one.
    docs.push({ name: `${context} inside a div, twice`, html: `<div>${open}${open}${PAYLOADS[3]}${close}${close}</div></body>`, mustInject: true });
  }
  for (const [name, html, mustInject] of SPECIAL) docs.push({ name, html, mustInject });
  const next = random(17);
  for (let i = 0; i < 1500; i++) {
    const parts: string[] = [];
    const count = 1 + Math.floor(next() * 24);
    for (let j = 0; j < count; j++) parts.push(PIECES[Math.floor(next() * PIECES.length)]);
    docs.push({ name: `random #${i}`, html: parts.join(''), mustInject: false });
  }
  return docs;
}
