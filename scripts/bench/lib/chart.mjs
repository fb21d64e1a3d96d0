// A self-contained SVG of the ratio table: one bar per goal row, grouped, with the goal drawn as
// a dashed line on each bar's scale. Hand-written so the bench needs no charting package.
import { formatGoal } from './report.mjs';

const WIDTH = 1000;
const LABEL_X = 16;
const BAR_X = 300;
const BAR_WIDTH = 400;
const ROW = 24;
const COLORS = { pass: '#2e7d32', miss: '#c62828', reference: '#90a4ae', goal: '#212121', grid: '#e0e0e0', text: '#212121', muted: '#616161' };

/** Sections of the chart: which rows, and which way is better. */
const SECTIONS = [
  { title: 'Throughput against the peer (higher is better)', match: (r) => r.unit === 'msg/s' || r.unit === 'req/s' },
  { title: 'Latency against bare ws (lower is better)', match: (r) => r.unit === 'us' },
  { title: 'Server CPU per operation against the peer (lower is better)', match: (r) => r.unit === 'cpu-us' || r.unit === 'cpu-ms' },
  { title: 'Page load in Chromium against nginx (lower is better)', match: (r) => r.group.startsWith('Page load') && r.unit === 'ms' },
  { title: 'CLI cost against a bare http+ws server (lower is better)', match: (r) => r.group.startsWith('CLI') },
  { title: 'Share of the budget used (lower is better)', match: (r) => r.peerName === 'budget', tick: (v) => `${Math.round(v * 100)} %` },
];
const RATIO_TICK = (v) => `${Number(v.toFixed(2))}×`;

export function renderChart(rows, subtitle) {
  const parts = [];
  let y = 76;
  for (const section of SECTIONS) {
    const sectionRows = rows.filter((r) => r.inChart !== false && section.match(r));
    if (sectionRows.length === 0) continue;
    const scale = scaleFor(sectionRows);
    y += 14;
    parts.push(text(LABEL_X, y, section.title, { weight: 'bold', size: 13 }));
    y += 10;
    parts.push(...axis(y, scale, sectionRows.length, section.tick ?? RATIO_TICK));
    for (const r of sectionRows) {
      parts.push(...bar(r, y, scale));
      y += ROW;
    }
    y += 18;
  }
  const height = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(LABEL_X, 24, 'Echo Preview against its peers: ratios from one run (medians of paired rounds)', { weight: 'bold', size: 15 }),
    text(LABEL_X, 42, subtitle, { fill: COLORS.muted }),
    legend(),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Up to a round number above both the largest ratio and the goal, so the goal line is always on the chart. */
function scaleFor(rows) {
  const top = Math.max(...rows.map((r) => (Number.isFinite(r.ratio) ? r.ratio : 0)), ...rows.map((r) => goalValue(r.goal) ?? 0));
  return Math.max(0.5, Math.ceil(top * 1.15 * 4) / 4);
}

function goalValue(goal) {
  return goal ? (goal.min ?? goal.max ?? goal.below) : undefined;
}

function axis(y, scale, count, tick) {
  const out = [];
  const step = scale > 2 ? 1 : scale > 1 ? 0.5 : 0.25;
  for (let v = 0; v <= scale + 1e-9; v += step) {
    const x = BAR_X + (v / scale) * BAR_WIDTH;
    out.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + count * ROW}" stroke="${COLORS.grid}"/>`);
    out.push(text(x, y + count * ROW + 12, tick(v), { anchor: 'middle', fill: COLORS.muted, size: 10 }));
  }
  return out;
}

function bar(r, y, scale) {
  const ratio = Number.isFinite(r.ratio) ? r.ratio : 0;
  const width = Math.min(1, ratio / scale) * BAR_WIDTH;
  const color = r.pass === undefined ? COLORS.reference : r.pass ? COLORS.pass : COLORS.miss;
  const out = [
    text(LABEL_X, y + 16, chartLabel(r), {}),
    `<rect x="${BAR_X}" y="${y + 5}" width="${Math.max(1, width).toFixed(1)}" height="${ROW - 10}" fill="${color}" rx="2"><title>${escape(`${r.label}: ${r.ratio.toFixed(3)}`)}</title></rect>`,
  ];
  const goal = goalValue(r.goal);
  if (goal !== undefined) {
    const gx = BAR_X + (goal / scale) * BAR_WIDTH;
    out.push(`<line x1="${gx.toFixed(1)}" y1="${y + 1}" x2="${gx.toFixed(1)}" y2="${y + ROW - 1}" stroke="${COLORS.goal}" stroke-width="2" stroke-dasharray="3 2"/>`);
  }
  const shown = r.peerName === 'budget' ? `${Math.round(ratio * 100)} %` : `${ratio.toFixed(2)}×`;
  const versus = r.peerName === 'budget' ? '' : ` vs ${r.peerName}`;
  const goalText = r.goal ? `goal ${formatGoal(r.goal, r)}` : 'reference';
  out.push(text(BAR_X + BAR_WIDTH + 10, y + 16, `${shown}${versus} (${goalText})`, { fill: color === COLORS.reference ? COLORS.muted : color }));
  return out;
}

/** The row's label without what the section title and the bar's colour already say. */
function chartLabel(r) {
  if (r.chartLabel) return r.chartLabel;
  return r.label.replace(/ \(reference\)$/, '').replace(/: (throughput|server CPU per (message|request))$/, '');
}

function legend() {
  const items = [
    [COLORS.pass, 'meets the goal'],
    [COLORS.miss, 'misses the goal'],
    [COLORS.reference, 'reference, no goal'],
  ];
  const out = [];
  let x = LABEL_X;
  for (const [color, label] of items) {
    out.push(`<rect x="${x}" y="53" width="12" height="12" fill="${color}" rx="2"/>`, text(x + 17, 63, label, { fill: COLORS.muted }));
    x += 150;
  }
  out.push(`<line x1="${x}" y1="52" x2="${x}" y2="66" stroke="${COLORS.goal}" stroke-width="2" stroke-dasharray="3 2"/>`, text(x + 8, 63, 'goal', { fill: COLORS.muted }));
  return out.join('\n');
}

function text(x, y, content, { anchor = 'start', weight = 'normal', size, fill = COLORS.text }) {
  const sizeAttr = size ? ` font-size="${size}"` : '';
  return `<text x="${typeof x === 'number' ? x.toFixed(1) : x}" y="${y}" text-anchor="${anchor}" font-weight="${weight}"${sizeAttr} fill="${fill}">${escape(content)}</text>`;
}

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
