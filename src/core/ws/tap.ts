/** The tap of control frames (ping, pong, close) for any WebSocket, a page's or the proxy's upstream leg. */
import { WebSocket } from 'ws';
import type { Capture } from '../capture/capture';

/**
 * Records pings and pongs of `ws` as frames of capture client `id`, and calls `heard` on each
 * pong (the heartbeat's answer). ws answers a ping by itself; that pong is recorded as sent.
 */
export function tapPingPong(ws: WebSocket, id: number, capture: Capture, heard: () => void): void {
  ws.on('ping', (data: Buffer) => {
    if (!capture.active) return;
    capture.frame(id, 'in', 'ping', data, data.length);
    // ws has already answered, unless the socket is closing (then it sends no pong).
    if (ws.readyState === WebSocket.OPEN) capture.frame(id, 'out', 'pong', data, data.length);
  });
  ws.on('pong', (data: Buffer) => {
    heard();
    if (capture.active) capture.frame(id, 'in', 'pong', data, data.length);
  });
}

/**
 * Records the close frames of one client as they cross the wire, both ways, whoever starts the
 * closing handshake: the peer (ws answers with the same code), the server (a protocol error,
 * the inspector, shutdown).
 * - Out: `ws.close()` is what ws itself calls for each of those, so this instance's close is
 *   wrapped; it records only a call that sends a frame (the socket was still open).
 * - In: ws tells only when the socket has closed (too late to keep the order: the peer's close
 *   comes before our answer). Its receiver (ws 8.23.0, pinned: see fragments.ts) emits 'conclude' when the frame is
 *   read; our listener goes first, so the peer's close is recorded before ws answers it. If a ws
 *   upgrade changes that, the close event records it instead (with a later time).
 */
export function tapCloseFrames(ws: WebSocket, id: number, capture: Capture): void {
  ws.close = (code?: number, reason?: string | Buffer): void => {
    const sends = ws.readyState === WebSocket.OPEN;
    WebSocket.prototype.close.call(ws, code, reason);
    // Without a code, ws sends a close frame with no payload: no status (1005), no reason.
    if (sends && capture.active) capture.closeFrame(id, 'out', code ?? 1005, code === undefined || reason === undefined ? '' : reason.toString());
  };
  const receiver = (ws as unknown as { _receiver?: { prependListener?: unknown } })._receiver;
  if (receiver !== undefined && typeof receiver.prependListener === 'function') {
    (receiver as NodeJS.EventEmitter).prependListener('conclude', (code: number, reason: Buffer) => {
      if (capture.active) capture.closeFrame(id, 'in', code, reason.toString());
    });
  } else {
    ws.once('close', (code: number, reason: Buffer) => {
      // 1006: the connection ended without a close frame.
      if (code !== 1006 && capture.active) capture.closeFrame(id, 'in', code, reason.toString());
    });
  }
}
