import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'

// One cleanup list per test file that imports this module (vitest loads each file's modules apart), run after
// every test, last registered first: a folder is removed after whatever was using it has been stopped.
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

/** Runs `cleanup` after the current test. */
export function onCleanup(cleanup: () => void): void {
  cleanups.push(cleanup)
}

/** A new temporary folder, removed with everything in it after the current test. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
