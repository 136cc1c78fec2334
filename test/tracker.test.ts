import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerOptions } from '../src/config/options.js'
import type { TrackerWarning } from '../src/core/warnings.js'
import { atLoad } from '../src/estimates/power-model.js'
import { modelEstimate } from '../src/meters/detect.js'
import type { SampleEvent } from '../src/model/events.js'
import { getSystemInfo } from '../src/platform/system.js'
import { track } from '../src/tracker/track.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import { type CounterDriver, driveCounters } from './helpers/driver.mjs'
import { type PowercapTree, serverTree } from './helpers/powercap.mjs'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-tracker-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A server's powercap tree whose counters a helper process advances at 45 + 30 W (packages, wrapping every
 * 2 s) and 4 + 2 W (DRAM). The driver starts frozen; `measure` runs it around `body` and freezes it before
 * returning the exact µJ it advanced (CPU, RAM), whatever the scheduling of the driver process.
 */
async function drivenServer(): Promise<{
  tree: PowercapTree
  driver: CounterDriver
  truthJ: () => Promise<{ cpu: number; ram: number }>
}> {
  const tree = serverTree()
  cleanups.push(() => tree.cleanup())
  const driver = await driveCounters([
    { path: tree.energyPath('intel-rapl:0'), watts: 45, startUj: 60e6, rangeUj: 90e6 },
    { path: tree.energyPath('intel-rapl:1'), watts: 30, startUj: 0, rangeUj: 60e6 },
    { path: tree.energyPath('intel-rapl:0:2'), watts: 4, startUj: 5e6, rangeUj: 65e9 },
    { path: tree.energyPath('intel-rapl:1:1'), watts: 2, startUj: 7e6, rangeUj: 65e9 },
  ])
  cleanups.push(() => driver.stop())
  const truthJ = async () => {
    const [p0 = 0, p1 = 0, d0 = 0, d1 = 0] = await driver.freeze()
    return { cpu: (p0 + p1) / 1e6, ram: (d0 + d1) / 1e6 }
  }
  return { tree, driver, truthJ }
}

function tracker(options: TrackerOptions): EmissionsTracker {
  return new EmissionsTracker({
    logLevel: 'silent',
    carbonIntensityGPerKWh: 300,
    outputDir: tempDir(),
    ...options,
  })
}

const joules = (kWh: number) => kWh * 3.6e6
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const block = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}

describe.each(['worker', 'inline'] as const)('EmissionsTracker with %s sampling', (sampling) => {
  it('measures RAPL packages and DRAM to the microjoule, across counter wraps', async () => {
    const { tree, driver, truthJ } = await drivenServer()
    const t = tracker({ raplRoot: tree.root, sampling, intervalMs: 100 })
    const samples: SampleEvent[] = []
    t.on('sample', (s) => samples.push(s))
    await t.start()
    await driver.run()
    await sleep(3000)
    const truth = await truthJ()
    const record = await t.stop()
    expect(truth.cpu).toBeGreaterThan(150) // three package wraps or more
    expect(record.cpu).toMatchObject({ source: 'rapl', method: 'measured' })
    expect(record.ram).toMatchObject({ source: 'rapl-dram', method: 'measured' })
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(truth.cpu, 3)
    expect(joules(record.ram.energyKWh)).toBeCloseTo(truth.ram, 3)
    // Per-package channels are kept apart in the record, in proportion to their wattage.
    const packages = record.meters.find((m) => m.id === 'rapl-package')?.channels ?? []
    expect(packages.map((c) => c.name)).toEqual(['package-0', 'package-1'])
    expect(joules(packages[0]?.energyKWh ?? 0) / joules(packages[1]?.energyKWh ?? 1)).toBeCloseTo(1.5, 1)
    expect(record.emissionsKg).toBeCloseTo(record.energyKWh * 0.3, 12)
    // The sample events add up to the record.
    expect(samples.length).toBeGreaterThanOrEqual(25)
    const sampled = samples.flatMap((s) => s.meters.filter((m) => m.component === 'cpu').map((m) => m.joules))
    expect(sampled.reduce((a, b) => a + b, 0)).toBeCloseTo(truth.cpu, 3)
  }, 20_000)

  it('takes a fresh reading for a task, however long the sampling interval', async () => {
    const tree = serverTree()
    cleanups.push(() => tree.cleanup())
    const t = tracker({ raplRoot: tree.root, sampling, intervalMs: 5000 })
    await t.start()
    // Steps a real package could take (the sampler counts anything above 2 kW per zone as a glitch).
    await sleep(20)
    tree.setEnergy('intel-rapl:0', 1000 + 2e5) // 0.2 J before the task
    t.startTask('epoch-1')
    const began = performance.now()
    await sleep(300)
    tree.setEnergy('intel-rapl:0', 1000 + 3.2e6) // 3 J during it
    tree.setEnergy('intel-rapl:1:1', 1000 + 5e5) // and 0.5 J of DRAM
    const task = t.stopTask('epoch-1')
    const wallS = (performance.now() - began) / 1000
    const record = await t.stop()
    expect(task?.taskName).toBe('epoch-1')
    expect(joules(task?.cpu.energyKWh ?? 0)).toBeCloseTo(3, 6)
    expect(joules(task?.ram.energyKWh ?? 0)).toBeCloseTo(0.5, 6)
    expect(task?.durationS).toBeGreaterThan(wallS - 0.05)
    expect(task?.durationS).toBeLessThan(wallS + 0.05)
    expect(task?.emissionsKg).toBeCloseTo(((task?.energyKWh ?? 0) * 300) / 1000, 12)
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(3.2, 6)
  })

  /**
   * No GPU, whatever this machine has: a worker that finds one reads every meter first itself (only it can
   * read a GPU), and measuring then begins there.
   */
  const noGpu = (): TrackerOptions => ({
    nvmlLibraryPath: '/nonexistent',
    nvidiaSmiPath: '/nonexistent',
    amdSmiLibraryPath: '/nonexistent',
    rocmSmiLibraryPath: '/nonexistent',
    levelZeroLibraryPath: '/nonexistent',
    hwmonRoot: tempDir(),
  })

  it('measures from a reading taken as start() is called: the energy of its own start-up counts', async () => {
    const tree = serverTree()
    cleanups.push(() => tree.cleanup())
    const t = tracker({ raplRoot: tree.root, sampling, intervalMs: 100, ...noGpu() })
    // The first reading is taken in this call, every counter at 1000 µJ; the worker, if any, is not ready.
    const started = t.start()
    tree.setEnergy('intel-rapl:0', 1000 + 2e5) // 0.2 J while it starts
    await started
    await sleep(150)
    tree.setEnergy('intel-rapl:0', 1000 + 5e5) // 0.3 J once it runs
    tree.setEnergy('intel-rapl:1:1', 1000 + 1e5) // and 0.1 J of DRAM
    const record = await t.stop()
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(0.5, 9)
    expect(joules(record.ram.energyKWh)).toBeCloseTo(0.1, 9)
  })

  it('measures a driven counter exactly across the hand-over from start() to its sampler', async () => {
    const { tree, driver, truthJ } = await drivenServer()
    const t = tracker({ raplRoot: tree.root, sampling, intervalMs: 100, ...noGpu() })
    const samples: SampleEvent[] = []
    t.on('sample', (s) => samples.push(s))
    // The counters move from just after the first reading on, all through the start-up.
    const started = t.start()
    await driver.run()
    await started
    await sleep(500)
    const truth = await truthJ()
    const record = await t.stop()
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(truth.cpu, 3)
    expect(joules(record.ram.energyKWh)).toBeCloseTo(truth.ram, 3)
    // One sequence of intervals from the first reading on, each where the last ended.
    expect(samples.map((s) => s.seq)).toEqual(samples.map((_, i) => i + 1))
    const sampled = samples.flatMap((s) => s.meters.filter((m) => m.component === 'cpu').map((m) => m.joules))
    expect(sampled.reduce((a, b) => a + b, 0)).toBeCloseTo(truth.cpu, 3)
  }, 20_000)
})

describe('EmissionsTracker', () => {
  it('keeps sampling on schedule in its worker while the main thread is blocked for 2 s', async () => {
    const { tree, driver, truthJ } = await drivenServer()
    const t = tracker({ raplRoot: tree.root, intervalMs: 100 })
    const samples: SampleEvent[] = []
    t.on('sample', (s) => samples.push(s))
    await t.start()
    await driver.run()
    await sleep(300)
    const blockedFromMs = Date.now()
    block(2000)
    const blockedToMs = Date.now()
    await sleep(300)
    const truth = await truthJ()
    const record = await t.stop()
    // The worker's intervals went on while the main thread was blocked: many ended inside the block, and
    // none came near its length (a sampler on the main thread shows one 2 s interval and none inside).
    // How many ended there, and how long the longest was, is the scheduler's to decide on a busy machine.
    const full = samples.slice(0, -1).map((s) => s.intervalS) // the last one is cut short by stop()
    expect(Math.max(...full)).toBeLessThan(1)
    const ended = samples.map((s) => Date.parse(s.timestamp))
    expect(ended.filter((ms) => ms > blockedFromMs && ms < blockedToMs).length).toBeGreaterThanOrEqual(5)
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(truth.cpu, 3)
  }, 20_000)

  it('inline, loses no counter energy over a blocked main thread, in one long interval', async () => {
    const { tree, driver, truthJ } = await drivenServer()
    const t = tracker({ raplRoot: tree.root, sampling: 'inline', intervalMs: 100 })
    const samples: SampleEvent[] = []
    t.on('sample', (s) => samples.push(s))
    await t.start()
    await driver.run()
    await sleep(200)
    block(1000)
    await sleep(200)
    const truth = await truthJ()
    const record = await t.stop()
    expect(Math.max(...samples.map((s) => s.intervalS))).toBeGreaterThan(0.95)
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(truth.cpu, 3)
  }, 20_000)

  it("estimates from the power model's CPU curve at the load when there is no RAPL, and says so", async () => {
    const dir = tempDir()
    const stat = join(dir, 'stat')
    writeFileSync(stat, 'cpu  1000 0 0 1000 0 0 0 0 0 0\n') // frozen: no load information, 50 % assumed
    const t = tracker({
      raplRoot: join(dir, 'none'),
      procStatPath: stat,
      cpuPowerW: 100,
      ramPowerW: 10,
      intervalMs: 50,
    })
    await t.start()
    await sleep(500)
    const record = await t.stop()
    expect(record.cpu).toMatchObject({ source: 'cpu-model', method: 'estimated' })
    // cpuPowerW is the TDP of all sockets the model takes; the load is unknown: half is assumed.
    const { curves } = await modelEstimate(await getSystemInfo(), { cpuPowerW: 100 })
    const cpuW = atLoad(curves.cpuW, 0.5)
    expect(record.cpu.powerW).toBeCloseTo(cpuW, 6)
    expect(record.ram).toMatchObject({ source: 'constant', method: 'estimated' })
    expect(record.ram.powerW).toBeCloseTo(10, 9)
    expect(record.gpu).toMatchObject({ source: null, energyKWh: 0 })
    expect(record.notes.join('\n')).toContain('no RAPL')
    expect(record.energyKWh).toBeCloseTo(((cpuW + 10) * record.durationS) / 3.6e6, 12)
    // The CPU's interval is the model's at that load; RAM, set by the user, has none.
    expect(record.cpu.lowKWh / record.cpu.energyKWh).toBeCloseTo(atLoad(curves.lowFactor, 0.5), 9)
    expect(record.ram.lowKWh).toBe(record.ram.energyKWh)
  })

  it('writes a running row on flush, a finished row on stop, with one run id', async () => {
    const dir = tempDir()
    const t = new EmissionsTracker({
      outputDir: dir,
      projectName: 'p',
      country: 'SE',
      logLevel: 'silent',
      sampling: 'inline',
    })
    await t.start()
    const flushed = await t.flush()
    expect(t.state).toBe('running')
    const final = await t.stop()
    const rows = readCsv(join(dir, 'emissions.csv'))
    expect(rows.map((r) => r.status)).toEqual(['running', 'finished'])
    expect(new Set(rows.map((r) => r.run_id))).toEqual(new Set([t.runId]))
    expect(flushed?.durationS).toBeLessThanOrEqual(final.durationS)
    expect(rows[1]).toMatchObject({ country_name: 'Sweden', country_iso_code: 'SWE', project_name: 'p' })
    expect(rows[1]?.intensity_source).toMatch(/^electricitymaps-yearly-\d{4}:SE$/)
  })

  it('track() returns the result with the record, and writes a failed row before rethrowing', async () => {
    const dir = tempDir()
    const options: TrackerOptions = {
      outputDir: dir,
      logLevel: 'silent',
      carbonIntensityGPerKWh: 100,
      sampling: 'inline',
    }
    const { result, record } = await track(async () => {
      await sleep(50)
      return 42
    }, options)
    expect(result).toBe(42)
    expect(record.status).toBe('finished')
    await expect(
      track(() => {
        throw new Error('training diverged')
      }, options),
    ).rejects.toThrow('training diverged')
    const rows = readCsv(join(dir, 'emissions.csv'))
    expect(rows.map((r) => r.status)).toEqual(['finished', 'failed'])
  })

  it('stops at the end of an `await using` scope', async () => {
    const dir = tempDir()
    let runId = ''
    {
      await using t = await EmissionsTracker.start({ outputDir: dir, logLevel: 'silent', sampling: 'inline' })
      runId = t.runId
      expect(t.state).toBe('running')
    }
    const rows = readCsv(join(dir, 'emissions.csv'))
    expect(rows).toHaveLength(1)
    expect(rows[0]?.run_id).toBe(runId)
  })

  it('says on every row, and once as a warning, that the world average was used', async () => {
    const warnings: TrackerWarning[] = []
    const t = new EmissionsTracker({ saveToFile: false, logLevel: 'silent', sampling: 'inline' })
    t.on('warning', (w) => warnings.push(w))
    await t.start()
    const record = await t.stop()
    expect(record.intensitySource).toBe('world-average')
    expect(record.carbonIntensityGPerKWh).toBeCloseTo(475, 9)
    expect(record.countryIsoCode).toBeNull()
    expect(warnings.filter((w) => w.code === 'LOCATION_UNKNOWN')).toHaveLength(1)
    expect(record.notes.join('\n')).toContain('world average')
  })

  it('delivers every interval to a sample listener added mid-run, and exact totals without one', async () => {
    const { tree, driver, truthJ } = await drivenServer()
    const t = tracker({ raplRoot: tree.root, intervalMs: 100 })
    await t.start()
    await driver.run()
    await sleep(350)
    // No listener so far: the worker batched its intervals; a fresh reading still sees them all.
    t.startTask('rest')
    const samples: SampleEvent[] = []
    t.on('sample', (s) => samples.push(s))
    await sleep(450)
    expect(samples.length).toBeGreaterThanOrEqual(3)
    expect(samples.every((s, i) => i === 0 || s.seq === (samples[i - 1]?.seq ?? 0) + 1)).toBe(true)
    const truth = await truthJ()
    const task = t.stopTask('rest')
    const record = await t.stop()
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(truth.cpu, 3)
    expect(task?.durationS).toBeGreaterThan(0.4)
  })

  it('survives listeners that throw', async () => {
    const t = tracker({ saveToFile: false, intervalMs: 20 })
    let calls = 0
    t.on('sample', () => {
      calls++
      throw new Error('listener bug')
    })
    await t.start()
    await sleep(150)
    const record = await t.stop()
    expect(calls).toBeGreaterThan(2)
    expect(record.status).toBe('finished')
    expect(record.durationS).toBeGreaterThan(0.1)
  })

  it('never throws after construction: misuse becomes warnings', async () => {
    const warnings: TrackerWarning[] = []
    const t = tracker({ saveToFile: false, sampling: 'inline' })
    t.on('warning', (w) => warnings.push(w))
    expect(t.stopTask('never-started')).toBeUndefined()
    t.startTask('too-early')
    expect(await t.flush()).toBeNull()
    const early = await t.stop()
    expect(early.durationS).toBe(0)
    expect(await t.stop()).toBe(early)
    await t.start()
    expect(warnings.map((w) => w.code)).toEqual([
      'UNKNOWN_TASK',
      'NOT_RUNNING',
      'NOT_RUNNING',
      'NOT_RUNNING',
      'ALREADY_STARTED',
    ])
  })

  it('returns the same record from repeated stop() calls and writes one row', async () => {
    const dir = tempDir()
    const t = new EmissionsTracker({ outputDir: dir, logLevel: 'silent', carbonIntensityGPerKWh: 10 })
    await t.start()
    const [a, b] = await Promise.all([t.stop(), t.stop()])
    expect(a).toBe(b)
    expect(readFileSync(join(dir, 'emissions.csv'), 'utf8').trim().split('\n')).toHaveLength(2)
  })

  it('starts measuring (baseline) well before start() resolves', async () => {
    const before = process.hrtime.bigint()
    const t = tracker({ saveToFile: false })
    await t.start()
    const after = process.hrtime.bigint()
    expect(t.baselineNs).toBeDefined()
    expect(t.baselineNs as bigint).toBeGreaterThan(before)
    expect(t.baselineNs as bigint).toBeLessThan(after)
    await t.stop()
  })
})
