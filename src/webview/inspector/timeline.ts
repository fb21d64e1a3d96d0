/** One timeline row's cells: time, client, direction and kind, size, a preview and the round trip. */
import type { ClientDTO, FrameDTO } from '../../shared/protocol';
import { base64ToBytes, formatDuration, formatSize, formatTime, hexPreview } from './format';
import { isFrame, type RoundTrip, type Row } from './model';

export const ROW_HEIGHT = 24;
const PREVIEW_CHARS = 160;

/** Control characters shown as visible symbols (⏎ for a newline), so one row stays one line. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.slice(0, PREVIEW_CHARS).replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '⏎' : c === '\t' ? '⇥' : '·'));
}

export function previewOf(frame: FrameDTO): string {
  switch (frame.kind) {
    case 'text':
      return oneLine(frame.data) + (frame.data.length > PREVIEW_CHARS || frame.truncated ? '…' : '');
    case 'close':
      return `${frame.code ?? ''} ${frame.reason ?? ''}`.trim();
    default:
      // 24 bytes are at most 32 base64 characters: decode no more than is shown.
      return frame.data ? hexPreview(base64ToBytes(frame.data.slice(0, 32)), 24) + (frame.size > 24 ? ' …' : '') : '';
  }
}

function cell(row: HTMLElement, index: number, className: string, text: string): void {
  let span = row.children[index] as HTMLElement | undefined;
  if (!span) {
    span = document.createElement('span');
    row.append(span);
  }
  span.className = className;
  span.textContent = text;
}

/** Fills a (reused) row element for `item`. */
export function renderRow(row: HTMLElement, item: Row, client: ClientDTO | undefined, name: string, roundTrip: RoundTrip | undefined): void {
  const who = `#${item.client} ${name}`;
  if (isFrame(item)) {
    row.className = `vlist-row frame dir-${item.dir} kind-${item.kind}`;
    cell(row, 0, 'c-time', formatTime(item.time));
    cell(row, 1, 'c-client', who);
    cell(row, 2, 'c-dir', `${item.dir} ${item.kind}`);
    cell(row, 3, 'c-size', formatSize(item.size));
    cell(row, 4, 'c-data', previewOf(item));
    cell(row, 5, 'c-rtt', roundTrip ? formatDuration(roundTrip.ms) : '');
    row.title = roundTrip ? `${item.dir === 'out' ? 'Echo of' : 'Echoed by'} frame ${roundTrip.peer} after ${formatDuration(roundTrip.ms)}` : '';
  } else {
    row.className = `vlist-row event event-${item.event}`;
    cell(row, 0, 'c-time', formatTime(item.time));
    cell(row, 1, 'c-client', who);
    cell(row, 2, 'c-dir', item.event === 'open' ? 'opened' : item.refused !== undefined ? 'refused' : 'closed');
    const text = item.event === 'open'
      ? `connected to ${client?.target ?? ''} from ${client?.origin ?? 'no origin'}`
      : `${item.refused !== undefined ? `HTTP ${item.refused}` : `code ${item.code ?? '—'}`}${item.reason ? `, ${oneLine(item.reason)}` : ''}`;
    cell(row, 3, 'c-event', text);
    while (row.children.length > 4) row.lastElementChild?.remove();
    row.title = '';
  }
}
