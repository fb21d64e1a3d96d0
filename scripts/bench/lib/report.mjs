// Turns raw per-round measurements into medians, paired ratios and goal verdicts, and renders
// them as Markdown for BENCHMARKS.md.

/** The speed goals of issues 6 and 13. Sizes are in decimal kilobytes (1 KB = 1000 B), the stricter reading. */
export const GOALS = {
  echo: 0.95, // throughput >= 0.95x bare ws; p50 latency <= 1/0.95x bare ws (issue 13: with the default output)
  echoInspecting: 0.85, // issue 13: the inspector open and capturing
  staticVsNginx: 0.5, // 1 KiB
  staticLargeVsNginx: 1.0, // 1 MiB (issue 13)
  pageVsNginx: 1.1, // issue 13: page load time at most 1.1x nginx's, cold and warm
  startup: 1.5,
  memory: 1.5,
  bundleBytes: 200_000,
  vsixBytes: 250_000,
  activationMs: 50,
};

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The per-round ratios a[i]/b[i]. Their median is the reported ratio: pairing measurements taken
 * seconds apart in the same round cancels most of the drift of a noisy machine, which a ratio
 * of two medians would not.
 */
export function roundRatios(a = [], b = [], key) {
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] && b[i]) ratios.push(a[i][key] / b[i][key]);
  }
  return ratios;
}

const medianOf = (samples = [], key) => median(samples.filter(Boolean).map((s) => s[key]));

/** Every row of the ratio table: what is compared, both figures, the ratio and its verdict. */
export function summarize(results) {
  const rows = [];
  // Judged as users run it: the CLI's default output (not --quiet), the inspector closed.
  for (const [id, scenario] of Object.entries(results.echo ?? {})) {
    const { closed, bare } = scenario.samples;
    const ours = closed ?? scenario.samples.ours; // results from before the default output was judged
    const group = 'WebSocket echo vs bare ws (default output, inspector closed)';
    const what = scenario.label;
    rows.push(row(group, `${what}: throughput`, 'msg/s', medianOf(ours, 'messagesPerSec'), medianOf(bare, 'messagesPerSec'), 'bare ws', paired(ours, bare, 'messagesPerSec'), { min: GOALS.echo }, `echo-${id}-rate`));
    rows.push(row(group, `${what}: p50 latency`, 'us', medianOf(ours, 'p50us'), medianOf(bare, 'p50us'), 'bare ws', paired(ours, bare, 'p50us'), { max: 1 / GOALS.echo }, `echo-${id}-p50`));
    // p99 is shown but judged by no goal: on a shared two-core machine it swings by half between
    // identical runs (see the rounds column), so a verdict on it would be a coin toss.
    rows.push(row(group, `${what}: p99 latency (reference)`, 'us', medianOf(ours, 'p99us'), medianOf(bare, 'p99us'), 'bare ws', paired(ours, bare, 'p99us'), undefined, `echo-${id}-p99`));
    rows.push(row(group, `${what}: server CPU per message (reference)`, 'cpu-us', medianOf(ours, 'serverCpuUsPerMessage'), medianOf(bare, 'serverCpuUsPerMessage'), 'bare ws', paired(ours, bare, 'serverCpuUsPerMessage'), undefined, `echo-${id}-cpu`));
  }
  // --quiet (reference: the default output should be indistinguishable from it) and the inspector
  // open (--inspect with one feed subscriber, goal >= 0.85x), each against bare ws in the same rounds.
  for (const [id, scenario] of Object.entries(results.echo ?? {})) {
    const { bare } = scenario.samples;
    const group = 'WebSocket echo vs bare ws: --quiet, and the traffic inspector open';
    for (const [name, tag] of [['ours', '--quiet'], ['open', 'inspector open (capturing)']]) {
      const samples = scenario.samples[name];
      if (!samples || !scenario.samples.closed) continue;
      const what = `${scenario.label}, ${tag}`;
      const who = CONTENDER_NAMES[name];
      // The chart's label column is narrow; its section titles already name the measure.
      const chartLabel = `${scenario.label.replace(' connections', ' conn.').replace(' connection', ' conn.')}, ${tag}`;
      const measures = [
        ['throughput', 'msg/s', 'messagesPerSec', 'rate', name === 'open' ? { min: GOALS.echoInspecting } : undefined],
        ['p50 latency', 'us', 'p50us', 'p50'],
        ['server CPU per message', 'cpu-us', 'serverCpuUsPerMessage', 'cpu'],
      ];
      for (const [measure, unit, key, suffix, goal] of measures) {
        const r = row(group, `${what}: ${measure}`, unit, medianOf(samples, key), medianOf(bare, key), 'bare ws', paired(samples, bare, key), goal, `echo-${id}-${name}-${suffix}`, who);
        rows.push({ ...r, chartLabel });
      }
    }
  }
  for (const [file, scenario] of Object.entries(results.static ?? {})) {
    const { nginx, live, ceiling } = scenario.samples;
    const quiet = scenario.samples.closed ? scenario.samples.ours : undefined;
    const ours = scenario.samples.closed ?? scenario.samples.ours;
    const group = 'Static files vs nginx (default output)';
    const goal = scenario.size >= 1024 * 1024 ? GOALS.staticLargeVsNginx : GOALS.staticVsNginx;
    rows.push(row(group, `${scenario.label} file`, 'req/s', medianOf(ours, 'requestsPerSec'), medianOf(nginx, 'requestsPerSec'), 'nginx', paired(ours, nginx, 'requestsPerSec'), { min: goal }, `static-${file}`));
    rows.push(row(group, `${scenario.label} file: server CPU per request (reference)`, 'cpu-us', medianOf(ours, 'serverCpuUsPerRequest'), medianOf(nginx, 'serverCpuUsPerRequest'), 'nginx', paired(ours, nginx, 'serverCpuUsPerRequest'), undefined, `static-${file}-cpu`));
    if (quiet) {
      rows.push(row(group, `${scenario.label} file, --quiet (reference)`, 'req/s', medianOf(quiet, 'requestsPerSec'), medianOf(nginx, 'requestsPerSec'), 'nginx', paired(quiet, nginx, 'requestsPerSec'), undefined, `static-${file}-quiet`, 'Echo Preview --quiet'));
    }
    if (live) {
      rows.push(row(group, `${scenario.label} file, Live Server (reference)`, 'req/s', medianOf(live, 'requestsPerSec'), medianOf(nginx, 'requestsPerSec'), 'nginx', paired(live, nginx, 'requestsPerSec'), undefined, `static-${file}-live`, 'Live Server'));
      rows.push(row(group, `${scenario.label} file, Echo Preview vs Live Server`, 'req/s', medianOf(ours, 'requestsPerSec'), medianOf(live, 'requestsPerSec'), 'Live Server', paired(ours, live, 'requestsPerSec'), undefined, `static-${file}-vs-live`, 'Echo Preview', false));
    }
    if (ceiling) {
      const name = CONTENDER_NAMES.ceiling;
      rows.push(row(group, `${scenario.label} file, ${name} (reference)`, 'req/s', medianOf(ceiling, 'requestsPerSec'), medianOf(nginx, 'requestsPerSec'), 'nginx', paired(ceiling, nginx, 'requestsPerSec'), undefined, `static-${file}-ceiling`, name));
    }
  }
  if (results.page?.load) {
    const { closed, nginx, live } = results.page.load.samples;
    const group = `Page load in Chromium vs nginx (${results.page.load.label}; default output, live reload on)`;
    for (const [key, what] of [['coldMs', 'cold load (empty cache)'], ['warmMs', 'warm reload (revalidation)']]) {
      const suffix = key === 'coldMs' ? 'cold' : 'warm';
      rows.push(row(group, what, 'ms', medianOf(closed, key), medianOf(nginx, key), 'nginx', paired(closed, nginx, key), { max: GOALS.pageVsNginx }, `page-${suffix}`));
      if (live) rows.push(row(group, `${what}, Live Server (reference)`, 'ms', medianOf(live, key), medianOf(nginx, key), 'nginx', paired(live, nginx, key), undefined, `page-${suffix}-live`, 'Live Server'));
    }
    const cpu = 'serverCpuMsPerLoad';
    rows.push(row(group, 'server CPU per page load (reference)', 'cpu-ms', medianOf(closed, cpu), medianOf(nginx, cpu), 'nginx', paired(closed, nginx, cpu), undefined, 'page-cpu'));
  }
  if (results.startup?.ours) {
    const { ours, bare } = results.startup;
    const group = 'CLI vs bare http+ws server';
    rows.push(row(group, 'start to listening', 'ms', medianOf(ours, 'startupMs'), medianOf(bare, 'startupMs'), 'bare server', paired(ours, bare, 'startupMs'), { max: GOALS.startup }, 'cli-start'));
    rows.push(row(group, 'idle memory (RSS)', 'bytes', medianOf(ours, 'rssBytes'), medianOf(bare, 'rssBytes'), 'bare server', paired(ours, bare, 'rssBytes'), { max: GOALS.memory }, 'cli-rss'));
  }
  const group = 'Size and activation (against the budget)';
  if (results.sizes?.extensionBytes) {
    const bytes = results.sizes.extensionBytes;
    rows.push(row(group, 'main bundle (dist/extension.js)', 'bytes', bytes, GOALS.bundleBytes, 'budget', bytes / GOALS.bundleBytes, { max: 1 }, 'bundle'));
  }
  if (results.sizes?.coreBytes) {
    const bytes = results.sizes.coreBytes;
    rows.push(row(group, 'core bundle (dist/core.js, inside the .vsix, loaded when a server first starts)', 'bytes', bytes, GOALS.vsixBytes, 'budget', bytes / GOALS.vsixBytes, undefined, 'core-bundle', 'Echo Preview', false));
  }
  if (results.sizes?.vsixBytes) {
    const bytes = results.sizes.vsixBytes;
    rows.push(row(group, '.vsix', 'bytes', bytes, GOALS.vsixBytes, 'budget', bytes / GOALS.vsixBytes, { max: 1 }, 'vsix'));
  }
  if (results.sizes?.inspectorBytes) {
    const bytes = results.sizes.inspectorBytes;
    rows.push(row(group, 'inspector UI bundle (dist/inspector.js, inside the .vsix)', 'bytes', bytes, GOALS.vsixBytes, 'budget', bytes / GOALS.vsixBytes, undefined, 'inspector-bundle', 'Echo Preview', false));
  }
  if (results.activation?.samples?.length) {
    const ms = median(results.activation.samples.map((s) => s.totalMs));
    rows.push(row(group, 'activation (require + activate, approximated)', 'ms', ms, GOALS.activationMs, 'budget', ms / GOALS.activationMs, { below: 1 }, 'activation'));
  }
  return rows;
}

/** `compared` is a plain ratio (budget rows) or what paired() returns. */
function row(group, label, unit, ours, peer, peerName, compared, goal, id, oursName = 'Echo Preview', inChart = true) {
  const { ratio, spread } = typeof compared === 'number' ? { ratio: compared } : compared;
  return { id, group, label, unit, oursName, ours, peerName, peer, ratio, spread, goal, pass: verdict(ratio, goal), inChart };
}

/** The median per-round ratio, and the lowest and highest of them (how noisy the row is). */
function paired(a, b, key) {
  const ratios = roundRatios(a, b, key);
  return { ratio: median(ratios), spread: ratios.length > 1 ? [Math.min(...ratios), Math.max(...ratios)] : undefined };
}

function verdict(ratio, goal) {
  if (!goal) return undefined;
  if (!Number.isFinite(ratio)) return false;
  if (goal.min !== undefined) return ratio >= goal.min;
  if (goal.max !== undefined) return ratio <= goal.max;
  return ratio < goal.below;
}

export function formatValue(value, unit) {
  if (!Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'bytes':
      return value >= 1e6 ? `${(value / 1e6).toFixed(1)} MB` : `${(value / 1e3).toFixed(1)} KB`;
    case 'us':
      return value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${value.toFixed(0)} µs`;
    case 'cpu-us':
      return `${value.toFixed(value >= 100 ? 0 : 1)} µs CPU`;
    case 'cpu-ms':
      return `${value.toFixed(1)} ms CPU`;
    case 'ms':
      return `${value.toFixed(1)} ms`;
    default:
      return `${Math.round(value).toLocaleString('en-US')} ${unit}`.trim();
  }
}

export function formatGoal(goal, row) {
  if (!goal) return 'reference';
  if (row?.peerName === 'budget') return goal.below !== undefined ? `< ${formatValue(row.peer, row.unit)}` : `≤ ${formatValue(row.peer, row.unit)}`;
  if (goal.min !== undefined) return `≥ ${goal.min}×`;
  if (goal.max !== undefined) return `≤ ${goal.max.toFixed(2)}×`;
  return `< ${goal.below}×`;
}

function formatRatio(r) {
  if (!Number.isFinite(r.ratio)) return 'n/a';
  return r.peerName === 'budget' ? `${Math.round(r.ratio * 100)} % of budget` : `${r.ratio.toFixed(2)}×`;
}

/** The ratio table, one line per row, grouped. */
export function ratioTable(rows) {
  const lines = ['| Measure | Echo Preview | Compared with | Ratio | Rounds (min–max) | Goal | Result |', '| --- | ---: | ---: | ---: | ---: | :---: | :---: |'];
  let group;
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      lines.push(`| **${group}** | | | | | | |`);
    }
    const ours = r.oursName === 'Echo Preview' ? formatValue(r.ours, r.unit) : `${formatValue(r.ours, r.unit)} (${r.oursName})`;
    const peer = r.peerName === 'budget' ? 'budget' : `${formatValue(r.peer, r.unit)} (${r.peerName})`;
    const result = r.pass === undefined ? '–' : r.pass ? 'pass' : '**miss**';
    const spread = r.spread ? `${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)}` : '';
    lines.push(`| ${r.label} | ${ours} | ${peer} | ${formatRatio(r)} | ${spread} | ${formatGoal(r.goal, r)} | ${result} |`);
  }
  return lines.join('\n');
}

/** Median figures of every contender, for readers who want absolute numbers. */
export function figuresTable(results) {
  const lines = [];
  if (results.echo && Object.keys(results.echo).length) {
    lines.push('| Echo scenario | Server | msg/s | MB/s | p50 | p99 | server CPU / msg | client CPU |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const scenario of Object.values(results.echo)) {
      for (const [name, samples] of Object.entries(scenario.samples)) {
        lines.push(
          `| ${scenario.label} | ${CONTENDER_NAMES[name]} | ${formatValue(medianOf(samples, 'messagesPerSec'), '')} | ${medianOf(samples, 'mbPerSec').toFixed(1)} | ` +
            `${formatValue(medianOf(samples, 'p50us'), 'us')} | ${formatValue(medianOf(samples, 'p99us'), 'us')} | ${medianOf(samples, 'serverCpuUsPerMessage').toFixed(1)} µs | ${Math.round(medianOf(samples, 'clientCpu') * 100)} % |`,
        );
      }
    }
    lines.push('');
  }
  if (results.static && Object.keys(results.static).length) {
    lines.push('| Static file | Server | req/s | MB/s | p50 | p99 | server CPU / req |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const scenario of Object.values(results.static)) {
      for (const [name, samples] of Object.entries(scenario.samples)) {
        const rps = medianOf(samples, 'requestsPerSec');
        lines.push(
          `| ${scenario.label} | ${CONTENDER_NAMES[name]} | ${formatValue(rps, '')} | ${((rps * scenario.size) / 1e6).toFixed(1)} | ` +
            `${formatValue(medianOf(samples, 'p50ms'), 'ms')} | ${formatValue(medianOf(samples, 'p99ms'), 'ms')} | ${medianOf(samples, 'serverCpuUsPerRequest').toFixed(1)} µs |`,
        );
      }
    }
    lines.push('');
  }
  if (results.page?.load) {
    lines.push('| Page load | Server | cold (empty cache) | warm (reload, revalidation) | server CPU per load |', '| --- | --- | ---: | ---: | ---: |');
    for (const [name, samples] of Object.entries(results.page.load.samples)) {
      lines.push(`| ${results.page.load.label} | ${CONTENDER_NAMES[name]} | ${formatValue(medianOf(samples, 'coldMs'), 'ms')} | ${formatValue(medianOf(samples, 'warmMs'), 'ms')} | ${formatValue(medianOf(samples, 'serverCpuMsPerLoad'), 'cpu-ms')} |`);
    }
    lines.push('');
  }
  if (results.startup?.ours) {
    lines.push('| Server | start to listening | idle RSS |', '| --- | ---: | ---: |');
    for (const [name, samples] of Object.entries(results.startup)) {
      lines.push(`| ${CONTENDER_NAMES[name]} | ${formatValue(medianOf(samples, 'startupMs'), 'ms')} | ${(medianOf(samples, 'rssBytes') / 2 ** 20).toFixed(1)} MiB |`);
    }
    lines.push('');
  }
  if (results.sizes) {
    const s = results.sizes;
    const activation = results.activation?.samples ?? [];
    lines.push('| Artifact | Figure |', '| --- | ---: |');
    lines.push(`| dist/extension.js | ${formatValue(s.extensionBytes, 'bytes')} |`, `| dist/core.js | ${formatValue(s.coreBytes, 'bytes')} |`, `| dist/cli.js | ${formatValue(s.cliBytes, 'bytes')} |`, `| dist/inspector.js | ${formatValue(s.inspectorBytes, 'bytes')} |`, `| echo-preview.vsix | ${formatValue(s.vsixBytes, 'bytes')} |`);
    if (activation.length) {
      lines.push(`| activation: require() | ${formatValue(median(activation.map((a) => a.requireMs)), 'ms')} |`, `| activation: activate() | ${formatValue(median(activation.map((a) => a.activateMs)), 'ms')} |`);
    }
  }
  return lines.join('\n').trim();
}

export const CONTENDER_NAMES = {
  ours: 'Echo Preview --quiet',
  closed: 'Echo Preview (default output)',
  open: 'Echo Preview, inspector open (capturing)',
  bare: 'bare http+ws', nginx: 'nginx', live: 'Live Server', ceiling: 'Node ceiling' };

export function machineSection(machine, config, load = []) {
  const pin = machine.pinning ? `servers on CPU ${machine.pinning.server}, load generators on CPU ${machine.pinning.load} (taskset)` : 'not pinned, as users run it (BENCH_PIN=1 pins servers to CPU 1 and load generators to CPU 0)';
  const loads = load.map((l) => l.loadavg1);
  const loadLine = loads.length ? `- Load average (1 min) at the start of each round: ${loads.map((l) => l.toFixed(2)).join(', ')} (other work on the machine shows up here)` : undefined;
  return [
    `- Run: ${machine.date}, ${config.rounds} round${config.rounds === 1 ? '' : 's'}; static runs ${config.durationMs / 1000} s after ${config.warmupMs / 1000} s of warm-up, ` +
      `echo runs ${config.echoDurationMs / 1000} s after ${config.echoWarmupMs / 1000} s (two per contender, scenario and round)`,
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores; ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM; Linux ${machine.kernel}`,
    `- Pinning: ${pin}`,
    `- Node ${machine.node}, ws ${machine.ws}; ${machine.nginx ?? 'nginx: not installed'}; ${machine.wrk ?? 'wrk: not installed'}; live-server ${machine.liveServer ?? 'not installed'}`,
    loadLine,
  ]
    .filter(Boolean)
    .join('\n');
}
