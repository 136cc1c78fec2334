import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readCsv } from './helpers/csv.js'
import { withRawEnvironment } from './helpers/raw-environment.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-env-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A name with the byte 0xff (not UTF-8), and a value with the byte 0xfe: both as `env $'FOO\xff=1'` makes them. */
const ODD = ['FOO\\377=1', 'ODD_VALUE=a\\376b']

/** `argv` run with the odd entries in its environment (and the usual test settings). */
function runOdd(argv: string[], dir: string) {
  const [program, ...args] = withRawEnvironment(ODD, argv)
  return spawnSync(program as string, args, {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, WATTPRINT_CARBON_INTENSITY: '100', WATTPRINT_RAPL_ROOT: join(dir, 'none') },
    timeout: 30_000,
  })
}

describe('an environment variable whose name is not UTF-8', () => {
  it('neither aborts `wattprint run` nor stops the command; the row is written', () => {
    const dir = tempDir()
    const run = runOdd(
      [process.execPath, resolve('dist/cli.js'), 'run', '-q', '-o', dir, '--', 'echo', 'RAN'],
      dir,
    )
    // Before: "FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal", exit 134, the command never ran.
    expect(run.stderr).not.toContain('FATAL ERROR')
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toBe('RAN\n')
    expect(readCsv(join(dir, 'emissions.csv'))[0]?.status).toBe('finished')
  })

  it('a tracker started in such an environment samples in its worker thread, and writes its row', () => {
    const dir = tempDir()
    const script = join(dir, 'train.mjs')
    writeFileSync(
      script,
      `import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
      const tracker = new EmissionsTracker({ outputDir: ${JSON.stringify(dir)}, intervalMs: 50, logLevel: 'silent' })
      await tracker.start()
      await new Promise((r) => setTimeout(r, 300))
      const record = await tracker.stop()
      console.log(JSON.stringify({ status: record.status, notes: record.notes }))`,
    )
    const run = runOdd([process.execPath, script], dir)
    expect(run.stderr).not.toContain('FATAL ERROR')
    expect(run.status, run.stderr).toBe(0)
    const record = JSON.parse(run.stdout) as { status: string; notes: string[] }
    expect(record.status).toBe('finished')
    // Not the inline fallback: the worker itself started.
    expect(record.notes.join('\n')).not.toContain('sampled on the main thread')
    expect(readCsv(join(dir, 'emissions.csv'))).toHaveLength(1)
  })
})
