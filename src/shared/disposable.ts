/** What every start or subscription returns: `dispose()` ends it. A type only, so any layer may name it. */
export interface Disposable {
  dispose(): void;
}
