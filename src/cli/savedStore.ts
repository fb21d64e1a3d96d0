/**
 * The CLI inspector's saved messages: one JSON file per served folder in the user's state
 * directory ($XDG_STATE_HOME/echo-preview/, else ~/.local/state/echo-preview/), which no page can
 * read (the browser's storage of an origin can). The directory is 0700, the file 0600, written
 * whole to a new file and renamed over the old one; read with the bounded reader (a FIFO, a huge
 * or a garbled file is an empty list and one warning, never a hang).
 */
import { constants, promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SavedMessageStore } from '../core/inspector/saved';
import { readUserFile } from '../core/userFile';
import { MAX_SAVED_LIST_BYTES, checkSavedMessages, type SavedMessage } from '../shared/protocol';

/** The file: the list and the folder it belongs to, whose path may be long (PATH_MAX is 4096). */
const MAX_FILE_BYTES = MAX_SAVED_LIST_BYTES + 16 * 1024;

/** Where Echo Preview keeps its state: `$XDG_STATE_HOME/echo-preview` (an absolute one), else `~/.local/state/echo-preview`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'echo-preview');
}

/** The file of `folder`'s saved messages in `dir`: `saved-<name>-<hash of the path>.json`. */
export function savedFileOf(dir: string, folder: string): string {
  const hash = createHash('sha256').update(folder).digest('hex').slice(0, 16);
  const name = path.basename(folder).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return path.join(dir, `saved-${name || 'root'}-${hash}.json`);
}

/**
 * The store of `folder` (an absolute, real path) in `dir`. `warn` gets one line when the file
 * cannot be read (once per reason, until it reads again).
 */
export function savedStore(dir: string, folder: string, warn: (line: string) => void): SavedMessageStore & { file: string } {
  const file = savedFileOf(dir, folder);
  let warned: string | undefined;
  // One write at a time, in order: the last storeSaved is what the file holds.
  let writing: Promise<unknown> = Promise.resolve();

  const unreadable = (reason: string): SavedMessage[] => {
    if (warned !== reason) warn(`the inspector's saved messages in ${file} cannot be read: ${reason}; it shows none, and the next save replaces the file`);
    warned = reason;
    return [];
  };

  return {
    file,
    async load() {
      const read = await readUserFile(file, MAX_FILE_BYTES);
      if (!read.ok) return read.missing ? [] : unreadable(read.reason);
      let value: unknown;
      try {
        value = JSON.parse(read.text);
      } catch {
        return unreadable('it is not JSON');
      }
      const messages = typeof value === 'object' && value !== null ? checkSavedMessages((value as { messages?: unknown }).messages) : undefined;
      if (messages === undefined || !messages.ok) return unreadable(`it holds no list of saved messages${messages === undefined ? '' : ` (${messages.error})`}`);
      warned = undefined;
      return messages.messages;
    },
    store(messages) {
      const text = `${JSON.stringify({ folder, messages })}\n`;
      const done = writing.then(() => replace(dir, file, text));
      writing = done.catch(() => undefined);
      return done.catch((error: unknown) => {
        throw new Error(`could not save the messages in ${file}: ${(error as Error).message}`);
      });
    },
  };
}

/** Writes `text` to a new 0600 file in `dir` (made 0700) and renames it over `file`. */
async function replace(dir: string, file: string, text: string): Promise<void> {
  await privateDir(dir);
  const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // A new file (O_EXCL: never one that is there, nor a symlink's target), ours alone whatever the umask.
  const handle = await fs.open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

/** Makes `dir` (and what is above it, 0700 as XDG says) and leaves it a directory only its owner may enter. */
async function privateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const stats = await fs.stat(dir);
  if (!stats.isDirectory()) throw new Error(`${dir} is not a directory`);
  if ((stats.mode & 0o777) !== 0o700) await fs.chmod(dir, 0o700);
}
