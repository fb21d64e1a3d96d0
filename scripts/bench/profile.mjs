// Where does Echo Preview's time go under one bench load? Bundles src/cli/main.ts unminified (names
// kept), runs it with --cpu-prof under the load, and prints the functions with the most self
// time plus a breakdown (our code, ws, Node internals, GC, idle).
//
//   node scripts/bench/profile.mjs static-1k|static-1m|echo-1x32B|echo-50x32B|echo-4x64KiB|page [--duration MS] [--bare]
//                                  [--mode quiet|default|inspect]
//
// --bare profiles the bare http+ws baseline (bare-server.cjs) under the same load instead.
// --mode: the CLI with --quiet (the default here), with its default output (as users run it), or
// with its default output, --inspect and one feed subscriber (the inspector open and capturing).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { attachFeed, inspectorUrlOf } from './lib/feed.mjs';
import { measureEcho, measureStatic } from './lib/measure.mjs';
import { PAGE_DIR, makePage, measurePageLoad } from './lib/pageload.mjs';
import { launchChromium } from '../chromium.mjs';
import { startServer } from './lib/proc.mjs';
import { REPO, makeFixture } from './lib/setup.mjs';

const SETTLE_MS = 2500;
const SCENARIOS = {
  'static-1k': (server, ms) => measureStatic(server, '1k.bin', { connections: 50, warmupMs: 0, durationMs: ms }),
  'static-1m': (server, ms) => measureStatic(server, '1m.bin', { connections: 50, warmupMs: 0, durationMs: ms }),
  'echo-1x32B': (server, ms) => measureEcho(server, { connections: 1, size: 32, warmupMs: 500, durationMs: ms }),
  'echo-50x32B': (server, ms) => measureEcho(server, { connections: 50, size: 32, warmupMs: 500, durationMs: ms }),
  'echo-4x64KiB': (server, ms) => measureEcho(server, { connections: 4, size: 65536, warmupMs: 500, durationMs: ms }),
  // Page loads in Chromium (cold and warm, scripts/bench/lib/pageload.mjs) for about `ms`.
  page: async (server, ms, page) => {
    const browser = await launchChromium();
    try {
      const url = `http://127.0.0.1:${server.port}/${PAGE_DIR}/`;
      const runs = [];
      for (const end = performance.now() + ms; performance.now() < end; ) runs.push(await measurePageLoad(browser, server, url, page, 3));
      return runs;
    } finally {
      await browser.close();
    }
  },
};

const { values, positionals } = parseArgs({ allowPositionals: true, options: { duration: { type: 'string', default: '5000' }, top: { type: 'string', default: '25' }, bare: { type: 'boolean', default: false }, mode: { type: 'string', default: 'quiet' } } });
const MODE_ARGS = { quiet: ['--quiet'], default: [], inspect: ['--inspect'] };
if (!MODE_ARGS[values.mode]) {
  console.error(`--mode: one of ${Object.keys(MODE_ARGS).join(', ')}`);
  process.exit(2);
}
const scenario = positionals[0];
if (!SCENARIOS[scenario]) {
  console.error(`usage: profile.mjs ${Object.keys(SCENARIOS).join('|')} [--duration MS]`);
  process.exit(2);
}

const outDir = path.join(REPO, 'bench-results', 'profile');
mkdirSync(outDir, { recursive: true });
const cli = path.join(outDir, 'cli.js');
const name = values.bare ? `${scenario}-bare` : values.mode === 'quiet' ? scenario : `${scenario}-${values.mode}`;
await esbuild.build({
  entryPoints: [path.join(REPO, 'src', 'cli', 'main.ts')],
  outfile: cli,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  keepNames: true,
  logLevel: 'warning',
  define: { PACKAGE_VERSION: '"profile"' },
  external: ['bufferutil', 'utf-8-validate'],
});

rmSync(path.join(outDir, `${name}.cpuprofile`), { force: true });
const fixture = makeFixture();
const page = makePage(fixture.dir);
await settle();
const server = await startServer({
  cmd: process.execPath,
  args: [
    '--cpu-prof',
    `--cpu-prof-dir=${outDir}`,
    `--cpu-prof-name=${name}.cpuprofile`,
    ...(values.bare ? [path.join(REPO, 'scripts', 'bench', 'bare-server.cjs'), '0'] : [cli, fixture.dir, '--port', '0', ...MODE_ARGS[values.mode]]),
  ],
  cwd: REPO,
  ready: /http:\/\/127\.0\.0\.1:(\d+)\//,
});
const feed = values.mode === 'inspect' && !values.bare ? await attachFeed(inspectorUrlOf(server.readyLine)) : undefined;
try {
  const result = await SCENARIOS[scenario](server, Number(values.duration), page);
  console.log(`load: ${JSON.stringify(result)}${feed ? `, feed ${feed.bytes()} B` : ''}`);
} finally {
  await feed?.close();
  await server.stop(); // SIGTERM: the CLI exits cleanly, and Node writes the profile on exit
  fixture.cleanup();
}
summarize(JSON.parse(readFileSync(path.join(outDir, `${name}.cpuprofile`), 'utf8')), Number(values.top));

/** Waits until freshly written fixture files are old enough to be cached (RACY_MS in fileCache.ts). */
function settle() {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/** Self time by function, and by where the code lives. */
function summarize(profile, top) {
  const selfUs = new Map();
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id);
    const key = describe(node.callFrame);
    selfUs.set(key, (selfUs.get(key) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const busy = total - (selfUs.get('(idle)') ?? 0);
  console.log(`\nprofile: ${(total / 1e6).toFixed(2)} s sampled, ${((busy / total) * 100).toFixed(1)} % busy`);
  const areas = new Map();
  for (const [key, us] of selfUs) areas.set(areaOf(key), (areas.get(areaOf(key)) ?? 0) + us);
  console.log('\nbusy time by area:');
  for (const [area, us] of [...areas].filter(([a]) => a !== 'idle').sort((a, b) => b[1] - a[1])) {
    console.log(`  ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${area}`);
  }
  console.log(`\ntop ${top} functions by self time (share of busy time):`);
  for (const [key, us] of [...selfUs].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
}

function describe(frame) {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const file = frame.url.replace(/^file:\/\//, '').replace(REPO + '/', '');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

function areaOf(key) {
  if (key === '(idle)') return 'idle';
  if (key === '(garbage collector)') return 'garbage collector';
  if (key === '(program)') return 'native (program)';
  if (key.includes('node_modules/ws/')) return 'ws';
  if (key.includes('bench-results/profile/cli.js')) return 'Echo Preview bundle (src/ and the ws inside it)';
  if (key.includes('scripts/bench/bare-server.cjs')) return 'bare server';
  if (key.includes('node:')) return 'Node internals (JS)';
  return 'other / native';
}
