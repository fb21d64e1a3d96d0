/**
 * What script and proxy share to carry out rules: one client's timers (cleared together when it
 * leaves), sending a rendered message to its target after its delay, and rule errors as config
 * problems.
 */
import { render, RuleError, type SendAction, type TemplateContext } from './rules';
import type { EndpointClient, EndpointContext, SectionCheck } from './types';

/** One client's pending timeouts and intervals; `clear` stops them all. */
export class Schedule {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `task` after `ms` (now, when `ms` is 0). */
  after(ms: number, task: () => void): void {
    if (ms <= 0) return task();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, ms);
    this.timers.add(timer);
  }

  /** Runs `tick` every `ms` for as long as it returns true. */
  every(ms: number, tick: () => boolean): void {
    const timer = setInterval(() => {
      if (tick()) return;
      clearInterval(timer);
      this.timers.delete(timer);
    }, ms);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * Renders the action's template and sends it, after its delay, to its target: the client
 * (`sender`), every client of the endpoint (`all`) or every one but it (`others`). Clients
 * that have left by then get nothing. Templates render when the message goes, so `{{now}}` is
 * the time it was sent.
 */
export function deliver(endpoint: EndpointContext, schedule: Schedule, client: EndpointClient, action: SendAction, context: TemplateContext): void {
  schedule.after(action.delayMs, () => {
    const text = render(action.template, context);
    if (action.to === 'sender') client.send(text, false);
    else endpoint.sendAll(text, false, action.to === 'others' ? client : undefined);
  });
}

/** The query string parameters of a request target such as `/api?room=1`. */
export function queryOf(target: string): URLSearchParams {
  const at = target.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : target.slice(at + 1));
}

/** Reports a RuleError as the section's config problem (and returns undefined, as a mode's check does); rethrows anything else. */
export function reportRuleError(error: unknown, check: SectionCheck): undefined {
  if (!(error instanceof RuleError)) throw error;
  check.problem(error.path, error.message, error.target);
  return undefined;
}
