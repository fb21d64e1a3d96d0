/**
 * The script mode: greetings on connect, rules that answer matching messages, timers, a
 * fallback and faults on purpose, all declared in the config (rules.ts compiles and matches
 * them; this file delivers them, on time, to the right clients).
 */
import { onlyKeys } from './check';
import { deliver, queryOf, reportRuleError, Schedule } from './delivery';
import { compileScript, firstMatch, lazyJson, KEYS, matches, type Incoming, type ScriptProgram } from './rules';
import type { Endpoint, EndpointClient, EndpointConfig, EndpointContext, ModeDefinition } from './types';

export interface ScriptConfig extends EndpointConfig {
  readonly mode: 'script';
  readonly program: ScriptProgram;
}

/** A timer skips its tick while this much is still queued for the client (a page that does not read). */
const TIMER_HIGH_WATER = 1024 * 1024;

interface Session {
  readonly client: EndpointClient;
  readonly query: URLSearchParams;
  /** Messages received from this client. */
  received: number;
  /** Delayed replies and latency of this client: they stop when it leaves. */
  readonly pending: Schedule;
  /** The timers of the current program (restarted when the config changes). */
  readonly timers: Schedule;
}

class ScriptEndpoint implements Endpoint<ScriptConfig> {
  private readonly sessions = new Map<EndpointClient, Session>();
  private connections = 0;

  constructor(
    private program: ScriptProgram,
    private readonly context: EndpointContext,
  ) {}

  opened(client: EndpointClient, adopted: boolean): void {
    const session: Session = { client, query: queryOf(client.handshake.target), received: 0, pending: new Schedule(this.context, client), timers: new Schedule(this.context) };
    this.sessions.set(client, session);
    const n = ++this.connections;
    // A client taken over from this path's previous mode was greeted when it connected.
    if (!adopted) {
      for (const action of this.program.onConnect) deliver(this.context, session.pending, client, action, { client: client.id, n, query: session.query });
    }
    this.startTimers(session);
  }

  message(client: EndpointClient, data: Buffer, isBinary: boolean): void {
    const session = this.sessions.get(client);
    if (session === undefined) return;
    const n = ++session.received;
    const { faults } = this.program;
    const text = isBinary ? undefined : data.toString('utf8');
    const incoming: Incoming | undefined = text === undefined ? undefined : { text, json: lazyJson(text) };
    const dropped = (faults.dropEvery !== undefined && n % faults.dropEvery === 0) || (faults.dropMatch !== undefined && incoming !== undefined && matches(faults.dropMatch, incoming) !== false);
    const closeAfter = faults.closeAfter !== undefined && n === faults.closeAfter.messages ? faults.closeAfter.close : undefined;
    session.pending.after(faults.latencyMs, () => {
      const replyDelay = dropped ? 0 : this.answer(session, data, isBinary, incoming, n);
      // After this message's reply: timeouts of one length run in the order they were set.
      if (closeAfter !== undefined) session.pending.after(replyDelay, () => client.close(closeAfter.code, closeAfter.reason));
    });
  }

  /** Answers one message by the first rule that matches it, else by the fallback; returns the reply's delay. */
  private answer(session: Session, data: Buffer, isBinary: boolean, incoming: Incoming | undefined, n: number): number {
    const { client } = session;
    const found = incoming === undefined ? undefined : firstMatch(this.program.rules, incoming);
    if (incoming === undefined || found === undefined) {
      const { fallback } = this.program;
      if (fallback.kind === 'echo') client.send(data, isBinary);
      else if (fallback.kind === 'close') client.close(fallback.close.code, fallback.close.reason);
      return 0;
    }
    const { send, close } = found.rule;
    const delayMs = send?.delayMs ?? 0;
    if (send !== undefined) deliver(this.context, session.pending, client, send, { text: incoming.text, json: incoming.json, match: found.match, client: client.id, n, query: session.query });
    if (close !== undefined) session.pending.after(delayMs, () => client.close(close.code, close.reason));
    return delayMs;
  }

  private startTimers(session: Session): void {
    session.timers.clear();
    const { client } = session;
    for (const timer of this.program.timers) {
      let tick = 0;
      session.timers.every(timer.everyMs, () => {
        if (!client.isOpen) return false;
        // A page that does not read misses ticks rather than making us queue them without bound.
        if (client.bufferedAmount > TIMER_HIGH_WATER) return true;
        tick++;
        deliver(this.context, session.pending, client, { template: timer.template, to: 'sender', delayMs: 0 }, { client: client.id, n: tick, query: session.query });
        return timer.times === undefined || tick < timer.times;
      });
    }
  }

  closed(client: EndpointClient): void {
    const session = this.sessions.get(client);
    if (session === undefined) return;
    this.sessions.delete(client);
    session.pending.clear();
    session.timers.clear();
  }

  reconfigure(config: ScriptConfig): void {
    this.program = config.program;
    for (const session of this.sessions.values()) this.startTimers(session);
  }

  dispose(): void {
    for (const session of this.sessions.values()) {
      session.pending.clear();
      session.timers.clear();
    }
    this.sessions.clear();
  }
}

export const scriptMode: ModeDefinition<ScriptConfig> = {
  mode: 'script',
  check(section, check) {
    if (!onlyKeys(section, KEYS.script, check, 'for mode "script"')) return undefined;
    try {
      return { mode: 'script', program: compileScript(section) };
    } catch (error) {
      return reportRuleError(error, check);
    }
  },
  create: (config, context) => new ScriptEndpoint(config.program, context),
};
