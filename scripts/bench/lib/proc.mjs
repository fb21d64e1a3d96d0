// Child-process plumbing for the bench: long-running servers with a ready signal, one-shot
// commands with a time limit, CPU pinning, and free loopback ports.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { cpus } from 'node:os';
export { freePort } from '../../free-port.mjs';

/**
 * Servers run on one core and load generators on the other, so neither steals the other's CPU
 * and the comparison is one server core against one server core (nginx gets one worker).
 * Only with BENCH_PIN=1 (and two cores and taskset): by default nothing is pinned, as users run
 * it, and the scheduler shares both cores between server and load as it would on their machine.
 */
export const PINNING =
  process.env.BENCH_PIN === '1' && cpus().length >= 2 && hasCommand('taskset') ? { server: '1', load: '0' } : undefined;

export function hasCommand(name) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(`${dir}/${name}`));
}

/** The command line that runs `cmd args` on the given role's core (taskset execs, same pid). */
export function pinned(role, cmd, args) {
  return PINNING ? ['taskset', ['-c', PINNING[role], cmd, ...args]] : [cmd, args];
}

/** Children still running, and other things to undo, should the bench end early (Ctrl-C, a crash). */
const children = new Set();
const exitTasks = new Set();

/** Registers a synchronous clean-up for an early exit; returns a function that unregisters it. */
export function onEarlyExit(task) {
  exitTasks.add(task);
  return () => exitTasks.delete(task);
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

process.once('exit', () => {
  // SIGTERM, not SIGKILL: nginx's master stops its worker only when it is asked to.
  for (const child of children) child.kill('SIGTERM');
  for (const task of exitTasks) task();
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

/**
 * Starts a long-running server. `ready` is either a RegExp matched against stdout (its first
 * group is the port) or `{ port }`, polled over HTTP until it answers. Resolves with
 * `{ child, port, readyLine, startupMs, stop() }`; startupMs runs from spawn to the ready signal,
 * readyLine is the line the RegExp matched (undefined when polled).
 */
export async function startServer({ cmd, args, cwd, env, ready, role = 'server', timeoutMs = 15_000 }) {
  const [command, argv] = pinned(role, cmd, args);
  const started = performance.now();
  const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const { port, line } = await Promise.race([
    ready instanceof RegExp ? readyLine(child, ready, (chunk) => (stdout += chunk)) : pollHttp(ready.port, timeoutMs).then(() => ({ port: ready.port })),
    exited.then(({ code, signal }) => Promise.reject(new Error(`${cmd} exited (${code ?? signal}) before it was ready: ${stderr || stdout}`))),
    delay(timeoutMs).then(() => Promise.reject(new Error(`${cmd} not ready within ${timeoutMs} ms: ${stderr || stdout}`))),
  ]).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  const startupMs = performance.now() - started;
  child.stdout.resume(); // keep draining so a chatty server never blocks on a full pipe
  return {
    child,
    port,
    readyLine: line,
    startupMs,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function readyLine(child, pattern, collect) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk) => {
      collect(chunk);
      seen += chunk;
      const newline = seen.indexOf('\n');
      if (newline === -1) return;
      child.stdout.off('data', onData);
      const line = seen.slice(0, newline);
      const match = pattern.exec(line);
      if (match) resolve({ port: Number(match[1]), line });
      else reject(new Error(`unexpected ready line: ${seen.slice(0, newline)}`));
    };
    child.stdout.on('data', onData);
  });
}

async function pollHttp(port, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await answers(port)) return;
    await delay(25);
  }
  throw new Error(`nothing answered on port ${port}`);
}

function answers(port) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'HEAD', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Runs a command to completion; resolves with its output, rejects on a non-zero exit or timeout. */
export function run(cmd, args, { cwd, role, timeoutMs = 120_000, env } = {}) {
  const [command, argv] = role ? pinned(role, cmd, args) : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}): ${stderr.slice(-2000) || stdout.slice(-2000)}`));
    });
  });
}

/** Resident set size of a running process in bytes (Linux /proc). */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * CPU seconds (user + system) used so far by `pid` and all its descendants (nginx's worker is a
 * child of its master). Linux /proc; clock ticks are 1/100 s.
 */
export function cpuSecondsOfTree(pid) {
  const stats = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the process ended while we looked
    }
  }
  let ticks = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop();
    ticks += stats.get(current)?.ticks ?? 0;
    for (const [child, info] of stats) if (info.ppid === current) pending.push(child);
  }
  return ticks / 100;
}
