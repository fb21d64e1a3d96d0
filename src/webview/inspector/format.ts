/**
 * How the inspector writes values for people and reads what they type: sizes, times with
 * milliseconds, round trips, hex + ASCII dumps, and the bytes of a composed message.
 */
import type { ComposeMode } from '../../shared/protocol';

export { formatSize } from '../../shared/text';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Local wall-clock time with milliseconds: 14:03:27.418. */
export function formatTime(epochMs: number): string {
  const date = new Date(epochMs);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A round trip: sub-millisecond ones with two decimals, then one, then whole milliseconds. */
export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** The first `max` bytes as hex pairs separated by spaces, with … when there are more. */
export function hexPreview(bytes: Uint8Array, max: number): string {
  const shown = Array.from(bytes.subarray(0, max), hex2).join(' ');
  return bytes.length > max ? `${shown} …` : shown;
}

/** A classic dump: offset, 16 bytes in hex, and their printable ASCII (others as '.'). */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = Array.from(row, hex2).join(' ').padEnd(47, ' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex}  ${ascii}`);
  }
  return lines.join('\n');
}

export type Encoded = { ok: true; data: string; binary: boolean; bytes: number } | { ok: false; error: string };

const HEX_BODY = /^(?:[0-9a-f]{2})*$/i;
const BASE64_BODY = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * What a composed message sends: text as it is; JSON only when it parses (sent as typed); hex
 * (spaces, colons and 0x prefixes allowed) and base64 (white space allowed) as binary, base64
 * encoded for the host. The error says what to fix.
 */
export function encodeCompose(mode: ComposeMode, body: string): Encoded {
  switch (mode) {
    case 'text':
      return { ok: true, data: body, binary: false, bytes: new TextEncoder().encode(body).length };
    case 'json':
      try {
        JSON.parse(body);
      } catch (error) {
        return { ok: false, error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
      }
      return { ok: true, data: body, binary: false, bytes: new TextEncoder().encode(body).length };
    case 'hex': {
      const digits = body.replace(/0x/gi, '').replace(/[\s:,]/g, '');
      if (!HEX_BODY.test(digits)) return { ok: false, error: 'Hex needs pairs of digits 0-9 and a-f (spaces, colons and 0x are ignored).' };
      const bytes = new Uint8Array(digits.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
      return { ok: true, data: bytesToBase64(bytes), binary: true, bytes: bytes.length };
    }
    case 'base64': {
      const compact = body.replace(/\s/g, '');
      if (!BASE64_BODY.test(compact)) return { ok: false, error: 'Base64 needs groups of four characters A-Z, a-z, 0-9, + and /, padded with =.' };
      return { ok: true, data: compact, binary: true, bytes: atob(compact).length };
    }
  }
}

/** The bytes of an encoded message, for sending from the UI's own socket. */
export function payloadOf(encoded: { data: string; binary: boolean }): string | Uint8Array {
  return encoded.binary ? base64ToBytes(encoded.data) : encoded.data;
}
