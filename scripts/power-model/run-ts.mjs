// Runs one of this folder's TypeScript entry points with Node alone: esbuild (already installed with
// tsup) bundles it in memory and Node imports the result. Usage: node scripts/power-model/run-ts.mjs
// <entry.ts> [arguments…]
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const [entry, ...rest] = process.argv.slice(2)
if (!entry) {
  process.stderr.write('usage: node scripts/power-model/run-ts.mjs <entry.ts> [arguments…]\n')
  process.exit(2)
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const result = await build({
  entryPoints: [resolve(entry)],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  write: false,
  packages: 'external',
  absWorkingDir: root,
})
const code = result.outputFiles[0]?.text ?? ''
// Written one folder below the root, as dist/ is, so that bare imports resolve against the project's
// node_modules and src/platform/data-files.ts finds data/ where it does for the source and the package.
const { mkdirSync, writeFileSync, rmSync } = await import('node:fs')
mkdirSync(resolve(root, '.power-model-run'), { recursive: true })
const out = resolve(root, `.power-model-run/run-${process.pid}.mjs`)
writeFileSync(out, code)
process.argv = [process.argv[0] ?? 'node', resolve(entry), ...rest]
try {
  await import(pathToFileURL(out).href)
} finally {
  rmSync(out, { force: true })
}
