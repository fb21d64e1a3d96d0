/**
 * The inspector's feed from a test's side: a ws client that keeps every HostMessage, waits for
 * the ones a test expects and sends requests; and an install of the CLI with a placeholder UI.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { expandFeedMessage, type ClientDTO, type FrameDTO, type HostMessage } from '../../src/shared/protocol';
import { CLI } from './cli';
import { tempDir } from './http';
import { messagesOf, type WsInbox } from './inbox';
import { openClient } from './ws';

/** The inspector URL the ready line ends with, its token, its own port, and the origin of its page. */
export function inspectorUrlOf(ready: string): { url: string; token: string; port: number; origin: string } {
  const match = /\(inspector: (http:\/\/127\.0\.0\.1:(\d+)\/__echo-preview\/inspector\/([A-Za-z0-9_-]+)\/)\)$/.exec(ready);
  if (!match) throw new Error(`no inspector URL at the end of the ready line: ${ready}`);
  return { url: match[1], token: match[3], port: Number(match[2]), origin: `http://127.0.0.1:${match[2]}` };
}

/** `ws://…/feed` for an inspector page URL. */
export function feedUrlOf(pageUrl: string): string {
  return `${pageUrl.replace(/^http:/, 'ws:')}feed`;
}

/** Placeholder UI files, written by tests only: the real ones come from the UI build. */
export const PLACEHOLDER_SCRIPT = '/* placeholder inspector UI (tests) */\n';
export const PLACEHOLDER_STYLE = '/* placeholder inspector style (tests) */\n';

/**
 * A copy of the bundled CLI laid out as installed (dist/cli.js, dist/inspector.js,
 * media/inspector/inspector.css), with placeholder UI files unless `built` is false.
 */
export function fakeInstall(built = true, script = PLACEHOLDER_SCRIPT): { cli: string; dir: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir('echo-install-');
  mkdirSync(path.join(dir, 'dist'));
  const cli = path.join(dir, 'dist', 'cli.js');
  copyFileSync(CLI, cli);
  if (built) {
    writeFileSync(path.join(dir, 'dist', 'inspector.js'), script);
    mkdirSync(path.join(dir, 'media', 'inspector'), { recursive: true });
    writeFileSync(path.join(dir, 'media', 'inspector', 'inspector.css'), PLACEHOLDER_STYLE);
  }
  return { cli, dir, cleanup };
}

type Result = Extract<HostMessage, { type: 'result' }>;

/** An inspector's connection to the feed, with everything it was sent. */
export class Feed {
  /** Every message of the feed (inbox.ts), in order. */
  readonly inbox: WsInbox<HostMessage>;
  private nextRequestId = 1;

  constructor(readonly ws: WebSocket) {
    this.inbox = messagesOf(ws, 'the feed', (data) => expandFeedMessage(JSON.parse(data.toString()) as HostMessage));
  }

  /** Every message the feed was sent, in order. */
  get messages(): readonly HostMessage[] {
    return this.inbox.received;
  }

  static async open(url: string, origin: string): Promise<Feed> {
    return new Feed(await openClient(url, { origin }));
  }

  /** Resolves once `holds()` is true after some message; rejects if the feed closes first or after `timeoutMs`. */
  async until(holds: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await this.inbox.until(holds, what, timeoutMs);
  }

  /** Sends a request (a requestId is added unless it has one) and resolves with its result. */
  async request(request: Record<string, unknown>): Promise<Result> {
    const requestId = typeof request.requestId === 'number' ? request.requestId : this.nextRequestId++;
    return this.sendRaw(JSON.stringify({ requestId, ...request }), requestId);
  }

  /** Sends raw text (or bytes) and resolves with the next result that has `requestId`. */
  async sendRaw(data: string | Buffer, requestId: number): Promise<Result> {
    const before = this.messages.length;
    this.ws.send(data);
    let result: Result | undefined;
    await this.until(() => {
      result = this.messages.slice(before).find((m): m is Result => m.type === 'result' && m.requestId === requestId);
      return result !== undefined;
    }, `the result of request ${requestId}`);
    return result!;
  }

  /** Sends `ready` and resolves with the snapshot it gets. */
  async ready(): Promise<Extract<HostMessage, { type: 'snapshot' }>['snapshot']> {
    const before = this.messages.length;
    this.ws.send(JSON.stringify({ type: 'ready' }));
    await this.until(() => this.messages.slice(before).some((m) => m.type === 'snapshot'), 'the snapshot');
    return (this.messages.slice(before).find((m) => m.type === 'snapshot') as Extract<HostMessage, { type: 'snapshot' }>).snapshot;
  }

  /** Every frame the feed was sent (snapshot and batches), by seq, each once. */
  frames(): FrameDTO[] {
    const bySeq = new Map<number, FrameDTO>();
    for (const message of this.messages) {
      const frames = message.type === 'snapshot' ? message.snapshot.frames : message.type === 'batch' ? message.batch.frames : [];
      for (const frame of frames) bySeq.set(frame.seq, frame);
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** The latest state of every client the feed was told about. */
  clients(): Map<number, ClientDTO> {
    const clients = new Map<number, ClientDTO>();
    for (const message of this.messages) {
      const list = message.type === 'snapshot' ? message.snapshot.clients : message.type === 'batch' ? message.batch.clients : [];
      for (const client of list) clients.set(client.id, client);
    }
    return clients;
  }

  /** The id of the one client with this user agent, once the feed knows it. */
  async clientId(userAgent: string): Promise<number> {
    let id: number | undefined;
    await this.until(() => {
      id = [...this.clients().values()].find((c) => c.userAgent === userAgent)?.id;
      return id !== undefined;
    }, `a client with user agent ${userAgent}`);
    return id!;
  }

  /** `dir kind` of each frame of one client, in order. */
  framesOf(client: number): string[] {
    return this.frames()
      .filter((f) => f.client === client)
      .map((f) => `${f.dir} ${f.kind}`);
  }

  close(): void {
    this.ws.close();
  }
}
