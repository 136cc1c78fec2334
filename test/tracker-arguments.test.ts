import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { WattprintError } from '../src/core/errors.js'
import type { TrackerWarning } from '../src/core/warnings.js'
import { track } from '../src/tracker/track.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import { captureStderr } from './helpers/stderr.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

// What plain JavaScript can pass to the tracker's methods, whatever their TypeScript types say: each bad
// value is a warning naming it and what is allowed, on the `warning` event and on stderr, and never an
// exception into the host.

const tempDir = (): string => makeTempDir('wattprint-arguments-')

/** A running inline tracker writing to a temporary folder, its warnings, and what it wrote on stderr. */
async function running(): Promise<{
  t: EmissionsTracker
  dir: string
  warnings: TrackerWarning[]
  stderr: { text: () => string }
}> {
  const dir = tempDir()
  const stderr = captureStderr()
  onCleanup(stderr.restore)
  const t = new EmissionsTracker({
    outputDir: dir,
    sampling: 'inline',
    carbonIntensityGPerKWh: 100,
    raplRoot: join(dir, 'none'),
    logLevel: 'warning',
  })
  const warnings: TrackerWarning[] = []
  t.on('warning', (w) => warnings.push(w))
  await t.start()
  return { t, dir, warnings, stderr }
}

const invalid = (warnings: readonly TrackerWarning[]) =>
  warnings.filter((w) => w.code === 'INVALID_ARGUMENT').map((w) => w.message)
// Any call here with an argument its types refuse: what plain JavaScript may pass.
const loose = (value: unknown) => value as never

describe('stop({ status })', () => {
  it.each([
    [
      'bogus',
      `stop({ status: "bogus" }): the status must be one of finished, failed, interrupted; the row is written as 'finished'.`,
    ],
    [
      'running',
      `stop({ status: "running" }): the status must be one of finished, failed, interrupted; the row is written as 'finished'.`,
    ],
    [
      'budget-exceeded',
      `stop({ status: "budget-exceeded" }): the status must be one of finished, failed, interrupted; the row is written as 'finished'.`,
    ],
    [
      'faild',
      `stop({ status: "faild" }): the status must be one of finished, failed, interrupted (did you mean 'failed'?); the row is written as 'finished'.`,
    ],
    [
      42,
      `stop({ status: 42 }): the status must be one of finished, failed, interrupted; the row is written as 'finished'.`,
    ],
  ])(
    'writes %j as finished, with a warning and a stderr line naming it and the statuses allowed',
    async (status, message) => {
      const { t, dir, warnings, stderr } = await running()
      const record = await t.stop({ status: loose(status) })
      expect(record.status).toBe('finished')
      expect(readCsv(join(dir, 'emissions.csv')).map((row) => row.status)).toEqual(['finished'])
      expect(invalid(warnings)).toEqual([message])
      expect(stderr.text()).toContain(`[wattprint warning] ${message}\n`)
    },
  )

  it('takes a status it allows as given', async () => {
    const { t, warnings } = await running()
    expect((await t.stop({ status: 'interrupted' })).status).toBe('interrupted')
    expect(invalid(warnings)).toEqual([])
  })

  it.each([null, 'failed', 3])(
    'does not throw for an argument that is not an object (%j)',
    async (options) => {
      const { t, warnings } = await running()
      const record = await t.stop(loose(options))
      expect(record.status).toBe('finished')
      expect(invalid(warnings)).toEqual([
        `stop(${JSON.stringify(options)}): the argument must be an object like { status: 'failed' }; the row is written as 'finished'.`,
      ])
    },
  )
})

describe('the other methods', () => {
  it('refuses task names that are not non-empty strings, and starts no task', async () => {
    const { t, warnings } = await running()
    t.startTask(loose(undefined))
    t.startTask('')
    expect(t.stopTask(loose(42))).toBeUndefined()
    expect(t.stopTask('undefined')).toBeUndefined()
    await t.stop()
    expect(invalid(warnings)).toEqual([
      "startTask(undefined): a task's name must be a non-empty string; no task started.",
      `startTask(""): a task's name must be a non-empty string; no task started.`,
      "stopTask(42): a task's name must be a non-empty string; no task stopped.",
    ])
    expect(warnings.filter((w) => w.code === 'UNKNOWN_TASK')).toHaveLength(1)
  })

  it('refuses progress that predict() cannot extrapolate from, without throwing', async () => {
    const { t, warnings } = await running()
    expect(t.predict(loose(undefined))).toBeNull()
    expect(t.predict({ done: Number.NaN, total: 10 })).toBeNull()
    expect(t.predict({ done: 11, total: 10 })).toBeNull()
    expect(t.predict({ done: 1, total: 0 })).toBeNull()
    await t.stop()
    expect(invalid(warnings)).toEqual([
      'predict(undefined): the argument must be an object like { done: 3, total: 20 }; no prediction made.',
      'predict({ done: NaN, total: 10 }): done must be a finite number from 0 to total (the units of work done so far); no prediction made.',
      'predict({ done: 11, total: 10 }): done must be a finite number from 0 to total (the units of work done so far); no prediction made.',
      'predict({ done: 1, total: 0 }): total must be a finite number above 0 (the units of work in all); no prediction made.',
    ])
  })

  it('refuses unknown event names (with the close match) and listeners that are not functions', async () => {
    const { t, warnings } = await running()
    t.on(loose('budgte'), () => {})
    t.once('sample', loose('not a function'))
    t.off(loose('samples'), () => {})
    await t.stop()
    expect(invalid(warnings)).toEqual([
      'on("budgte", …): no such event (did you mean \'budget\'?); the events are sample, warning, error, budget, prediction, request; nothing registered.',
      'once(\'sample\', "not a function"): the listener must be a function; nothing registered.',
      'off("samples", …): no such event (did you mean \'sample\'?); the events are sample, warning, error, budget, prediction, request; nothing removed.',
    ])
  })

  it('measure(): rejects a fn that is not a function, says so, and names a bad task name', async () => {
    const { t, warnings } = await running()
    const refused = await t.measure(loose(42)).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(WattprintError)
    expect(refused).toMatchObject({
      code: 'INVALID_ARGUMENT',
      option: 'fn',
      message: 'measure(fn): fn must be the function to measure, got 42.',
    })
    const { result, task } = await t.measure(() => 7, loose(''))
    await t.stop()
    expect(result).toBe(7)
    expect(task?.taskName).toBe('measure-1')
    expect(invalid(warnings)).toEqual([
      `measure(""): a task's name must be a non-empty string; measured as 'measure-1'.`,
    ])
  })

  it('track(): rejects a fn that is not a function before measuring anything', async () => {
    const dir = tempDir()
    const refused = await track(loose({ fit: () => {} }), { outputDir: dir, logLevel: 'silent' }).catch(
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(WattprintError)
    expect(refused).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'track(fn): fn must be the function to measure, got { fit: a function }; nothing was run.',
    })
    expect(existsSync(join(dir, 'emissions.csv'))).toBe(false)
  })
})
