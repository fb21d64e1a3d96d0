/** The one awaitable inbox of the tests: every item that arrives is kept, awaited or not. */
// No runtime imports: the host suites (test/host, run inside the extension host) use it too.
import type { Readable } from 'node:stream';
import type WebSocket from 'ws';

const DEFAULT_TIMEOUT_MS = 10_000;
/** How many of the latest items a failure shows. */
const SHOWN = 10;

/**
 * Items (ws messages, page frames, events, lines) in the order they arrived. `next()` takes them
 * one at a time, whether they came before it was called or while a test awaited something else;
 * `received` keeps them all, and `until()` waits on a condition over them. Waits fail after a
 * timeout, or when the source ends, saying what they waited for and what had arrived.
 */
export class Inbox<T> {
  /** Every item, in order, taken or not. */
  readonly received: T[] = [];
  private readonly queue: T[] = [];
  /** Pending waits, oldest first: each checks whether it can settle now. */
  private readonly waits = new Set<() => void>();
  private endedBecause: string | undefined;

  /** `source` names where the items come from in errors ("the reload channel"). */
  constructor(
    readonly source: string,
    private readonly show: (item: T) => string = showItem,
  ) {}

  push(item: T): void {
    this.received.push(item);
    this.queue.push(item);
    for (const settle of [...this.waits]) settle();
  }

  /** No more items will come: waits that nothing queued can satisfy fail with `reason`. */
  end(reason: string): void {
    if (this.endedBecause !== undefined) return;
    this.endedBecause = reason;
    for (const settle of [...this.waits]) settle();
  }

  /** The oldest item not yet taken. */
  next(timeoutMs?: number): Promise<T>;
  /** The oldest item not yet taken that `wanted` accepts; those it passes over stay queued, in order. */
  next(wanted: (item: T) => boolean, what: string, timeoutMs?: number): Promise<T>;
  next(wantedOrTimeout?: number | ((item: T) => boolean), what = 'the next item', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    if (typeof wantedOrTimeout === 'number' || wantedOrTimeout === undefined) return this.next(() => true, what, wantedOrTimeout ?? timeoutMs);
    const wanted = wantedOrTimeout;
    return this.wait(() => {
      const at = this.queue.findIndex(wanted);
      return at === -1 ? undefined : { value: this.queue.splice(at, 1)[0] };
    }, what, timeoutMs);
  }

  /**
   * The first item to arrive after this call that `wanted` accepts (what came before does not
   * count; nothing is taken): for events such as "the next load after this save".
   */
  arriving(wanted: (item: T) => boolean, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    let seen = this.received.length;
    return this.wait(() => {
      for (; seen < this.received.length; seen++) if (wanted(this.received[seen])) return { value: this.received[seen] };
      return undefined;
    }, what, timeoutMs);
  }

  /** `probe`'s first truthy answer, asked now and after each arrival (it usually reads `received`). */
  until<R>(probe: () => R | undefined | null | false | 0 | '', what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<R> {
    return this.wait(() => {
      const value = probe();
      return value ? { value } : undefined;
    }, what, timeoutMs);
  }

  /** How many items are queued, not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  /** The items not yet taken, oldest first. */
  get queued(): readonly T[] {
    return this.queue;
  }

  get ended(): boolean {
    return this.endedBecause !== undefined;
  }

  private wait<R>(take: () => { value: R } | undefined, what: string, timeoutMs: number): Promise<R> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waits.delete(settle);
      };
      const settle = (): void => {
        let taken: { value: R } | undefined;
        try {
          taken = take();
        } catch (error) {
          done();
          return reject(error as Error);
        }
        if (taken !== undefined) {
          done();
          resolve(taken.value);
        } else if (this.endedBecause !== undefined) {
          done();
          reject(new Error(`${this.source} ended (${this.endedBecause}) while waiting for ${what}; ${this.arrived()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${this.source}; ${this.arrived()}`));
      }, timeoutMs);
      this.waits.add(settle);
      settle();
    });
  }

  /** What arrived, for an error: how many, how many are untaken, and the latest few. */
  private arrived(): string {
    const count = this.received.length;
    if (count === 0) return 'nothing arrived';
    const latest = this.received.slice(-SHOWN).map((item) => this.show(item));
    return `${count} arrived (${this.queue.length} not taken)${count > SHOWN ? `, the last ${SHOWN}` : ''}: ${latest.join(', ')}`;
  }
}

function showItem(item: unknown): string {
  const text = Buffer.isBuffer(item) ? `<${item.length} bytes>` : (JSON.stringify(item) ?? String(item));
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A ws message as the endpoint tests compare it. */
export interface WsMessage {
  text: string;
  binary: boolean;
}

/** The messages of one ws socket, with the socket (to send on it, or close it). */
export class WsInbox<T = WsMessage> extends Inbox<T> {
  constructor(
    readonly ws: WebSocket,
    source: string,
  ) {
    super(source);
  }
}

/**
 * An inbox of every message `ws` gets from now on (call it before any can come), ended by its
 * close. `read` turns each one into the item kept (by default its text and kind).
 */
export function messagesOf(ws: WebSocket, source?: string): WsInbox<WsMessage>;
export function messagesOf<T>(ws: WebSocket, source: string | undefined, read: (data: Buffer, binary: boolean) => T): WsInbox<T>;
export function messagesOf<T>(ws: WebSocket, source = `the WebSocket ${ws.url ?? ''}`.trimEnd(), read?: (data: Buffer, binary: boolean) => T): WsInbox<T | WsMessage> {
  const inbox = new WsInbox<T | WsMessage>(ws, source);
  // A Buffer: ws's default binaryType ('nodebuffer'), which no test changes.
  ws.on('message', (data: Buffer, binary: boolean) => inbox.push(read ? read(data, binary) : { text: data.toString(), binary }));
  ws.on('close', (code: number) => inbox.end(`closed with ${code}`));
  return inbox;
}

/** An inbox of the lines `stream` carries (without their \n); the caller ends it, with a reason that says why (a process's exit code and stderr, say). */
export function linesOf(stream: Readable, source: string): Inbox<string> {
  const inbox = new Inbox<string>(source);
  let partial = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    for (let end = partial.indexOf('\n'); end !== -1; end = partial.indexOf('\n')) {
      inbox.push(partial.slice(0, end));
      partial = partial.slice(end + 1);
    }
  });
  return inbox;
}
