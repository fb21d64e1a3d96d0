/**
 * The inspector's saved messages on the CLI's feed: kept by a store its front door gives (the
 * CLI's file, cli/savedStore.ts), never in the browser, where any page served on the inspector's
 * origin another day could read them. `loadSaved` and `storeSaved` requests are answered here.
 */
import { MAX_SAVED_LIST_BYTES, type HostMessage, type InspectorRequest, type SavedMessage } from '../../shared/protocol';

/** Where the saved messages are kept. */
export interface SavedMessageStore {
  /** The saved list; empty when there is none or it cannot be read (the store says why, once). Never rejects. */
  load(): Promise<SavedMessage[]>;
  /** Replaces the list (already checked: checkSavedMessages); rejects with an Error whose message is for the person. */
  store(messages: SavedMessage[]): Promise<void>;
}

/** A store for this run only, when the front door gives none (startServer's own callers). */
export function memoryStore(): SavedMessageStore {
  let kept: SavedMessage[] = [];
  return {
    load: () => Promise.resolve(kept),
    store: (messages) => {
      kept = messages;
      return Promise.resolve();
    },
  };
}

/** The list's size where it is kept (its JSON in UTF-8), or why it is too large to keep. */
function savedListProblem(messages: readonly SavedMessage[]): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(messages));
  if (bytes <= MAX_SAVED_LIST_BYTES) return undefined;
  return `the saved messages take ${bytes} bytes, over the limit of ${MAX_SAVED_LIST_BYTES} bytes (${MAX_SAVED_LIST_BYTES / (1024 * 1024)} MiB): delete some first`;
}

/** The answer to a loadSaved or storeSaved request (validated: parseInspectorRequest). Never rejects. */
export async function answerSavedRequest(request: Extract<InspectorRequest, { type: 'loadSaved' | 'storeSaved' }>, store: SavedMessageStore): Promise<HostMessage> {
  if (request.type === 'loadSaved') return { type: 'saved', messages: await store.load().catch(() => []) };
  const { requestId, messages } = request;
  const tooLarge = savedListProblem(messages);
  if (tooLarge !== undefined) return { type: 'result', requestId, ok: false, error: `storeSaved: ${tooLarge}` };
  try {
    await store.store(messages);
    return { type: 'result', requestId, ok: true };
  } catch (error) {
    return { type: 'result', requestId, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
