import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { gpuSelection } from '../src/meters/gpu-select.js'
import type { IntervalReport } from '../src/model/interval.js'
import { samplerWorkerUrl } from '../src/platform/worker-location.js'
import type { SamplerSpec } from '../src/sampling/build.js'
import { FirstReading } from '../src/sampling/first-reading.js'
import { WorkerSampling } from '../src/sampling/worker-session.js'
import { configureNvmlStub, NVML_STUB_LIBRARY } from './helpers/gpu.mjs'
import { DEFAULT_RANGE_UJ, makePowercapTree, type PowercapTree } from './helpers/powercap.mjs'

const specs: SamplerSpec[] = [
  { type: 'constant', id: 'ram-constant', component: 'ram', source: 'constant', watts: 10 },
]
const threadCount = (): number => readdirSync('/proc/self/task').length

interface Outcome {
  readonly intervals: IntervalReport[]
  readonly problems: string[]
}

/**
 * Runs one worker session and stops it. With `stopWhileAccounting`, stop() is called from inside the
 * accounting of a live interval (the data port's callback), and that callback returns only once the
 * worker's thread has ended: libuv then dispatches the worker's exit before the 'stopped' message it
 * posted just before, the ordering a loaded machine produces now and then, made certain.
 */
async function stopOnce(stopWhileAccounting: boolean): Promise<Outcome> {
  const url = samplerWorkerUrl()
  if (!url) throw new Error('dist/worker.js is missing: the global setup builds it')
  const intervals: IntervalReport[] = []
  const problems: string[] = []
  const before = threadCount()
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    session.stop().catch((error: unknown) => {
      problems.push(`stop: ${String(error)}`)
    })
  const session: WorkerSampling = new WorkerSampling(url, {
    onInterval: (report) => {
      intervals.push(report)
      if (!stopWhileAccounting || stopped || report.final) return
      stopped = stop()
      const until = performance.now() + 2000
      while (threadCount() > before && performance.now() < until) {}
    },
    onWarning: (warning: TrackerWarning) => problems.push(`warning: ${warning.message}`),
    onFailure: (message) => problems.push(`failure: ${message}`),
  })
  await session.begin(specs)
  session.setLive(stopWhileAccounting)
  await session.run({}, stopWhileAccounting ? 20 : 1000)
  if (!stopWhileAccounting) stopped = stop()
  while (!stopped) await new Promise((resolve) => setTimeout(resolve, 5))
  await stopped
  if (intervals.at(-1)?.final !== true) problems.push('no final interval')
  return { intervals, problems }
}

describe('WorkerSampling', () => {
  // The worker ends by itself once it has posted 'stopped'; its 'exit' event can reach the main thread
  // before that message ("sampler worker exited with code 0" in 1 run in 7 of `wattprint run -- true`).
  it.runIf(existsSync('/proc/self/task'))(
    'takes the final reading when the worker exit is dispatched before its stopped message',
    async () => {
      for (let i = 0; i < 5; i++) expect((await stopOnce(true)).problems).toEqual([])
    },
    30_000,
  )

  it('takes the final reading on every one of many quick stops', async () => {
    const problems: string[] = []
    for (let i = 0; i < 40; i++) problems.push(...(await stopOnce(false)).problems.map((p) => `${i}: ${p}`))
    expect(problems).toEqual([])
  }, 30_000)
})

describe('WorkerSampling, taking over from the first reading of the calling thread', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup()
    delete process.env.NVML_STUB_CONFIG
  })
  /** A package whose counter starts at 1 000 000 µJ (0.1 J steps move it by 100 000). */
  const powercap = (): PowercapTree => {
    const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0', energyUj: 1_000_000 }])
    cleanups.push(() => tree.cleanup())
    return tree
  }
  const raplSpec = (tree: PowercapTree): SamplerSpec => ({
    type: 'rapl',
    id: 'rapl-package',
    component: 'cpu',
    source: 'rapl',
    zones: [{ name: 'package-0', energyPath: tree.energyPath('intel-rapl:0'), rangeUj: DEFAULT_RANGE_UJ }],
  })
  const joulesOf = (intervals: readonly IntervalReport[], meter: number) =>
    intervals.reduce((sum, r) => sum + (r.meters[meter]?.joules ?? 0), 0)

  /** Starts a session from `first`, moving the counter at each step; every interval, in order. */
  async function measure(tree: PowercapTree, specs: readonly SamplerSpec[], first: FirstReading) {
    const url = samplerWorkerUrl()
    if (!url) throw new Error('dist/worker.js is missing: the global setup builds it')
    const intervals: IntervalReport[] = []
    const problems: string[] = []
    // 0.2 J while the worker starts: after the calling thread's reading, before the worker's own.
    tree.setEnergy('intel-rapl:0', 1_200_000)
    const session = new WorkerSampling(url, {
      onInterval: (report) => intervals.push(report),
      onWarning: (warning: TrackerWarning) => problems.push(`warning: ${warning.message}`),
      onFailure: (message) => problems.push(`failure: ${message}`),
    })
    await session.begin(specs, first)
    // 0.1 J once it is ready, before it runs; 0.15 J once it runs.
    tree.setEnergy('intel-rapl:0', 1_300_000)
    await session.run({}, 20)
    tree.setEnergy('intel-rapl:0', 1_450_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await session.stop()
    return { session, intervals, problems }
  }

  it('begins where the calling thread read first, and counts every joule once across the hand-over', async () => {
    const tree = powercap()
    const constant: SamplerSpec = {
      type: 'constant',
      id: 'ram-constant',
      component: 'ram',
      source: 'constant',
      watts: 10,
    }
    const specs = [raplSpec(tree), constant]
    const first = new FirstReading(specs, () => {})
    const { session, intervals, problems } = await measure(tree, specs, first)
    expect(problems).toEqual([])
    // Measuring began at the calling thread's reading, not at the worker's.
    expect(session.t0Ns).toBe(first.t0Ns)
    // The first interval runs from its reading, with the energy of the worker's start-up in it (the calling
    // thread's part, to the hand-over, joined to the worker's, to its first reading).
    expect(intervals[0]).toMatchObject({ seq: 1, startNs: first.t0Ns })
    expect(intervals[0]?.meters[0]?.joules).toBeGreaterThan(0.3 - 1e-9)
    // Then the worker's, each where the last ended, to the final reading: the counter's 0.45 J, once.
    expect(intervals.map((r) => r.seq)).toEqual(intervals.map((_, i) => i + 1))
    expect(intervals.slice(1).map((r) => r.startNs)).toEqual(intervals.slice(0, -1).map((r) => r.endNs))
    expect(intervals.at(-1)?.final).toBe(true)
    expect(joulesOf(intervals, 0)).toBeCloseTo(0.45, 12)
    // And power over the whole time measured, none of it twice.
    const measuredS = Number((intervals.at(-1)?.endNs ?? 0n) - first.t0Ns) / 1e9
    expect(joulesOf(intervals, 1)).toBeCloseTo(10 * measuredS, 6)
  }, 20_000)

  it.runIf(existsSync(NVML_STUB_LIBRARY))(
    'keeps its own first reading where it finds a GPU, which only it reads',
    async () => {
      const tree = powercap()
      const dir = mkdtempSync(join(tmpdir(), 'wattprint-worker-session-'))
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
      configureNvmlStub(dir, [
        { uuid: 'GPU-aaaa1111', name: 'NVIDIA H100', arch: 9, energyCounter: true, profile: { watts: 100 } },
      ])
      const gpu: SamplerSpec = {
        type: 'gpu',
        nvmlLibraryPath: NVML_STUB_LIBRARY,
        nvmlEnergyCounter: true,
        nvidiaSmiPath: join(dir, 'no-nvidia-smi'),
        selection: gpuSelection(null),
        intervalMs: 20,
        vendors: null,
      }
      const specs = [raplSpec(tree), gpu]
      const first = new FirstReading(specs, () => {})
      const { session, intervals, problems } = await measure(tree, specs, first)
      expect(problems).toEqual([])
      expect(session.meters.map((m) => m.id)).toEqual(['rapl-package', 'nvml-energy'])
      // Measuring began at the worker's reading, of every meter at once: the 0.2 J before it are not counted.
      expect(session.t0Ns).toBeGreaterThan(first.t0Ns)
      expect(intervals[0]?.startNs).toBe(session.t0Ns)
      expect(intervals.slice(1).map((r) => r.startNs)).toEqual(intervals.slice(0, -1).map((r) => r.endNs))
      expect(joulesOf(intervals, 0)).toBeCloseTo(0.25, 12)
    },
    20_000,
  )
})
