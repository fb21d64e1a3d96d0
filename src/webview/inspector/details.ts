/**
 * The details of one frame or client: JSON as formatted, foldable text; binary as hex + ASCII;
 * the full size when the preview is cut; and what can be done with it (copy, resend, edit,
 * ping, close).
 */
import { nestsDeeperThan, TOO_DEEP } from '../../shared/boundedJson';
import type { ClientDTO, FrameDTO } from '../../shared/protocol';
import { h } from '../dom';
import { base64ToBytes, formatDuration, formatSize, formatTime, hexDump } from './format';
import type { RoundTrip } from './model';

/** Larger JSON is shown as formatted text only: a tree of that many nodes would cost too much DOM. */
const MAX_TREE_NODES = 3000;

export interface FrameActions {
  copy(text: string): void;
  resend(frame: FrameDTO): void;
  edit(frame: FrameDTO): void;
}

export interface ClientActions {
  ping(client: ClientDTO): void;
  close(client: ClientDTO, code: number, reason: string): void;
  filterTo(client: ClientDTO): void;
}

function field(label: string, value: string): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function describeDirection(dir: FrameDTO['dir']): string {
  return dir === 'in' ? 'in (the client sent it)' : 'out (the server sent it)';
}

export function frameDetails(frame: FrameDTO, clientLabel: string, roundTrip: RoundTrip | undefined, actions: FrameActions): HTMLElement {
  const facts: HTMLElement[] = [
    ...field('Client', clientLabel),
    ...field('Direction', describeDirection(frame.dir)),
    ...field('Kind', frame.kind),
    ...field('Time', `${formatTime(frame.time)} (${new Date(frame.time).toISOString()})`),
    ...field('Size', `${formatSize(frame.size)} (${frame.size.toLocaleString('en-US')} bytes)`),
  ];
  if (roundTrip) facts.push(...field(frame.dir === 'out' ? 'Echo of' : 'Echoed by', `frame ${roundTrip.peer}, round trip ${formatDuration(roundTrip.ms)}`));
  if (frame.kind === 'close') facts.push(...field('Close code', String(frame.code ?? '')), ...field('Reason', frame.reason || '(none)'));

  const body = h('div', { class: 'payload' });
  let copyText = frame.data;
  let previewBytes = 0;
  if (frame.kind === 'text') {
    previewBytes = new TextEncoder().encode(frame.data).length;
    const json = frame.truncated ? undefined : parseJson(frame.data);
    if (json === 'too deep') {
      body.append(h('p', { class: 'muted', id: 'details-too-deep' }, `${TOO_DEEP}: shown as text.`), h('pre', { class: 'text-payload' }, frame.data));
    } else if (json !== undefined) {
      body.append(h('p', { class: 'muted' }, 'JSON, formatted. Click a brace to fold it.'), jsonView(json.value));
      copyText = JSON.stringify(json.value, null, 2);
    } else {
      body.append(h('pre', { class: 'text-payload' }, frame.data));
    }
  } else if (frame.kind !== 'close') {
    const bytes = base64ToBytes(frame.data);
    previewBytes = bytes.length;
    copyText = hexDump(bytes);
    body.append(bytes.length ? h('pre', { class: 'hex', 'aria-label': 'Hex and ASCII' }, copyText) : h('p', { class: 'muted' }, 'No payload.'));
  }
  const cut = frame.truncated
    ? h('p', { class: 'notice', role: 'note' }, `Preview: the first ${formatSize(previewBytes)} of ${formatSize(frame.size)}; the rest was not captured.`)
    : undefined;

  const resendable = frame.kind === 'text' || frame.kind === 'binary';
  const resend = h('button', { type: 'button', id: 'details-resend', disabled: !resendable || frame.truncated, onclick: () => actions.resend(frame) },
    frame.dir === 'out' ? 'Resend to this client' : 'Resend from this inspector');
  if (frame.truncated) resend.title = 'Only a preview was captured, so the whole message cannot be sent again.';
  return h('div', {},
    h('dl', { class: 'facts' }, ...facts),
    cut,
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'details-copy', class: 'secondary', onclick: () => actions.copy(copyText) }, frame.kind === 'binary' ? 'Copy hex' : 'Copy'),
      resendable && resend,
      resendable && h('button', { type: 'button', id: 'details-edit', class: 'secondary', onclick: () => actions.edit(frame) }, 'Edit in compose'),
    ),
    body,
  );
}

export function clientDetails(client: ClientDTO, name: string, actions: ClientActions): HTMLElement {
  const facts: HTMLElement[] = [
    ...field('Name', name),
    ...field('State', client.state),
    ...field('Endpoint', client.endpoint),
    ...field('Request target', client.target),
    ...field('Origin', client.origin ?? '(none)'),
    ...field('User agent', client.userAgent ?? '(none)'),
    ...field('Remote address', client.remote || '(unknown)'),
    ...field('Connected', `${formatTime(client.connectedAt)} (${new Date(client.connectedAt).toISOString()})`),
    ...field('Frames in / out', `${client.framesIn} / ${client.framesOut}`),
    ...field('Bytes in / out', `${formatSize(client.bytesIn)} / ${formatSize(client.bytesOut)}`),
  ];
  if (client.protocol) facts.push(...field('Subprotocol', client.protocol));
  if (client.leg === 'upstream') facts.push(...field('Leg', `the proxy's upstream connection for client #${client.peer ?? '?'} (in: from the upstream, out: to it)`));
  if (client.refused !== undefined) {
    facts.push(...field('Refused', `its handshake, with HTTP ${client.refused}: it never opened`), ...field('Reason', client.closeReason || '(none)'));
  } else if (client.state === 'closed') {
    facts.push(...field('Closed', client.closedAt ? formatTime(client.closedAt) : ''), ...field('Close code', String(client.closeCode ?? '')), ...field('Reason', client.closeReason || '(none)'));
  }
  const open = client.state === 'open';
  const code = h('input', { id: 'close-code', type: 'number', min: 1000, max: 4999, value: 1000, class: 'narrow' });
  const reason = h('input', { id: 'close-reason', type: 'text', maxlength: 123, placeholder: 'reason (optional)' });
  return h('div', {},
    h('dl', { class: 'facts' }, ...facts),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => actions.filterTo(client) }, 'Show only this client'),
      h('button', { type: 'button', id: 'client-ping', disabled: !open, onclick: () => actions.ping(client) }, 'Ping'),
    ),
    open &&
      h('form', { class: 'actions', onsubmit: (event: Event) => {
        event.preventDefault();
        actions.close(client, Number(code.value), reason.value);
      } },
      h('label', { for: 'close-code' }, 'Close with code'), code, reason,
      h('button', { type: 'submit', id: 'client-close' }, 'Close connection')),
  );
}

/** The frame's JSON to format, 'too deep' past MAX_JSON_DEPTH (the view and JSON.stringify recurse), or undefined when it is not JSON. */
function parseJson(text: string): { value: unknown } | 'too deep' | undefined {
  const start = text.trimStart()[0];
  if (start !== '{' && start !== '[') return undefined; // a bare number or string is shown as text
  if (nestsDeeperThan(text)) return 'too deep';
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Formatted JSON whose objects and arrays fold (native details/summary: keyboard and screen readers work). */
function jsonView(value: unknown): HTMLElement {
  let budget = MAX_TREE_NODES;
  const build = (item: unknown, depth: number, suffix: string): Node => {
    budget--;
    const pad = '  '.repeat(depth);
    if (item === null || typeof item !== 'object') {
      const type = item === null ? 'null' : typeof item;
      return h('span', {}, h('span', { class: `json-${type}` }, JSON.stringify(item)), suffix);
    }
    const array = Array.isArray(item);
    const entries: Array<[string | undefined, unknown]> = array ? item.map((v) => [undefined, v]) : Object.entries(item);
    const [open, close] = array ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return h('span', {}, open + close + suffix);
    const count = `${entries.length} ${array ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'}`;
    // Indented with spaces, not padding, so copying the text keeps the formatting.
    const lines = entries.map(([key, child], i) =>
      h('div', { class: 'json-line' },
        `${pad}  `,
        key !== undefined && h('span', { class: 'json-key' }, JSON.stringify(key)),
        key !== undefined && ': ',
        build(child, depth + 1, i < entries.length - 1 ? ',' : '')),
    );
    return h('details', { open: depth < 3 },
      h('summary', { 'aria-label': `${array ? 'array' : 'object'}, ${count}` }, open, h('span', { class: 'json-fold' }, ` … ${count} ${close}${suffix}`)),
      h('div', { class: 'json-indent' }, ...lines),
      h('span', {}, pad + close + suffix),
    );
  };
  const tree = build(value, 0, '');
  if (budget < 0) return h('pre', { class: 'json-text' }, JSON.stringify(value, null, 2));
  return h('div', { class: 'json', id: 'details-json' }, tree);
}
