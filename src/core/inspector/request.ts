/**
 * Reads one message of the CLI's inspector feed into a request: a bounded look at the JSON text
 * first (how deep it nests, how many names and values it has), so no message can make the parse
 * slow or large, then JSON.parse, then the shape check of protocol.ts. Never throws.
 */
import { MAX_SAVED_MESSAGES, parseInspectorRequest, type InspectorRequest } from '../../shared/protocol';

/** The requestId of an error that answers a message whose own requestId could not be read. */
export const UNKNOWN_REQUEST_ID = -1;

/** The deepest a request nests: `{"target":{"client":1}}` is 2, `{"messages":[{"name":…}]}` 3. */
export const MAX_FEED_REQUEST_DEPTH = 3;
/**
 * The most `,` and `:` a request has outside its strings: a push has 6, a storeSaved 6 per saved
 * message (3 fields and the comma after it) beside its own few.
 */
export const MAX_FEED_REQUEST_TOKENS = 64 + 6 * MAX_SAVED_MESSAGES;

export type FeedRequest = { ok: true; request: InspectorRequest } | { ok: false; requestId: number; error: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * One feed message as a request, or the error to answer it with (and the requestId the answer
 * carries, UNKNOWN_REQUEST_ID when the message has no usable one).
 */
export function readFeedRequest(data: Buffer, isBinary: boolean): FeedRequest {
  if (isBinary) return refused(UNKNOWN_REQUEST_ID, 'not a request: requests are JSON text, not binary');
  const tooBig = structureProblem(data);
  if (tooBig !== undefined) return refused(UNKNOWN_REQUEST_ID, `a request is a small JSON object, such as {"type":"ready"}; this one ${tooBig}`);
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (error) {
    return refused(UNKNOWN_REQUEST_ID, `not a request: the text is not JSON (${(error as Error).message.slice(0, 120)})`);
  }
  const parsed = parseInspectorRequest(value);
  return parsed.ok ? parsed : refused(requestIdOf(value), parsed.error);
}

function refused(requestId: number, error: string): FeedRequest {
  return { ok: false, requestId, error };
}

/**
 * Why the JSON text in `bytes` is beyond a request's bounds, or undefined. Reads UTF-8 bytes:
 * the structural characters and `"` `\` are ASCII, never part of a multi-byte character. Inside
 * a string it jumps from quote to quote (indexOf), so a long string costs next to nothing. A
 * text that is not JSON passes here; JSON.parse says what is wrong with it.
 */
function structureProblem(bytes: Buffer): string | undefined {
  let depth = 0;
  let tokens = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      i = closingQuote(bytes, i);
      if (i === -1) return undefined;
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > MAX_FEED_REQUEST_DEPTH) return `nests deeper than ${MAX_FEED_REQUEST_DEPTH} levels`;
    } else if (byte === 0x7d || byte === 0x5d) {
      depth--;
    } else if (byte === 0x2c || byte === 0x3a) {
      if (++tokens > MAX_FEED_REQUEST_TOKENS) return `has more than ${MAX_FEED_REQUEST_TOKENS} names and values`;
    }
  }
  return undefined;
}

/** The index of the quote that ends the string opened at `open`, or -1 if none does. */
function closingQuote(bytes: Buffer, open: number): number {
  let at = open;
  for (;;) {
    at = bytes.indexOf(QUOTE, at + 1);
    if (at === -1) return -1;
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at; // an even run escapes itself, not the quote
  }
}

/** The requestId of a parsed message, if it has a usable one of its own, else UNKNOWN_REQUEST_ID. */
function requestIdOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return UNKNOWN_REQUEST_ID;
  const descriptor = Object.getOwnPropertyDescriptor(value, 'requestId');
  const id: unknown = descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : UNKNOWN_REQUEST_ID;
}
