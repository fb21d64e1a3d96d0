/** The checks after the guard: only GET and HEAD are served (OPTIONS says so), and only on a path. */
import type { Check } from '../pipeline';
import { ALLOWED_METHODS as ALLOW, NOSNIFF, sendError } from '../respond';

/** OPTIONS answers with `Allow`; any method but GET and HEAD is 405. */
export const allowedMethods: Check = ({ req, res }) => {
  const method = req.method ?? '';
  if (method === 'OPTIONS') {
    res.writeHead(204, { 'X-Content-Type-Options': NOSNIFF, Allow: ALLOW });
    res.end();
    return true;
  }
  if (method === 'GET' || method === 'HEAD') return false;
  sendError(res, 405, `Method ${method} is not allowed here.`, { Allow: ALLOW });
  return true;
};

/** A target that is no path (`*`, an authority) is 400; every route after this has a path. */
export const pathTarget: Check = ({ res, target }) => {
  if (target !== undefined) return false;
  sendError(res, 400, 'The request target is not a path.');
  return true;
};
