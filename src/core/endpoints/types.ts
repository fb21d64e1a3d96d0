/**
 * The one interface every reply mode implements (echo, broadcast, script, proxy), and what the
 * socket layer (ws/hub.ts, the endpoint hub) gives it.
 *
 * An endpoint is one object per configured path, made by its mode's `create` from its config
 * section. The hub owns every client: the handshake, maxMessageSize, backpressure, the
 * heartbeat, 1001 at shutdown and the inspector's push/close/ping; every frame in and out passes
 * the tap (ws/tap.ts) into the capture and the events. A mode only decides what to answer: it is
 * told of each client's open, message and close, and answers through `EndpointClient.send` and
 * `EndpointContext.sendAll`, which pass the tap. A config reload with the same mode calls
 * `reconfigure` in place; a new mode on the same path disposes the old endpoint and hands its
 * clients to the new one (`opened(client, true)`): connected clients stay connected either way.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocket } from 'ws';
import type { Disposable } from '../../shared/disposable';

export type EndpointMode = 'echo' | 'broadcast' | 'script' | 'proxy';

/** One endpoint's section of the config file (`endpoints["/path"]`), after its mode checked it. */
export interface EndpointConfig {
  readonly mode: EndpointMode;
}

/** The client's opening handshake, as a mode may need it (the proxy passes query and subprotocols on). */
export interface Handshake {
  /** The request target as sent, percent-encoded: path and query, e.g. `/live?room=1`. */
  readonly target: string;
  /** The subprotocols the client offered (Sec-WebSocket-Protocol), in its order. */
  readonly protocols: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly origin: string | undefined;
  readonly remote: string;
}

/**
 * What `Endpoint.accept` decides: go on (choosing the subprotocol, `''` for none) or refuse with an
 * HTTP status. A 4xx is the client's mistake, logged as a refusal; a 5xx is a failure on our side
 * (an upstream down), which the endpoint has reported through `EndpointContext.report`. Either way
 * the tap records the refused handshake in the capture.
 */
export type Admission = { readonly protocol?: string } | { readonly refuse: { readonly status: number; readonly reason: string } };

/** One connected client of an endpoint. Everything sent through it passes the tap. */
export interface EndpointClient {
  /** The capture's id: the one id the log, the CLI and the inspector show. */
  readonly id: number;
  readonly handshake: Handshake;
  /** The subprotocol agreed at the handshake; `''` for none. */
  readonly protocol: string;
  /** True until the closing handshake starts. */
  readonly isOpen: boolean;
  /** Bytes queued for this client that the OS has not taken yet. */
  readonly bufferedAmount: number;
  /** Sends one message; false (and nothing sent) when the client is no longer open. */
  send(data: Buffer | string, binary: boolean): boolean;
  /**
   * Starts the closing handshake; false when the client is no longer open. Throws a RangeError
   * for a code an application may not send or a reason over 123 bytes (protocol.ts).
   */
  close(code: number, reason: string): boolean;
  /** Stops reading from this client; counted, so each pause needs its own resume. */
  pause(): void;
  resume(): void;
  /** Calls back once when what is queued for the client is below the high-water mark again (at once if it is), or it closed. */
  onDrain(callback: () => void): void;
}

/** What the hub gives one endpoint. */
export interface EndpointContext {
  /** The configured path (decoded), e.g. `/chat`. */
  readonly path: string;
  /** Largest message a client may send or be sent, in bytes. */
  readonly maxMessageSize: number;
  /** The endpoint's open clients, in the order they connected. */
  clients(): IterableIterator<EndpointClient>;
  /** Sends one message to every open client of this endpoint but `except`; returns how many got it. */
  sendAll(data: Buffer | string, binary: boolean, except?: EndpointClient): number;
  /** Tells the log (an `error` event) that something went wrong; the server carries on. */
  report(message: string, error?: unknown): void;
  /**
   * Runs one call into this endpoint's code as the hub runs each message: a throw is reported
   * (an `error` event naming the endpoint and mode) and the server carries on. Whatever a mode
   * runs later on a client's behalf (a timer, a delayed reply, a callback) runs through this.
   */
  contain(call: () => void): void;
  /**
   * Hands a connection the mode opened itself (the proxy's upstream for `peer`) to the tap: from
   * now on it is a client of its own in the capture, and the mode receives, sends and pings
   * through what this returns (ws/tap.ts says how).
   */
  tapUpstream(ws: WebSocket, url: string, peer: EndpointClient): TappedLeg;
  /** How often the hub pings its clients; the proxy pings its upstream legs as often (ws/liveness.ts). */
  readonly heartbeatMs: number;
  /** How long an upstream (the proxy's) gets to answer its handshake before the client is refused with 504. */
  readonly upstreamTimeoutMs: number;
  /** Lets the client API (push, close, ping by capture id) reach a connection the hub does not own, until disposed. */
  control(id: number, leg: LegControl): Disposable;
}

/** A connection a mode opened itself, as the tap records it (ws/tap.ts, TappedSocket). */
export interface TappedLeg {
  /** Its id in the capture. */
  readonly id: number;
  /** Call first thing in the connection's one 'message' listener. */
  received(payload: Buffer, isBinary: boolean): void;
  /** Sends one message (check that it is open first); `written` as ws's send callback. */
  send(payload: Buffer, binary: boolean, written?: (error?: Error) => void): void;
  /** Sends a ping (check that it is open first). */
  ping(): void;
  /** Call in the connection's 'close' listener. */
  closed(code: number, reason: string): void;
}

/** A connection a mode owns (the proxy's upstream leg), as the client API drives it; each returns false when it is not open. */
export interface LegControl {
  send(data: Buffer, binary: boolean): boolean;
  close(code: number, reason: string): boolean;
  ping(): boolean;
}

/** One configured endpoint of a mode. Called only by the hub, never concurrently. */
export interface Endpoint<C extends EndpointConfig = EndpointConfig> {
  /**
   * Optional: runs before the handshake is answered (the proxy connects upstream here). Without
   * it the first offered subprotocol is agreed, as ws does.
   */
  accept?(handshake: Handshake): Admission | Promise<Admission>;
  /** A client connected; `adopted` when it was already connected to this path's previous mode. */
  opened(client: EndpointClient, adopted: boolean): void;
  /** One whole message (its in-frame has already passed the tap). */
  message(client: EndpointClient, data: Buffer, isBinary: boolean): void;
  /** The client's socket has closed (also at shutdown, with 1001). */
  closed(client: EndpointClient, code: number, reason: string): void;
  /** The config changed but the mode did not: apply it in place, keeping clients connected. */
  reconfigure(config: C): void;
  /** Stops timers and upstream connections. Clients are not closed here: the hub does that, or adopts them. */
  dispose(): void;
}

/** A JSON value as the config parser (config.ts) produces it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A location in the config document: object keys and array indexes from its top. */
export type ConfigPath = readonly (string | number)[];

/** What a mode's `check` reports problems through; config.ts turns them into file:line:col. */
export interface SectionCheck {
  /** Where this section is in the document, e.g. `['endpoints', '/chat']`. */
  readonly at: ConfigPath;
  /**
   * Reports one problem at `at` + `path` (relative to the section): at the value there, or at
   * its key with `'key'` (an unknown property). Only the first problem of a document is kept.
   */
  problem(path: ConfigPath, message: string, target?: 'value' | 'key'): void;
  /** False when the proxy may only reach loopback (ServerOptions.proxyBeyondLoopback). */
  readonly proxyBeyondLoopback: boolean;
}

/** One reply mode: how its config section is checked and how its endpoints are made. */
export interface ModeDefinition<C extends EndpointConfig = EndpointConfig> {
  readonly mode: C['mode'];
  /**
   * Checks a section whose `mode` is this one (every other key is the mode's to check, unknown
   * ones included) and returns it typed, or undefined after reporting a problem.
   */
  check(section: JsonObject, check: SectionCheck): C | undefined;
  create(config: C, context: EndpointContext): Endpoint<C>;
}

/** One endpoint as configured: its path (decoded, valid by ws/paths.ts) and its checked config section. */
export interface EndpointSpec {
  readonly path: string;
  readonly config: EndpointConfig;
}
