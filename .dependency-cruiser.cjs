/**
 * The import graph's layering, checked by `npm run lint:imports` (and by `npm test`, so CI
 * enforces it): `depcruise src functions --config .dependency-cruiser.cjs`.
 *
 *   functions/   thin runtime entries (workerd, Node, Deno): they import src/, never the reverse.
 *   src/stats, src/noise, src/smoothing: the certification core. Pure: they import each other,
 *                the classifier interface (inference/classifier.ts, inference/backend.ts), the
 *                certificate document's types, two small utilities and @stdlib's math; no
 *                runtime, store, HTTP or inference implementation.
 *   no cycles, type-only imports included.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'src-not-to-functions',
      comment: 'src/ is the library; functions/ are the runtime entries that adapt it. The dependency goes one way.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^functions/' },
    },
    {
      name: 'core-is-pure',
      comment:
        'stats, noise and smoothing import only each other, the classifier interface, the certificate types, ' +
        'util/cooperative.ts and util/digest.ts, and @stdlib: no runtime (node:*), store, HTTP, service, ' +
        'coordinator or inference implementation (onnxruntime bindings, webgpu, the linear model).',
      severity: 'error',
      from: { path: '^src/(stats|noise|smoothing)/' },
      to: {
        pathNot: [
          '^src/(stats|noise|smoothing)/',
          '^src/inference/(classifier|backend)[.]ts$',
          '^src/protocol/certificate[.]ts$',
          '^src/util/(cooperative|digest)[.]ts$',
          '(^|/)node_modules/@stdlib/',
        ],
      },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one; say which depends on which.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are edges too: a type cycle is still a cycle, and a type from an implementation still couples.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
