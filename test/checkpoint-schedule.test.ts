import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { SampleEvent } from '../src/model/events.js'
import { checkpointPath } from '../src/output/checkpoint.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function tracker(sampling: 'worker' | 'inline'): { tracker: EmissionsTracker; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-checkpoints-'))
  dirs.push(dir)
  const t = new EmissionsTracker({
    outputDir: dir,
    runId: 'scheduled',
    sampling,
    intervalMs: 100,
    checkpointIntervalMs: 300,
    carbonIntensityGPerKWh: 100,
    logLevel: 'silent',
    raplRoot: join(dir, 'no-powercap'),
  })
  return { tracker: t, dir }
}

describe('checkpoints on the sampler schedule', () => {
  // A checkpoint used to take a reading of its own: an extra wake-up of both threads, and an interval split
  // in two at a random point (one part shorter than half the period).
  it.each(['worker', 'inline'] as const)(
    'are written from the intervals as sampled, never splitting one (%s)',
    async (sampling) => {
      const { tracker: t, dir } = tracker(sampling)
      const samples: SampleEvent[] = []
      t.on('sample', (s) => samples.push(s))
      await t.start()
      const durations: number[] = []
      for (let i = 0; i < 4; i++) {
        await sleep(350)
        durations.push(JSON.parse(readFileSync(checkpointPath(dir, 'scheduled'), 'utf8')).record.durationS)
      }
      await t.stop()
      // Every checkpoint moved on, at most a checkpoint interval and one sample behind the run.
      expect(durations.every((d, i) => i === 0 || d > (durations[i - 1] ?? 0))).toBe(true)
      expect(samples.length).toBeGreaterThan(10)
      const split = samples.slice(0, -1).filter((s) => s.intervalS < 0.05)
      expect(split.map((s) => s.intervalS)).toEqual([])
      expect(existsSync(checkpointPath(dir, 'scheduled'))).toBe(false)
    },
    20_000,
  )
})
