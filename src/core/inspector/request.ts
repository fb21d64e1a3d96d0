/**
 * Reads one message of the CLI's inspector feed into a request: a bounded look at the JSON text
 * first (how deep it nests, how many names and values it has), so no message can make the parse
 * slow or large, then JSON.parse, then the shape check of protocol.ts. Never throws.
 */
import { closingQuote } from '../../shared/boundedJson';
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

/**
 * One feed message as a request, or the error to answer it with (and the requestId the answer
 * carries, UNKNOWN_REQUEST_ID when the message has no usable one).
 */
export function readFeedRequest(data: Buffer, isBinary: boolean): FeedRequest {
  if (isBinary) return refused(UNKNOWN_REQUEST_ID, 'not a request: requests are JSON text, not binary');
  const text = data.toString('utf8');
  const tooBig = structureProblem(text);
  if (tooBig !== undefined) return refused(UNKNOWN_REQUEST_ID, `a request is a small JSON object, such as {"type":"ready"}; this one ${tooBig}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
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
 * Why the JSON `text` is beyond a request's bounds, or undefined. The structural characters and
 * `"` `\` are ASCII (decoding UTF-8 adds or removes none). Inside a string it jumps from quote to
 * quote (closingQuote, boundedJson.ts), so a long string costs next to nothing. A text that is not
 * JSON passes here; JSON.parse says what is wrong with it.
 */
function structureProblem(text: string): string | undefined {
  let depth = 0;
  let tokens = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x22) {
      i = closingQuote(text, i + 1);
      if (i === -1) return undefined;
    } else if (char === 0x7b || char === 0x5b) {
      if (++depth > MAX_FEED_REQUEST_DEPTH) return `nests deeper than ${MAX_FEED_REQUEST_DEPTH} levels`;
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
    } else if (char === 0x2c || char === 0x3a) {
      if (++tokens > MAX_FEED_REQUEST_TOKENS) return `has more than ${MAX_FEED_REQUEST_TOKENS} names and values`;
    }
  }
  return undefined;
}

/** The requestId of a parsed message, if it has a usable one of its own, else UNKNOWN_REQUEST_ID. */
function requestIdOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return UNKNOWN_REQUEST_ID;
  const descriptor = Object.getOwnPropertyDescriptor(value, 'requestId');
  const id: unknown = descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : UNKNOWN_REQUEST_ID;
}
