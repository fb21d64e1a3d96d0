// `npm start [-- folder] [-- options]`: builds when the bundle is missing or older than the
// sources, then runs the CLI on the bundled demo unless a folder is given.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'dist', 'cli.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

if (!existsSync(cli) || statSync(cli).mtimeMs < newestMtime(join(repo, 'src'))) {
  const build = spawnSync(process.execPath, [join(repo, 'esbuild.mjs')], { cwd: repo, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Options that take a value, so their values are not mistaken for the folder.
const WITH_VALUE = new Set(['-p', '--port', '-H', '--host', '--ws-path', '--max-message-size', '--allow-host', '--allow-origin', '--inspect-port']);
const args = process.argv.slice(2);
const hasFolder = args.some((arg, i) => !arg.startsWith('-') && !WITH_VALUE.has(args[i - 1]));
const child = spawn(process.execPath, [cli, ...(hasFolder ? [] : [join(repo, 'media', 'demo')]), ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
