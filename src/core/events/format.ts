/** One concise line per server event, for the CLI and the editor's log, with client text made safe to print. */
import { describeConfig } from '../config/state';
import { escapeControls, formatSize } from '../../shared/text';
import type { ServerEvent } from './events';

/**
 * One line for one event. Paths, headers, close reasons and error messages come from clients,
 * so the whole line goes through escapeControls: no event field can print raw.
 */
export function formatEvent(event: ServerEvent): string {
  return escapeControls(describe(event));
}

function describe(event: ServerEvent): string {
  switch (event.type) {
    case 'request':
      return `${event.method} ${event.path} ${event.status} ${formatSize(event.bytes)} ${event.durationMs.toFixed(1)} ms`;
    case 'client-open':
      return `ws #${event.id} connected from ${event.remote} (origin: ${event.origin ?? 'none'})`;
    case 'client-close':
      return `ws #${event.id} closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`;
    case 'frame':
      return `ws #${event.id} ${event.direction === 'in' ? '->' : '<-'} ${event.kind} ${formatSize(event.size)}`;
    case 'refused':
      return `refused ${event.what} from ${event.remote}: ${event.detail}`;
    case 'error':
      return `error: ${event.message}`;
    case 'config':
      return describeConfig(event.state);
  }
}
