/**
 * The clients list: every connection with its state, name, origin and counts; a multi-select
 * listbox (click or Space toggles, arrows move, Enter opens the client's details) that filters
 * the timeline.
 */
import type { ClientDTO } from '../../shared/protocol';
import { h } from '../dom';
import { clientDetail } from './names';

export interface ClientsHandlers {
  selectionChanged(selected: ReadonlySet<number>): void;
  open(client: ClientDTO): void;
}

export class ClientsView {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly count: HTMLElement;
  private readonly showAll: HTMLButtonElement;
  private selected = new Set<number>();
  private order: number[] = [];
  private active = -1;

  constructor(private readonly handlers: ClientsHandlers) {
    this.count = h('span', { class: 'muted', id: 'client-count' });
    this.list = h('div', { id: 'clients', role: 'listbox', 'aria-multiselectable': 'true', 'aria-labelledby': 'clients-title', tabindex: 0 });
    this.showAll = h('button', { type: 'button', id: 'all-clients', class: 'secondary small', onclick: () => this.setSelection(new Set()) }, 'Show all');
    this.element = h('section', { id: 'clients-pane', class: 'pane' },
      h('div', { class: 'pane-head' }, h('h3', { id: 'clients-title' }, 'Clients '), this.count, this.showAll),
      this.list,
      h('p', { class: 'muted hint' }, 'Click or Space selects clients to show; Enter shows details.'));
    this.list.addEventListener('keydown', (event) => this.onKey(event));
    this.list.addEventListener('click', (event) => {
      const option = (event.target as HTMLElement).closest<HTMLElement>('[role=option]');
      if (!option) return;
      this.active = this.order.indexOf(Number(option.dataset.id));
      this.toggle(Number(option.dataset.id));
    });
    this.list.addEventListener('dblclick', (event) => {
      const option = (event.target as HTMLElement).closest<HTMLElement>('[role=option]');
      if (option) this.openActive(Number(option.dataset.id));
    });
  }

  get selection(): ReadonlySet<number> {
    return this.selected;
  }

  setSelection(selected: Set<number>): void {
    this.selected = selected;
    this.handlers.selectionChanged(this.selected);
  }

  private clients: ClientDTO[] = [];
  private names = new Map<number, string>();
  private ownId: number | undefined;
  /** One row element per listed client, reused across renders. */
  private readonly rows = new Map<number, HTMLElement>();

  render(clients: ClientDTO[], names: Map<number, string>, ownId: number | undefined): void {
    this.clients = clients;
    this.names = names;
    this.ownId = ownId;
    this.order = clients.map((c) => c.id);
    const open = clients.filter((c) => c.state !== 'closed').length;
    this.count.textContent = `${open} open, ${clients.length - open} closed`;
    this.showAll.disabled = this.selected.size === 0;
    if (this.active >= this.order.length) this.active = this.order.length - 1;
    // Rows are kept per client and updated in place: a click that re-renders must not replace
    // the element under the pointer (its double click would land on a detached row).
    const rows = clients.map((client, i) => this.rowFor(client, i === this.active, client.id === ownId, names.get(client.id) ?? ''));
    const listed = new Set(this.order);
    for (const id of this.rows.keys()) if (!listed.has(id)) this.rows.delete(id);
    const current = Array.from(this.list.children);
    if (current.length !== rows.length || rows.some((row, i) => current[i] !== row)) this.list.replaceChildren(...rows);
    if (clients.length === 0) this.list.replaceChildren(h('div', { class: 'muted empty' }, 'No client has connected yet.'));
    this.updateActiveDescendant();
  }

  private rowFor(client: ClientDTO, active: boolean, own: boolean, name: string): HTMLElement {
    let row = this.rows.get(client.id);
    if (!row) {
      row = h('div', { role: 'option', id: `client-${client.id}`, 'data-id': client.id },
        h('div', { class: 'client-line' }, h('span', {}), h('span', { class: 'client-name' })),
        h('div', { class: 'client-line muted' }, h('span', { class: 'client-detail' }), h('span', { class: 'client-counts' })));
      this.rows.set(client.id, row);
    }
    row.className = `client${active ? ' active' : ''}${own ? ' own' : ''}`;
    row.dataset.state = client.state;
    row.setAttribute('aria-selected', String(this.selected.has(client.id)));
    const [pill, label] = row.children[0].children as unknown as HTMLElement[];
    const [detail, counts] = row.children[1].children as unknown as HTMLElement[];
    pill.className = `pill state-${client.state}`;
    pill.textContent = client.refused !== undefined ? `refused ${client.refused}` : client.state === 'closed' ? `closed ${client.closeCode ?? ''}`.trim() : client.state;
    label.textContent = `#${client.id} ${name}`;
    detail.textContent = clientDetail(client);
    counts.textContent = `in ${client.framesIn} · out ${client.framesOut}`;
    return row;
  }

  private toggle(id: number): void {
    const next = new Set(this.selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.setSelection(next);
  }

  private openActive(id: number): void {
    const client = this.clients.find((c) => c.id === id);
    if (client) this.handlers.open(client);
  }

  private onKey(event: KeyboardEvent): void {
    const last = this.order.length - 1;
    if (last < 0) return;
    if (event.key === 'ArrowDown') this.active = Math.min(last, this.active + 1);
    else if (event.key === 'ArrowUp') this.active = Math.max(0, this.active - 1);
    else if (event.key === 'Home') this.active = 0;
    else if (event.key === 'End') this.active = last;
    else if (event.key === ' ' && this.active >= 0) this.toggle(this.order[this.active]);
    else if (event.key === 'Enter' && this.active >= 0) this.openActive(this.order[this.active]);
    else return;
    event.preventDefault();
    if (this.active < 0) this.active = 0;
    this.render(this.clients, this.names, this.ownId);
  }

  private updateActiveDescendant(): void {
    const id = this.order[this.active];
    if (id === undefined) this.list.removeAttribute('aria-activedescendant');
    else {
      this.list.setAttribute('aria-activedescendant', `client-${id}`);
      document.getElementById(`client-${id}`)?.scrollIntoView({ block: 'nearest' });
    }
  }
}
