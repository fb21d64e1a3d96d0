/** One concise line per server event, for the CLI and the editor's log. */
import type { ServerEvent } from './events';

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatEvent(event: ServerEvent): string {
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
  }
}
