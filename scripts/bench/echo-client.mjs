// WebSocket echo load generator, run as its own process so it never shares an event loop with
// the server it measures. Each connection is closed-loop: it sends the next message only after
// the echo of the previous one came back. Prints one JSON line with throughput and latencies.
//
//   node echo-client.mjs --url ws://127.0.0.1:PORT/websocket --connections 50 --size 32 \
//     --warmup 1000 --duration 4000
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    connections: { type: 'string', default: '1' },
    size: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '4000' },
  },
});
const url = values.url;
const connections = Number(values.connections);
const size = Number(values.size);
const warmupMs = Number(values.warmup);
const durationMs = Number(values.duration);
if (!url || !(connections > 0) || !(size > 0)) {
  process.stderr.write('usage: echo-client.mjs --url ws://... --connections N --size BYTES\n');
  process.exit(2);
}

/** Round-trip times in microseconds, in a growable typed array (no per-sample objects). */
class Samples {
  values = new Float64Array(1 << 16);
  length = 0;
  push(value) {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }
  sorted() {
    return this.values.subarray(0, this.length).sort();
  }
}

const samples = new Samples();
const payload = randomBytes(size);
let phase = 'warmup'; // -> 'measure' -> 'stop'
let failure;

function fail(message) {
  failure ??= message;
  phase = 'stop';
}

/** Opens one connection and resolves with it once it is open. */
function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Drives one connection until the stop phase; resolves when its last echo is back. */
function drive(ws) {
  return new Promise((resolve) => {
    let sentAt = 0;
    let checked = false;
    const send = () => {
      sentAt = performance.now();
      ws.send(payload, { binary: true });
    };
    ws.on('message', (data) => {
      const rtt = performance.now() - sentAt;
      // The first echo is compared byte for byte, the rest by length: a wrong server must not
      // look fast, and a full compare per message would slow the client down.
      if (data.length !== size || (!checked && !payload.equals(data))) fail(`echo differs from what was sent (${data.length} B)`);
      checked = true;
      if (phase === 'measure') samples.push(rtt * 1000);
      if (phase === 'stop') return resolve();
      send();
    });
    ws.on('close', () => {
      if (phase !== 'stop') fail('server closed a connection during the run');
      resolve();
    });
    ws.on('error', (error) => fail(error.message));
    send();
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const watchdog = setTimeout(() => {
  process.stderr.write('echo-client: run did not finish in time\n');
  process.exit(1);
}, warmupMs + durationMs + 15_000);

const sockets = await Promise.all(Array.from({ length: connections }, open));
const drained = Promise.all(sockets.map(drive));
let measureStart = 0;
let measureEnd = 0;
let cpuAtStart;
let clientCpu = 0;
setTimeout(() => {
  phase = phase === 'stop' ? 'stop' : 'measure';
  measureStart = performance.now();
  cpuAtStart = process.cpuUsage();
  setTimeout(() => {
    measureEnd = performance.now();
    const used = process.cpuUsage(cpuAtStart);
    clientCpu = (used.user + used.system) / 1000 / (measureEnd - measureStart);
    phase = 'stop';
  }, durationMs);
}, warmupMs);
await drained;
for (const ws of sockets) ws.terminate();
clearTimeout(watchdog);

const sorted = samples.sorted();
const seconds = (measureEnd - measureStart) / 1000;
const result = {
  ok: failure === undefined,
  error: failure,
  connections,
  size,
  seconds,
  messages: sorted.length,
  messagesPerSec: sorted.length / seconds,
  mbPerSec: (sorted.length * size) / seconds / 1e6,
  p50us: percentile(sorted, 50),
  p90us: percentile(sorted, 90),
  p99us: percentile(sorted, 99),
  maxUs: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
  // Share of one core the client used: near 1 means the client, not the server, set the pace.
  clientCpu,
};
process.stdout.write(JSON.stringify(result) + '\n');
process.exitCode = result.ok ? 0 : 1;
