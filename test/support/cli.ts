/** Runs the bundled CLI as a child process (on a pipe or a pseudo-terminal) and reads its output. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT, tempDir } from './http';

export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

export interface CliRun {
  child: ChildProcess;
  /** The first stdout line. */
  ready: string;
  url: string;
  port: number;
  /** All stdout so far (grows while the process runs), decoded as UTF-8. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves once `predicate` holds for stdout so far; rejects after `timeoutMs` naming `what`. */
  waitFor: (predicate: (stdout: string) => boolean, what: string, timeoutMs?: number) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let stateHome: string | undefined;

/**
 * The CLI's XDG_STATE_HOME in tests (where it keeps the inspector's saved messages): one
 * temporary folder per test process, removed at its exit, never the person's own.
 */
export function testStateHome(): string {
  if (stateHome === undefined) {
    const { dir, cleanup } = tempDir('echo-state-');
    stateHome = dir;
    process.once('exit', cleanup);
  }
  return stateHome;
}

/** The CLI's environment: this process's, its state in testStateHome() unless `env` says otherwise. */
function cliEnv(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  return { ...process.env, XDG_STATE_HOME: testStateHome(), ...env };
}

/** True when util-linux `script` can give the CLI a pseudo-terminal. */
export const HAS_SCRIPT = ((): boolean => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts the CLI and resolves once it prints its ready line (or rejects if it exits first).
 * With `tty`, the CLI's stdout is a pseudo-terminal (through `script`), as in a person's terminal.
 */
export function startCli(args: string[], options: { cwd?: string; script?: string; tty?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const argv = [process.execPath, options.script ?? CLI, ...args];
  const spawnOptions = { cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], env: cliEnv(options.env) };
  const child = options.tty ? spawn('script', ['-qfec', argv.map(shellQuote).join(' '), '/dev/null'], spawnOptions) : spawn(argv[0], argv.slice(1), spawnOptions);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (predicate: (stdout: string) => boolean, what: string, timeoutMs = 10_000): Promise<void> =>
    new Promise((resolve, reject) => {
      if (predicate(out)) return resolve();
      const onData = (): void => {
        if (!predicate(out)) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve();
      };
      const timer = setTimeout(() => {
        child.stdout.off('data', onData);
        reject(new Error(`timed out waiting for ${what}; stdout so far:\n${out.slice(-2000)}`));
      }, timeoutMs);
      child.stdout.on('data', onData);
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 10 s; stdout: ${out}; stderr: ${err}`));
    }, 10_000);
    let ready = false;
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline === -1 || ready) return;
      ready = true;
      clearTimeout(timer);
      const line = out.slice(0, newline).replace(/\r$/, '');
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (!match) return reject(new Error(`ready line without URL: ${line}`));
      resolve({ child, ready: line, url: match[0], port: Number(match[1]), stdout: () => out, stderr: () => err, waitFor, exit });
    });
    void exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code} before it was ready; stderr: ${err}`));
    });
  });
}

/** Runs the CLI to completion (for error cases) with a time limit. */
export function runCli(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: cliEnv(undefined) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI still running after ${timeoutMs} ms: ${stdout} ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Characters in `output` that a terminal or log must never get raw (control, format, separator,
 * lone surrogate), with the line ends a pipe (\n) or a terminal (\r\n) uses left out.
 */
export function unsafeCharsIn(output: string): string[] {
  const found = output.replace(/\r?\n/g, '').match(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu) ?? [];
  return found.map((char) => `U+${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** A WebSocket upgrade request with the given Origin, as bytes (latin1, so obs-text stays one byte). */
export function upgradeRequest(port: number, origin: string, target = '/websocket'): Buffer {
  return Buffer.from(
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: ${origin}\r\n\r\n`,
    'latin1',
  );
}
