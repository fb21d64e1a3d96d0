/**
 * The inspector's page: builds the layout, applies what the host sends to the model, and turns
 * clicks and keys into protocol requests. Everything it shows comes from the model.
 */
import { parseBoundedJson } from '../../shared/boundedJson';
import { toHar, toJsonLines } from '../../shared/har';
import type { FrameDTO, HostMessage, InspectorConfig, InspectorRequest, PanelHostMessage, PushTarget } from '../../shared/protocol';
import { ClientsView } from './clients';
import { ComposeView, type ComposeTarget } from './compose';
import { clientDetails, frameDetails } from './details';
import { byId, copyText, h } from '../dom';
import { base64ToBytes, formatSize, payloadOf } from './format';
import type { UiHost, UiState } from './host';
import { InspectorModel, isFrame, KIND_GROUPS, type Filters, type KindGroup, type Row } from './model';
import { clientName, ownMarkerOf } from './names';
import { OwnClient, type OwnState } from './ownClient';
import { renderRow, ROW_HEIGHT } from './timeline';
import { VirtualList } from './virtualList';

const SAVE_STATE_MS = 400;
const KIND_LABELS: Record<KindGroup, string> = { text: 'Text', binary: 'Binary', control: 'Control', events: 'Events' };

export class InspectorApp {
  private readonly model: InspectorModel;
  private readonly own: OwnClient;
  private readonly names = new Map<number, string>();
  private readonly list: VirtualList;
  private readonly clientsView: ClientsView;
  private readonly compose: ComposeView;
  private endpoints: Array<{ path: string; url: string }> = [];
  private ownId: number | undefined;
  private nextRequestId = 1;
  private state: UiState;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** What the details pane shows, if open. */
  private shown: { frame: number } | { client: number } | undefined;
  private renderPending = false;
  private readonly el: Record<string, HTMLElement>;

  constructor(
    private readonly config: InspectorConfig,
    private readonly host: UiHost,
  ) {
    this.state = host.loadState();
    this.model = new InspectorModel(typeof this.state.clearedAt === 'number' ? this.state.clearedAt : 0);
    this.own = new OwnClient((state, detail) => this.showOwnState(state, detail), (reply) => {
      byId('replytxt').textContent = reply.text;
    });
    this.list = new VirtualList({
      id: 'timeline',
      label: 'Timeline: every frame and connection event, oldest first',
      rowHeight: ROW_HEIGHT,
      render: (row, index) => this.renderTimelineRow(row, index),
      onOpen: (index) => this.openRow(index),
      onActive: (index) => {
        if (this.shown) this.openRow(index);
      },
      onFollow: (following) => {
        byId('jump').hidden = following;
      },
    });
    this.clientsView = new ClientsView({
      selectionChanged: () => this.applyFilters(),
      open: (client) => this.showClient(client.id),
    });
    this.compose = new ComposeView({
      send: (encoded, target) => this.send(encoded, target),
      savedChanged: (messages) => host.storeSaved(messages),
    });
    this.el = this.build();
    this.restoreFilters();
    host.onFeedState((state) => this.showFeedState(state));
    host.start((message) => this.onHostMessage(message));
  }

  // ---- Layout ----------------------------------------------------------------------------------

  private build(): Record<string, HTMLElement> {
    const editor = this.host.kind === 'vscode';
    const badge = h('span', { id: 'badge', class: 'pill', role: 'status', 'data-state': 'connecting' }, 'Connecting…');
    const feed = h('span', { id: 'feed', class: 'pill', role: 'status', hidden: editor }, 'Feed: connecting…');
    const pause = h('button', { type: 'button', id: 'pause', class: 'secondary', 'aria-pressed': 'false', onclick: () => this.togglePause() }, 'Pause');
    const header = h('header', { class: 'bar' },
      h('h1', { class: 'title' }, 'Echo Preview inspector'),
      badge, feed,
      h('span', { id: 'target', class: 'muted target' }),
      h('span', { class: 'actions' },
        pause,
        h('button', { type: 'button', id: 'clear', class: 'secondary', onclick: () => this.clear() }, 'Clear'),
        h('button', { type: 'button', id: 'export-har', class: 'secondary', onclick: () => void this.export('har') }, 'Export HAR'),
        h('button', { type: 'button', id: 'export-jsonl', class: 'secondary', onclick: () => void this.export('jsonl') }, 'Export JSON lines'),
        this.host.openInBrowser && h('button', { type: 'button', id: 'open', class: 'secondary', title: 'Open the served page in the browser', onclick: () => this.host.openInBrowser?.() }, 'Open in Browser'),
        this.host.copyUrl && h('button', { type: 'button', id: 'copy', class: 'secondary', title: 'Copy the page URL', onclick: () => this.host.copyUrl?.() }, 'Copy URL'),
      ));
    const msgbox = h('input', { id: 'msgbox', type: 'text', autocomplete: 'off', 'aria-describedby': 'msg-hint' });
    msgbox.value = typeof this.state.draft === 'string' ? this.state.draft.slice(0, 4096) : '';
    msgbox.addEventListener('input', () => this.saveStateSoon());
    const quick = h('form', { id: 'form', class: 'quick', autocomplete: 'off', onsubmit: (event: Event) => {
      event.preventDefault();
      if (msgbox.value && this.own.send(msgbox.value)) msgbox.value = '';
      this.saveStateSoon();
      msgbox.focus();
    } },
      h('label', { for: 'msgbox' }, 'Message:'), msgbox,
      h('button', { type: 'submit', id: 'send', disabled: true }, 'Send'),
      h('span', { id: 'msg-hint', class: 'muted' }, "Enter sends from this inspector's own client"));
    const reply = h('div', { class: 'reply' }, h('span', { class: 'muted' }, 'Latest reply:'), h('h2', { id: 'replytxt', 'aria-live': 'polite', 'aria-label': 'Latest reply' }));

    const text = h('input', { id: 'filter-text', type: 'search', placeholder: 'text or /regex/', 'aria-describedby': 'filter-error' });
    const regex = h('input', { id: 'filter-regex', type: 'checkbox' });
    const direction = h('select', { id: 'filter-dir', 'aria-label': 'Direction' },
      h('option', { value: 'all' }, 'In and out'),
      h('option', { value: 'in' }, 'In: sent by clients'),
      h('option', { value: 'out' }, 'Out: sent by the server'));
    const kinds = KIND_GROUPS.map((kind) => h('label', { class: 'check' }, h('input', { type: 'checkbox', id: `filter-kind-${kind}`, checked: true, 'data-kind': kind }), KIND_LABELS[kind]));
    for (const control of [text, regex, direction, ...kinds.map((k) => k.firstElementChild as HTMLElement)]) {
      control.addEventListener(control === text ? 'input' : 'change', () => this.applyFilters());
    }
    const filters = h('div', { class: 'filters', role: 'group', 'aria-label': 'Filters' },
      h('label', { for: 'filter-text' }, 'Search'), text,
      h('label', { class: 'check' }, regex, 'Regex'),
      direction,
      h('span', { class: 'kinds', role: 'group', 'aria-label': 'Kinds' }, ...kinds),
      h('span', { id: 'filter-error', class: 'error', role: 'alert' }));
    const jump = h('button', { type: 'button', id: 'jump', class: 'small', hidden: true, onclick: () => this.list.follow() }, '↓ Newest (auto-scroll)');
    const timeline = h('section', { id: 'timeline-pane', class: 'pane', 'aria-label': 'Timeline' },
      filters,
      h('div', { class: 'timeline-head', 'aria-hidden': 'true' },
        ...['Time', 'Client', 'Frame', 'Size', 'Data', 'RTT'].map((t, i) => h('span', { class: ['c-time', 'c-client', 'c-dir', 'c-size', 'c-data', 'c-rtt'][i] }, t))),
      this.list.element,
      h('div', { class: 'timeline-foot' }, h('span', { id: 'stats', class: 'muted', 'aria-live': 'off' }), jump));
    const details = h('section', { id: 'details', class: 'pane', hidden: true, 'aria-labelledby': 'details-title', tabindex: -1 },
      h('div', { class: 'pane-head' },
        h('h3', { id: 'details-title' }, 'Details'),
        h('button', { type: 'button', id: 'details-close', class: 'secondary small', title: 'Close (Escape)', onclick: () => this.closeDetails() }, 'Close')),
      h('div', { id: 'details-body' }));
    const toast = h('div', { id: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.replaceChildren(
      h('div', { id: 'app' }, header, quick, reply, h('div', { class: 'main' }, this.clientsView.element, timeline, details), this.compose.element, toast),
    );
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.shown) {
        event.preventDefault();
        this.closeDetails();
      }
    });
    return { badge, feed, pause, msgbox, text, regex, direction, details, toast };
  }

  // ---- From the host ---------------------------------------------------------------------------

  private onHostMessage(message: HostMessage | PanelHostMessage): void {
    switch (message.type) {
      case 'target': {
        this.endpoints = message.endpoints;
        if (message.folderUri !== undefined && message.folderUri !== this.state.folderUri) {
          this.state.folderUri = message.folderUri;
          this.saveStateSoon();
        }
        byId('target').textContent = message.running ? [message.folder, message.pageUrl].filter(Boolean).join(' — ') : '';
        const first = message.running ? message.endpoints[0]?.url : undefined;
        this.own.target(first);
        this.updateTargets();
        return;
      }
      case 'saved':
        this.compose.setSaved(message.messages);
        return;
      case 'snapshot':
        this.model.applySnapshot(message.snapshot);
        this.afterData(true);
        return;
      case 'batch':
        this.afterData(this.model.applyBatch(message.batch));
        return;
      case 'result':
        this.toast(message.ok ? (message.sent !== undefined ? `Sent to ${message.sent} ${message.sent === 1 ? 'client' : 'clients'}.` : 'Done.') : message.error);
        return;
    }
  }

  /** Coalesces re-renders to one per animation frame, however many batches arrive. */
  private afterData(replaced: boolean): void {
    if (replaced) this.list.setCount(this.model.view.length, false);
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this.refreshNames();
      this.list.setCount(this.model.view.length);
      this.renderClients();
      this.renderStats();
      if (this.shown && 'client' in this.shown) this.showClient(this.shown.client);
    });
  }

  private refreshNames(): void {
    this.ownId = undefined;
    for (const client of this.model.clients.values()) {
      this.names.set(client.id, clientName(client, this.own.marker));
      if (client.state !== 'closed' && ownMarkerOf(client.target) === this.own.marker) this.ownId = client.id;
    }
  }

  private renderClients(): void {
    const clients = [...this.model.clients.values()].sort((a, b) => a.id - b.id);
    this.clientsView.render(clients, this.names, this.ownId);
    this.updateTargets();
  }

  private updateTargets(): void {
    const clients = [...this.model.clients.values()].map((client) => ({ client, name: this.names.get(client.id) ?? '' }));
    this.compose.setTargets(this.endpoints.map((e) => e.path), clients, this.ownId);
  }

  private renderStats(): void {
    const status = this.model.status;
    const frames = this.model.rows.length;
    const parts = [`${this.model.view.length.toLocaleString('en-US')} of ${frames.toLocaleString('en-US')} rows shown`];
    if (status) {
      parts.push(`capture ${formatSize(status.usedBytes)} of ${formatSize(status.budgetBytes)}`);
      if (status.droppedFrames) parts.push(`${status.droppedFrames.toLocaleString('en-US')} oldest frames dropped`);
    }
    if (this.model.missedFrames) parts.push(`${this.model.missedFrames.toLocaleString('en-US')} frames missed`);
    if (status?.paused) parts.push('capture paused');
    byId('stats').textContent = parts.join(' · ');
    const pause = this.el.pause;
    pause.textContent = status?.paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(Boolean(status?.paused)));
  }

  private showOwnState(state: OwnState, detail: string): void {
    const badge = this.el.badge;
    badge.dataset.state = state;
    badge.textContent = detail;
    (byId('send') as HTMLButtonElement).disabled = state !== 'open';
  }

  private showFeedState(state: 'connecting' | 'open' | 'closed'): void {
    const feed = this.el.feed;
    feed.dataset.state = state;
    feed.textContent = state === 'open' ? 'Feed: live' : state === 'connecting' ? 'Feed: connecting…' : 'Feed: lost, retrying…';
  }

  // ---- Timeline --------------------------------------------------------------------------------

  private rowAt(index: number): Row | undefined {
    const rowIndex = this.model.view[index];
    return rowIndex === undefined ? undefined : this.model.rows[rowIndex];
  }

  private renderTimelineRow(element: HTMLElement, index: number): void {
    const row = this.rowAt(index);
    if (!row) return;
    const client = this.model.clients.get(row.client);
    renderRow(element, row, client, this.names.get(row.client) ?? '', isFrame(row) ? this.model.roundTrip(row.seq) : undefined);
    element.classList.toggle('own', row.client === this.ownId);
  }

  /** Shows a row's details; focus stays in the list, so the arrows go on and the details follow. */
  private openRow(index: number): void {
    const row = this.rowAt(index);
    if (!row) return;
    if (isFrame(row)) this.showFrame(row);
    else this.showClient(row.client);
  }

  private label(id: number): string {
    return `#${id} ${this.names.get(id) ?? ''}`;
  }

  private showFrame(frame: FrameDTO): void {
    this.shown = { frame: frame.seq };
    byId('details-title').textContent = `Frame ${frame.seq}: ${frame.kind} ${frame.dir}`;
    byId('details-body').replaceChildren(frameDetails(frame, this.label(frame.client), this.model.roundTrip(frame.seq), {
      copy: (text) => void copyText(text).then((ok) => this.toast(ok ? 'Copied.' : 'Could not copy.')),
      resend: (f) => this.resend(f),
      edit: (f) => this.compose.load(f.kind === 'binary' ? 'base64' : looksLikeJson(f.data) ? 'json' : 'text', f.data, f.dir === 'out' ? { client: f.client } : 'own'),
    }));
    this.openDetails();
  }

  private showClient(id: number): void {
    const client = this.model.clients.get(id);
    if (!client) return;
    this.shown = { client: id };
    byId('details-title').textContent = `Client ${this.label(id)}`;
    byId('details-body').replaceChildren(clientDetails(client, this.names.get(id) ?? '', {
      ping: (c) => this.request({ type: 'ping', requestId: this.nextRequestId++, client: c.id }),
      close: (c, code, reason) => this.request({ type: 'close', requestId: this.nextRequestId++, client: c.id, code, reason }),
      filterTo: (c) => this.clientsView.setSelection(new Set([c.id])),
    }));
    this.openDetails();
  }

  private openDetails(): void {
    this.el.details.hidden = false;
    document.body.classList.add('with-details');
  }

  /** Hides the details; focus that was in them goes back to the timeline. */
  private closeDetails(): void {
    const hadFocus = this.el.details.contains(document.activeElement);
    this.shown = undefined;
    this.el.details.hidden = true;
    document.body.classList.remove('with-details');
    if (hadFocus) this.list.element.focus();
  }

  // ---- Filters and state -----------------------------------------------------------------------

  private currentFilters(): Filters {
    const kinds = new Set<KindGroup>(KIND_GROUPS.filter((k) => (byId(`filter-kind-${k}`) as HTMLInputElement).checked));
    return {
      clients: this.clientsView.selection,
      direction: (this.el.direction as HTMLSelectElement).value as Filters['direction'],
      kinds,
      text: (this.el.text as HTMLInputElement).value,
      regex: (this.el.regex as HTMLInputElement).checked,
    };
  }

  private applyFilters(): void {
    this.model.setFilters(this.currentFilters());
    const error = this.model.filterError;
    byId('filter-error').textContent = error ? `Not a regular expression: ${error}` : '';
    this.el.text.setAttribute('aria-invalid', String(Boolean(error)));
    this.list.setCount(this.model.view.length, false);
    this.renderClients();
    this.renderStats();
    this.saveStateSoon();
  }

  private restoreFilters(): void {
    const saved = this.state.filters;
    if (!saved) return;
    if (typeof saved.text === 'string') (this.el.text as HTMLInputElement).value = saved.text;
    (this.el.regex as HTMLInputElement).checked = saved.regex === true;
    if (saved.direction === 'in' || saved.direction === 'out') (this.el.direction as HTMLSelectElement).value = saved.direction;
    if (Array.isArray(saved.kinds)) for (const k of KIND_GROUPS) (byId(`filter-kind-${k}`) as HTMLInputElement).checked = saved.kinds.includes(k);
    this.model.setFilters(this.currentFilters());
  }

  /** Saves the small state (filters, the draft, when cleared) at most every SAVE_STATE_MS. */
  private saveStateSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      const f = this.currentFilters();
      this.state = {
        filters: { direction: f.direction, kinds: [...f.kinds], text: f.text.slice(0, 1000), regex: f.regex },
        draft: (this.el.msgbox as HTMLInputElement).value.slice(0, 4096),
        clearedAt: this.state.clearedAt,
        folderUri: this.state.folderUri,
      };
      this.host.saveState(this.state);
    }, SAVE_STATE_MS);
  }

  // ---- Actions ---------------------------------------------------------------------------------

  private request(request: InspectorRequest): void {
    this.host.request(request);
  }

  private togglePause(): void {
    this.request({ type: this.model.status?.paused ? 'resume' : 'pause' });
  }

  private clear(): void {
    this.state.clearedAt = Date.now();
    this.model.reset(this.state.clearedAt);
    this.afterData(true);
    this.closeDetails();
    this.request({ type: 'clear' });
    this.saveStateSoon();
  }

  private send(encoded: { data: string; binary: boolean; bytes: number }, target: ComposeTarget): void {
    if (target === 'own') {
      this.toast(this.own.send(payloadOf(encoded)) ? `Sent ${formatSize(encoded.bytes)} from this inspector.` : "This inspector's client is not connected.");
      return;
    }
    this.push(target, encoded.data, encoded.binary);
  }

  private push(target: PushTarget, data: string, binary: boolean): void {
    this.request({ type: 'push', requestId: this.nextRequestId++, target, data, binary });
  }

  private resend(frame: FrameDTO): void {
    const binary = frame.kind === 'binary';
    if (frame.dir === 'out') this.push({ client: frame.client }, frame.data, binary);
    else this.send({ data: frame.data, binary, bytes: binary ? base64ToBytes(frame.data).length : frame.size }, 'own');
  }

  private async export(format: 'har' | 'jsonl'): Promise<void> {
    const input = { clients: [...this.model.clients.values()], frames: this.model.rows.filter(isFrame) };
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    const outcome = format === 'har'
      ? await this.host.exportFile(`echo-preview-${stamp}.har`, 'application/json', JSON.stringify(toHar(input, { version: this.config.version ?? 'unknown' }), null, 2))
      : await this.host.exportFile(`echo-preview-${stamp}.jsonl`, 'application/x-ndjson', toJsonLines(input));
    this.toast(outcome);
  }

  private toast(text: string): void {
    const toast = this.el.toast;
    toast.textContent = text;
    toast.classList.add('visible');
    clearTimeout(Number(toast.dataset.timer));
    toast.dataset.timer = String(setTimeout(() => toast.classList.remove('visible'), 4000));
  }
}

function looksLikeJson(text: string): boolean {
  try {
    const value: unknown = parseBoundedJson(text);
    return typeof value === 'object' && value !== null;
  } catch {
    return false;
  }
}

