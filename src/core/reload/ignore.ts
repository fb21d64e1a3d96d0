/** Which paths below the served folder the watcher skips: `.git`, `node_modules`, dotfiles (unless served) and the user's globs. */
const ALWAYS_IGNORED = new Set(['.git', 'node_modules']);

/** A glob as a RegExp: `**` crosses folders, `*` and `?` do not, `[...]` is a class. Throws on a malformed one. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        source += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else source += '[^/]*';
    } else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) throw new SyntaxError(`the glob "${glob}" has a "[" with no closing "]"`);
      const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      source += `[${body}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Decides which root-relative paths (`a/b.css`) are ignored. */
export class IgnoreRules {
  private readonly byName: RegExp[] = [];
  private readonly byPath: RegExp[] = [];

  constructor(
    globs: readonly string[],
    private readonly dotfiles: boolean,
  ) {
    for (const glob of globs) {
      const trimmed = glob.replace(/^\.?\//, '').replace(/\/+$/, '');
      if (trimmed.includes('/')) this.byPath.push(globToRegExp(trimmed));
      else this.byName.push(globToRegExp(trimmed));
    }
  }

  /** True when `relative` (segments joined by "/") or a folder it is in is ignored. */
  ignores(relative: string): boolean {
    const segments = relative.split('/');
    let prefix = '';
    for (const segment of segments) {
      if (ALWAYS_IGNORED.has(segment) || (!this.dotfiles && segment.startsWith('.'))) return true;
      if (this.byName.some((r) => r.test(segment))) return true;
      prefix = prefix === '' ? segment : `${prefix}/${segment}`;
      if (this.byPath.some((r) => r.test(prefix))) return true;
    }
    return false;
  }
}
