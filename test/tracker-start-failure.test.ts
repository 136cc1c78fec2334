import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'

// A failure deep inside start(), after the worker is already running: the intensity look-up rejects.
vi.mock('../src/intensity/resolve.js', () => ({
  resolveIntensity: () => Promise.reject(new Error('tables unreadable')),
}))

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('a tracker that cannot start', () => {
  it('neither throws nor rejects: an error event, a warning, a failed record, no row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-fail-'))
    dirs.push(dir)
    const tracker = new EmissionsTracker({ outputDir: dir, logLevel: 'silent' })
    const errors: TrackerWarning[] = []
    tracker.on('error', (e) => errors.push(e))
    await expect(tracker.start()).resolves.toBeUndefined()
    expect(errors.map((e) => e.code)).toEqual(['START_FAILED'])
    expect(errors[0]?.message).toContain('tables unreadable')
    const record = await tracker.stop()
    expect(record.status).toBe('failed')
    expect(record.energyKWh).toBe(0)
    expect(record.notes.join('\n')).toContain('could not start measuring')
    expect(readdirSync(dir)).toEqual([])
    expect(tracker.state).toBe('stopped')
  })
})
