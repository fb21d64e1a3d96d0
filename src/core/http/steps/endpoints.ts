/** A plain GET on a WebSocket endpoint's path: 426, naming the path, never the file that may live there. */
import type { EndpointHub } from '../../ws/hub';
import type { Route } from '../pipeline';
import { sendError } from '../respond';

/** `hub`: the endpoints, once the start made them (none before). */
export function endpointPaths(hub: () => EndpointHub | undefined): Route {
  return ({ res, target }) => {
    const endpointPath = hub()?.route(target.pathname);
    if (endpointPath === undefined) return false;
    sendError(res, 426, `${endpointPath} is a WebSocket endpoint; connect with a WebSocket client.`, { Upgrade: 'websocket', Connection: 'Upgrade' });
    return true;
  };
}
