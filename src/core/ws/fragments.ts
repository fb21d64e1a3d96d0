/**
 * Collects a fragmented WebSocket message into one growing buffer as its fragments arrive, so
 * a message within the size limit is accepted however it is fragmented, in bounded memory.
 *
 * Why: ws's receiver keeps every fragment as its own Buffer until the last one arrives. Each
 * costs ~100 bytes of objects whatever its payload, so a 16 MiB message sent one byte per
 * frame would hold ~1.6 GB; that is why ws's server refuses more than 16,384 fragments (close
 * 1008, Autobahn 9.3.x/9.4.x). With this in place the fragment count is unlimited and a
 * message of n bytes so far holds at most max(MIN_CAPACITY, 2n) bytes in one buffer, plus the
 * one fragment being added.
 *
 * How: ws calls `receiver.dataMessage()` after each data fragment is added to
 * `receiver._fragments`, and joins that list when the last one is in. The wrapper below folds
 * the list back to one buffer on every call, so ws joins a list of one (no copy).
 *
 * ws is pinned to exactly 8.23.0 in package.json because of this (and ws/tap.ts's use of the
 * receiver's 'conclude' event). What breaks on an upgrade that changes these private internals:
 * `CAN_COALESCE` turns false, endpoints fall back to ws's cap of 16,384 fragments (a 4 MiB
 * message in 64-byte fragments is refused with 1008), and a peer's close frame is recorded after
 * our answer instead of before it. The pin test and the fragment tests in socket.test.ts fail
 * to say so: upgrade ws deliberately, with them.
 */
import type WebSocket from 'ws';
// The namespace, not the default export: bundled, `ws` resolves to its ESM wrapper, whose default
// export (WebSocket) has no `.Receiver`; the namespace has it in both the bundle and plain Node.
import * as wsModule from 'ws';

/** First buffer for a fragmented message; it doubles as needed, up to the size limit. */
const MIN_CAPACITY = 4096;

interface ReceiverInternals {
  _fragments: Buffer[];
  _fin: boolean;
  dataMessage(this: ReceiverInternals, cb: unknown): void;
}

function receiverOf(ws: WebSocket): ReceiverInternals | undefined {
  const receiver = (ws as unknown as { _receiver?: Partial<ReceiverInternals> | null })._receiver;
  if (receiver === null || receiver === undefined || typeof receiver.dataMessage !== 'function' || !Array.isArray(receiver._fragments)) return undefined;
  return receiver as ReceiverInternals;
}

/** True when this ws version's receiver has the internals that coalesceFragments relies on. */
export const CAN_COALESCE: boolean = (() => {
  const Receiver = (wsModule as unknown as { Receiver?: new () => unknown }).Receiver;
  if (typeof Receiver !== 'function') return false;
  return receiverOf({ _receiver: new Receiver() } as unknown as WebSocket) !== undefined;
})();

/**
 * Makes `ws` (just accepted, before any frame is read) keep its fragments in one buffer.
 * False when this ws version's receiver is not the one this was written for.
 */
export function coalesceFragments(ws: WebSocket, maxMessageSize: number): boolean {
  const receiver = receiverOf(ws);
  if (receiver === undefined) return false;
  const dataMessage = receiver.dataMessage;
  /** The buffer collecting the message in progress, and the view of it that ws holds. */
  let collected: Buffer | undefined;
  let view: Buffer | undefined;
  receiver.dataMessage = function (this: ReceiverInternals, cb: unknown): void {
    const list = this._fragments;
    if (list.length > 1) {
      const kept = list[0] === view ? collected : undefined; // this message so far, with room to spare
      let offset = kept === undefined ? 0 : list[0].length;
      // ws checked this sum against maxMessageSize before it added the fragment.
      const needed = list.reduce((sum, part) => sum + part.length, 0);
      let target = kept;
      if (target === undefined || needed > target.length) {
        target = Buffer.allocUnsafeSlow(Math.max(needed, Math.min(Math.max(MIN_CAPACITY, 2 * needed), maxMessageSize)));
        if (kept !== undefined) kept.copy(target, 0, 0, offset);
      }
      for (let i = kept === undefined ? 0 : 1; i < list.length; i++) offset += list[i].copy(target, offset);
      collected = target;
      view = target.subarray(0, offset);
      list.length = 1;
      list[0] = view;
    }
    const last = this._fin;
    dataMessage.call(this, cb);
    if (last) collected = view = undefined; // the message is ws's now
  };
  return true;
}
