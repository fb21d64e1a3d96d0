/** The status bar item: state and port at a glance; a click offers the actions that fit the state. */
import * as vscode from 'vscode';
import type { Controller } from './controller';

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

  /** Visible for tests and screen readers alike: what the item says now. */
  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const running = this.controller.running;
    this.item.backgroundColor = undefined;
    if (this.controller.isBusy) {
      this.item.text = '$(loading~spin) Echo Preview';
      this.item.tooltip = 'Echo Preview is starting or stopping…';
    } else if (running.length === 1) {
      const [entry] = running;
      this.item.text = `$(radio-tower) Echo :${entry.server.port}`;
      this.item.tooltip = new vscode.MarkdownString(
        `**Echo Preview** serving \`${entry.folder.name}\`\n\n${entry.externalUrl}\n\nWebSocket echo: \`${entry.server.wsPath}\`\n\nClick for actions.`,
      );
    } else if (running.length > 1) {
      this.item.text = `$(radio-tower) Echo ×${running.length}`;
      this.item.tooltip = running.map((e) => `${e.folder.name}: ${e.externalUrl}`).join('\n');
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

/** The click on the status bar item: actions for the state the server is in. */
export async function showQuickActions(controller: Controller): Promise<void> {
  if (controller.running.length === 0) {
    await vscode.commands.executeCommand('echoPreview.start');
    return;
  }
  const actions: Array<vscode.QuickPickItem & { command: string }> = [
    { label: '$(comment-discussion) Open Message Panel', command: 'echoPreview.openPanel' },
    { label: '$(globe) Open in Browser', command: 'echoPreview.openInBrowser' },
    { label: '$(copy) Copy URL', command: 'echoPreview.copyUrl' },
    { label: '$(debug-restart) Restart Server', command: 'echoPreview.restart' },
    { label: '$(debug-stop) Stop Server', command: 'echoPreview.stop' },
    { label: '$(output) Show Log', command: 'echoPreview.showLog' },
  ];
  const picked = await vscode.window.showQuickPick(actions, { title: 'Echo Preview', placeHolder: controller.running.map((e) => e.externalUrl).join('  ') });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
