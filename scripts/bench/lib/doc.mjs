// Keeps BENCHMARKS.md's measured parts in step with the last full run. Only the text between
// `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` is rewritten; the prose around it is the
// author's (method, explanations, profiles) and is left alone.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { figuresTable, ratioTable } from './report.mjs';

const SKELETON = `# Benchmarks

Run \`npm run bench\`. The sections below between bench markers are rewritten by every full run.

## Machine

<!-- bench:machine -->
<!-- /bench:machine -->

## Ratios and goals

<!-- bench:ratios -->
<!-- /bench:ratios -->

![Ratios against the goals](docs/images/bench-chart.svg)

## Figures

<!-- bench:figures -->
<!-- /bench:figures -->
`;

export function updateBenchmarksDoc(file, { machine, results, rows }) {
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : SKELETON;
  doc = replaceBlock(doc, 'machine', machine);
  doc = replaceBlock(doc, 'ratios', ratioTable(rows));
  doc = replaceBlock(doc, 'figures', figuresTable(results));
  writeFileSync(file, doc);
}

function replaceBlock(doc, name, content) {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  const block = `${open}\n${content}\n${close}`;
  if (start === -1 || end < start) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, start) + block + doc.slice(end + close.length);
}
