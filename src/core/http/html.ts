/** Small HTML helpers shared by error pages and directory listings. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A page that can run nothing and load nothing (styles inline only). */
export const STRICT_CSP = "default-src 'none'; style-src 'unsafe-inline'";

export function page(title: string, body: string): string {
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${escapeHtml(title)}</title>\n` +
    '<style>body{font:14px/1.5 system-ui,sans-serif;margin:2em;color-scheme:light dark}' +
    'a{text-decoration:none}a:hover{text-decoration:underline}li{list-style:none}</style>\n' +
    `</head>\n<body>\n${body}\n</body>\n</html>\n`
  );
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", sol: '/', colon: ':', equals: '=' };

/** An attribute value with its numeric and a few named character references decoded (enough for the attribute values the injection reads). */
export function decoded(value: string | undefined): string | undefined {
  if (value === undefined || !value.includes('&')) return value;
  return value.replace(/&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([a-zA-Z]+));?/g, (m, dec?: string, hex?: string, named?: string) => {
    if (named !== undefined) return NAMED[named] ?? m;
    const code = dec !== undefined ? Number(dec) : parseInt(hex as string, 16);
    return code > 0 && code < 0x110000 && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
  });
}
