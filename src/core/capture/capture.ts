/**
 * Clients and frames for the inspector: a registry of WebSocket clients and a frame log in a
 * bounded ring, fed by the one tap in the socket layer and free when nobody looks.
 *
 * The tap's contract (what ws/tap.ts, the only caller, calls):
 * - `openClient(info)` when a handshake completes, and `closeClient(id, code, reason)` when the
 *   socket has closed: always, inspector or not (one small record per connection, so an
 *   inspector that attaches later still lists every client).
 * - `frame(...)` and `closeFrame(...)` for every frame, only `if (capture.active)`: with no
 *   inspector attached (or capture paused) the echo path costs one boolean check.
 *
 * Subscribers get coalesced batches (one timer per batch window, never per frame). A batch is a
 * window onto the ring, not a copy: each subscriber is only a cursor, so a slow one costs no
 * memory; when it falls behind by more than the ring holds it is told how much it missed.
 */
import type { CaptureStatusDTO, ClientDTO, Direction, FrameKind } from '../../shared/protocol';
import type { Disposable } from '../events/events';
import { CapturedFrame, ENTRY_OVERHEAD_BYTES, FrameRing } from './ring';

export { CapturedFrame } from './ring';

export interface CaptureOptions {
  /**
   * Bytes the frame log may hold: previews plus a measured estimate per frame (192 bytes).
   * Default 32 MiB: about 150,000 small frames (the inspector is built to stay responsive with
   * 100,000) or 7,800 frames with a full 4 KiB preview, a modest share of an editor's memory.
   * At least 4 × (previewBytes + 192).
   */
  budgetBytes?: number;
  /** The first bytes of each payload kept as its preview. Default 4 KiB, enough for a page of JSON. */
  previewBytes?: number;
  /** How long frames are coalesced before a batch goes out. Default 50 ms. */
  batchMs?: number;
  /** Most frames in one batch; the rest follow in the next. Default 2,000. */
  maxBatchFrames?: number;
  /** Most preview bytes in one batch (at least one frame goes). Default 2 MiB. */
  maxBatchBytes?: number;
  /** Closed clients remembered (oldest forgotten first). Default 500; none while nobody looks. */
  maxClosedClients?: number;
}

export const CAPTURE_DEFAULTS = {
  budgetBytes: 32 * 1024 * 1024,
  previewBytes: 4 * 1024,
  batchMs: 50,
  maxBatchFrames: 2000,
  maxBatchBytes: 2 * 1024 * 1024,
  maxClosedClients: 500,
} as const;

/** The smallest budget a capture with these previews takes: room for four full previews. */
export function minBudgetBytes(previewBytes: number = CAPTURE_DEFAULTS.previewBytes): number {
  return 4 * (previewBytes + ENTRY_OVERHEAD_BYTES);
}

/**
 * What the socket layer knows of a client when its handshake completes: the endpoint path, the
 * request target, the Host, Origin and User-Agent headers, the remote address and the subprotocol;
 * for a proxy's upstream leg also `leg` and the `peer` client it carries.
 */
export type ClientInfo = Pick<ClientDTO, 'endpoint' | 'target' | 'host' | 'origin' | 'remote' | 'userAgent' | 'protocol' | 'leg' | 'peer'>;

/**
 * What the inspector may do to clients. The socket layer implements it; frames it sends this way
 * pass the tap like any other, so a push shows in the capture.
 */
export interface ClientControl {
  /** Sends one message to one open client; false when no such client is open. */
  send(id: number, data: string | Buffer, binary: boolean): boolean;
  /** Sends one message to every open client of an endpoint path; returns how many got it. */
  sendToEndpoint(path: string, data: string | Buffer, binary: boolean): number;
  /**
   * Starts the closing handshake with this code and reason; false when no such client is open.
   * Throws a RangeError for a code an application may not send or a reason over 123 bytes.
   */
  close(id: number, code: number, reason: string): boolean;
  /** Pings one open client; false when no such client is open. */
  ping(id: number): boolean;
}

/** What a subscriber gets. Frames are the ring's own (immutable) entries; clients are copies. */
export interface CaptureBatch {
  reset: boolean;
  clients: ClientDTO[];
  frames: CapturedFrame[];
  missedFrames: number;
  missedBytes: number;
  status: CaptureStatusDTO;
}

export interface CaptureSnapshot {
  clients: ClientDTO[];
  frames: CapturedFrame[];
  status: CaptureStatusDTO;
}

/**
 * Called with each batch. Return a promise (for example the transport's drain) and the next batch
 * waits for it: a subscriber is never sent more than it has taken.
 */
export type CaptureListener = (batch: CaptureBatch) => void | PromiseLike<unknown>;

export interface SubscribeOptions {
  /**
   * Start with what the ring holds (default; the first batch is a `reset`), or only with what
   * comes next, for a UI that has just been sent `snapshot()`: then the first batch is no reset
   * (it holds every client, and only frames after the snapshot).
   */
  replay?: boolean;
}

/**
 * The wall clock to the microsecond: epoch ms with a fraction of whole µs, never going back.
 * Whole µs, so the feed can write times as small integers (inspectorHost.ts, FeedFrame).
 */
const TIME_ORIGIN = performance.timeOrigin;
export function captureNow(): number {
  return Math.round((TIME_ORIGIN + performance.now()) * 1000) / 1000;
}

interface ClientEntry {
  readonly dto: ClientDTO;
  /** The change clock when this client last changed. */
  version: number;
}

interface Subscriber {
  readonly listener: CaptureListener;
  /** The next seq it wants, and the message bytes of every frame before it (since the clear). */
  cursor: number;
  cursorSize: number;
  /** The change clock it has seen, and the clear it has seen. */
  seenClock: number;
  epoch: number;
  busy: boolean;
  disposed: boolean;
}

export class Capture {
  private readonly ring: FrameRing;
  private readonly options: Required<CaptureOptions>;
  private readonly clients = new Map<number, ClientEntry>();
  /** Closed client ids, oldest first, for forgetting them in order. */
  private closedOrder: number[] = [];
  private subscribers: Subscriber[] = [];
  private nextClientId = 1;
  /** Bumped by every change other than a new frame: client opened or changed, pause, resume. */
  private clock = 0;
  /** Bumped by every clear. */
  private epoch = 0;
  private paused = false;
  private isActive = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };

  constructor(options: CaptureOptions = {}) {
    this.options = { ...CAPTURE_DEFAULTS, ...options };
    const { budgetBytes, previewBytes } = this.options;
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`capture option ${name} must be a whole number ≥ 0, not ${value}`);
    }
    if (this.options.maxBatchFrames < 1) throw new RangeError('capture option maxBatchFrames must be at least 1');
    if (budgetBytes < minBudgetBytes(previewBytes)) {
      throw new RangeError(`capture budgetBytes (${budgetBytes}) must be at least 4 × (previewBytes + ${ENTRY_OVERHEAD_BYTES}) = ${minBudgetBytes(previewBytes)}`);
    }
    this.ring = new FrameRing(budgetBytes, previewBytes);
  }

  /** True while an inspector is attached and capture is not paused: the tap checks this first. */
  get active(): boolean {
    return this.isActive;
  }

  // ---- The tap -------------------------------------------------------------------------------

  /** Registers a client whose handshake has completed; returns its id, unique for this capture. */
  openClient(info: ClientInfo): number {
    const id = this.nextClientId++;
    const dto: ClientDTO = {
      id,
      endpoint: info.endpoint,
      target: info.target,
      host: info.host,
      origin: info.origin,
      remote: info.remote,
      userAgent: info.userAgent,
      protocol: info.protocol,
      ...(info.leg === undefined ? {} : { leg: info.leg, peer: info.peer }),
      connectedAt: captureNow(),
      state: 'open',
      framesIn: 0,
      framesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
    this.clients.set(id, { dto, version: ++this.clock });
    this.changed();
    return id;
  }

  /**
   * Records one text, binary, ping or pong frame. Call only when `active`. At most previewBytes of
   * `data` are copied (a text preview ends on a whole character); `size` is the payload's full size.
   */
  frame(clientId: number, direction: Direction, kind: Exclude<FrameKind, 'close'>, data: Buffer | undefined, size: number): void {
    if (!this.isActive) return;
    const length = data === undefined ? 0 : previewLength(data, kind === 'text', this.options.previewBytes);
    this.ring.push(clientId, direction, kind, captureNow(), size, data, length);
    this.count(clientId, direction, size);
  }

  /** Records a close frame (either direction) and marks the client as closing. Call only when `active`. */
  closeFrame(clientId: number, direction: Direction, code: number, reason: string): void {
    if (!this.isActive) return;
    // On the wire: no payload for 1005 (no status), else the 2-byte code and the reason's UTF-8.
    const size = code === 1005 ? 0 : 2 + Buffer.byteLength(reason);
    this.ring.push(clientId, direction, 'close', captureNow(), size, undefined, 0, code, reason);
    const entry = this.count(clientId, direction, size);
    if (entry && entry.dto.state === 'open') entry.dto.state = 'closing';
  }

  /** Marks a client closed with the code and reason its socket closed with. */
  closeClient(clientId: number, code: number, reason: string): void {
    const entry = this.clients.get(clientId);
    if (!entry || entry.dto.state === 'closed') return;
    this.markClosed(entry, { closedAt: captureNow(), closeCode: code, closeReason: reason });
  }

  /**
   * Records a handshake an endpoint refused (a proxy whose upstream is down: 502): a client that
   * never opened, closed at once with the HTTP status in `refused` and why in `closeReason`.
   */
  refuseClient(info: ClientInfo, status: number, reason: string): number {
    const id = this.openClient(info);
    const entry = this.clients.get(id) as ClientEntry; // just made
    this.markClosed(entry, { closedAt: entry.dto.connectedAt, refused: status, closeReason: reason });
    return id;
  }

  /** The one way a client becomes closed: its fields, a new version, and its place among the closed (bounded). */
  private markClosed(entry: ClientEntry, fields: Partial<ClientDTO>): void {
    Object.assign(entry.dto, { state: 'closed', ...fields });
    entry.version = ++this.clock;
    this.closedOrder.push(entry.dto.id);
    this.forgetClosed();
    this.changed();
  }

  // ---- The inspector side --------------------------------------------------------------------

  /** Attaches a subscriber; capture runs while at least one is attached. Dispose to detach. */
  subscribe(listener: CaptureListener, options: SubscribeOptions = {}): Disposable {
    const replay = options.replay ?? true;
    const cursor = replay ? this.ring.firstSeq : this.ring.nextSeq;
    const subscriber: Subscriber = {
      listener,
      cursor,
      cursorSize: this.ring.sizeBefore(cursor),
      seenClock: -1,
      epoch: replay ? -1 : this.epoch,
      busy: false,
      disposed: false,
    };
    this.subscribers = [...this.subscribers, subscriber];
    this.updateActive();
    this.schedule(0);
    return {
      dispose: () => {
        subscriber.disposed = true;
        this.subscribers = this.subscribers.filter((s) => s !== subscriber);
        this.updateActive();
        if (this.subscribers.length === 0 && this.timer) {
          clearTimeout(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  /** Every client known and every frame in the ring, for a UI that attaches late or reloads. */
  snapshot(): CaptureSnapshot {
    return {
      clients: [...this.clients.values()].map((entry) => ({ ...entry.dto })),
      frames: this.ring.slice(this.ring.firstSeq),
      status: this.status(),
    };
  }

  status(): CaptureStatusDTO {
    return {
      paused: this.paused,
      budgetBytes: this.ring.budgetBytes,
      usedBytes: this.ring.usedBytes,
      frames: this.ring.length,
      droppedFrames: this.ring.droppedFrames,
      droppedBytes: this.ring.droppedBytes,
      nextSeq: this.ring.nextSeq,
    };
  }

  /** Stops recording frames (clients are still tracked); subscribers stay attached. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.updateActive();
    this.clock++;
    this.changed();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.updateActive();
    this.clock++;
    this.changed();
  }

  /** Drops every frame, forgets closed clients and zeroes the counts; subscribers get a reset batch. */
  clear(): void {
    this.ring.clear();
    for (const id of this.closedOrder) this.clients.delete(id);
    this.closedOrder = [];
    for (const { dto } of this.clients.values()) Object.assign(dto, { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 });
    this.epoch++;
    for (const subscriber of this.subscribers) {
      subscriber.cursor = this.ring.nextSeq;
      subscriber.cursorSize = 0;
    }
    this.changed();
  }

  /** Delivers what is pending to every subscriber that is not still busy with its last batch. */
  flush(): void {
    for (const subscriber of this.subscribers) this.deliver(subscriber);
  }

  /** Detaches everyone and drops the capture (the server is closing). */
  dispose(): void {
    for (const subscriber of this.subscribers) subscriber.disposed = true;
    this.subscribers = [];
    this.updateActive();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.ring.clear();
    this.clients.clear();
    this.closedOrder = [];
  }

  // ---- Internals -----------------------------------------------------------------------------

  private count(clientId: number, direction: Direction, size: number): ClientEntry | undefined {
    const entry = this.clients.get(clientId);
    if (entry) {
      const dto = entry.dto;
      if (direction === 'in') {
        dto.framesIn++;
        dto.bytesIn += size;
      } else {
        dto.framesOut++;
        dto.bytesOut += size;
      }
      entry.version = ++this.clock;
    }
    if (this.timer === undefined) this.schedule(this.options.batchMs);
    return entry;
  }

  private updateActive(): void {
    this.isActive = this.subscribers.length > 0 && !this.paused;
  }

  private changed(): void {
    if (this.timer === undefined && this.subscribers.length > 0) this.schedule(this.options.batchMs);
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined) {
      if (delay > 0) return;
      clearTimeout(this.timer);
    }
    // Unref'd: capture never keeps a process alive on its own.
    this.timer = setTimeout(this.onTimer, delay);
    this.timer.unref();
  }

  /** Closed clients are remembered while someone looks or frames of theirs may still be shown. */
  private forgetClosed(): void {
    const limit = this.subscribers.length > 0 || this.ring.length > 0 ? this.options.maxClosedClients : 0;
    if (this.closedOrder.length <= limit) return;
    const forget = this.closedOrder.splice(0, this.closedOrder.length - limit);
    for (const id of forget) this.clients.delete(id);
  }

  private pending(subscriber: Subscriber): boolean {
    return subscriber.epoch !== this.epoch || subscriber.seenClock < this.clock || subscriber.cursor < this.ring.nextSeq;
  }

  private deliver(subscriber: Subscriber): void {
    while (!subscriber.busy && !subscriber.disposed && this.pending(subscriber)) {
      const batch = this.nextBatch(subscriber);
      let result: void | PromiseLike<unknown>;
      try {
        result = subscriber.listener(batch);
      } catch {
        // A faulty subscriber must not take the server down; it simply misses this batch.
        continue;
      }
      if (result && typeof result.then === 'function') {
        subscriber.busy = true;
        const done = (): void => {
          subscriber.busy = false;
          this.deliver(subscriber);
        };
        result.then(done, done);
      }
    }
  }

  private nextBatch(subscriber: Subscriber): CaptureBatch {
    const reset = subscriber.epoch !== this.epoch;
    if (reset) {
      subscriber.epoch = this.epoch;
      subscriber.seenClock = -1;
    }
    const clients: ClientDTO[] = [];
    for (const entry of this.clients.values()) if (entry.version > subscriber.seenClock) clients.push({ ...entry.dto });
    subscriber.seenClock = this.clock;

    let missedFrames = 0;
    let missedBytes = 0;
    const first = this.ring.firstSeq;
    if (subscriber.cursor < first) {
      const firstSize = this.ring.sizeBefore(first);
      missedFrames = first - subscriber.cursor;
      missedBytes = firstSize - subscriber.cursorSize;
      subscriber.cursor = first;
      subscriber.cursorSize = firstSize;
    }
    const frames = this.ring.slice(subscriber.cursor, this.options.maxBatchFrames, this.options.maxBatchBytes);
    const last = frames[frames.length - 1];
    if (last) {
      subscriber.cursor = last.seq + 1;
      subscriber.cursorSize = last.sizeBefore + last.size;
    }
    return { reset, clients, frames, missedFrames, missedBytes, status: this.status() };
  }
}

/** How many bytes of `data` the preview keeps: at most `limit`, and for text never half a character. */
export function previewLength(data: Buffer, text: boolean, limit: number): number {
  if (data.length <= limit) return data.length;
  let length = limit;
  // data[length] is the first byte left out; if it continues a character, leave that character out too.
  if (text) for (let steps = 0; steps < 3 && length > 0 && (data[length] & 0xc0) === 0x80; steps++) length--;
  return length;
}
