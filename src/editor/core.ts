// Loads the core server (dist/core.js) on first use, so activating the editor does not load it.
import * as path from 'node:path';

export type Core = typeof import('../core/index');

/**
 * Bundled, this module is inside dist/extension.js and the core is dist/core.js beside it; compiled
 * by tsc (out/, as the host tests load the controller) it is out/src/editor/core.js and the core is
 * out/src/core/index.js. A path built at run time: esbuild leaves the require alone.
 */
const CORE_FILE = path.basename(__filename) === 'core.js' ? path.join(__dirname, '..', 'core', 'index.js') : path.join(__dirname, 'core.js');

let core: Core | undefined;

/** The core, required the first time something needs it (starting a server, following a config). */
export function loadCore(): Core {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a load at run time is the point: a static import would bundle the core in
  core ??= require(CORE_FILE) as Core;
  return core;
}
