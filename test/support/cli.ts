/** Runs the bundled CLI as a child process and reads its ready line. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './http';

export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

export interface CliRun {
  child: ChildProcess;
  /** The first stdout line. */
  ready: string;
  url: string;
  port: number;
  /** All stdout so far (grows while the process runs). */
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI and resolves once it prints its ready line (or rejects if it exits first). */
export function startCli(args: string[], options: { cwd?: string; script?: string } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [options.script ?? CLI, ...args], { cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 10 s; stdout: ${out}; stderr: ${err}`));
    }, 10_000);
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline === -1 || timer === undefined) return;
      clearTimeout(timer);
      const ready = out.slice(0, newline);
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(ready);
      if (!match) return reject(new Error(`ready line without URL: ${ready}`));
      resolve({ child, ready, url: match[0], port: Number(match[1]), stdout: () => out, stderr: () => err, exit });
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
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
