/**
 * Compose: text, JSON (validated before it is sent) or binary as hex or base64; sent from the
 * UI's own client or pushed by the server to one client or to every client of an endpoint;
 * and the saved messages.
 */
import type { ClientDTO, ComposeMode, PushTarget, SavedMessage } from '../../shared/protocol';
import { MAX_SAVED_MESSAGES } from '../../shared/protocol';
import { h } from '../dom';
import { encodeCompose, formatSize, type Encoded } from './format';

/** Where a composed message goes: `own` is the UI's own socket. */
export type ComposeTarget = 'own' | PushTarget;

export interface ComposeHandlers {
  send(encoded: Extract<Encoded, { ok: true }>, target: ComposeTarget): void;
  savedChanged(messages: SavedMessage[]): void;
}

const MODE_LABELS: Record<ComposeMode, string> = { text: 'Text', json: 'JSON', hex: 'Binary (hex)', base64: 'Binary (base64)' };

function targetValue(target: ComposeTarget): string {
  if (target === 'own') return 'own';
  return 'client' in target ? `client:${target.client}` : `endpoint:${target.endpoint}`;
}

function targetOf(value: string): ComposeTarget {
  if (value.startsWith('client:')) return { client: Number(value.slice(7)) };
  if (value.startsWith('endpoint:')) return { endpoint: value.slice(9) };
  return 'own';
}

export class ComposeView {
  readonly element: HTMLDetailsElement;
  private readonly mode: HTMLSelectElement;
  private readonly target: HTMLSelectElement;
  private readonly body: HTMLTextAreaElement;
  private readonly error: HTMLElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly saveName: HTMLInputElement;
  private readonly savedList: HTMLElement;
  private saved: SavedMessage[] = [];

  constructor(private readonly handlers: ComposeHandlers) {
    this.mode = h('select', { id: 'compose-mode' }, ...(Object.keys(MODE_LABELS) as ComposeMode[]).map((m) => h('option', { value: m }, MODE_LABELS[m])));
    this.target = h('select', { id: 'compose-target' });
    this.body = h('textarea', { id: 'compose-body', rows: 4, spellcheck: 'false', 'aria-describedby': 'compose-error compose-hint' });
    this.error = h('p', { id: 'compose-error', class: 'error', role: 'alert' });
    this.sendButton = h('button', { type: 'submit', id: 'compose-send' }, 'Send');
    this.saveName = h('input', { id: 'save-name', type: 'text', placeholder: 'name', maxlength: 200 });
    this.savedList = h('ul', { id: 'saved', class: 'saved', 'aria-label': 'Saved messages' });
    const form = h('form', { id: 'compose', autocomplete: 'off', onsubmit: (event: Event) => {
      event.preventDefault();
      this.submit();
    } },
      h('div', { class: 'row' },
        h('label', { for: 'compose-mode' }, 'As'), this.mode,
        h('label', { for: 'compose-target' }, 'To'), this.target),
      h('label', { for: 'compose-body', class: 'sr-only' }, 'Message body'),
      this.body,
      h('p', { id: 'compose-hint', class: 'muted' }, 'Ctrl+Enter sends.'),
      this.error,
      h('div', { class: 'row' },
        this.sendButton,
        h('label', { for: 'save-name' }, 'Save as'), this.saveName,
        h('button', { type: 'button', id: 'save', class: 'secondary', onclick: () => this.save() }, 'Save')),
      h('h4', {}, 'Saved messages'),
      this.savedList,
    );
    this.element = h('details', { id: 'compose-pane', class: 'pane' }, h('summary', {}, 'Compose and push'), form);
    this.body.addEventListener('input', () => this.validate());
    this.mode.addEventListener('change', () => this.validate());
    this.body.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.submit();
      }
    });
    this.setTargets([], [], undefined);
    this.renderSaved();
  }

  /** Fills the form with a message and opens it. */
  load(mode: ComposeMode, body: string, target?: ComposeTarget): void {
    this.mode.value = mode;
    this.body.value = body;
    if (target !== undefined) this.target.value = targetValue(target);
    this.element.open = true;
    this.validate();
    this.body.focus();
  }

  /** The choices of where to send: own client, each endpoint, each open client (keeps the choice). */
  setTargets(endpoints: readonly string[], clients: ReadonlyArray<{ client: ClientDTO; name: string }>, ownId: number | undefined): void {
    const current = this.target.value || 'own';
    const options = [h('option', { value: 'own' }, "From this inspector's own client")];
    for (const path of endpoints) options.push(h('option', { value: `endpoint:${path}` }, `Push to every client on ${path}`));
    for (const { client, name } of clients) {
      if (client.state !== 'open' || client.id === ownId) continue;
      options.push(h('option', { value: `client:${client.id}` }, `Push to #${client.id} ${name}`));
    }
    this.target.replaceChildren(...options);
    this.target.value = options.some((o) => o.value === current) ? current : 'own';
  }

  setSaved(messages: SavedMessage[]): void {
    this.saved = messages;
    this.renderSaved();
  }

  private validate(): Encoded {
    const encoded = encodeCompose(this.mode.value as ComposeMode, this.body.value);
    const bad = !encoded.ok && this.body.value !== '';
    this.error.textContent = bad ? (encoded as { error: string }).error : '';
    this.body.setAttribute('aria-invalid', String(bad));
    this.sendButton.disabled = !encoded.ok;
    if (encoded.ok) this.sendButton.textContent = `Send ${formatSize(encoded.bytes)}`;
    return encoded;
  }

  private submit(): void {
    const encoded = this.validate();
    if (!encoded.ok) {
      this.error.textContent = encoded.error;
      return;
    }
    this.handlers.send(encoded, targetOf(this.target.value));
  }

  private save(): void {
    const name = this.saveName.value.trim() || this.body.value.slice(0, 30) || 'message';
    const message: SavedMessage = { name, mode: this.mode.value as ComposeMode, body: this.body.value };
    const rest = this.saved.filter((m) => m.name !== name);
    this.saved = [...rest, message].slice(-MAX_SAVED_MESSAGES);
    this.saveName.value = '';
    this.renderSaved();
    this.handlers.savedChanged(this.saved);
  }

  private renderSaved(): void {
    if (this.saved.length === 0) {
      this.savedList.replaceChildren(h('li', { class: 'muted' }, 'None yet: compose a message and save it.'));
      return;
    }
    this.savedList.replaceChildren(...this.saved.map((message) =>
      h('li', {},
        h('button', { type: 'button', class: 'link', title: `Load into compose (${MODE_LABELS[message.mode]})`, onclick: () => this.load(message.mode, message.body) }, message.name),
        h('span', { class: 'muted' }, ` ${MODE_LABELS[message.mode]} `),
        h('button', { type: 'button', class: 'secondary small', 'aria-label': `Delete saved message ${message.name}`, onclick: () => {
          this.saved = this.saved.filter((m) => m !== message);
          this.renderSaved();
          this.handlers.savedChanged(this.saved);
        } }, 'Delete'),
      )));
  }
}
