/** The one error the script and proxy config checks throw: where in the endpoint's section, and what is wrong. */
import type { ConfigPath } from './types';

/** A config value this module refuses, with where it is (from the endpoint's object down) and a message for the person who wrote it. */
export class RuleError extends Error {
  constructor(
    readonly path: ConfigPath,
    message: string,
    /** `key` when the key itself is wrong (an unknown property), else the value is. */
    readonly target: 'value' | 'key' = 'value',
  ) {
    super(message);
    this.name = 'RuleError';
  }
}
