/**
 * What script and proxy share to carry out rules: one client's timers (cleared together when it
 * leaves, and bounded), sending a rendered message to its target after its delay, and rule
 * errors as config problems.
 */
import { RuleError } from './ruleError';
import type { SendAction } from './rules';
import { render, type TemplateContext } from './templates';
import type { EndpointClient, EndpointContext, SectionCheck } from './types';

/** Most delayed tasks one client may have waiting; beyond it, reading from the client pauses. */
export const MAX_PENDING = 1000;

/**
 * One client's pending timeouts and intervals; `clear` stops them all. With `client`, a client
 * whose messages schedule more than MAX_PENDING delayed tasks is not read from until half of
 * them have run: delays and latency never queue without bound. Every task a timer runs goes
 * through the endpoint's `contain`, as the hub runs an immediate reply: a throw is reported
 * once, naming the endpoint, and never escapes the timer to end the process.
 */
export class Schedule {
  private readonly timers = new Set<NodeJS.Timeout>();
  private delayed = 0;
  private holding = false;

  constructor(
    private readonly endpoint: Pick<EndpointContext, 'contain'>,
    private readonly client?: EndpointClient,
  ) {}

  /** Runs `task` after `ms`; now when `ms` is 0 (inside the caller's containment: a message, a greeting or another task). */
  after(ms: number, task: () => void): void {
    if (ms <= 0) return task();
    this.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.delayed--;
      if (this.holding && this.delayed <= MAX_PENDING / 2) {
        this.holding = false;
        this.client?.resume();
      }
      this.endpoint.contain(task);
    }, ms);
    this.timers.add(timer);
    if (this.client !== undefined && !this.holding && this.delayed > MAX_PENDING) {
      this.holding = true;
      this.client.pause();
    }
  }

  /** Runs `tick` every `ms` for as long as it returns true; a tick that throws is reported once and ends its timer. */
  every(ms: number, tick: () => boolean): void {
    const timer = setInterval(() => {
      let again = false;
      this.endpoint.contain(() => {
        again = tick();
      });
      if (again) return;
      clearInterval(timer);
      this.timers.delete(timer);
    }, ms);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.delayed = 0;
    if (this.holding) {
      this.holding = false;
      this.client?.resume();
    }
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
    const text = render(action.template, context, endpoint.maxMessageSize);
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
