import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkpointPath } from '../src/output/checkpoint.js'
import { readCsv } from './helpers/csv.js'
import { reap, until } from './helpers/processes.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-hooks-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('a tracker in a process ended by a signal nobody handles', () => {
  it.each(['SIGHUP', 'SIGQUIT'] as const)(
    '%s (a closed terminal or ssh session; Ctrl-\\): the row is written, and the process still dies by it',
    async (signal) => {
      const dir = tempDir()
      const script = join(dir, 'train.mjs')
      writeFileSync(
        script,
        `import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
        const tracker = new EmissionsTracker({
          outputDir: ${JSON.stringify(dir)}, runId: 'job', intervalMs: 50, carbonIntensityGPerKWh: 100,
          logLevel: 'silent', raplRoot: ${JSON.stringify(join(dir, 'none'))},
        })
        await tracker.start()
        console.log('started')
        setInterval(() => {}, 1000)`,
      )
      // No core file for SIGQUIT.
      const proc = spawn('/bin/sh', ['-c', 'ulimit -c 0; exec "$@"', 'sh', process.execPath, script])
      cleanups.push(() => reap(proc.pid))
      let output = ''
      proc.stdout.on('data', (d) => (output += d))
      proc.stderr.on('data', (d) => (output += d))
      const ended = new Promise<NodeJS.Signals | null>((done) => proc.on('close', (_code, s) => done(s)))
      await until('the tracker to start', () => output.includes('started'))
      await new Promise((r) => setTimeout(r, 300))
      proc.kill(signal)
      expect(await ended, output).toBe(signal)
      // Before: no row, only the checkpoint for a later recovery.
      const [row] = readCsv(join(dir, 'emissions.csv'))
      expect(row).toMatchObject({ run_id: 'job', status: 'interrupted' })
      expect(Number(row?.duration)).toBeGreaterThan(0.25)
      expect(existsSync(checkpointPath(dir, 'job'))).toBe(false)
    },
  )
})
