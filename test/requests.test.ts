import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { EmissionsTracker, summaryLine, type TrackerOptions } from '../src/index.js'
import type { RequestRecord } from '../src/model/requests.js'
import { constantWatts } from './helpers/constant-watts.js'

// Request spans on a real tracker, on a powercap tree advancing at exactly 40 W: the spans' energies must
// add up to what the tracker measured, whichever thread samples.

const WATTS = 40
const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(sampling: 'worker' | 'inline', extra: Partial<TrackerOptions> = {}) {
  const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-requests-')
  const warnings: TrackerWarning[] = []
  const tracker = new EmissionsTracker({
    outputDir: dir,
    raplRoot,
    intervalMs: 40,
    sampling,
    logLevel: 'silent',
    carbonIntensityGPerKWh: 250,
    gpuIds: [],
    ...extra,
  })
  tracker.on('warning', (w) => warnings.push(w))
  return { tracker, warnings, dir }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.each(['worker', 'inline'] as const)('request spans, %s sampling', (sampling) => {
  it('split the measured energy exactly among 1,000 overlapping requests', async () => {
    const { tracker, warnings } = await setup(sampling)
    // Each interval's measured power: the idle part is at most the highest of them over the idle instants.
    const powersW: number[] = []
    tracker.on('sample', (s) => powersW.push(s.powerW.total))
    const started = tracker.start()
    // Open before the baseline and never ended: it ends where measuring ends, so no instant is idle.
    const background = tracker.request('background')
    const backgroundOpenedNs = process.hrtime.bigint()
    await started
    const settled: RequestRecord[] = []
    tracker.on('request', (r) => settled.push(r))
    const samples: (number | null)[] = []
    tracker.on('sample', (s) => samples.push(s.requests))
    const spans = []
    for (let i = 0; i < 1000; i++) {
      const span = tracker.request(`r${i % 4}`, { weight: 1 + (i % 3) })
      if (i % 250 === 0) await sleep(10)
      spans.push(span)
      if (i % 2 === 0) span.end({ inputTokens: 3, outputTokens: 5, items: 1 })
    }
    await sleep(60)
    for (const [i, span] of spans.entries()) if (i % 2 === 1) span.end({ items: 2 })
    const records = await Promise.all(spans.map((s) => s.settled))
    const record = await tracker.stop()
    const bg = await background.settled

    const measuredJ = record.energyKWh * 3.6e6
    // Opened while starting: after the baseline when sampling inline, so some instants may be idle.
    const spansJ =
      records.reduce((a, r) => a + r.energyJ, 0) + bg.energyJ + (record.energyBetweenRequestsJ ?? Number.NaN)
    // The idle remainder is the instants before the background span opened (none when it opened before the
    // baseline), at the power of the intervals they fell in: at most the highest interval's power (the
    // counter's driver, on a busy machine, can fall behind in one interval and catch up in the next).
    const idleS = Math.max(0, Number(backgroundOpenedNs - (tracker.baselineNs ?? 0n)) / 1e9)
    expect(powersW.length).toBeGreaterThan(0)
    expect(record.energyBetweenRequestsJ).toBeLessThanOrEqual(Math.max(...powersW) * idleS * 1.001 + 1e-6)
    expect(measuredJ).toBeGreaterThan(0)
    expect(Math.abs(spansJ - measuredJ) / measuredJ).toBeLessThan(1e-9)
    expect(records.every((r) => r.energyJ > 0 && r.emissionsKg > 0)).toBe(true)
    // Each request's emissions are its energy at the run's single intensity.
    const r0 = records[0]
    expect(r0?.emissionsKg).toBeCloseTo(((r0?.energyJ ?? 0) / 3.6e6) * 0.25, 15)
    // The record counts the 1,001 requests and their tokens; per output token divides the token-giving ones.
    expect(record.requests).toBe(1001)
    expect(summaryLine(record)).toMatch(/; 1001 requests, [\d.e+-]+ J\/request, [\d.e+-]+ J\/output token$/)
    expect(record.inputTokens).toBe(1500)
    expect(record.outputTokens).toBe(2500)
    const tokenJ = records.filter((r) => r.outputTokens).reduce((a, r) => a + r.energyJ, 0)
    expect(record.energyPerOutputTokenJ).toBeCloseTo(tokenJ / 2500, 12)
    expect(record.energyPerRequestJ).toBeCloseTo((measuredJ - (record.energyBetweenRequestsJ ?? 0)) / 1001, 9)
    expect(records[0]?.energyPerOutputTokenJ).toBeCloseTo((r0?.energyJ ?? 0) / 5, 12)
    expect(records[1]?.energyPerItemJ).toBeCloseTo((records[1]?.energyJ ?? 0) / 2, 12)
    // Sample events carry the run's request count so far: all 1,000 ended ones by the last (the background
    // span ends after it, when the run does).
    expect(samples.filter((n) => n !== null).length).toBeGreaterThan(0)
    expect(samples.at(-1)).toBe(1000)
    // The event fired for every span settled while listened to.
    expect(settled.length).toBe(1001)
    expect(warnings.map((w) => w.code)).toEqual(['REQUESTS_OPEN'])
    expect(record.notes.join(' ')).toContain('1 request span(s) were still open')
  })

  it('measure() with counts gives a settled request at once, with the counts read from the result', async () => {
    const { tracker } = await setup(sampling)
    await tracker.start()
    const { result, task, request } = await tracker.measure(
      async () => {
        await sleep(80)
        return { generated: [1, 2, 3, 4] }
      },
      { name: 'generate', inputTokens: 12, outputTokens: (r) => r.generated.length },
    )
    await tracker.stop()
    expect(result.generated).toHaveLength(4)
    expect(request?.name).toBe('generate')
    expect(request?.inputTokens).toBe(12)
    expect(request?.outputTokens).toBe(4)
    // Alone, the request gets the task's energy over the time it covers: never more (it lies inside the
    // task), and all of it when the readings that bound the task come at once. On a busy machine the worker
    // may take the task's closing reading late: the task then also holds the time after the span (its
    // duration is its readings'), which the request, split by time, does not.
    const taskJ = (task?.energyKWh ?? 0) * 3.6e6
    const coverage = Math.min(1, (request?.durationS ?? 0) / (task?.durationS ?? 1))
    expect(request?.energyJ).toBeLessThanOrEqual(taskJ * 1.0000001)
    expect(request?.energyJ).toBeGreaterThan(taskJ * coverage * 0.5)
    if (coverage > 0.9) expect(request?.energyJ).toBeGreaterThan(taskJ * 0.9)
    expect(taskJ).toBeGreaterThan(WATTS * 0.07)
  })

  it('a measure() call that throws, and a span ended as failed, are recorded as failed, not as requests', async () => {
    const { tracker, warnings } = await setup(sampling)
    const settled: RequestRecord[] = []
    tracker.on('request', (r) => settled.push(r))
    await tracker.start()
    await tracker.measure(() => sleep(30), { name: 'ok', outputTokens: 10 })
    const thrown = await tracker
      .measure(
        async () => {
          await sleep(30)
          throw new Error('model crashed')
        },
        { name: 'broken', outputTokens: 10 },
      )
      .catch((error: Error) => error)
    expect(thrown).toBeInstanceOf(Error)
    tracker.request('own').end({ outputTokens: 4, failed: true })
    const loose = tracker.request('loose')
    loose.end({ failed: 'yes' as never })
    await loose.settled
    const record = await tracker.stop()
    expect(settled.map((r) => [r.name, r.failed, r.outputTokens])).toEqual([
      ['ok', false, 10],
      ['broken', true, null],
      ['own', true, 4],
      ['loose', false, null],
    ])
    // What the run served: two requests and their tokens; the failed ones apart, with their energy.
    expect(record.requests).toBe(2)
    expect(record.outputTokens).toBe(10)
    expect(record.failedRequests).toBe(2)
    const energy = (name: string) => settled.find((r) => r.name === name)?.energyJ ?? Number.NaN
    expect(record.failedRequestEnergyJ).toBeCloseTo(energy('broken') + energy('own'), 12)
    expect(energy('broken')).toBeGreaterThan(0)
    expect(record.energyPerRequestJ).toBeCloseTo((energy('ok') + energy('loose')) / 2, 12)
    expect(record.energyPerOutputTokenJ).toBeCloseTo(energy('ok') / 10, 12)
    expect(summaryLine(record)).toMatch(
      /; 2 requests, [\d.e+-]+ J\/request, [\d.e+-]+ J\/output token, 2 failed \([\d.e+-]+ J\)$/,
    )
    expect(warnings.map((w) => w.message)).toContain(
      'end() of request \'loose\': failed must be true or false, got "yes"; taken as false.',
    )
  })

  it("fills SCI's R from the requests and tokens measured when the unit is named request or token", async () => {
    const embodied = { emissionsKg: 1000, lifetimeYears: 4 }
    for (const [unit, count] of [
      ['request', 3],
      ['token', 30],
      ['input token', 6],
    ] as const) {
      const { tracker } = await setup(sampling, { embodied, functionalUnit: { name: unit } })
      await tracker.start()
      for (let i = 0; i < 3; i++) await tracker.measure(() => sleep(5), { inputTokens: 2, outputTokens: 10 })
      const record = await tracker.stop()
      expect(record.functionalUnitCount).toBe(count)
      expect(record.embodiedEmissionsKg).toBeGreaterThan(0)
      // SCI's E × I is the wall's (emissionsScope's default).
      expect(record.sci).toBeCloseTo(
        (record.wall.emissionsKg + (record.embodiedEmissionsKg ?? 0)) / count,
        15,
      )
    }
  })

  it('never throws on misuse: bad names, weights and counts are warnings; a second end is ignored', async () => {
    const { tracker, warnings } = await setup(sampling)
    const early = tracker.request('before start')
    expect(early.end()).toBe(early)
    await tracker.start()
    const loose = (v: unknown) => v as never
    const span = tracker.request(loose(42), loose({ weight: -1 }))
    span.end(loose({ inputTokens: Number.NaN, outputTokens: '7', items: 3 }))
    span.end()
    const record = await span.settled.then(async (r) => {
      await tracker.stop()
      return r
    })
    expect(record.name).toBe('request')
    expect(record.inputTokens).toBeNull()
    expect(record.outputTokens).toBeNull()
    expect(record.items).toBe(3)
    expect(warnings.map((w) => w.message)).toEqual([
      "request('before start') on a tracker that is not measuring: such requests get no energy.",
      "request(name): name must be a non-empty string, got 42; named 'request'.",
      "request('request', { weight }): weight must be a finite number > 0, got -1; weight 1 used.",
      "end() of request 'request': inputTokens must be a finite number ≥ 0, got NaN; left out.",
      'end() of request \'request\': outputTokens must be a finite number ≥ 0, got "7"; left out.',
      "request 'request' was ended twice; the second end() is ignored.",
    ])
    expect((await early.settled).energyJ).toBe(0)
  })
})

describe('measure() on a tracker that is not measuring', () => {
  it('runs the call, warns once, and claims neither a task nor a request', async () => {
    const tracker = new EmissionsTracker({ saveToFile: false, logLevel: 'silent' })
    const warnings: TrackerWarning[] = []
    tracker.on('warning', (w) => warnings.push(w))
    const { result, task, request } = await tracker.measure(() => 7, { outputTokens: 2 })
    expect(result).toBe(7)
    expect(task).toBeUndefined()
    expect(request).toBeUndefined()
    expect(warnings.map((w) => w.message)).toEqual([
      "startTask('measure-1') called on a tracker that is idle.",
    ])
  })
})

describe('a span awaited at the end of a script', () => {
  it.each(['worker', 'inline'])(
    'keeps the process up until its record settles, then lets it exit (%s sampling)',
    async (sampling) => {
      // Nothing else keeps this script's event loop alive: the sampler never does.
      const script = `
        import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
        const tracker = await EmissionsTracker.start({ saveToFile: false, logLevel: 'silent', intervalMs: 200, sampling: '${sampling}' })
        const span = tracker.request('last')
        span.end({ outputTokens: 3 })
        const record = await span.settled
        process.stdout.write(JSON.stringify({ name: record.name, outputTokens: record.outputTokens, energyJ: record.energyJ }))
      `
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 20_000,
      })
      expect(run.status).toBe(0)
      const printed = JSON.parse(run.stdout || 'null')
      expect(printed).toMatchObject({ name: 'last', outputTokens: 3 })
      expect(printed.energyJ).toBeGreaterThanOrEqual(0)
    },
  )
})
