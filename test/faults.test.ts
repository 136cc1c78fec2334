import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import type { Meter } from '../src/meters/meter.js'
import { Sampler } from '../src/sampling/sampler.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import { startServer } from './helpers/http-server.js'
import { makePowercapTree } from './helpers/powercap.mjs'
import { expectSaneNumbers } from './helpers/sane.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-faults-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Runs a tracker on a powercap tree whose package counter the test advances at 50 W, does `fault` midway,
 * and checks what must hold whatever the fault: the run goes on, the host's own work goes on, warnings say
 * what happened, and no output holds NaN, Infinity or a negative figure.
 */
async function runThrough(
  sampling: 'worker' | 'inline',
  rangeUj: number | null,
  fault: (tree: ReturnType<typeof makePowercapTree>, counter: CounterControl) => Promise<void>,
): Promise<{ warnings: TrackerWarning[]; hostTicks: number; row: Record<string, string>; energyJ: number }> {
  const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0', energyUj: 1_000_000, rangeUj }])
  cleanups.push(() => tree.cleanup())
  const dir = tempDir()
  const control: CounterControl = { uj: 1_000_000, paused: false }
  const advance = setInterval(() => {
    control.uj += 50 * 20_000 // 50 W for 20 ms, in µJ
    if (!control.paused) tree.setEnergy('intel-rapl:0', control.uj)
  }, 20)
  cleanups.push(() => clearInterval(advance))
  let hostTicks = 0
  const host = setInterval(() => hostTicks++, 10)
  cleanups.push(() => clearInterval(host))

  const tracker = new EmissionsTracker({
    raplRoot: tree.root,
    sampling,
    intervalMs: 50,
    carbonIntensityGPerKWh: 100,
    outputDir: dir,
    logLevel: 'silent',
  })
  const warnings: TrackerWarning[] = []
  tracker.on('warning', (w) => warnings.push(w))
  await tracker.start()
  await sleep(300)
  await fault(tree, control)
  await sleep(300)
  const ticksBefore = hostTicks
  await sleep(200)
  const record = await tracker.stop()
  expect(hostTicks).toBeGreaterThan(ticksBefore)
  expectSaneNumbers(record, 'record')
  const [row] = readCsv(join(dir, 'emissions.csv'))
  expectSaneNumbers(row)
  expect(record.cpu.source).toBe('rapl')
  return { warnings, hostTicks, row: row ?? {}, energyJ: record.cpu.energyKWh * 3.6e6 }
}

/** The counter the test advances: its value in µJ, and whether writes to the file are held back. */
interface CounterControl {
  uj: number
  paused: boolean
}

const codes = (warnings: TrackerWarning[]) => new Set(warnings.map((w) => w.code))

describe.each(['worker', 'inline'] as const)('faults mid-run, %s sampling', (sampling) => {
  it('a counter file that vanishes and comes back: bridged, warned, recovered', async () => {
    const { warnings, energyJ } = await runThrough(sampling, 262_143_328_850, async (tree, counter) => {
      const path = tree.energyPath('intel-rapl:0')
      counter.paused = true
      renameSync(path, `${path}.away`)
      await sleep(250)
      renameSync(`${path}.away`, path)
      counter.paused = false
    })
    expect(codes(warnings)).toContain('METER_READ_FAILED')
    expect(codes(warnings)).toContain('METER_RECOVERED')
    // About 50 W over the run (~0.8 s): the counter kept counting while unreadable, and bridging loses nothing.
    expect(energyJ).toBeGreaterThan(20)
  })

  it('a counter file that becomes unreadable (a directory in its place)', async () => {
    const { warnings } = await runThrough(sampling, 262_143_328_850, async (tree, counter) => {
      const path = tree.energyPath('intel-rapl:0')
      counter.paused = true
      renameSync(path, `${path}.away`)
      mkdirSync(path)
      await sleep(250)
      rmSync(path, { recursive: true })
      renameSync(`${path}.away`, path)
      counter.paused = false
    })
    expect(codes(warnings)).toContain('METER_READ_FAILED')
  })

  it('a counter that jumps backwards with no known range: a reset, 0 J for that interval', async () => {
    const { warnings } = await runThrough(sampling, null, async (_, counter) => {
      counter.uj = 10
      await sleep(100)
    })
    expect(codes(warnings)).toContain('COUNTER_RESET')
  })

  it('a counter that jumps backwards with a known range: an implausible wrap, 0 J for that interval', async () => {
    const { warnings } = await runThrough(sampling, 262_143_328_850, async (_, counter) => {
      counter.uj = 10
      await sleep(100)
    })
    expect(codes(warnings)).toContain('COUNTER_IMPLAUSIBLE')
  })
})

describe('other faults', () => {
  it('an intensity API that fails leaves a sane row on the static figure', async () => {
    const api = await startServer({ '/v3/carbon-intensity/latest': () => ({ status: 500, body: 'oops' }) })
    cleanups.push(() => api.close())
    const dir = tempDir()
    const tracker = new EmissionsTracker({
      zone: 'FR',
      electricityMapsToken: 't',
      electricityMapsUrl: api.url,
      outputDir: dir,
      logLevel: 'silent',
      sampling: 'inline',
      intervalMs: 50,
      raplRoot: join(dir, 'none'),
    })
    await tracker.start()
    await sleep(150)
    const record = await tracker.stop()
    expectSaneNumbers(record, 'record')
    const [row] = readCsv(join(dir, 'emissions.csv'))
    expectSaneNumbers(row)
    expect(row?.intensity_source).toBe('electricitymaps-yearly-2025:FR')
  })
})

describe('the sampler over random counter sequences (property)', () => {
  /** A counter meter replaying scripted raw readings (NaN: a failed read). */
  const scripted = (readings: number[], rangeRaw: number | null): Meter => {
    let i = 0
    return {
      id: 'rapl-package',
      component: 'cpu',
      source: 'rapl',
      method: 'measured',
      channels: [{ name: 'package-0', kind: 'counter', unitJ: 1e-6, rangeRaw }],
      read(out: Float64Array) {
        out[0] = readings[Math.min(i++, readings.length - 1)] ?? Number.NaN
      },
    }
  }

  it('never counts negative energy, and counts exactly the truth when wraps are known', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000, max: 2 ** 36 }),
        fc.array(
          fc.record({
            step: fc.double({ min: 0, max: 0.45, noNaN: true }),
            fails: fc.boolean(),
            resets: fc.boolean(),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        fc.boolean(),
        (range, steps, knownRange) => {
          // The truth: increments below half a range, wrapping at `range`; a failed read is never followed by
          // another, so what a gap spans stays below one range (sampled more than once per wrap).
          let raw = Math.floor(range / 2)
          let truthUj = 0
          const readings = [raw]
          const resets = knownRange ? [] : steps.map((s) => s.resets)
          steps.forEach((s, i) => {
            const increment = Math.floor(s.step * range)
            if (resets[i]) {
              raw = 0 // a reset: the counter starts over, and that interval is unknowable
            } else {
              truthUj += increment
              raw = (raw + increment) % range
            }
            const previousFailed = Number.isNaN(readings.at(-1) ?? 0)
            readings.push(s.fails && !previousFailed && i < steps.length - 1 ? Number.NaN : raw)
          })
          const sampler = new Sampler([scripted(readings, knownRange ? range : null)], () => {})
          sampler.begin(0n)
          let joules = 0
          for (let i = 1; i < readings.length; i++) {
            const report = sampler.sample(BigInt(i) * 1_000_000_000n, i * 1000)
            for (const m of report.meters) {
              expect(Number.isFinite(m.joules)).toBe(true)
              expect(m.joules).toBeGreaterThanOrEqual(0)
              joules += m.joules
            }
          }
          if (knownRange) expect(Math.round(joules * 1e6)).toBe(truthUj)
          else expect(joules * 1e6).toBeLessThanOrEqual(truthUj + 1)
        },
      ),
      { numRuns: 300 },
    )
  })
})
