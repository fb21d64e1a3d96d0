/**
 * What the server itself answers under the reserved prefix /__echo-preview/: the list of
 * WebSocket endpoints (so our demo page connects to whatever path was configured) and live
 * reload's client. (The inspector of `--inspect` is never here: it has a port of its own,
 * inspectorPort.ts.)
 *
 * A file of the user's at the same path always wins: nothing in the served folder is ever
 * shadowed. (A folder that really has `__echo-preview/endpoints.json` gets that file served;
 * our demo then uses what that file says, or falls back to the path written in its own
 * websocket.js, which Create Demo Files sets to the configured path.)
 */
import type { ServerResponse } from 'node:http';
import { RESERVED_PREFIX } from '../reserved';
import { RELOAD_SCRIPT, RELOAD_SCRIPT_PATH } from '../reload/inject';
import { decodePathSegments, resolveInsideRoot, type DecodedPath } from './resolve';
import { sendGenerated } from './respond';
import type { StaticOptions } from './static';


/** `{"endpoints":[{"path":"/websocket","mode":"echo"}]}`: one entry per WebSocket endpoint, with its reply mode. */
export const ENDPOINTS_PATH = `${RESERVED_PREFIX}endpoints.json`;

const ENDPOINTS_SEGMENTS = ENDPOINTS_PATH.split('/').filter((s) => s !== '');

/** What the reserved paths answer with, for one running server. */
export interface BuiltinContext {
  readonly files: StaticOptions;
  /** The endpoints now (the config may change while the server runs). */
  readonly endpoints: () => readonly { path: string; mode: string }[];
  /** Live reload is on: serve its client at RELOAD_SCRIPT_PATH. */
  reload?: boolean;
}

/**
 * Answers a GET or HEAD of a reserved path (however it is percent-encoded) unless the served
 * folder has a file there. False when the request is not the server's to answer.
 */
export async function serveBuiltin(res: ServerResponse, pathname: string, context: BuiltinContext): Promise<boolean> {
  if (!pathname.includes('__echo-preview') && !pathname.includes('%')) return false; // the usual case, at no cost
  const decoded = decodePathSegments(pathname);
  if (!decoded.ok) return false;
  const answer = answerFor(decoded, context);
  if (answer === undefined) return false;
  const usersFile = await resolveInsideRoot(context.files.realRoot, decoded.segments, context.files, decoded.directoryForm);
  if (usersFile.ok) return false;
  await answer(res);
  return true;
}

function answerFor({ segments, directoryForm }: DecodedPath, context: BuiltinContext): ((res: ServerResponse) => Promise<void>) | undefined {
  if (!directoryForm && segments.length === ENDPOINTS_SEGMENTS.length && segments.every((s, i) => s === ENDPOINTS_SEGMENTS[i])) {
    const body = JSON.stringify({ endpoints: context.endpoints().map(({ path, mode }) => ({ path, mode })) }) + '\n';
    return async (res) => sendGenerated(res, 'application/json; charset=utf-8', body);
  }
  if (context.reload === true && !directoryForm && '/' + segments.join('/') === RELOAD_SCRIPT_PATH) {
    return async (res) => sendGenerated(res, 'text/javascript; charset=utf-8', RELOAD_SCRIPT);
  }
  return undefined;
}
