/**
 * Typed events from a running server. Emitting is free when nobody listens: callers check
 * `active` before building an event object, so the echo hot path allocates nothing for logging.
 */

import type { ConfigState } from '../config/state';
import type { Disposable } from '../../shared/disposable';

export type FrameKind = 'text' | 'binary';

export type ServerEvent =
  | {
      type: 'request';
      method: string;
      /** The request target as received (already limited to a sane length). */
      path: string;
      status: number;
      /** Body bytes written (0 for HEAD and 304). */
      bytes: number;
      durationMs: number;
      remote: string;
    }
  | { type: 'client-open'; id: number; origin: string | undefined; remote: string }
  | { type: 'client-close'; id: number; code: number; reason: string }
  | { type: 'frame'; id: number; direction: 'in' | 'out'; size: number; kind: FrameKind }
  | { type: 'refused'; what: 'host' | 'origin' | 'cross-site' | 'path' | 'handshake'; detail: string; remote: string }
  | { type: 'error'; message: string; error?: unknown }
  /** The config file was applied, refused (the last good one stays) or removed (config.ts). */
  | { type: 'config'; state: ConfigState };

export type ServerEventListener = (event: ServerEvent) => void;

export type { Disposable } from '../../shared/disposable';

export class ServerEvents {
  private listeners: ServerEventListener[] = [];

  /** True when at least one listener is attached; check it before building an event. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  on(listener: ServerEventListener): Disposable {
    this.listeners = [...this.listeners, listener];
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  }

  emit(event: ServerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not take the server down or starve the other listeners.
      }
    }
  }
}
