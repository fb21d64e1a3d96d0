/** The reply modes by name: each one's config check and endpoint factory (types.ts). */
import { broadcastMode } from './broadcast';
import { echoMode } from './echo';
import { proxyMode } from './proxy';
import { scriptMode } from './script';
import type { EndpointConfig, EndpointMode, ModeDefinition } from './types';

export type { Endpoint, EndpointClient, EndpointConfig, EndpointContext, EndpointMode, ModeDefinition } from './types';

/** Every mode a config may name. A mode missing here is refused with "not available in this build". */
export const MODES: { readonly [M in EndpointMode]?: ModeDefinition<EndpointConfig & { mode: M }> } = {
  echo: echoMode,
  broadcast: broadcastMode,
  script: scriptMode,
  proxy: proxyMode,
};

export const MODE_NAMES: readonly EndpointMode[] = ['echo', 'broadcast', 'script', 'proxy'];

/** The mode definition for a config section's mode (the type system cannot pair them by itself). */
export function modeOf(mode: EndpointMode): ModeDefinition | undefined {
  return MODES[mode] as ModeDefinition | undefined;
}
