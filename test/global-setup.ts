import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Builds dist/ once before the tests (without type declarations, for speed): the worker sampler runs the
 * built dist/worker.js, and child-process tests run the built package as users get it.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../node_modules/tsup/dist/cli-default.js', import.meta.url)), '--silent'],
    {
      cwd: root,
      env: { ...process.env, WATTPRINT_BUILD_DTS: '0' },
      stdio: 'inherit',
    },
  )
}
