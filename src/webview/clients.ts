/**
 * The clients list: every connection with its state, name, origin and counts; a multi-select
 * listbox (click or Space toggles, arrows move, Enter opens the client's details) that filters
 * the timeline.
 */
import type { ClientDTO } from '../protocol';
import { h } from './dom';
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

  render(clients: ClientDTO[], names: Map<number, string>, ownId: number | undefined): void {
    this.clients = clients;
    this.names = names;
    this.ownId = ownId;
    this.order = clients.map((c) => c.id);
    const open = clients.filter((c) => c.state !== 'closed').length;
    this.count.textContent = `${open} open, ${clients.length - open} closed`;
    this.showAll.disabled = this.selected.size === 0;
    if (this.active >= this.order.length) this.active = this.order.length - 1;
    this.list.replaceChildren(...clients.map((client, i) => {
      const state = client.state === 'closed' ? `closed ${client.closeCode ?? ''}`.trim() : client.state;
      return h('div', {
        role: 'option',
        id: `client-${client.id}`,
        class: `client${i === this.active ? ' active' : ''}${client.id === ownId ? ' own' : ''}`,
        'data-id': client.id,
        'data-state': client.state,
        'aria-selected': String(this.selected.has(client.id)),
      },
        h('div', { class: 'client-line' },
          h('span', { class: `pill state-${client.state}` }, state),
          h('span', { class: 'client-name' }, `#${client.id} ${names.get(client.id) ?? ''}`)),
        h('div', { class: 'client-line muted' },
          h('span', { class: 'client-detail' }, clientDetail(client)),
          h('span', { class: 'client-counts' }, `in ${client.framesIn} · out ${client.framesOut}`)),
      );
    }));
    if (clients.length === 0) this.list.append(h('div', { class: 'muted empty' }, 'No client has connected yet.'));
    this.updateActiveDescendant();
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
