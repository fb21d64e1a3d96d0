/** The config file at start: read, checked and watched, or a StartError saying what is wrong with it. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EndpointSpec } from '../endpoints/types';
import type { ServerEvents } from '../events/events';
import { StartError, type ResolvedOptions } from '../options';
import { ConfigSource } from './source';
import { CONFIG_FILE_NAME, formatProblem } from './state';

/**
 * The config file, read before the port is taken: its endpoints, or the echo at `options.wsPath` when
 * there is none; a broken one is a StartError. Its real path goes into `withheld` (never served).
 */
export async function loadConfig(
  options: ResolvedOptions,
  events: ServerEvents,
  withheld: Set<string>,
  apply: (endpoints: readonly EndpointSpec[]) => void,
): Promise<{ source: ConfigSource; endpoints: readonly EndpointSpec[] }> {
  const file = options.configFile === undefined ? path.join(options.root, CONFIG_FILE_NAME) : path.resolve(options.root, options.configFile);
  const withhold = async (): Promise<void> => {
    withheld.add(file);
    const real = await fs.realpath(file).catch(() => undefined);
    if (real !== undefined) withheld.add(real);
  };
  await withhold();
  const defaults: EndpointSpec[] = [{ path: options.wsPath, config: { mode: 'echo' } }];
  const source = new ConfigSource(file, defaults, { proxyBeyondLoopback: options.proxyBeyondLoopback }, events, (endpoints) => {
    void withhold(); // a file saved by rename may be a new symlink
    apply(endpoints);
  });
  const initial = await source.initial(options.configFile !== undefined);
  if (!initial.ok) throw new StartError(initial.missing ? 'CONFIG_MISSING' : 'CONFIG_INVALID', formatProblem(initial.problem), initial.problem);
  return { source, endpoints: initial.endpoints };
}
