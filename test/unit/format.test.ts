/** escapeControls and formatEvent: no client text reaches a terminal or log raw, whatever the event. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerEvent } from '../../src/core/events/events';
import { formatEvent } from '../../src/core/events/format';
import { escapeControls, formatCount } from '../../src/shared/text';

const hex2 = (code: number): string => code.toString(16).padStart(2, '0');
const hex4 = (code: number): string => code.toString(16).padStart(4, '0');

/** Code points that reorder, split or hide text: bidi controls and marks, separators, zero-width, BOM, tags. */
const UNICODE_CONTROLS = [
  0x061c, 0x180e, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2061,
  0x2062, 0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0x206a, 0x206f, 0xfeff, 0xfff9, 0xfffa, 0xfffb,
];

describe('escapeControls', () => {
  it('escapes every C0 control, DEL and every C1 control as \\xHH, and leaves the rest of Latin-1 alone', () => {
    for (let code = 0; code <= 0xff; code++) {
      const char = String.fromCodePoint(code);
      const unsafe = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0xad;
      assert.equal(escapeControls(`a${char}b`), unsafe ? `a\\x${hex2(code)}b` : `a${char}b`, `U+${hex4(code)}`);
    }
  });

  it('escapes bidi controls, marks, line and paragraph separators and zero-width characters as \\uHHHH', () => {
    for (const code of UNICODE_CONTROLS) {
      assert.equal(escapeControls(`a${String.fromCodePoint(code)}b`), `a\\u${hex4(code)}b`, `U+${hex4(code)}`);
    }
  });

  it('escapes tag characters beyond the BMP as \\u{H...} and lone surrogates as \\uHHHH', () => {
    assert.equal(escapeControls('x\u{e0001}\u{e0041}y'), 'x\\u{e0001}\\u{e0041}y');
    assert.equal(escapeControls('x\ud800y\udfffz'), 'x\\ud800y\\udfffz');
  });

  it('leaves every other code point of the whole range as it is, and leaves none of the class raw', () => {
    const unsafe = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
    for (let code = 0; code <= 0x10ffff; code++) {
      const char = String.fromCodePoint(code);
      const escaped = escapeControls(char);
      if (unsafe.test(char)) assert.ok(/^\\(x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]{5,6}\})$/.test(escaped), `U+${hex4(code)} -> ${escaped}`);
      else if (escaped !== char) assert.fail(`U+${hex4(code)} changed to ${escaped}`);
    }
  });

  it('keeps printable text, backslashes and non-Latin scripts as they are', () => {
    for (const text of ['/app.js?x=1', 'C:\\path\\x1b', 'héllo wörld', '日本語', 'emoji 😀', 'עברית', 'العربية', '\u00a0nbsp']) {
      assert.equal(escapeControls(text), text);
    }
  });

  it('neutralises whole terminal sequences: title, clear screen, CSI, OSC 8 links', () => {
    const text = '\x1b]0;pwned\x07\x1b[2J\r\u009b31m\x1b]8;;http://evil/\x1b\\link';
    const escaped = escapeControls(text);
    assert.equal(escaped, '\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x9b31m\\x1b]8;;http://evil/\\x1b\\link');
  });
});

describe('formatEvent', () => {
  const evil = 'a\x1b[2J\r\n\tb\u009b\u202ec\u2028d';
  const escaped = 'a\\x1b[2J\\x0d\\x0a\\x09b\\x9b\\u202ec\\u2028d';
  const events: ServerEvent[] = [
    { type: 'request', method: `GET${evil}`, path: `/x${evil}`, status: 404, bytes: 10, durationMs: 1, remote: `127.0.0.1${evil}` },
    { type: 'client-open', id: 1, origin: `http://x${evil}`, remote: '127.0.0.1' },
    { type: 'client-close', id: 1, code: 1000, reason: evil },
    { type: 'refused', what: 'host', detail: `Host "${evil}" is not allowed`, remote: '127.0.0.1' },
    { type: 'error', message: `client #1: ${evil}` },
  ];
  for (const event of events) {
    it(`escapes client text in a ${event.type} line and keeps it on one line`, () => {
      const line = formatEvent(event);
      assert.ok(line.includes(escaped), line);
      assert.doesNotMatch(line, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    });
  }
});

describe('formatCount', () => {
  it('groups thousands with commas, independent of the locale', () => {
    assert.deepEqual([0, 7, 999, 1000, 1234567, 20000].map(formatCount), ['0', '7', '999', '1,000', '1,234,567', '20,000']);
  });
});
