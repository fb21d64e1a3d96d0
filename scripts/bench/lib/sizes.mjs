// Size and activation figures: the main bundle, the packaged .vsix, and how long the extension
// takes to load and activate.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { run } from './proc.mjs';
import { REPO } from './setup.mjs';

const PROBE = path.join(REPO, 'scripts', 'bench', 'activate-probe.cjs');

/**
 * dist/extension.js (package.json "main"), the core it loads on first use (dist/core.js), dist/cli.js
 * and the inspector UI's dist/inspector.js after the production build.
 */
export function bundleSizes() {
  const size = (file) => (existsSync(path.join(REPO, file)) ? statSync(path.join(REPO, file)).size : NaN);
  return { extensionBytes: size('dist/extension.js'), coreBytes: size('dist/core.js'), cliBytes: size('dist/cli.js'), inspectorBytes: size('dist/inspector.js') };
}

/** Packages the extension exactly like `npm run package`, into bench-results/ so nothing else is touched. */
export async function vsixSize(outDir, log) {
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'echo-preview.vsix');
  log('packaging the .vsix with vsce');
  const vsce = path.join(REPO, 'node_modules', '.bin', 'vsce');
  await run(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--out', out], { cwd: REPO, timeoutMs: 180_000 });
  return statSync(out).size;
}

/**
 * Activation time. An offline extension-host runner, when the project has one that reports it,
 * is the real figure; otherwise require() + activate() of dist/extension.js in a fresh Node
 * process with a stand-in `vscode` module (activate-probe.cjs), repeated `times`.
 */
export async function activationTimes(times) {
  if (!existsSync(path.join(REPO, 'dist', 'extension.js'))) return undefined;
  const samples = [];
  for (let i = 0; i < times; i++) {
    const { stdout } = await run(process.execPath, [PROBE, path.join(REPO, 'dist', 'extension.js')], { cwd: REPO, role: 'server', timeoutMs: 30_000 });
    samples.push(JSON.parse(stdout.trim().split('\n').pop()));
  }
  return { method: 'node-probe', samples };
}
