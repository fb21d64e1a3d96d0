// `npm run bench`: Echo Preview against its peers in one run, as ratios.
//
// Builds dist/ for production, installs the peers if missing (nginx-light and wrk from Debian
// when root, live-server into .bench-tools/), starts every contender once, then runs ROUNDS
// rounds; in each round every scenario measures every contender once, in an order that rotates
// from round to round. Reports medians and median per-round ratios, writes
// bench-results/results.json, and regenerates the tables in BENCHMARKS.md and docs/images/bench-chart.svg.
//
// Options: --rounds N (3), --duration MS (3000 static; echo runs are 2000), --warmup MS (1000), --only echo,static,page,startup,size,
//          --quick (1 round, short runs, documents left alone), --no-docs, --docs, --out FILE,
//          --from FILE (no measuring: tables and chart again from an earlier results.json).
// BENCH_CLI=path/to/cli.js benchmarks another build as Echo Preview; BENCH_PIN=1 pins servers and load.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './lib/chart.mjs';
import { startBare, startCeiling, startLiveServer, startNginx, startOurs, startOursDefault, startOursInspecting } from './lib/contenders.mjs';
import { updateBenchmarksDoc } from './lib/doc.mjs';
import { measureEcho, measureStartup, measureStatic } from './lib/measure.mjs';
import { PAGE_DIR, makePage, measurePageLoad } from './lib/pageload.mjs';
import { launchChromium } from '../chromium.mjs';
import { PINNING, delay, run } from './lib/proc.mjs';
import { CONTENDER_NAMES, machineSection, ratioTable, summarize } from './lib/report.mjs';
import { LIVE_SERVER_VERSION, REPO, STATIC_FILES, buildProduction, ensureTools, makeFixture } from './lib/setup.mjs';
import { activationTimes, bundleSizes, vsixSize } from './lib/sizes.mjs';

const ECHO_SCENARIOS = [
  { id: '1x32B', label: '1 connection × 32 B', connections: 1, size: 32 },
  { id: '50x32B', label: '50 connections × 32 B', connections: 50, size: 32 },
  { id: '4x64KiB', label: '4 connections × 64 KiB', connections: 4, size: 64 * 1024 },
];
/** Echo contenders: Echo Preview --quiet, with the inspector closed and open (capturing), bare ws. */
const ECHO_CONTENDERS = ['ours', 'closed', 'open', 'bare'];
const STATIC_CONNECTIONS = 50;
const STARTS_PER_ROUND = 2;
const IDLE_MS = 1000;
const ACTIVATION_RUNS = 10;
/** Static contenders: Echo Preview with its default output (judged) and --quiet, nginx, Live Server, the Node ceiling. */
const STATIC_CONTENDERS = ['closed', 'ours', 'nginx', 'live', 'ceiling'];
/** Page-load contenders: Echo Preview as users run it (default output, live reload on), nginx, Live Server. */
const PAGE_CONTENDERS = ['closed', 'nginx', 'live'];
/** Echo Preview keeps files in memory only once they are this old (RACY_MS in src/core/http/fileCache.ts). */
const SETTLE_MS = 2500;

const config = readConfig();
const started = performance.now();
const log = (message) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`);

await main();

async function main() {
  if (config.from) return report(JSON.parse(readFileSync(config.from, 'utf8')));
  await buildProduction(log);
  const tools = await ensureTools(log);
  const results = { machine: await machineInfo(tools), config, load: [], echo: {}, static: {}, page: {}, startup: {} };
  // Made first, so it has settled like the files of a site one is working on, not one just saved.
  const fixture = makeFixture();
  const page = makePage(fixture.dir);
  const fixtureMade = performance.now();
  if (config.only.has('size')) Object.assign(results, await sizesAndActivation());
  const servers = new Map();
  let browser;
  try {
    if (config.only.has('page')) {
      browser = await launchChromium().catch((error) => {
        log(`Chromium did not start (set CHROMIUM_PATH): page loads skipped (${error.message.split('\n')[0]})`);
        return undefined;
      });
    }
    await delay(Math.max(0, SETTLE_MS - (performance.now() - fixtureMade)));
    await startContenders(servers, tools, fixture.dir);
    for (let round = 0; round < config.rounds; round++) {
      results.load.push({ round: round + 1, loadavg1: loadavg()[0] });
      log(`round ${round + 1} of ${config.rounds} (load average ${loadavg()[0].toFixed(2)})`);
      if (config.only.has('echo')) await echoRound(results, servers, round);
      if (config.only.has('static')) await staticRound(results, servers, round);
      if (browser) await pageRound(results, servers, round, browser, page);
      if (config.only.has('startup')) await startupRound(results, fixture.dir, round);
    }
  } finally {
    await browser?.close();
    for (const server of servers.values()) await server.stop();
    fixture.cleanup();
  }
  report(results);
}

function readConfig() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      docs: { type: 'boolean' },
      'no-docs': { type: 'boolean', default: false },
      out: { type: 'string' },
      from: { type: 'string' },
    },
  });
  const quick = values.quick;
  const partial = quick || Boolean(values.only || values.rounds || process.env.BENCH_CLI);
  return {
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    durationMs: Number(values.duration ?? (quick ? 1000 : 3000)),
    warmupMs: Number(values.warmup ?? (quick ? 500 : 1000)),
    // Echo: twice as many runs of half the length (mirrored order), and a shorter warm-up since the
    // servers are already warm after the first run; only the new client process needs one.
    echoDurationMs: Number(values.duration ?? (quick ? 1000 : 4000)) / 2,
    echoWarmupMs: Math.min(500, Number(values.warmup ?? (quick ? 500 : 1000))),
    only: new Set((values.only ?? 'echo,static,page,startup,size').split(',')),
    pageLoads: quick ? 1 : 3,
    // A quick or partial run is a smoke test: it must not overwrite the committed figures.
    writeDocs: values.docs ?? (!values['no-docs'] && !partial && !values.out),
    staticConnections: STATIC_CONNECTIONS,
    // A partial run must not replace the figures of the last full one either.
    out: path.resolve(values.out ?? path.join(REPO, 'bench-results', partial ? 'partial.json' : 'results.json')),
    from: values.from && path.resolve(values.from),
    cli: process.env.BENCH_CLI,
  };
}

async function machineInfo(tools) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const versionOf = async (cmd, args, pattern) => {
    try {
      const { stdout, stderr } = await run(cmd, args);
      return pattern.exec(stdout + stderr)?.[0];
    } catch (error) {
      return pattern.exec(error.message)?.[0]; // `wrk -v` exits 1 after printing its version
    }
  };
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    ws: JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'ws', 'package.json'), 'utf8')).version,
    nginx: tools.nginx ? await versionOf(tools.nginx, ['-v'], /nginx\/[\d.]+/) : undefined,
    wrk: tools.wrk ? await versionOf('wrk', ['-v'], /wrk [^\s]*\d[^\s]*/) : undefined,
    liveServer: tools.liveServer ? LIVE_SERVER_VERSION : undefined,
    pinning: PINNING,
  };
}

async function sizesAndActivation() {
  const sizes = bundleSizes();
  try {
    sizes.vsixBytes = await vsixSize(path.join(REPO, 'bench-results'), log);
  } catch (error) {
    log(`could not package the .vsix: ${error.message.split('\n')[0]}`);
  }
  log('timing activation');
  const activation = await activationTimes(ACTIVATION_RUNS);
  return { sizes, activation };
}

async function startContenders(servers, tools, root) {
  const wanted = new Map();
  const want = (name, start) => wanted.set(name, start);
  const staticRuns = config.only.has('static') && tools.wrk;
  if (config.only.has('static') && !tools.wrk) log('wrk is not installed: static benchmarks skipped');
  if (config.only.has('echo') || staticRuns) want('ours', () => startOurs(root));
  if (config.only.has('echo') || staticRuns || config.only.has('page')) want('closed', () => startOursDefault(root));
  if (config.only.has('echo')) {
    want('open', () => startOursInspecting(root));
    want('bare', () => startBare());
  }
  if (staticRuns || config.only.has('page')) {
    if (tools.nginx) want('nginx', () => startNginx(tools.nginx, root));
    else log('nginx is not installed: no nginx figures');
    if (tools.liveServer) want('live', () => startLiveServer(tools.liveServer, root));
  }
  if (staticRuns) want('ceiling', () => startCeiling(root));
  for (const [name, start] of wanted) {
    servers.set(name, await start());
    servers.get(name).restart = start;
    log(`${CONTENDER_NAMES[name]} listening on port ${servers.get(name).port}`);
  }
}

/** The contenders in this round's order: rotated by one each round, so none always goes first. */
function rotate(names, round) {
  const shift = round % names.length;
  return [...names.slice(shift), ...names.slice(0, shift)];
}

/** A contender that died is started again (and the failure logged) rather than ending the run. */
async function alive(servers, name) {
  const server = servers.get(name);
  if (server.child.exitCode === null && server.child.signalCode === null) return server;
  log(`${CONTENDER_NAMES[name]} had exited (${server.stderr().slice(-200)}); restarting it`);
  const fresh = await server.restart();
  fresh.restart = server.restart;
  servers.set(name, fresh);
  return fresh;
}

async function measureInto(list, round, what, measure) {
  try {
    list[round] = await measure();
  } catch (error) {
    log(`${what} failed: ${error.message.split('\n')[0]}`);
    list[round] = null;
  }
}

/**
 * Echo runs are short and in mirrored order within a round (A-B-C-D-D-C-B-A, the order rotated
 * by one each round): drift during the round then weighs on every contender alike. A round's
 * figure is the mean of a contender's two runs.
 */
async function echoRound(results, servers, round) {
  const names = ECHO_CONTENDERS.filter((name) => servers.has(name));
  const order = rotate(names, round);
  for (const scenario of ECHO_SCENARIOS) {
    const entry = (results.echo[scenario.id] ??= { label: scenario.label, connections: scenario.connections, size: scenario.size, samples: Object.fromEntries(names.map((n) => [n, []])) });
    const runs = Object.fromEntries(names.map((n) => [n, []]));
    for (const name of [...order, ...[...order].reverse()]) {
      const server = await alive(servers, name);
      await measureInto(runs[name], runs[name].length, `echo ${scenario.id} ${name}`, () =>
        measureEcho(server, { connections: scenario.connections, size: scenario.size, warmupMs: config.echoWarmupMs, durationMs: config.echoDurationMs }),
      );
    }
    for (const name of names) entry.samples[name][round] = meanOfRuns(runs[name]);
  }
}

/** Field-by-field mean of a round's runs (null when every run failed). */
function meanOfRuns(runs) {
  const ok = runs.filter(Boolean);
  if (ok.length === 0) return null;
  return Object.fromEntries(Object.keys(ok[0]).map((key) => [key, ok.reduce((sum, r) => sum + r[key], 0) / ok.length]));
}

async function staticRound(results, servers, round) {
  const names = STATIC_CONTENDERS.filter((name) => servers.has(name));
  if (!servers.has('nginx') || !servers.has('ceiling')) return;
  for (const file of STATIC_FILES) {
    const entry = (results.static[file.name] ??= { label: file.label, size: file.size, samples: Object.fromEntries(names.map((n) => [n, []])) });
    for (const name of rotate(names, round)) {
      const server = await alive(servers, name);
      await measureInto(entry.samples[name], round, `static ${file.name} ${name}`, () =>
        measureStatic(server, file.name, { connections: config.staticConnections, warmupMs: config.warmupMs, durationMs: config.durationMs }),
      );
    }
  }
}

/** Each contender loads the page cold and warm (config.pageLoads of each), in rotated order. */
async function pageRound(results, servers, round, browser, page) {
  const names = PAGE_CONTENDERS.filter((name) => servers.has(name));
  if (!servers.has('nginx')) return;
  const entry = (results.page.load ??= { label: `${page.modules} modules, ${page.images} images`, samples: Object.fromEntries(names.map((n) => [n, []])) });
  for (const name of rotate(names, round)) {
    const server = await alive(servers, name);
    await measureInto(entry.samples[name], round, `page load ${name}`, () => measurePageLoad(browser, server, `http://127.0.0.1:${server.port}/${PAGE_DIR}/`, page, config.pageLoads));
  }
}

async function startupRound(results, root, round) {
  const starts = { ours: () => startOurs(root), bare: () => startBare() };
  for (let i = 0; i < STARTS_PER_ROUND; i++) {
    for (const name of rotate(['ours', 'bare'], round + i)) {
      const list = (results.startup[name] ??= []);
      await measureInto(list, round * STARTS_PER_ROUND + i, `startup ${name}`, () => measureStartup(starts[name], IDLE_MS));
    }
  }
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function report(results) {
  const rows = summarize(results);
  results.summary = rows;
  mkdirSync(path.dirname(config.out), { recursive: true });
  writeFileSync(config.out, JSON.stringify(results, null, 2) + '\n');
  console.log('\n' + ratioTable(rows) + '\n');
  const misses = rows.filter((r) => r.pass === false);
  console.log(misses.length ? `${misses.length} goal(s) missed: ${misses.map((r) => r.label).join('; ')}` : 'Every goal met.');
  console.log(`Raw figures: ${path.relative(process.cwd(), config.out)}`);
  if (!config.writeDocs) return console.log('BENCHMARKS.md and docs/images/bench-chart.svg left as they were (partial or quick run; --docs to write anyway).');
  const { machine } = results;
  const subtitle = `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; ${machine.date}; ${plural(results.config.rounds, 'round')}`;
  mkdirSync(path.join(REPO, 'docs', 'images'), { recursive: true });
  writeFileSync(path.join(REPO, 'docs', 'images', 'bench-chart.svg'), renderChart(rows, subtitle));
  updateBenchmarksDoc(path.join(REPO, 'BENCHMARKS.md'), { machine: machineSection(machine, results.config, results.load), results, rows });
  console.log('Updated BENCHMARKS.md and docs/images/bench-chart.svg.');
  log('done');
}
