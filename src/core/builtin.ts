/**
 * What the server itself answers under the reserved prefix /__echo-preview/. Today that is the
 * list of WebSocket endpoints, so our demo page connects to whatever path was configured.
 *
 * A file of the user's at the same path always wins: nothing in the served folder is ever
 * shadowed. (A folder that really has `__echo-preview/endpoints.json` gets that file served;
 * our demo then uses what that file says, or falls back to the path written in its own
 * websocket.js, which Create Demo Files sets to the configured path.)
 */
import type { ServerResponse } from 'node:http';
import { decodePathSegments, resolveInsideRoot } from './resolve';
import { sendGenerated, type StaticOptions } from './static';

export const RESERVED_PREFIX = '/__echo-preview/';

/** `{"endpoints":[{"path":"/websocket"}]}`: one entry per WebSocket endpoint. */
export const ENDPOINTS_PATH = `${RESERVED_PREFIX}endpoints.json`;

const ENDPOINTS_SEGMENTS = ENDPOINTS_PATH.split('/').filter((s) => s !== '');

/**
 * Answers a GET or HEAD of ENDPOINTS_PATH (however it is percent-encoded) unless the served
 * folder has a file there. False when the request is not the server's to answer.
 */
export async function serveBuiltin(res: ServerResponse, pathname: string, options: StaticOptions, wsPaths: readonly string[]): Promise<boolean> {
  if (!pathname.includes('__echo-preview') && !pathname.includes('%')) return false; // the usual case, at no cost
  const decoded = decodePathSegments(pathname);
  if (!decoded.ok || decoded.directoryForm || decoded.segments.join('/') !== ENDPOINTS_SEGMENTS.join('/')) return false;
  const usersFile = await resolveInsideRoot(options.realRoot, decoded.segments, options);
  if (usersFile.ok) return false;
  sendGenerated(res, 'application/json; charset=utf-8', JSON.stringify({ endpoints: wsPaths.map((path) => ({ path })) }) + '\n');
  return true;
}
