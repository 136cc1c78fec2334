import { defineConfig } from 'tsup'

// The test setup builds without declarations (WATTPRINT_BUILD_DTS=0) for speed; it then leaves dist/
// uncleaned, so the declarations of the last full build stay.
const withDeclarations = process.env.WATTPRINT_BUILD_DTS !== '0'

// The integrations with runtimes and servers, each published under a subpath of its own
// (`wattprint/fastify`): dist/<name>.js and .d.ts.
const integrations = {
  fastify: 'src/integrations/fastify.ts',
  express: 'src/integrations/express.ts',
  onnxruntime: 'src/integrations/onnxruntime.ts',
  transformers: 'src/integrations/transformers.ts',
  'node-llama-cpp': 'src/integrations/node-llama-cpp.ts',
  tfjs: 'src/integrations/tfjs.ts',
}

// The library, the CLI (bin), the sampler worker, which the library starts as a worker_thread from a file
// next to itself (dist/worker.js), and the integrations.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli/main.ts',
    worker: 'src/sampling/worker.ts',
    ...integrations,
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: withDeclarations ? { entry: { index: 'src/index.ts', ...integrations } } : false,
  sourcemap: true,
  clean: withDeclarations,
  splitting: true,
  treeshake: true,
  // zod/mini is bundled and tree-shaken to the validators used (about 26 kB); every other dependency
  // stays external and is imported only when needed.
  noExternal: ['zod'],
})
