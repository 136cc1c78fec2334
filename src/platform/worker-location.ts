import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { packageRoot } from '../core/package-root.js'

/**
 * Where the sampler worker's file is. Bundled, this module lives in dist/ next to worker.js; run from
 * source (tests), the worker is the built dist/worker.js. Null when neither exists (an app bundler that
 * dropped the file): the tracker then samples inline and says so.
 */
export function samplerWorkerUrl(): URL | null {
  for (const candidate of [
    new URL('./worker.js', import.meta.url),
    new URL('dist/worker.js', packageRoot()),
  ]) {
    if (existsSync(fileURLToPath(candidate))) return candidate
  }
  return null
}
