/** The first check: the Host allowlist (against DNS rebinding), then the cross-site rule (Sec-Fetch). */
import type { ServerEvents } from '../../events/events';
import type { Guard } from '../../guard';
import type { Check } from '../pipeline';
import { sendError } from '../respond';
import { authorityOf, remoteOf } from '../target';

export function guardRequest(guard: Guard, events: ServerEvents): Check {
  return ({ req, res, target }) => {
    const hostVerdict = guard.checkHost(authorityOf(req, target), req.rawHeaders);
    if (!hostVerdict.ok) {
      if (events.active) events.emit({ type: 'refused', what: 'host', detail: hostVerdict.reason, remote: remoteOf(req) });
      sendError(res, hostVerdict.status, hostVerdict.reason);
      return true;
    }
    const siteVerdict = guard.checkFetchSite(req.headers);
    if (!siteVerdict.ok) {
      // Reported as an origin refusal: what is refused is the site of the page that asked.
      if (events.active) events.emit({ type: 'refused', what: 'cross-site', detail: siteVerdict.reason, remote: remoteOf(req) });
      sendError(res, siteVerdict.status, siteVerdict.reason);
      return true;
    }
    return false;
  };
}
