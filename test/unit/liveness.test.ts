/**
 * Liveness of the server's own sockets (ws/liveness.ts), with real clients: the inspector feed
 * and the live reload channel drop a peer that stops answering pings, and free it, while a peer
 * that answers stays and is served. (Endpoint clients: socket.test.ts; proxy upstreams: proxy.test.ts.)
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { newInspectorToken } from '../../src/core/inspector/server';
import { startServer } from '../../src/core/server';
import { REPO_ROOT, tempDir } from '../support/http';
import { Inbox } from '../support/inbox';
import { Feed, feedUrlOf } from '../support/inspector';
import { pollUntil } from '../support/poll';
import { openReloadChannel } from '../support/reload';

const DEMO = path.join(REPO_ROOT, 'media', 'demo');
/** Short, so a dead peer goes within a tenth of a second or so (two rounds). */
const HEARTBEAT_MS = 50;
/** Far more than two rounds, far less than the test's timeout: a peer still there by then was not dropped. */
const DROP_WAIT_MS = 3000;

/**
 * A peer that never answers pings: ws's autoPong off, so it reads each ping and sends no pong.
 * `seen` holds what happened to it in order: 'message', 'ping', then `close <code>`.
 */
async function silentPeer(url: string, origin: string): Promise<{ ws: WebSocket; seen: Inbox<string> }> {
  const ws = new WebSocket(url, { origin, autoPong: false });
  const seen = new Inbox<string>(`the silent peer at ${url}`);
  ws.on('message', () => seen.push('message'));
  ws.on('ping', () => seen.push('ping'));
  ws.on('close', (code: number) => {
    seen.push(`close ${code}`);
    seen.end(`closed with ${code}`);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, seen };
}

/** The pings `ws` gets from now on. */
function pingsOf(ws: WebSocket, source: string): Inbox<string> {
  const pings = new Inbox<string>(source);
  ws.on('ping', () => pings.push('ping'));
  return pings;
}

describe('liveness of the inspector feed and the reload channel', { timeout: 20_000 }, () => {
  it('the inspector feed drops a feed that stops answering pings and ends its subscription; one that answers stays', async () => {
    const server = await startServer({ root: DEMO, port: 0, heartbeatMs: HEARTBEAT_MS, inspector: { token: newInspectorToken() } });
    try {
      const url = feedUrlOf(server.inspectorUrl!);
      const origin = new URL(server.inspectorUrl!).origin;
      const live = await Feed.open(url, origin); // ws answers pings by itself
      const livePings = pingsOf(live.ws, 'the feed that answers');
      const silent = await silentPeer(url, origin);
      // Subscribed, the silent feed keeps the capture on for as long as the server holds it.
      silent.ws.send(JSON.stringify({ type: 'ready' }));
      await silent.seen.next((e) => e === 'message', 'the snapshot');
      assert.equal(server.capture.active, true);

      await silent.seen.next((e) => e === 'ping', 'a heartbeat ping');
      assert.equal(await silent.seen.next((e) => e.startsWith('close'), 'the server to drop the silent feed', DROP_WAIT_MS), 'close 1006', 'cut off, without a closing handshake');
      await pollUntil(() => !server.capture.active, 'the dropped feed’s subscription to end (capture off again)');

      // A ping after the drop: the feed that answers was judged alive in a later round, and is still served.
      await livePings.arriving(() => true, 'a ping after the drop');
      assert.equal(live.ws.readyState, WebSocket.OPEN);
      const snapshot = await live.ready();
      assert.ok(Array.isArray(snapshot.clients));
      live.close();
    } finally {
      await server.close();
    }
  });

  it('the reload channel drops a page that stops answering pings; one that answers stays and hears the next change', async () => {
    const { dir: root, cleanup } = tempDir();
    writeFileSync(path.join(root, 'index.html'), '<!DOCTYPE html><p>hi</p>\n');
    writeFileSync(path.join(root, 'style.css'), 'body{color:red}');
    const server = await startServer({ root, port: 0, heartbeatMs: HEARTBEAT_MS });
    try {
      const live = await openReloadChannel(server.port);
      assert.equal((await live.next()).type, 'hello');
      const livePings = pingsOf(live.ws, 'the page that answers');
      const silent = await silentPeer(`ws://127.0.0.1:${server.port}/__echo-preview/reload`, `http://127.0.0.1:${server.port}`);
      await silent.seen.next((e) => e === 'message', 'the hello');

      await silent.seen.next((e) => e === 'ping', 'a heartbeat ping');
      assert.equal(await silent.seen.next((e) => e.startsWith('close'), 'the server to drop the silent page', DROP_WAIT_MS), 'close 1006', 'cut off, without a closing handshake');

      await livePings.arriving(() => true, 'a ping after the drop');
      assert.equal(live.ws.readyState, WebSocket.OPEN);
      writeFileSync(path.join(root, 'style.css'), 'body{color:blue}');
      const change = await live.inbox.next((m) => m.type === 'css', 'the stylesheet change');
      assert.deepEqual(change.type === 'css' && change.paths, ['/style.css']);
      await live.close();
    } finally {
      await server.close();
      cleanup();
    }
  });
});
