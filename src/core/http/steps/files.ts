/** The last two routes: what the server itself answers under /__echo-preview/ (builtin.ts), then the folder's files (static.ts). */
import { serveBuiltin, type BuiltinContext } from '../builtin';
import type { Route } from '../pipeline';
import { serveStatic, type StaticOptions } from '../static';

/** A reserved path, unless the folder has a file there. */
export function builtinRoutes(context: BuiltinContext): Route {
  return ({ res, target }) => serveBuiltin(res, target.pathname, context);
}

/** The folder: every request that reaches this step is answered here. */
export function staticFiles(options: StaticOptions): Route {
  return async ({ req, res, target }) => {
    await serveStatic(req, res, target.pathname, target.search, options);
    return true;
  };
}
