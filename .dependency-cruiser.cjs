/**
 * Import cycles, checked in `npm test` (the directions between folders are ESLint's job:
 * eslint.config.mjs). A cycle that exists at run time fails; so does a type-only cycle between
 * files of one folder; type-only cycles across folders are reported as warnings.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-runtime-cycle',
      comment: 'Modules that load each other at run time: the order of evaluation decides what is undefined.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only', 'pre-compilation-only'] } },
    },
    {
      name: 'no-cycle-in-folder',
      comment: 'Files of one folder that need each other, even for types only: merge them or move the shared part out.',
      severity: 'error',
      from: { path: '^(src/.+)/[^/]+$' },
      to: { circular: true, path: '^$1/[^/]+$', viaOnly: { path: '^$1/[^/]+$' } },
    },
    {
      name: 'type-cycle-across-folders',
      comment: 'Reported, not failed: types that refer to each other across folders.',
      severity: 'warn',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: 'specify',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(test|out|dist)/' },
  },
};
