/**
 * A config file that is not a plain readable file (a FIFO, a device, a socket, a directory, a
 * symlink loop, a huge, unreadable or empty file, one replaced while it is read): a precise
 * refusal naming the file, at start (the CLI exits 1) and while running (the last good config
 * is kept and later edits apply), never a hang. Where a hang is the bug, the CLI runs as a child
 * process and every wait is bounded, so the test fails instead of hanging.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, readSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CLI, runCli, startCli, type CliRun } from '../support/cli';
import { REPO_ROOT, tempDir } from '../support/http';
import { echoAll, openClient } from '../support/ws';

const NAME = '.echo-preview.json';
const GOOD = JSON.stringify({ endpoints: { '/websocket': { mode: 'echo' } } });
const LIMIT = 4 * 1024 * 1024;
/** How long a CLI may take to refuse a config before the test calls it a hang. */
const BOUND_MS = 8000;

function mkfifo(...files: string[]): void {
  execFileSync('mkfifo', files);
}

/** A listening Unix socket at `file`. */
function socketAt(file: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(file, () => resolve(server));
  });
}

/** Writes the config as editors that save by rename do: a temporary file, renamed over it. */
function saveByRename(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

/** The exit of `child` once it is sent `signal`; SIGKILLed (and reported so) if it has not exited within BOUND_MS. */
async function exitOn(child: ChildProcess, exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>, signal: NodeJS.Signals): Promise<unknown> {
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`still running ${BOUND_MS} ms after ${signal}`), BOUND_MS)));
  const result = await Promise.race([exit, hung]);
  clearTimeout(timer);
  if (typeof result === 'string') {
    child.kill('SIGKILL');
    await exit;
  }
  return result;
}

/** Resolves once the CLI's stderr holds `text`; rejects after BOUND_MS with what it holds. */
function stderrHas(run: CliRun, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      run.child.stderr?.off('data', check);
      reject(new Error(`no ${JSON.stringify(text)} on stderr; it has: ${run.stderr()}`));
    }, BOUND_MS);
    function check(): void {
      if (!run.stderr().includes(text)) return;
      clearTimeout(timer);
      run.child.stderr?.off('data', check);
      resolve();
    }
    run.child.stderr?.on('data', check);
    check();
  });
}

/** Runs the CLI as a user other than root (root reads anything): as nobody when the test runs as root. */
function runCliUnprivileged(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const ids = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'], ...ids });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI still running after ${BOUND_MS} ms: ${stderr}`));
    }, BOUND_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A file whose size says 0 but which holds more than LIMIT bytes (Linux's symbol table), or undefined. */
function lyingFile(): string | undefined {
  const file = '/proc/kallsyms';
  try {
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(1024 * 1024);
      let total = 0;
      for (let n = readSync(fd, buffer); n > 0 && total <= LIMIT; n = readSync(fd, buffer)) total += n;
      return total > LIMIT ? file : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

interface MadeFile {
  file: string;
  args?: string[];
  done?: () => Promise<void>;
}

interface StartCase {
  name: string;
  /** Makes the bad file in `dir`; returns the config file the message names and the CLI's extra arguments. */
  make: (dir: string) => Promise<MadeFile> | MadeFile;
  reason: string | ((dir: string) => string);
}

const START_CASES: StartCase[] = [
  { name: 'a FIFO at the default name', make: (dir) => (mkfifo(path.join(dir, NAME)), { file: path.join(dir, NAME) }), reason: 'it is a named pipe (FIFO), not a regular file' },
  {
    name: 'a FIFO given by --config',
    make: (dir) => (mkfifo(path.join(dir, 'pipe.json')), { file: path.join(dir, 'pipe.json'), args: ['--config', path.join(dir, 'pipe.json')] }),
    reason: 'it is a named pipe (FIFO), not a regular file',
  },
  {
    name: 'a symlink to a FIFO',
    make: (dir) => (mkfifo(path.join(dir, 'pipe')), symlinkSync(path.join(dir, 'pipe'), path.join(dir, NAME)), { file: path.join(dir, NAME) }),
    reason: (dir) => `it is a symlink to ${path.join(dir, 'pipe')}, a named pipe (FIFO), not a regular file`,
  },
  { name: 'a symlink to /dev/zero', make: (dir) => (symlinkSync('/dev/zero', path.join(dir, NAME)), { file: path.join(dir, NAME) }), reason: 'it is a symlink to /dev/zero, a character device, not a regular file' },
  {
    name: 'a symlink to /dev/urandom given by --config',
    make: (dir) => (symlinkSync('/dev/urandom', path.join(dir, 'random.json')), { file: path.join(dir, 'random.json'), args: ['--config', path.join(dir, 'random.json')] }),
    reason: 'it is a symlink to /dev/urandom, a character device, not a regular file',
  },
  { name: '--config /dev/null', make: () => ({ file: '/dev/null', args: ['--config', '/dev/null'] }), reason: 'it is a character device, not a regular file' },
  { name: 'a directory', make: (dir) => (mkdirSync(path.join(dir, NAME)), { file: path.join(dir, NAME) }), reason: 'it is a directory, not a regular file' },
  {
    name: 'a symlink to a directory',
    make: (dir) => (mkdirSync(path.join(dir, 'sub')), symlinkSync(path.join(dir, 'sub'), path.join(dir, NAME)), { file: path.join(dir, NAME) }),
    reason: (dir) => `it is a symlink to ${path.join(dir, 'sub')}, a directory, not a regular file`,
  },
  {
    name: 'a socket',
    make: async (dir) => {
      const server = await socketAt(path.join(dir, NAME));
      return { file: path.join(dir, NAME), done: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
    reason: 'it is a socket, not a regular file',
  },
  {
    name: 'a symlink loop',
    make: (dir) => (symlinkSync(path.join(dir, 'b'), path.join(dir, NAME)), symlinkSync(path.join(dir, NAME), path.join(dir, 'b')), { file: path.join(dir, NAME) }),
    reason: 'its symlinks form a loop (ELOOP)',
  },
  {
    name: 'a 100 MB file',
    make: (dir) => {
      writeFileSync(path.join(dir, NAME), GOOD);
      truncateSync(path.join(dir, NAME), 100 * 1024 * 1024);
      return { file: path.join(dir, NAME) };
    },
    reason: `it is ${100 * 1024 * 1024} bytes, over the limit of ${LIMIT} bytes (4 MiB)`,
  },
];

describe('a config file that is not a plain readable file, at start: the CLI exits 1 with a precise message', () => {
  for (const { name, make, reason } of START_CASES) {
    it(name, { timeout: 20_000 }, async () => {
      const folder = tempDir();
      try {
        const made = await make(folder.dir);
        try {
          const cli = await runCli([folder.dir, '--port', '0', ...(made.args ?? [])], BOUND_MS);
          const why = typeof reason === 'string' ? reason : reason(folder.dir);
          // A file named by --config is named with the flag that chose it.
          const flag = made.args?.includes('--config') ? '--config: ' : '';
          assert.equal(cli.stderr, `echo-preview: ${flag}${made.file}: cannot read the config file: ${why}\n`);
          assert.equal(cli.code, 1);
          assert.equal(cli.stdout, '', 'no ready line');
        } finally {
          await made.done?.();
        }
      } finally {
        folder.cleanup();
      }
    });
  }

  const lying = lyingFile();
  it('a symlink to a file whose size says 0 but holds more than 4 MiB (/proc/kallsyms)', { timeout: 20_000, skip: lying === undefined && 'needs /proc/kallsyms holding more than 4 MiB (Linux)' }, async () => {
    const folder = tempDir();
    try {
      const file = path.join(folder.dir, NAME);
      symlinkSync(lying ?? '', file);
      const cli = await runCli([folder.dir, '--port', '0'], BOUND_MS);
      assert.equal(cli.stderr, `echo-preview: ${file}: cannot read the config file: it holds more than ${LIMIT} bytes (4 MiB), the limit\n`);
      assert.equal(cli.code, 1);
    } finally {
      folder.cleanup();
    }
  });

  it('a file the system cannot read (/proc/self/mem at offset 0)', { timeout: 20_000, skip: !existsSync('/proc/self/mem') && 'needs /proc/self/mem (Linux)' }, async () => {
    const cli = await runCli(['.', '--port', '0', '--config', '/proc/self/mem'], BOUND_MS);
    assert.equal(cli.stderr, 'echo-preview: --config: /proc/self/mem: cannot read the config file: the system cannot read it (EIO)\n');
    assert.equal(cli.code, 1);
  });

  it('a file this process may not read', { timeout: 20_000 }, async () => {
    const folder = tempDir();
    try {
      const file = path.join(folder.dir, NAME);
      writeFileSync(file, GOOD);
      chmodSync(file, 0o000);
      chmodSync(folder.dir, 0o755);
      const cli = await runCliUnprivileged([folder.dir, '--port', '0']);
      assert.equal(cli.stderr, `echo-preview: ${file}: cannot read the config file: permission denied (EACCES): this process may not read it\n`);
      assert.equal(cli.code, 1);
    } finally {
      folder.cleanup();
    }
  });

  it('an empty file', { timeout: 20_000 }, async () => {
    const folder = tempDir();
    try {
      writeFileSync(path.join(folder.dir, NAME), '');
      const cli = await runCli([folder.dir, '--port', '0'], BOUND_MS);
      assert.match(cli.stderr, new RegExp(`^echo-preview: ${path.join(folder.dir, NAME).replace(/[.]/g, '\\.')}:1:1: the file is empty`));
      assert.equal(cli.code, 1);
    } finally {
      folder.cleanup();
    }
  });
});

describe('a config file replaced by one that is not a plain readable file while the CLI runs', () => {
  it('a FIFO renamed over it: refused with the last good config kept, later edits apply, SIGTERM exits', { timeout: 20_000 }, async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, NAME);
    writeFileSync(file, GOOD);
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      mkfifo(path.join(folder.dir, 'pipe'));
      renameSync(path.join(folder.dir, 'pipe'), file);
      await stderrHas(run, `echo-preview: ${file}: cannot read the config file: it is a named pipe (FIFO), not a regular file (keeping the last good config)\n`);
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      assert.deepEqual(await echoAll(ws, ['still served']), [{ data: Buffer.from('still served'), binary: false }]);
      ws.close();
      saveByRename(file, JSON.stringify({ endpoints: { '/websocket': { mode: 'echo' }, '/after': { mode: 'broadcast' } } }));
      await run.waitFor((out) => out.includes(`ws://127.0.0.1:${run.port}/after  (broadcast)\n`), 'the edit after the FIFO to apply', BOUND_MS);
    } finally {
      assert.deepEqual(await exitOn(run.child, run.exit, 'SIGTERM'), { code: 0, signal: null }, 'SIGTERM ends the CLI');
      folder.cleanup();
    }
  });

  it('each kind in turn, each refused by name and each followed by an edit that applies', { timeout: 20_000 }, async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, NAME);
    writeFileSync(file, GOOD);
    const sockets: net.Server[] = [];
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      const kinds: Array<[string, (at: string) => void | Promise<void>, string]> = [
        ['fifo', (at) => mkfifo(at), 'it is a named pipe (FIFO), not a regular file'],
        ['zero', (at) => symlinkSync('/dev/zero', at), 'it is a symlink to /dev/zero, a character device, not a regular file'],
        ['dir', (at) => (mkdirSync(`${at}.d`), symlinkSync(`${at}.d`, at)), `it is a symlink to ${path.join(folder.dir, 'dir.d')}, a directory, not a regular file`],
        ['loop', (at) => symlinkSync(file, at), 'its symlinks form a loop (ELOOP)'],
        ['huge', (at) => (writeFileSync(at, GOOD), truncateSync(at, 100 * 1024 * 1024)), `it is ${100 * 1024 * 1024} bytes, over the limit of ${LIMIT} bytes (4 MiB)`],
        ['sock', async (at) => void sockets.push(await socketAt(at)), 'it is a socket, not a regular file'],
      ];
      for (const [index, [name, make, reason]] of kinds.entries()) {
        const at = path.join(folder.dir, name);
        await make(at);
        renameSync(at, file);
        await stderrHas(run, `echo-preview: ${file}: cannot read the config file: ${reason} (keeping the last good config)\n`);
        saveByRename(file, JSON.stringify({ endpoints: { [`/after-${index}`]: { mode: 'echo' } } }));
        await run.waitFor((out) => out.includes(`ws://127.0.0.1:${run.port}/after-${index}  (echo)\n`), `the edit after ${name} to apply`, BOUND_MS);
      }
    } finally {
      assert.deepEqual(await exitOn(run.child, run.exit, 'SIGTERM'), { code: 0, signal: null }, 'SIGTERM ends the CLI');
      for (const server of sockets) server.close();
      folder.cleanup();
    }
  });
});

describe('a config file replaced between its check and its read', () => {
  it('reads either the file or a refusal of the FIFO, never hangs, while a FIFO and a file are renamed over it in turn', { timeout: 20_000 }, async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, NAME);
    writeFileSync(file, GOOD);
    // The reader: the server's own config reader in a child process, read again and again.
    const reader = `
      const { ConfigSource } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'core', 'config', 'source.js'))});
      const { ServerEvents } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'core', 'events', 'events.js'))});
      (async () => {
        const outcomes = {};
        for (let i = 0; i < 3000; i++) {
          const source = new ConfigSource(process.argv[1], [], { proxyBeyondLoopback: true }, new ServerEvents(), () => {});
          const read = await source.initial(false);
          const key = read.ok ? read.endpoints.map((e) => e.path).join(',') || 'missing' : read.problem.message;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }
        process.stdout.write(JSON.stringify(outcomes));
      })();`;
    const child = spawn(process.execPath, ['-e', reader, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let running = true;
    void exit.then(() => (running = false));
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('the reader still running after 12 s'), 12_000)));
    // The swapper: a FIFO, then a file, renamed over the config, until the reader is done.
    let swaps = 0;
    const swapping = (async () => {
      const pool: string[] = [];
      while (running) {
        if (pool.length === 0) {
          const batch = Array.from({ length: 200 }, (_, i) => path.join(folder.dir, `pipe-${swaps}-${i}`));
          mkfifo(...batch);
          pool.push(...batch);
        }
        await fs.rename(pool.pop() ?? '', file);
        const temporary = path.join(folder.dir, `good-${swaps}`);
        await fs.writeFile(temporary, GOOD); // the FIFO in place meanwhile
        await fs.rename(temporary, file);
        await fs.readFile(file); // the file in place about as long
        swaps++;
      }
    })();
    try {
      const result = await Promise.race([exit, hung]);
      assert.deepEqual(result, { code: 0, signal: null }, `the reader did not finish: ${String(result)}`);
      const outcomes = JSON.parse(out) as Record<string, number>;
      const allowed = ['/websocket', 'cannot read the config file: it is a named pipe (FIFO), not a regular file', 'cannot read the config file: it was replaced 3 times while being read; save it once more'];
      assert.deepEqual(Object.keys(outcomes).filter((key) => !allowed.includes(key)), [], `outcomes: ${out}`);
      assert.ok(outcomes['/websocket'] > 0 && outcomes[allowed[1]] > 0, `both the file and the FIFO were read: ${out} (${swaps} swaps)`);
    } finally {
      clearTimeout(timer);
      if (running) child.kill('SIGKILL');
      await exit;
      await swapping;
      folder.cleanup();
    }
  });
});
