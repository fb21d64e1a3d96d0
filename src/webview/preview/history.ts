/**
 * The preview's own back/forward list. The frame is cross-origin, so its history is out of reach
 * (and the tab's joint history belongs to the editor): the UI records the paths it shows.
 */
export class PreviewHistory {
  private entries: string[];
  private index = 0;

  constructor(first: string) {
    this.entries = [first];
  }

  get current(): string {
    return this.entries[this.index];
  }

  get canGoBack(): boolean {
    return this.index > 0;
  }

  get canGoForward(): boolean {
    return this.index < this.entries.length - 1;
  }

  /** A new page: dropped forward entries, nothing added when it is the page shown. */
  visit(path: string): void {
    if (path === this.current) return;
    this.entries = [...this.entries.slice(0, this.index + 1), path];
    this.index = this.entries.length - 1;
  }

  /** The page shown turned out to be at another address (a redirect): it replaces its entry. */
  replace(path: string): void {
    this.entries[this.index] = path;
  }

  back(): string | undefined {
    if (!this.canGoBack) return undefined;
    return this.entries[--this.index];
  }

  forward(): string | undefined {
    if (!this.canGoForward) return undefined;
    return this.entries[++this.index];
  }
}
