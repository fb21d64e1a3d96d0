/**
 * Server events as lines a person can follow: each event is its own line at human rates, and
 * above them the rest is only counted and summed up once per window ("ws #3 -> 1,234 more
 * messages (2.3 MiB) in the last 1.0 s"). Counting is a few additions; summaries are formatted
 * when the window ends, on a timer that never keeps the process alive.
 */
import type { ServerEvent } from './events';
import { formatCount, formatSize } from '../../shared/text';
import { formatEvent } from './format';

export interface SummaryLimits {
  /** How long one window lasts, in ms. */
  windowMs: number;
  /** Messages shown one by one per client and direction in a window; the rest are counted. */
  messagesPerClient: number;
  /** Messages shown one by one in a window across all clients. */
  messages: number;
  /** Successful requests (status below 400) shown one by one in a window. */
  requests: number;
  /** Failed requests (status 400 and up) shown one by one in a window, apart from the others so a 404 is seen. */
  failedRequests: number;
  /** Other events (connections, closes, refusals, errors) shown one by one in a window. */
  others: number;
  /** Clients whose counted messages get a line each; above this, one line sums up all of them. */
  clientSummaries: number;
}

export const DEFAULT_LIMITS: SummaryLimits = {
  windowMs: 1000,
  messagesPerClient: 10,
  messages: 50,
  requests: 100,
  failedRequests: 100,
  others: 100,
  clientSummaries: 10,
};

/** What a window counted instead of printing. */
class Tally {
  count = 0;
  bytes = 0;
  /** Counts per label (a status code, an event kind), for the summary's breakdown. */
  readonly kinds = new Map<string, number>();

  add(bytes: number, kind?: string): void {
    this.count++;
    this.bytes += bytes;
    if (kind !== undefined) this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
  }
}

/** One client's window, for each direction: how many were shown, and what was only counted. */
class ClientWindow {
  shownIn = 0;
  shownOut = 0;
  readonly countedIn = new Tally();
  readonly countedOut = new Tally();
}

type FrameEvent = Extract<ServerEvent, { type: 'frame' }>;

/** How the summary names what it counted: [one, many]. */
const OTHER_NOUNS: Record<string, readonly [string, string]> = {
  'client-open': ['connection', 'connections'],
  'client-close': ['close', 'closes'],
  refused: ['refusal', 'refusals'],
  error: ['error', 'errors'],
};

export class EventSummary {
  private readonly limits: SummaryLimits;
  private clients = new Map<number, ClientWindow>();
  private messagesShown = 0;
  private requestsShown = 0;
  private failedShown = 0;
  private othersShown = 0;
  private requests = new Tally();
  private others = new Tally();
  private windowStart = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `print` receives finished lines, already safe to print, with the event when the line is that
   * one event's own (undefined for a summary line), so a log can pick its level.
   */
  constructor(
    private readonly print: (line: string, event?: ServerEvent) => void,
    limits: Partial<SummaryLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  add(event: ServerEvent): void {
    if (this.timer === undefined) this.startWindow();
    switch (event.type) {
      case 'frame':
        return this.frame(event);
      case 'request': {
        const failed = event.status >= 400;
        const shown = failed ? ++this.failedShown : ++this.requestsShown;
        if (shown <= (failed ? this.limits.failedRequests : this.limits.requests)) return this.print(formatEvent(event), event);
        return this.requests.add(event.bytes, String(event.status));
      }
      case 'client-close':
        // Its counted messages belong before the line that says it is gone.
        this.summariseClient(event.id, this.clients.get(event.id));
        this.clients.delete(event.id);
        return this.other(event);
      default:
        return this.other(event);
    }
  }

  /** Prints what the current window has counted and starts afresh (e.g. before the process exits). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.summarise();
    this.clients = new Map();
    this.messagesShown = this.requestsShown = this.failedShown = this.othersShown = 0;
    this.requests = new Tally();
    this.others = new Tally();
  }

  private startWindow(): void {
    this.windowStart = performance.now();
    this.timer = setTimeout(() => this.flush(), this.limits.windowMs);
    this.timer.unref();
  }

  private frame(event: FrameEvent): void {
    let client = this.clients.get(event.id);
    if (client === undefined) {
      client = new ClientWindow();
      this.clients.set(event.id, client);
    }
    const incoming = event.direction === 'in';
    const shown = incoming ? client.shownIn : client.shownOut;
    if (shown < this.limits.messagesPerClient && this.messagesShown < this.limits.messages) {
      this.messagesShown++;
      if (incoming) client.shownIn++;
      else client.shownOut++;
      return this.print(formatEvent(event), event);
    }
    (incoming ? client.countedIn : client.countedOut).add(event.size);
  }

  private other(event: ServerEvent): void {
    if (this.othersShown < this.limits.others) {
      this.othersShown++;
      return this.print(formatEvent(event), event);
    }
    this.others.add(0, event.type);
  }

  private summarise(): void {
    const busy = [...this.clients].filter(([, c]) => c.countedIn.count > 0 || c.countedOut.count > 0);
    if (busy.length > this.limits.clientSummaries) {
      const all = new Tally();
      for (const [, c] of busy) {
        all.count += c.countedIn.count + c.countedOut.count;
        all.bytes += c.countedIn.bytes + c.countedOut.bytes;
      }
      this.print(`ws: ${more(all.count, 'message', 'messages')} (${formatSize(all.bytes)}) from ${formatCount(busy.length)} clients ${this.since()}`);
    } else {
      for (const [id, c] of busy) this.summariseClient(id, c);
    }
    if (this.requests.count > 0) {
      const statuses = [...this.requests.kinds].sort(byKey).map(([status, count]) => `${status}: ${formatCount(count)}`);
      this.print(`${more(this.requests.count, 'request', 'requests')} (${formatSize(this.requests.bytes)}) ${this.since()}, status ${statuses.join(', ')}`);
    }
    if (this.others.count > 0) {
      const kinds = [...this.others.kinds].sort(byKey).map(([type, count]) => plural(count, ...(OTHER_NOUNS[type] ?? [type, type])));
      this.print(`${more(this.others.count, 'event', 'events')} ${this.since()}: ${kinds.join(', ')}`);
    }
  }

  private summariseClient(id: number, client: ClientWindow | undefined): void {
    if (client === undefined) return;
    for (const [arrow, tally] of [['->', client.countedIn], ['<-', client.countedOut]] as const) {
      if (tally.count === 0) continue;
      this.print(`ws #${id} ${arrow} ${more(tally.count, 'message', 'messages')} (${formatSize(tally.bytes)}) ${this.since()}`);
      tally.count = tally.bytes = 0;
    }
  }

  private since(): string {
    return `in the last ${((performance.now() - this.windowStart) / 1000).toFixed(1)} s`;
  }
}

function plural(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function more(count: number, one: string, many: string): string {
  return `${formatCount(count)} more ${count === 1 ? one : many}`;
}

function byKey([a]: [string, number], [b]: [string, number]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
