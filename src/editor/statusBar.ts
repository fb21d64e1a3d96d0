/** The status bar item: state and port at a glance; a click offers the actions that fit the state. */
import * as vscode from 'vscode';
import type { Controller, ServerEntry } from './controller';

export const QUICK_ACTIONS_COMMAND = 'echoPreview.quickActions';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('echoPreview.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly controller: Controller) {
    this.item.name = 'Echo Preview';
    this.item.command = QUICK_ACTIONS_COMMAND;
    this.subscription = controller.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  /** What the item says now (its text, with codicons as `$(name)`). */
  get text(): string {
    return this.item.text;
  }

  /** What its tooltip says now (Markdown source when it is Markdown). */
  get tooltip(): string {
    const tooltip = this.item.tooltip;
    return typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? '');
  }

  private render(): void {
    const running = this.controller.entries;
    this.item.backgroundColor = undefined;
    if (this.controller.isBusy) {
      this.item.text = '$(loading~spin) Echo Preview';
      this.item.tooltip = 'Echo Preview is starting or stopping…';
    } else if (running.length === 1) {
      const [entry] = running;
      const clients = entry.server.clientCount;
      this.item.text = `$(radio-tower) Echo :${entry.server.port}`;
      const tooltip = new vscode.MarkdownString(`**Echo Preview** serving \`${entry.folder.name}\` on port ${entry.server.port}\n\n`, true);
      // Paths are safe in code spans: an endpoint path holds no backtick (core/ws/paths.ts).
      const endpoints = entry.server.config.endpoints.map((e) => `\`${e.path}\` (${e.mode})`).join(', ');
      tooltip.appendMarkdown(`WebSocket: ${endpoints}; ${clients} ${clients === 1 ? 'client' : 'clients'}\n\n`);
      const problem = entry.server.config.problem;
      if (problem) tooltip.appendMarkdown(`$(warning) Config edit refused${problem.line === undefined ? '' : ` (line ${problem.line})`}: `).appendText(problem.message).appendMarkdown('. The last good config applies.\n\n');
      const reload = entry.server.liveReload;
      if (reload?.problem !== undefined) tooltip.appendMarkdown('Live reload: limited: ').appendText(reload.problem).appendMarkdown('\n\n');
      else tooltip.appendMarkdown(`Live reload: ${reload === undefined ? 'off' : 'on'}\n\n`);
      this.item.tooltip = tooltip.appendMarkdown('Click for actions.');
    } else if (running.length > 1) {
      this.item.text = `$(radio-tower) Echo ×${running.length}`;
      this.item.tooltip = running.map((e) => `${e.folder.name}: port ${e.server.port}, ${endpointList(e)}`).join('\n');
    } else if (this.controller.lastError) {
      this.item.text = '$(error) Echo Preview';
      this.item.tooltip = `Echo Preview could not start: ${this.controller.lastError}\nClick for actions.`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else {
      this.item.text = '$(circle-slash) Echo Preview';
      this.item.tooltip = 'Echo Preview is stopped. Click to start.';
    }
    this.item.accessibilityInformation = { label: this.item.text.replace(/\$\([^)]*\)\s*/g, '') || 'Echo Preview', role: 'button' };
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** Each endpoint of the server with its mode: `/websocket (echo), /chat (broadcast)`. */
function endpointList(entry: ServerEntry): string {
  return entry.server.config.endpoints.map((e) => `${e.path} (${e.mode})`).join(', ');
}

/** The click on the status bar item: actions for the state the server is in. */
export async function showQuickActions(controller: Controller): Promise<void> {
  if (controller.entries.length === 0) {
    await vscode.commands.executeCommand('echoPreview.start');
    return;
  }
  const actions: Array<vscode.QuickPickItem & { command: string }> = [
    { label: '$(comment-discussion) Open Inspector', command: 'echoPreview.openPanel' },
    { label: '$(globe) Open in Browser', command: 'echoPreview.openInBrowser' },
    { label: '$(copy) Copy URL', command: 'echoPreview.copyUrl' },
    { label: '$(debug-restart) Restart Server', command: 'echoPreview.restart' },
    { label: '$(debug-stop) Stop Server', command: 'echoPreview.stop' },
    { label: '$(output) Show Log', command: 'echoPreview.showLog' },
  ];
  const placeHolder = controller.entries.map((e) => `${e.folder.name} :${e.server.port}`).join('  ');
  const picked = await vscode.window.showQuickPick(actions, { title: 'Echo Preview', placeHolder });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
