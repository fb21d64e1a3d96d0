/**
 * The proxy mode: each client gets its own connection to the upstream ws:// or wss:// URL
 * (with the client's subprotocols and query string), and messages flow both ways with
 * backpressure on each leg; optional script rules answer some messages locally. The upstream
 * leg passes the tap (ws/tap.ts) as a client of its own, marked `leg: 'upstream'`, which the
 * client API (the inspector's push, close, ping) reaches too; it is pinged as often as the
 * server's clients (ws/liveness.ts), and one that stops answering closes its page with 1011.
 */
import { isIP } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { isSendableCloseCode, MAX_CLOSE_REASON_BYTES } from '../../shared/protocol';
import type { Disposable } from '../events/events';
import { onlyKeys } from './check';
import { deliver, queryOf, reportRuleError, Schedule } from './delivery';
import { openWebSocket } from '../ws/accept';
import { closeGracefully, Liveness } from '../ws/liveness';
import { RuleError } from './ruleError';
import { compileRules, firstMatch, lazyJson, type Rule } from './rules';
import type { Admission, Endpoint, EndpointClient, EndpointConfig, EndpointContext, Handshake, ModeDefinition, TappedLeg } from './types';

export interface ProxyConfig extends EndpointConfig {
  readonly mode: 'proxy';
  /** The upstream as configured; the client's query string is added to it per connection. */
  readonly upstream: URL;
  readonly rules: readonly Rule[];
}

/** Stop reading one leg while this much of what it sent is still queued for the other. */
export const PROXY_HIGH_WATER = 1024 * 1024;

/** The upstream connection of one client: made in `accept`, claimed in `opened`. */
interface Upstream {
  readonly url: string;
  readonly ws: WebSocket;
}

interface Pair {
  readonly client: EndpointClient;
  readonly ws: WebSocket;
  /** The upstream leg as the tap records it. */
  readonly leg: TappedLeg;
  /** Bytes sent upstream that ws has not handed to the OS yet. */
  unflushed: number;
  pagePaused: boolean;
  upstreamPaused: boolean;
  readonly pending: Schedule;
  readonly query: URLSearchParams;
  received: number;
  /** The leg's registration with the client API. */
  control: Disposable | undefined;
}

class ProxyEndpoint implements Endpoint<ProxyConfig> {
  private readonly connecting = new WeakMap<Handshake, Upstream>();
  private readonly pairs = new Map<EndpointClient, Pair>();
  private readonly liveness: Liveness;

  constructor(
    private config: ProxyConfig,
    private readonly context: EndpointContext,
  ) {
    this.liveness = new Liveness(context.heartbeatMs);
  }

  /**
   * Connects upstream before the client's handshake is answered, as a reverse proxy does: the
   * client gets the subprotocol the upstream chose, or, when the upstream cannot be had, an HTTP
   * 502 (refused, unreachable, not a WebSocket) or 504 (no answer in time) naming it, and never
   * sees `open`. The failure is reported once (an `error` event); the tap records the refusal.
   */
  accept(handshake: Handshake): Promise<Admission> {
    const url = upstreamUrl(this.config.upstream, handshake.target);
    return new Promise((resolve) => {
      let ws: WebSocket;
      try {
        ws = openWebSocket(url, [...handshake.protocols], { perMessageDeflate: false, maxPayload: this.context.maxMessageSize, followRedirects: false });
      } catch (error) {
        // ws refuses a subprotocol list with an invalid or repeated name, as its server would.
        resolve({ refuse: { status: 400, reason: `Invalid Sec-WebSocket-Protocol header: ${(error as Error).message}` } });
        return;
      }
      const timeoutMs = this.context.upstreamTimeoutMs;
      const timer = setTimeout(() => refuse(504, `did not answer the WebSocket handshake within ${timeoutMs / 1000} s`), timeoutMs);
      let settled = false;
      // Until the upstream is settled, its errors are the connect's failure; after, openWebSocket's and opened()'s.
      const settle = (admission: Admission): void => {
        settled = true;
        clearTimeout(timer);
        ws.off('open', onOpen).off('unexpected-response', onRefused).off('error', onError);
        resolve(admission);
      };
      const refuse = (status: 502 | 504, why: string): void => {
        if (settled) return;
        settle({ refuse: { status, reason: `Upstream ${url} ${why}` } });
        ws.terminate();
        this.context.report(`proxy ${this.context.path}: upstream ${url} ${why} (answered the client ${status})`);
      };
      const onOpen = (): void => {
        ws.pause(); // nothing is read until the client is there to take it
        const upstream: Upstream = { url, ws };
        this.connecting.set(handshake, upstream);
        settle({ protocol: ws.protocol });
        // The hub calls `opened` in the same turn; if the client went away meanwhile, nobody will.
        setImmediate(() => {
          if (this.connecting.get(handshake) !== upstream) return;
          this.connecting.delete(handshake);
          ws.terminate();
        });
      };
      const onRefused = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
        res.resume();
        refuse(502, `refused the WebSocket handshake: it answered HTTP ${res.statusCode}`);
      };
      const onError = (error: Error): void => refuse(502, `unreachable: ${error.message}`);
      ws.once('open', onOpen).once('unexpected-response', onRefused).once('error', onError);
    });
  }

  opened(client: EndpointClient): void {
    const upstream = this.connecting.get(client.handshake);
    this.connecting.delete(client.handshake);
    if (upstream === undefined) {
      // Taken over from another mode after a config change: it had no upstream; it reconnects.
      client.close(1012, 'The endpoint became a proxy; reconnect');
      return;
    }
    const ws = upstream.ws;
    const leg = this.context.tapUpstream(ws, upstream.url, client);
    const pair: Pair = {
      client,
      ws,
      leg,
      unflushed: 0,
      pagePaused: false,
      upstreamPaused: false,
      pending: new Schedule(this.context, client),
      query: queryOf(client.handshake.target),
      received: 0,
      control: undefined,
    };
    this.pairs.set(client, pair);
    pair.control = this.context.control(leg.id, {
      send: (data, binary) => this.forward(pair, data, binary),
      close: (code, reason) => {
        if (ws.readyState !== WebSocket.OPEN) return false;
        ws.close(code, reason); // the upstream answers, and its close closes the page as any would
        return true;
      },
      ping: () => this.ping(pair),
    });
    const peer = this.liveness.watch(ws, { ping: () => leg.ping(), unread: () => pair.upstreamPaused, dead: () => this.dropSilent(pair) });

    ws.on('message', (data: RawData, isBinary: boolean) => {
      peer.heard();
      const payload = data as Buffer;
      leg.received(payload, isBinary);
      client.send(payload, isBinary);
      // A page that reads slower than the upstream sends: stop reading the upstream until it catches up.
      if (client.bufferedAmount > PROXY_HIGH_WATER && !pair.upstreamPaused) {
        pair.upstreamPaused = true;
        ws.pause();
        client.onDrain(() => {
          pair.upstreamPaused = false;
          if (ws.readyState === WebSocket.OPEN) ws.resume();
        });
      }
    });
    let failure: Error | undefined;
    ws.on('error', (error: Error) => {
      failure = error;
      this.context.report(`proxy ${this.context.path}: upstream ${upstream.url} failed for client #${client.id}: ${error.message}`, error);
      // ws is closing the leg, and waits for the upstream's answer (up to 30 s): the page is told now.
      if (client.isOpen) client.close(1011, cutReason(`Upstream failed: ${error.message}`));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const text = reason.toString();
      leg.closed(code, text);
      // Released already: we ended it (the page left, the heartbeat dropped it, the endpoint stopped).
      const ours = this.pairs.get(client) !== pair;
      this.release(pair);
      // Gone without a close frame (killed, reset, cut): a failure of its own, reported once ('error' reports the rest).
      if (!ours && failure === undefined && code === 1006) {
        this.context.report(`proxy ${this.context.path}: upstream ${upstream.url} dropped the connection of client #${client.id} without a close frame${client.isOpen ? '; closed it with 1011' : ''}`);
      }
      if (!client.isOpen) return;
      if (failure !== undefined) client.close(1011, cutReason(`Upstream failed: ${failure.message}`));
      else if (isSendableCloseCode(code)) client.close(code, text);
      else if (code === 1005) client.close(1000, '');
      else client.close(1011, 'Upstream connection lost');
    });
    ws.resume();
  }

  message(client: EndpointClient, data: Buffer, isBinary: boolean): void {
    const pair = this.pairs.get(client);
    if (pair === undefined) return;
    pair.received++;
    if (!isBinary && this.config.rules.length > 0 && this.answerLocally(pair, data.toString('utf8'))) return;
    this.forward(pair, data, isBinary);
  }

  /** The first rule that matches answers the message here; it is not forwarded. */
  private answerLocally(pair: Pair, text: string): boolean {
    const json = lazyJson(text);
    const found = firstMatch(this.config.rules, { text, json });
    if (found === undefined) return false;
    const { client } = pair;
    const { send, close } = found.rule;
    if (send !== undefined) deliver(this.context, pair.pending, client, send, { text, json, match: found.match, client: client.id, n: pair.received, query: pair.query });
    if (close !== undefined) pair.pending.after(send?.delayMs ?? 0, () => client.close(close.code, close.reason));
    return true;
  }

  /** Sends one message upstream; false when the upstream is not open. */
  private forward(pair: Pair, data: Buffer, isBinary: boolean): boolean {
    const { ws, client } = pair;
    if (ws.readyState !== WebSocket.OPEN) return false;
    pair.unflushed += data.length;
    pair.leg.send(data, isBinary, () => {
      pair.unflushed -= data.length;
      if (pair.pagePaused && pair.unflushed <= PROXY_HIGH_WATER) {
        pair.pagePaused = false;
        client.resume();
      }
    });
    // An upstream that reads slower than the page sends: stop reading the page until it catches up.
    if (pair.unflushed > PROXY_HIGH_WATER && !pair.pagePaused) {
      pair.pagePaused = true;
      client.pause();
    }
    return true;
  }

  private ping(pair: Pair): boolean {
    if (pair.ws.readyState !== WebSocket.OPEN) return false;
    pair.leg.ping();
    return true;
  }

  /** An upstream that missed its pong is dropped, and its page closed with 1011. */
  private dropSilent(pair: Pair): void {
    const { client, ws } = pair;
    // Released already (the page left, the endpoint stopped): it was closing, and took too long.
    if (this.pairs.get(client) === pair) {
      this.context.report(`proxy ${this.context.path}: upstream ${ws.url} stopped answering pings for client #${client.id}; closed it`);
      this.release(pair);
      if (client.isOpen) client.close(1011, 'Upstream stopped answering pings');
    }
    ws.terminate();
  }

  closed(client: EndpointClient, code: number, reason: string): void {
    const pair = this.pairs.get(client);
    if (pair === undefined) return;
    this.release(pair);
    const { ws } = pair;
    if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
    // The page's own code goes upstream when it may be sent; otherwise a normal closure.
    const [sent, why] = isSendableCloseCode(code) ? [code, reason] : [1000, ''];
    void closeGracefully(ws, sent, why);
  }

  private release(pair: Pair): void {
    this.pairs.delete(pair.client);
    pair.control?.dispose();
    pair.pending.clear();
    if (pair.pagePaused) {
      pair.pagePaused = false;
      pair.client.resume();
    }
  }

  reconfigure(config: ProxyConfig): void {
    // Connected clients keep their upstream; new ones get the new one.
    this.config = config;
  }

  dispose(): void {
    this.liveness.stop();
    for (const pair of [...this.pairs.values()]) {
      this.release(pair);
      void closeGracefully(pair.ws, 1001, 'Proxy endpoint stopped');
    }
  }
}

/** The upstream URL for one client: the configured one with the client's query string added (after the upstream's own). */
export function upstreamUrl(upstream: URL, target: string): string {
  const at = target.indexOf('?');
  const query = at === -1 ? '' : target.slice(at + 1);
  if (query === '') return upstream.href;
  const url = new URL(upstream.href);
  url.search = url.search.length > 1 ? `${url.search.slice(1)}&${query}` : query;
  return url.href;
}

/** Loopback only: `localhost`, 127.0.0.0/8 and ::1 (an upstream by any other name may be anywhere). */
export function isLoopbackUpstream(url: URL): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/** A close reason cut to the 123 bytes a close frame holds. */
function cutReason(reason: string): string {
  let cut = reason;
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}

/** The keys of a proxy endpoint; the schema lists the same (a test compares them). */
export const PROXY_KEYS = ['mode', 'upstream', 'rules'];

function checkUpstream(value: unknown, proxyBeyondLoopback: boolean): URL {
  if (typeof value !== 'string') throw new RuleError(['upstream'], '"upstream" is a ws:// or wss:// URL, such as "ws://127.0.0.1:9000/socket"');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RuleError(['upstream'], `"upstream" is not a URL: ${JSON.stringify(value)}; write it as ws://host:port/path or wss://…`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new RuleError(['upstream'], `"upstream" must start with ws:// or wss://, not ${url.protocol}//`);
  if (url.hash !== '') throw new RuleError(['upstream'], '"upstream" cannot have a #fragment');
  if (!proxyBeyondLoopback && !isLoopbackUpstream(url)) {
    throw new RuleError(
      ['upstream'],
      `"upstream" ${url.host} is not on this machine, and this workspace may only proxy to loopback (localhost, 127.0.0.1, ::1); to allow it, turn on the user setting echoPreview.proxy.allowRemote`,
    );
  }
  return url;
}

export const proxyMode: ModeDefinition<ProxyConfig> = {
  mode: 'proxy',
  check(section, check) {
    if (!onlyKeys(section, PROXY_KEYS, check, 'for mode "proxy"')) return undefined;
    try {
      if (section.upstream === undefined) throw new RuleError([], 'a proxy needs "upstream", a ws:// or wss:// URL');
      return { mode: 'proxy', upstream: checkUpstream(section.upstream, check.proxyBeyondLoopback), rules: compileRules(section.rules, ['rules']) };
    } catch (error) {
      return reportRuleError(error, check);
    }
  },
  create: (config, context) => new ProxyEndpoint(config, context),
};
