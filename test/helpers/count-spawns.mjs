// @ts-check
// Preloaded with `node --import` (the main thread and every worker thread inherit it): appends one line
// per child_process call to the file in WATTPRINT_TEST_SPAWN_LOG, so a test can say no process was started.
import { appendFileSync } from 'node:fs'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { isMainThread } from 'node:worker_threads'

const log = process.env.WATTPRINT_TEST_SPAWN_LOG
const childProcess = createRequire(import.meta.url)('node:child_process')
const names = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']
for (const name of names) {
  const original = childProcess[name]
  childProcess[name] = function counted(/** @type {unknown[]} */ ...args) {
    if (log) {
      const thread = isMainThread ? 'main' : 'worker'
      appendFileSync(log, `${thread} ${name} ${JSON.stringify(args[0])}\n`)
    }
    return original.apply(this, args)
  }
}
// ESM importers of node:child_process see the wrapped functions too.
syncBuiltinESMExports()
