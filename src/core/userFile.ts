/** Reads a file a person named (the config file) without ever blocking on it or reading it without bound. */
import { constants, promises as fs, type Stats } from 'node:fs';

/** The text of the file; or it is not there; or why it cannot be read, as a clause ("it is a directory, …"). */
export type UserFileRead = { ok: true; text: string } | { ok: false; missing: true } | { ok: false; missing: false; reason: string };

/**
 * Never wait: a FIFO swapped in after the check opens at once (and is then refused by its type)
 * instead of blocking a thread until someone writes to it. Never become a terminal's owner.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** Checks and opens in a row that may find the file replaced in between (a save by rename) before giving up. */
const ATTEMPTS = 3;

/** Largest single read; a file is read in one go up to this, more in steps of it. */
const MAX_CHUNK = 1024 * 1024;

/**
 * Reads `file` (following symlinks) as UTF-8 if it is a regular file of at most `maxBytes`.
 * The path is checked first (stat: its type and size), so a FIFO, a device, a socket or a
 * directory is never opened; then it is opened without blocking and the descriptor itself is
 * verified (fstat: a regular file, the same device and inode as checked), so what is read is
 * what was checked even if the path is replaced in between. The read stops one byte past
 * `maxBytes`, whatever size the file claims. Never rejects.
 */
export async function readUserFile(file: string, maxBytes: number): Promise<UserFileRead> {
  for (let attempt = 1; ; attempt++) {
    let checked: Stats;
    try {
      checked = await fs.stat(file);
    } catch (error) {
      return failed(error);
    }
    if (!checked.isFile()) return { ok: false, missing: false, reason: await notRegular(file, checked) };
    if (checked.size > maxBytes) return tooLarge(`it is ${checked.size} bytes, over the limit of`, maxBytes);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, OPEN_FLAGS);
    } catch (error) {
      if (attempt < ATTEMPTS) continue; // replaced in between (by a socket, a directory, nothing): check again
      return failed(error);
    }
    try {
      const opened = await handle.stat();
      if (!opened.isFile() || opened.dev !== checked.dev || opened.ino !== checked.ino) {
        if (attempt < ATTEMPTS) continue; // replaced between the check and the open: check the new one
        return { ok: false, missing: false, reason: `it was replaced ${ATTEMPTS} times while being read; save it once more` };
      }
      if (opened.size > maxBytes) return tooLarge(`it is ${opened.size} bytes, over the limit of`, maxBytes);
      const bytes = await readAtMost(handle, opened.size, maxBytes);
      if (bytes === undefined) return tooLarge('it holds more than', maxBytes, ', the limit');
      return { ok: true, text: bytes.toString('utf8') };
    } catch (error) {
      return failed(error);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
}

/** The bytes up to the end of the file, or undefined once there are more than `maxBytes`. */
async function readAtMost(handle: fs.FileHandle, size: number, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  // One byte more than the size: a regular file ends in one read, and the next sees its end.
  const chunk = Math.min(Math.max(size + 1, 4096), MAX_CHUNK);
  for (;;) {
    const buffer = Buffer.allocUnsafe(Math.min(chunk, maxBytes + 1 - total));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) return undefined;
  }
}

/** `${before} 4194304 bytes (4 MiB)${after}`. */
function tooLarge(before: string, maxBytes: number, after = ''): UserFileRead {
  const mib = maxBytes % (1024 * 1024) === 0 ? ` (${maxBytes / (1024 * 1024)} MiB)` : '';
  return { ok: false, missing: false, reason: `${before} ${maxBytes} bytes${mib}${after}` };
}

/** What a path that is not a regular file is: "a named pipe (FIFO)", "a directory". */
export function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return stats.isFile() ? 'a regular file' : 'something other than a file';
}

/** What the file is instead of a regular file, and where its symlink leads if it is one. */
async function notRegular(file: string, stats: Stats): Promise<string> {
  const link = await fs.lstat(file).then((s) => s.isSymbolicLink(), () => false);
  const target = link ? await fs.realpath(file).catch(() => undefined) : undefined;
  return `${target === undefined ? 'it is' : `it is a symlink to ${target},`} ${kindOf(stats)}, not a regular file`;
}

/** Why `error` (from stat, open or read) keeps the file from being read: undefined when it is simply not there. */
export function unreadableReason(error: unknown): string | undefined {
  const read = failed(error);
  return read.ok || read.missing ? undefined : read.reason;
}

function failed(error: unknown): UserFileRead {
  const { code, message } = error instanceof Error ? (error as NodeJS.ErrnoException) : { code: undefined, message: String(error) };
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { ok: false, missing: true };
    case 'ELOOP':
      return { ok: false, missing: false, reason: 'its symlinks form a loop (ELOOP)' };
    case 'EACCES':
    case 'EPERM':
      return { ok: false, missing: false, reason: `permission denied (${code}): this process may not read it` };
    case 'EAGAIN':
      // A special file that says it is regular (/proc/kmsg): opened without blocking, its read would wait.
      return { ok: false, missing: false, reason: 'reading it would wait for data (EAGAIN), as from a pipe or a device: it is no plain file' };
    case 'EIO':
      return { ok: false, missing: false, reason: 'the system cannot read it (EIO)' };
    case 'ENAMETOOLONG':
      return { ok: false, missing: false, reason: 'its path is too long (ENAMETOOLONG)' };
    default:
      return { ok: false, missing: false, reason: message };
  }
}
