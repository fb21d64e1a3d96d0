/**
 * The inspector's data, without the DOM: clients, the timeline (frames and connection events
 * merged by time), echo round trips, and the filtered view the list shows. Batches from the
 * host are applied here; the view only reads.
 */
import type { CaptureBatchDTO, CaptureSnapshotDTO, CaptureStatusDTO, ClientDTO, FrameDTO } from '../../shared/protocol';

/** A connection event shown inline in the timeline. */
export interface ClientEvent {
  event: 'open' | 'closed';
  client: number;
  time: number;
  code?: number;
  reason?: string;
  /** For a handshake that was refused (it never opened): the HTTP status. */
  refused?: number;
}

export type Row = FrameDTO | ClientEvent;

export function isFrame(row: Row): row is FrameDTO {
  return 'seq' in row;
}

/** What the kind filter offers: control is ping, pong and close; events are open and closed. */
export type KindGroup = 'text' | 'binary' | 'control' | 'events';
export const KIND_GROUPS: readonly KindGroup[] = ['text', 'binary', 'control', 'events'];

export interface Filters {
  /** Clients to show; empty shows every client. */
  clients: ReadonlySet<number>;
  direction: 'all' | 'in' | 'out';
  kinds: ReadonlySet<KindGroup>;
  /** Looked for in text payloads, close reasons and event reasons. */
  text: string;
  regex: boolean;
}

export const NO_FILTERS: Filters = { clients: new Set(), direction: 'all', kinds: new Set(KIND_GROUPS), text: '', regex: false };

/** A round trip: the in frame an out frame echoes (or the out frame that echoed an in frame). */
export interface RoundTrip {
  peer: number;
  ms: number;
}

/**
 * The most rows the UI holds. The capture's default budget holds about 150,000 small frames; past
 * this the oldest rows are let go (and counted), so the page's memory stays bounded too.
 */
export const MAX_ROWS = 250_000;
/** Unanswered in frames remembered per client while waiting for their echo. */
const MAX_PENDING = 64;

/** The text a filter's search looks in, or undefined for rows without text. */
function searchableText(row: Row): string | undefined {
  if (!isFrame(row)) return row.reason;
  if (row.kind === 'text') return row.data;
  if (row.kind === 'close') return `${row.code ?? ''} ${row.reason ?? ''}`;
  return undefined;
}

function groupOf(row: Row): KindGroup {
  if (!isFrame(row)) return 'events';
  return row.kind === 'text' || row.kind === 'binary' ? row.kind : 'control';
}

/** A compiled filter; `error` when the regex does not parse (nothing is then filtered by text). */
export function compileFilters(filters: Filters): { test(row: Row): boolean; error?: string } {
  let matchText: ((text: string) => boolean) | undefined;
  let error: string | undefined;
  if (filters.text !== '') {
    if (filters.regex) {
      try {
        const pattern = new RegExp(filters.text, 'u');
        matchText = (text) => pattern.test(text);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    } else {
      const needle = filters.text.toLowerCase();
      matchText = (text) => text.toLowerCase().includes(needle);
    }
  }
  const { clients, direction, kinds } = filters;
  const allKinds = KIND_GROUPS.every((k) => kinds.has(k));
  return {
    error,
    test(row: Row): boolean {
      if (clients.size > 0 && !clients.has(row.client)) return false;
      if (!allKinds && !kinds.has(groupOf(row))) return false;
      if (direction !== 'all' && isFrame(row) && row.dir !== direction) return false;
      if (matchText) {
        const text = searchableText(row);
        if (text === undefined || !matchText(text)) return false;
      }
      return true;
    },
  };
}

export class InspectorModel {
  readonly clients = new Map<number, ClientDTO>();
  /** Every row, oldest first. */
  rows: Row[] = [];
  /** Indices into `rows` of the rows the filters let through, in order. */
  view: number[] = [];
  status: CaptureStatusDTO | undefined;
  /** Frames the capture dropped before this UI could take them, and rows this UI let go. */
  missedFrames = 0;
  releasedRows = 0;
  /** Clients whose connection events are in `rows`. */
  private readonly opened = new Set<number>();
  private readonly closed = new Set<number>();
  private readonly roundTrips = new Map<number, RoundTrip>();
  private readonly pending = new Map<number, FrameDTO[]>();
  private lastSeq = 0;
  private filter = compileFilters(NO_FILTERS);
  /** Connection events before this time are not shown (the person cleared the timeline after them). */
  private hideEventsBefore: number;

  constructor(hideEventsBefore = 0) {
    this.hideEventsBefore = hideEventsBefore;
  }

  get filterError(): string | undefined {
    return this.filter.error;
  }

  setFilters(filters: Filters): void {
    this.filter = compileFilters(filters);
    this.rebuildView();
  }

  roundTrip(seq: number): RoundTrip | undefined {
    return this.roundTrips.get(seq);
  }

  /** Forgets everything (a clear, or a new server); events before `hideEventsBefore` stay hidden. */
  reset(hideEventsBefore = this.hideEventsBefore): void {
    this.clients.clear();
    this.rows = [];
    this.view = [];
    this.opened.clear();
    this.closed.clear();
    this.roundTrips.clear();
    this.pending.clear();
    this.missedFrames = 0;
    this.releasedRows = 0;
    this.lastSeq = 0;
    this.hideEventsBefore = hideEventsBefore;
  }

  applySnapshot(snapshot: CaptureSnapshotDTO): void {
    this.reset();
    this.append(snapshot.clients, snapshot.frames);
    this.status = snapshot.status;
  }

  /** Applies one batch; returns true when the rows were replaced rather than appended to. */
  applyBatch(batch: CaptureBatchDTO): boolean {
    if (batch.reset) this.reset();
    this.missedFrames += batch.missedFrames;
    const replaced = this.append(batch.clients, batch.frames) || batch.reset;
    this.status = batch.status;
    return replaced;
  }

  /** Adds clients (new or changed) and frames; returns true when rows were inserted before the end. */
  private append(clients: readonly ClientDTO[], frames: readonly FrameDTO[]): boolean {
    const added: Row[] = [];
    for (const client of clients) {
      this.clients.set(client.id, client);
      if (!this.opened.has(client.id)) {
        this.opened.add(client.id);
        // A refused handshake never opened: its one event is the refusal.
        if (client.refused === undefined && client.connectedAt >= this.hideEventsBefore) added.push({ event: 'open', client: client.id, time: client.connectedAt });
      }
      if (client.state === 'closed' && !this.closed.has(client.id)) {
        this.closed.add(client.id);
        const time = client.closedAt ?? client.connectedAt;
        if (time >= this.hideEventsBefore) added.push({ event: 'closed', client: client.id, time, code: client.closeCode, reason: client.closeReason, refused: client.refused });
      }
    }
    for (const frame of frames) {
      if (frame.seq <= this.lastSeq) continue; // already held
      this.lastSeq = frame.seq;
      this.matchEcho(frame);
      added.push(frame);
    }
    if (added.length === 0) return false;
    // Stable sort by time; frames keep their seq order (their times never go back).
    added.sort((a, b) => a.time - b.time);
    let inserted = false;
    for (const row of added) {
      const last = this.rows[this.rows.length - 1];
      if (last === undefined || last.time <= row.time) {
        this.rows.push(row);
        if (!inserted && this.filter.test(row)) this.view.push(this.rows.length - 1);
      } else {
        this.rows.splice(this.insertionPoint(row.time), 0, row);
        inserted = true;
      }
    }
    if (this.rows.length > MAX_ROWS) {
      const excess = this.rows.length - MAX_ROWS + Math.floor(MAX_ROWS / 10);
      for (const row of this.rows.splice(0, excess)) if (isFrame(row)) this.roundTrips.delete(row.seq);
      this.releasedRows += excess;
      inserted = true;
    }
    if (inserted) this.rebuildView();
    return inserted;
  }

  /** The first index whose row is later than `time`. */
  private insertionPoint(time: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rows[mid].time <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * An out frame echoes the client's oldest unanswered in frame with the same kind, size and
   * preview: what an echo sends back next. In frames before the matched one stay unanswered.
   */
  private matchEcho(frame: FrameDTO): void {
    if (frame.kind !== 'text' && frame.kind !== 'binary') return;
    let pending = this.pending.get(frame.client);
    if (frame.dir === 'in') {
      if (!pending) this.pending.set(frame.client, (pending = []));
      pending.push(frame);
      if (pending.length > MAX_PENDING) pending.shift();
      return;
    }
    if (!pending) return;
    const index = pending.findIndex((p) => p.kind === frame.kind && p.size === frame.size && p.data === frame.data);
    if (index === -1) return;
    const request = pending[index];
    pending.splice(0, index + 1);
    const ms = frame.time - request.time;
    this.roundTrips.set(frame.seq, { peer: request.seq, ms });
    this.roundTrips.set(request.seq, { peer: frame.seq, ms });
  }

  private rebuildView(): void {
    const view: number[] = [];
    const rows = this.rows;
    for (let i = 0; i < rows.length; i++) if (this.filter.test(rows[i])) view.push(i);
    this.view = view;
  }
}
