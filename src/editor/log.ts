/**
 * The "Echo Preview" log: server events at sensible levels, shown with "Echo Preview: Show Log".
 * Once disposed it drops every write: servers still closing during shutdown may report events
 * after VS Code has disposed the extension's subscriptions, and a closed channel throws.
 */
import * as vscode from 'vscode';
import type { ServerEvent } from '../core/events/events';
import { EventSummary } from '../core/events/summary';

type Level = 'debug' | 'info' | 'warn' | 'error';

export class Log implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('Echo Preview', { log: true });
  private disposed = false;
  /** One per folder, so each folder's lines and counts stay its own. */
  private readonly summaries = new Map<string, EventSummary>();

  info(message: string): void {
    this.write('info', message);
  }

  warn(message: string): void {
    this.write('warn', message);
  }

  error(message: string): void {
    this.write('error', message);
  }

  /**
   * Writes one server event, prefixed with the folder it belongs to. Like the CLI, each event is
   * its own line at human rates, and above them the rest is counted and summed up once a second
   * (core/summary), so heavy traffic costs a few additions per event, not a line each.
   */
  event(folderName: string, event: ServerEvent): void {
    if (this.disposed) return;
    // Every message would flood the log at info; they are there at debug and trace.
    if (event.type === 'frame' && this.channel.logLevel > vscode.LogLevel.Debug) return;
    let summary = this.summaries.get(folderName);
    if (summary === undefined) {
      summary = new EventSummary((line, shown) => this.write(shown === undefined ? 'info' : levelOf(shown), `[${folderName}] ${line}`));
      this.summaries.set(folderName, summary);
    }
    summary.add(event);
  }

  show(): void {
    if (!this.disposed) this.channel.show(true);
  }

  dispose(): void {
    for (const summary of this.summaries.values()) summary.flush();
    this.summaries.clear();
    this.disposed = true;
    this.channel.dispose();
  }

  private write(level: Level, line: string): void {
    if (!this.disposed) this.channel[level](line);
  }
}

function levelOf(event: ServerEvent): Level {
  switch (event.type) {
    case 'frame':
      return 'debug';
    case 'request':
      return event.status >= 400 ? 'warn' : 'info';
    case 'refused':
      return 'warn';
    case 'error':
      return 'error';
    case 'config':
      return event.state.problem ? 'warn' : 'info';
    default:
      return 'info';
  }
}
