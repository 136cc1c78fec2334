import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'

// A failure at the last step of start(), after the crash guard began (its first checkpoint written while
// the worker was starting): the ledger cannot be made.
vi.mock('../src/accounting/ledger.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/accounting/ledger.js')>()),
  Ledger: class {
    constructor() {
      throw new Error('no ledger today')
    }
  },
}))

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('a tracker that fails after its first checkpoint', () => {
  it('leaves neither a row nor a checkpoint that a later tracker would recover', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-fail-late-'))
    dirs.push(dir)
    const tracker = new EmissionsTracker({ outputDir: dir, logLevel: 'silent' })
    const errors: TrackerWarning[] = []
    tracker.on('error', (e) => errors.push(e))
    await tracker.start()
    expect(errors.map((e) => e.code)).toEqual(['START_FAILED'])
    expect(errors[0]?.message).toContain('no ledger today')
    const record = await tracker.stop()
    expect(record.status).toBe('failed')
    const checkpoints = join(dir, '.wattprint')
    expect(existsSync(checkpoints) ? readdirSync(checkpoints) : []).toEqual([])
    expect(readdirSync(dir).filter((f) => f !== '.wattprint')).toEqual([])
  })

  it("gives its node's lock back, so that a rank that can measure the node takes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-fail-lock-'))
    dirs.push(dir)
    // A PBS job (no local rank): the node's measurer is whoever takes the lock in the runtime folder.
    const launcher = { PBS_JOBID: '77.pbs', XDG_RUNTIME_DIR: dir }
    const saved = { ...process.env }
    Object.assign(process.env, launcher)
    try {
      const tracker = new EmissionsTracker({ saveToFile: false, logLevel: 'silent' })
      await tracker.start()
      expect(tracker.state).not.toBe('running')
      expect(readdirSync(join(dir, 'wattprint-jobs'))).toEqual([])
      const record = await tracker.stop()
      expect(record.jobRole).toBe('node')
    } finally {
      for (const name of Object.keys(launcher)) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    }
  })
})
