// Bundles the CLI, the extension (its shell, and the core server it loads on first use), the
// inspector UI and the preview UI (browser bundles) into dist/. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: production,
  sourcemap: !production,
  legalComments: 'none',
  logLevel: 'warning',
  define: { PACKAGE_VERSION: JSON.stringify(version) },
  // ws loads these optional native speed-ups only if present; we do not ship them.
  external: ['bufferutil', 'utf-8-validate'],
  // jsonc-parser's "main" is a UMD build whose requires esbuild cannot follow; its "module" is ESM.
  mainFields: ['module', 'main'],
};

const builds = [{ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }];
if (existsSync('src/editor/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/editor/extension.ts'], outfile: 'dist/extension.js', external: [...common.external, 'vscode'] });
  // The core server, which the extension loads on first use (src/editor/core.ts), not at activation.
  builds.push({ ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/core.js' });
}

// The browser bundles: the inspector UI (for the editor panel and the CLI's page) and the preview panel's UI.
const browser = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  minify: production,
  sourcemap: !production,
  legalComments: 'none',
  logLevel: 'warning',
};
builds.push({ ...browser, entryPoints: ['src/webview/inspector/main.ts'], outfile: 'dist/inspector.js' });
builds.push({ ...browser, entryPoints: ['src/webview/preview/main.ts'], outfile: 'dist/preview.js' });

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
  console.log('[watch] build started');
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
