/**
 * A virtualized listbox of fixed-height rows: only the rows in sight (and a few more) exist in
 * the DOM, so 100,000 entries scroll as lightly as 100. Keyboard: arrows, Page Up/Down,
 * Home/End move the active row (aria-activedescendant); Enter opens it. It follows the end
 * while scrolled to the bottom and stops when scrolled up.
 */
import { h } from '../dom';

export interface VirtualListOptions {
  id: string;
  label: string;
  rowHeight: number;
  /** Fills a row element for item `index` (the element is reused for other items). */
  render(row: HTMLElement, index: number): void;
  /** Enter or a double click on the active row. */
  onOpen(index: number): void;
  /** The active row changed (by keys or a click). */
  onActive?(index: number): void;
  /** Following the end started or stopped. */
  onFollow?(following: boolean): void;
}

const OVERSCAN = 8;

export class VirtualList {
  readonly element: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private count = 0;
  private active = -1;
  private following = true;
  private frame = 0;
  /** The scroll position we set ourselves, so our own scroll is not read as the person's. */
  private ownScrollTop = -1;
  /** Where we last put the end in view: a different position since then is the person's scroll. */
  private lastEndTop = -1;

  constructor(private readonly options: VirtualListOptions) {
    this.spacer = h('div', { class: 'vlist-spacer' });
    this.element = h('div', {
      id: options.id,
      class: 'vlist',
      role: 'listbox',
      tabindex: 0,
      'aria-label': options.label,
    }, this.spacer);
    this.element.addEventListener('scroll', () => this.onScroll());
    this.element.addEventListener('keydown', (event) => this.onKey(event));
    this.element.addEventListener('click', (event) => {
      const index = this.indexOf(event.target);
      if (index !== undefined) this.setActive(index, false);
    });
    this.element.addEventListener('dblclick', (event) => {
      const index = this.indexOf(event.target);
      if (index !== undefined) options.onOpen(index);
    });
    // When the list grows or shrinks (details opening, a resized panel), the end or the active row stays in sight.
    new ResizeObserver(() => {
      this.noticeUnreportedScroll();
      if (this.following) this.scrollToEnd();
      else if (this.active >= 0) this.reveal(this.active);
      this.schedule();
    }).observe(this.element);
  }

  /**
   * The number of items changed (or their content): re-renders now, so the rows and whatever the
   * caller shows beside them (the counts) change together; stays at the end if following.
   */
  setCount(count: number, keepActive = true): void {
    this.count = count;
    if (!keepActive || this.active >= count) this.active = count > 0 ? Math.min(this.active, count - 1) : -1;
    this.noticeUnreportedScroll();
    this.spacer.style.height = `${count * this.options.rowHeight}px`;
    if (this.following) this.scrollToEnd();
    this.renderNow();
  }

  /** Jumps to the newest entry and follows from then on. */
  follow(): void {
    this.setFollowing(true);
    this.scrollToEnd();
    this.schedule();
  }

  /** Makes `index` the active row and brings it into view. */
  setActive(index: number, reveal = true): void {
    if (this.count === 0) return;
    this.active = Math.max(0, Math.min(this.count - 1, index));
    if (reveal) this.reveal(this.active);
    this.renderNow();
    this.options.onActive?.(this.active);
  }

  private setFollowing(following: boolean): void {
    if (this.following === following) return;
    this.following = following;
    this.options.onFollow?.(following);
  }

  /**
   * A scroll event comes a frame after the scroll: a person who scrolled away from the end just
   * before new rows arrive must not be pulled back to it, so the position is read here too.
   */
  private noticeUnreportedScroll(): void {
    if (!this.following || this.lastEndTop < 0) return;
    if (!this.isAtEnd() && Math.abs(this.element.scrollTop - this.lastEndTop) > 1) this.setFollowing(false);
  }

  private isAtEnd(): boolean {
    const view = this.element;
    return view.scrollTop + view.clientHeight >= view.scrollHeight - this.options.rowHeight / 2;
  }

  private scrollToEnd(): void {
    const top = Math.max(0, this.count * this.options.rowHeight - this.element.clientHeight);
    this.lastEndTop = top;
    this.ownScrollTop = top;
    this.element.scrollTop = top;
  }

  private reveal(index: number): void {
    const { rowHeight } = this.options;
    const top = index * rowHeight;
    const view = this.element;
    if (top < view.scrollTop) view.scrollTop = top;
    else if (top + rowHeight > view.scrollTop + view.clientHeight) view.scrollTop = top + rowHeight - view.clientHeight;
  }

  private onScroll(): void {
    if (Math.abs(this.element.scrollTop - this.ownScrollTop) > 1) this.setFollowing(this.isAtEnd());
    this.ownScrollTop = -1;
    this.schedule();
  }

  private onKey(event: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.element.clientHeight / this.options.rowHeight) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (event.key in moves) {
      this.setActive((this.active < 0 ? (moves[event.key] > 0 ? -1 : this.count) : this.active) + moves[event.key]);
    } else if (event.key === 'Home') {
      this.setActive(0);
    } else if (event.key === 'End') {
      this.setActive(this.count - 1);
      this.follow();
    } else if (event.key === 'Enter' && this.active >= 0) {
      this.options.onOpen(this.active);
    } else {
      return;
    }
    event.preventDefault();
    if (event.key !== 'End' && event.key !== 'Enter') this.setFollowing(this.active === this.count - 1);
  }

  private indexOf(target: EventTarget | null): number | undefined {
    const row = (target as HTMLElement | null)?.closest<HTMLElement>('.vlist-row');
    const index = row?.dataset.index;
    return index === undefined ? undefined : Number(index);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderNow();
    });
  }

  private renderNow(): void {
    const { rowHeight } = this.options;
    const view = this.element;
    const first = Math.max(0, Math.floor(view.scrollTop / rowHeight) - OVERSCAN);
    const last = Math.min(this.count, Math.ceil((view.scrollTop + view.clientHeight) / rowHeight) + OVERSCAN);
    const needed = Math.max(0, last - first);
    while (this.pool.length < needed) {
      const row = h('div', { class: 'vlist-row', role: 'option' });
      row.style.height = `${rowHeight}px`;
      this.pool.push(row);
      view.append(row);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const row = this.pool[i];
      const index = first + i;
      if (i >= needed) {
        row.hidden = true;
        row.removeAttribute('id');
        continue;
      }
      row.hidden = false;
      row.dataset.index = String(index);
      row.id = `${this.options.id}-row-${index}`;
      row.style.transform = `translateY(${index * rowHeight}px)`;
      row.setAttribute('aria-selected', String(index === this.active));
      row.setAttribute('aria-posinset', String(index + 1));
      row.setAttribute('aria-setsize', String(this.count));
      this.options.render(row, index);
    }
    if (this.active >= first && this.active < last) view.setAttribute('aria-activedescendant', `${this.options.id}-row-${this.active}`);
    else view.removeAttribute('aria-activedescendant');
  }
}
