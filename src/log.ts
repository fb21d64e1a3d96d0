/** The "Echo Preview" log: server events at sensible levels, shown with "Echo Preview: Show Log". */
import * as vscode from 'vscode';
import type { ServerEvent } from './core/events';
import { formatEvent } from './core/format';

export class Log implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Echo Preview', { log: true });

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string): void {
    this.channel.error(message);
  }

  /** Writes one server event, prefixed with the folder it belongs to. */
  event(folderName: string, event: ServerEvent): void {
    const line = `[${folderName}] ${formatEvent(event)}`;
    switch (event.type) {
      case 'frame':
        // Every message would flood the log at info; they are there at debug and trace.
        if (this.channel.logLevel <= vscode.LogLevel.Debug) this.channel.debug(line);
        return;
      case 'request':
        if (event.status >= 400) this.channel.warn(line);
        else this.channel.info(line);
        return;
      case 'refused':
        this.channel.warn(line);
        return;
      case 'error':
        this.channel.error(line);
        return;
      default:
        this.channel.info(line);
    }
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
