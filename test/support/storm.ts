/**
 * Storms of folder changes for the watcher tests: each shape sets up a folder and then changes it
 * in a tight loop of synchronous calls (rename(2), symlink(2), mkdir(2)...), run in a child
 * process of its own (this file, run as a script) so the storm never waits for the test.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface StormShape {
  name: string;
  /** Creates what the storm changes (in the test process, before the server starts). */
  setup(dir: string): void;
  /** One round of the storm (a few system calls); `n` counts rounds from 0. Storms stop after an even number of rounds (a folder renamed back and forth ends under its first name). */
  round(dir: string, n: number): void;
  /** A folder (relative) whose changes must still be reported once the storm is over. */
  watchedAfter: string;
  /** Files (relative) the storm swaps: once it is over they are served as they are on disk then. */
  served: readonly string[];
}

const write = (file: string, text: string): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

/** Swaps `name` for a new entry made by `make(temp)` with one rename over it, as a deploy tool or an editor does. */
const swap = (dir: string, name: string, make: (temp: string) => void): void => {
  const temp = path.join(dir, `${name}.tmp`);
  make(temp);
  fs.renameSync(temp, path.join(dir, name));
};

export const SHAPES: readonly StormShape[] = [
  {
    name: 'a directory symlink flipped between two releases (current.tmp -> releases/N, renamed over current)',
    setup: (dir) => {
      write(path.join(dir, 'releases', '1', 'a.txt'), 'one');
      write(path.join(dir, 'releases', '2', 'a.txt'), 'two');
      fs.symlinkSync('releases/2', path.join(dir, 'current'));
    },
    round: (dir, n) => swap(dir, 'current', (temp) => fs.symlinkSync(`releases/${(n % 2) + 1}`, temp)),
    watchedAfter: 'releases/1',
    served: ['current/a.txt'],
  },
  {
    name: 'a directory renamed back and forth',
    setup: (dir) => {
      write(path.join(dir, 'a', 'inner', 'page.html'), 'inner');
      write(path.join(dir, 'a', 'top.txt'), 'top');
    },
    round: (dir, n) => (n % 2 === 0 ? fs.renameSync(path.join(dir, 'a'), path.join(dir, 'b')) : fs.renameSync(path.join(dir, 'b'), path.join(dir, 'a'))),
    watchedAfter: 'a/inner',
    served: ['a/top.txt'],
  },
  {
    name: 'two folders swapped by three renames',
    setup: (dir) => {
      write(path.join(dir, 'a', 'inner', 'page.txt'), 'in a');
      write(path.join(dir, 'b', 'inner', 'page.txt'), 'in b');
    },
    round: (dir) => {
      fs.renameSync(path.join(dir, 'a'), path.join(dir, 't'));
      fs.renameSync(path.join(dir, 'b'), path.join(dir, 'a'));
      fs.renameSync(path.join(dir, 't'), path.join(dir, 'b'));
    },
    watchedAfter: 'a/inner',
    served: ['a/inner/page.txt', 'b/inner/page.txt'],
  },
  {
    name: 'many subfolders made and removed',
    setup: (dir) => fs.mkdirSync(path.join(dir, 'many')),
    round: (dir, n) => {
      const names = Array.from({ length: 10 }, (_, i) => path.join(dir, 'many', `d${n}-${i}`));
      for (const name of names) fs.mkdirSync(name);
      for (const name of names) fs.rmdirSync(name);
    },
    watchedAfter: 'many/late',
    served: [],
  },
  {
    name: 'a file symlink flipped between two versions',
    setup: (dir) => {
      write(path.join(dir, 'v1.txt'), 'v1');
      write(path.join(dir, 'v2.txt'), 'v2');
      fs.symlinkSync('v2.txt', path.join(dir, 'page.txt'));
    },
    round: (dir, n) => swap(dir, 'page.txt', (temp) => fs.symlinkSync(`v${(n % 2) + 1}.txt`, temp)),
    watchedAfter: '',
    served: ['page.txt'],
  },
  {
    name: 'a file appended to',
    setup: (dir) => write(path.join(dir, 'log', 'out.txt'), ''),
    round: (dir, n) => fs.appendFileSync(path.join(dir, 'log', 'out.txt'), `${n % 10}`),
    watchedAfter: 'log',
    served: ['log/out.txt'],
  },
  {
    name: 'a file saved by rename (a temporary file renamed over it)',
    setup: (dir) => write(path.join(dir, 'css', 'style.css'), 'p{}'),
    round: (dir, n) => swap(path.join(dir, 'css'), 'style.css', (temp) => fs.writeFileSync(temp, `p{order:${n}}`)),
    watchedAfter: 'css',
    served: ['css/style.css'],
  },
];

export interface Storm {
  /** Resolves when the storm has run its time, with the rounds it made. */
  done: Promise<number>;
}

/** Runs `shape` against `dir` in a child process for `length.ms` milliseconds or `length.rounds` rounds; resolves once its loop has begun. */
export function startStorm(shape: StormShape, dir: string, length: { ms: number } | { rounds: number }): Promise<Storm> {
  const limit = 'ms' in length ? `${length.ms}ms` : `${length.rounds}`;
  const child = spawn(process.execPath, [__filename, shape.name, dir, limit], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const rounds = /^rounds (\d+)$/m.exec(out);
      if (code === 0 && rounds) resolve(Number(rounds[1]));
      else reject(new Error(`the storm exited with ${code}: ${out}`));
    });
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.startsWith('started\n')) resolve({ done });
    });
    done.catch(reject);
  });
}

if (require.main === module) {
  const [name, dir, limit] = process.argv.slice(2);
  const shape = SHAPES.find((s) => s.name === name);
  if (shape === undefined) throw new Error(`no storm shape named ${name}`);
  const end = limit.endsWith('ms') ? Date.now() + parseInt(limit, 10) : Infinity;
  const rounds = limit.endsWith('ms') ? Infinity : Number(limit);
  let n = 0;
  process.stdout.write('started\n');
  while (Date.now() < end && n < rounds) {
    for (let i = 0; i < 16; i++) shape.round(dir, n++);
  }
  process.stdout.write(`rounds ${n}\n`);
}
