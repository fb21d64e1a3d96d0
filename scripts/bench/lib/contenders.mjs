// The servers under test. Each start() resolves with a running server: { port, pid, startupMs, stop() }.
// Echo Preview is always the real CLI from dist/, exactly as a user runs it: with --quiet ("ours"),
// with its default output ("closed": the inspector closed), and with its default output, --inspect
// and one feed subscriber attached ("open": the inspector open and capturing).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { attachFeed, inspectorUrlOf } from './feed.mjs';
import { freePort, onEarlyExit, startServer } from './proc.mjs';
import { REPO } from './setup.mjs';

const READY_URL = /http:\/\/127\.0\.0\.1:(\d+)\//;
/** BENCH_CLI runs another build of the CLI as "Echo Preview" (e.g. one from before a change). */
export const CLI_JS = process.env.BENCH_CLI ? path.resolve(process.env.BENCH_CLI) : path.join(REPO, 'dist', 'cli.js');
export const BARE_SERVER = path.join(REPO, 'scripts', 'bench', 'bare-server.cjs');
export const CEILING_SERVER = path.join(REPO, 'scripts', 'bench', 'ceiling-server.cjs');

/** Echo Preview's CLI serving `root` on a port of its own choosing. */
export function startOurs(root) {
  return startServer({ cmd: process.execPath, args: [CLI_JS, root, '--port', '0', '--quiet'], cwd: REPO, ready: READY_URL });
}

/** The same CLI with its default output (one line per frame at human rates, a summary when heavy). */
export function startOursDefault(root) {
  return startServer({ cmd: process.execPath, args: [CLI_JS, root, '--port', '0'], cwd: REPO, ready: READY_URL });
}

/**
 * The CLI with its default output and `--inspect`, plus one feed subscriber like the inspector
 * UI, so every frame is captured and batched out. The server's feedBytes() counts what the
 * subscriber has read so far.
 */
export async function startOursInspecting(root) {
  const server = await startServer({ cmd: process.execPath, args: [CLI_JS, root, '--port', '0', '--inspect'], cwd: REPO, ready: READY_URL });
  let feed;
  try {
    feed = await attachFeed(inspectorUrlOf(server.readyLine));
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    ...server,
    feedBytes: () => (feed.alive() ? feed.bytes() : NaN),
    stop: async () => {
      await feed.close();
      await server.stop();
    },
  };
}

/** node:http + ws echoing, nothing else (scripts/bench/bare-server.cjs). */
export function startBare() {
  return startServer({ cmd: process.execPath, args: [BARE_SERVER, '0'], cwd: REPO, ready: READY_URL });
}

/** node:http answering from memory with no checks at all: how far Node alone gets (ceiling-server.cjs). */
export function startCeiling(root) {
  return startServer({ cmd: process.execPath, args: [CEILING_SERVER, root, '0'], cwd: REPO, ready: READY_URL });
}

/**
 * nginx with its defaults (sendfile on, no open_file_cache, ETags) except: one worker, like our
 * one Node process, no access log, like our --quiet, its MIME types, and Cache-Control: no-cache
 * like ours.
 */
export async function startNginx(nginx, root) {
  const prefix = mkdtempSync(path.join(tmpdir(), 'echo-bench-nginx-'));
  const removePrefix = () => rmSync(prefix, { recursive: true, force: true });
  const forget = onEarlyExit(removePrefix);
  mkdirSync(path.join(prefix, 'logs'));
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      'daemon off;',
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/logs/error.log warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      // The page-load scenario needs real types (module scripts must be JavaScript) and, like
      // Echo Preview, Cache-Control: no-cache, so reloads revalidate instead of skipping requests.
      ...(existsSync('/etc/nginx/mime.types') ? ['  include /etc/nginx/mime.types;'] : []),
      '  default_type application/octet-stream;',
      '  etag on;',
      "  add_header Cache-Control 'no-cache';",
      '  sendfile on;',
      '  tcp_nopush on;',
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
      '}',
      '',
    ].join('\n'),
  );
  const server = await startServer({ cmd: nginx, args: ['-p', prefix, '-c', conf, '-e', `${prefix}/logs/error.log`], ready: { port } });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      forget();
      removePrefix();
    },
  };
}

/** Live Server (npm live-server) as the VS Code crowd knows it, without opening a browser. */
export async function startLiveServer(liveServerJs, root) {
  const port = await freePort();
  return startServer({
    cmd: process.execPath,
    args: [liveServerJs, root, `--port=${port}`, '--host=127.0.0.1', '--no-browser', '--quiet'],
    cwd: root,
    ready: { port },
  });
}
