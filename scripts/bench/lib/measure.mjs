// One measurement each: an echo run with the Node ws client, a static run with wrk, a cold start.
// Each returns plain numbers; rounds, alternation and medians are run.mjs's business.
import * as path from 'node:path';
import { cpuSecondsOfTree, delay, rssOf, run } from './proc.mjs';
import { REPO } from './setup.mjs';

const ECHO_CLIENT = path.join(REPO, 'scripts', 'bench', 'echo-client.mjs');

/**
 * Closed-loop echo load from a separate process on the load core. Also reports the server's CPU
 * time per message: when the client, not the server, sets the pace, throughput hides how much
 * work each message costs the server. With an inspector feed attached (server.feedBytes), also
 * what the feed carried per message, and a run whose feed died is a failed run.
 */
export async function measureEcho(server, { connections, size, warmupMs, durationMs }) {
  const { port } = server;
  const cpuBefore = cpuSecondsOfTree(server.child.pid);
  const feedBefore = server.feedBytes?.();
  const { stdout } = await run(
    process.execPath,
    [ECHO_CLIENT, '--url', `ws://127.0.0.1:${port}/websocket`, '--connections', String(connections), '--size', String(size), '--warmup', String(warmupMs), '--duration', String(durationMs)],
    { role: 'load', timeoutMs: warmupMs + durationMs + 30_000 },
  );
  const serverCpu = cpuSecondsOfTree(server.child.pid) - cpuBefore;
  const feedBytes = server.feedBytes ? server.feedBytes() - feedBefore : undefined;
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (!result.ok) throw new Error(`echo run failed: ${result.error}`);
  if (feedBytes !== undefined && !(feedBytes > 0)) throw new Error('the inspector feed carried nothing during the run (closed, or capture off)');
  // The warm-up runs at the measured pace, so messages over both phases estimate the total.
  const messages = result.messagesPerSec * ((warmupMs + durationMs) / 1000);
  return {
    ...(feedBytes === undefined ? {} : { feedBytesPerMessage: feedBytes / messages }),
    messagesPerSec: result.messagesPerSec,
    mbPerSec: result.mbPerSec,
    p50us: result.p50us,
    p99us: result.p99us,
    clientCpu: result.clientCpu,
    serverCpuUsPerMessage: (serverCpu * 1e6) / messages,
  };
}

/** wrk with one thread on the load core: a warm-up run, then the measured one (and the server's CPU per request). */
export async function measureStatic(server, file, { connections, warmupMs, durationMs }) {
  const url = `http://127.0.0.1:${server.port}/${file}`;
  const seconds = (ms) => Math.max(1, Math.round(ms / 1000));
  const wrk = (ms) => run('wrk', ['-t1', `-c${connections}`, `-d${seconds(ms)}s`, '--latency', url], { role: 'load', timeoutMs: ms + 30_000 });
  if (warmupMs > 0) await wrk(warmupMs);
  const cpuBefore = cpuSecondsOfTree(server.child.pid);
  const { stdout } = await wrk(durationMs);
  const serverCpu = cpuSecondsOfTree(server.child.pid) - cpuBefore;
  const result = parseWrk(stdout);
  return { ...result, serverCpuUsPerRequest: (serverCpu * 1e6) / (result.requestsPerSec * seconds(durationMs)) };
}

export function parseWrk(output) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`could not read wrk output:\n${output}`);
  if (errors) throw new Error(`wrk saw ${errors[1]} error responses`);
  // A few read errors happen when a server closes keep-alive connections (nginx after 1000
  // requests); a run with many is not a fair figure.
  if (socketErrors && socketErrors.slice(1).some((n) => Number(n) > 100)) throw new Error(`wrk socket errors: ${socketErrors[0]}`);
  return { requestsPerSec: rps, p50ms: wrkLatency(output, '50%'), p99ms: wrkLatency(output, '99%') };
}

function wrkLatency(output, percentile) {
  const match = new RegExp(`^\\s+${percentile}\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(output);
  if (!match) return NaN;
  const factor = { us: 0.001, ms: 1, s: 1000 }[match[2]];
  return Number(match[1]) * factor;
}

/** Spawn to ready line, then resident memory after the process has sat idle for `idleMs`. */
export async function measureStartup(start, idleMs) {
  const server = await start();
  try {
    await delay(idleMs);
    return { startupMs: server.startupMs, rssBytes: rssOf(server.child.pid) };
  } finally {
    await server.stop();
  }
}
