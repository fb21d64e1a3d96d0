// Everything the bench needs before it measures: a production build, the peer servers and load
// tool (installed on demand), and the files to serve. Nothing here is measured.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { hasCommand, onEarlyExit, run } from './proc.mjs';

export const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
export const TOOLS = path.join(REPO, '.bench-tools');
export const LIVE_SERVER_VERSION = '1.2.2';
export const LIVE_SERVER_JS = path.join(TOOLS, 'node_modules', 'live-server', 'live-server.js');

/** The static files every contender serves: same names, same bytes. */
export const STATIC_FILES = [
  { name: '1k.bin', size: 1024, label: '1 KiB' },
  { name: '1m.bin', size: 1024 * 1024, label: '1 MiB' },
];

export async function buildProduction(log) {
  if (!existsSync(path.join(REPO, 'node_modules', 'ws')) || !existsSync(path.join(REPO, 'node_modules', 'esbuild'))) {
    throw new Error('node_modules is missing: run `npm ci` first');
  }
  log('building dist/ (production)');
  await run(process.execPath, ['esbuild.mjs', '--production'], { cwd: REPO });
}

/**
 * nginx-light and wrk from Debian when missing (root only), Live Server into .bench-tools/.
 * Returns what is usable; a peer that could not be installed is skipped with a note, not fatal.
 */
export async function ensureTools(log) {
  const missing = ['nginx', 'wrk'].filter((name) => !hasCommand(name) && !existsSync(`/usr/sbin/${name}`));
  if (missing.length > 0) await installDebianPackages(missing, log);
  if (!existsSync(LIVE_SERVER_JS)) {
    log(`installing live-server@${LIVE_SERVER_VERSION} into .bench-tools/`);
    try {
      await run('npm', ['install', '--prefix', TOOLS, '--no-audit', '--no-fund', '--loglevel=error', `live-server@${LIVE_SERVER_VERSION}`], {
        cwd: REPO,
        timeoutMs: 300_000,
      });
    } catch (error) {
      log(`could not install live-server: ${error.message.split('\n')[0]}`);
    }
  }
  return {
    nginx: nginxBinary(),
    wrk: hasCommand('wrk') ? 'wrk' : undefined,
    liveServer: existsSync(LIVE_SERVER_JS) ? LIVE_SERVER_JS : undefined,
  };
}

async function installDebianPackages(missing, log) {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !hasCommand('apt-get')) {
    log(`missing ${missing.join(', ')}; install nginx-light and wrk (apt-get install nginx-light wrk) to compare against nginx`);
    return;
  }
  const packages = missing.map((name) => (name === 'nginx' ? 'nginx-light' : name));
  log(`installing ${packages.join(', ')} with apt-get`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, timeoutMs: 300_000 });
  } catch (error) {
    log(`apt-get failed: ${error.message.split('\n')[0]}`);
  }
}

function nginxBinary() {
  if (hasCommand('nginx')) return 'nginx';
  return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined;
}

/**
 * A world-readable folder with the static files (nginx workers drop root privileges, so a
 * 0700 temp folder would answer 403). Returns its path and a cleanup function.
 */
export function makeFixture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'echo-bench-'));
  chmodSync(dir, 0o755);
  for (const file of STATIC_FILES) {
    writeFileSync(path.join(dir, file.name), randomBytes(file.size), { mode: 0o644 });
  }
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const forget = onEarlyExit(remove);
  return {
    dir,
    cleanup: () => {
      forget();
      remove();
    },
  };
}
