import { defineConfig } from 'tsup'

// The test setup builds without declarations (WATTPRINT_BUILD_DTS=0) for speed; it then leaves dist/
// uncleaned, so the declarations of the last full build stay.
const withDeclarations = process.env.WATTPRINT_BUILD_DTS !== '0'

// Three entries: the library, the CLI (bin) and the sampler worker, which the library starts as a
// worker_thread from a file next to itself (dist/worker.js).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli/main.ts',
    worker: 'src/sampling/worker.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: withDeclarations ? { entry: { index: 'src/index.ts' } } : false,
  sourcemap: true,
  clean: withDeclarations,
  splitting: true,
  treeshake: true,
  // zod/mini is bundled and tree-shaken to the validators used (about 26 kB); every other dependency
  // stays external and is imported only when needed.
  noExternal: ['zod'],
})
