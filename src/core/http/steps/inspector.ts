/** On the inspector's own port only the inspector answers (inspector/port.ts): its page and files, else 404. */
import type { InspectorPort } from '../../inspector/port';
import type { Route } from '../pipeline';

export function inspectorPage(port: InspectorPort | undefined): Route {
  if (port === undefined) return () => false;
  return ({ req, res, target, authority }) => port.has(req) && port.serve(res, target.pathname, authority).then(() => true);
}
