import { spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerOptions } from '../src/config/options.js'
import type { TrackerWarning } from '../src/core/warnings.js'
import { gpuSelection, selectGpus } from '../src/meters/gpu-select.js'
import { parseSmiLine } from '../src/meters/nvidia-smi.js'
import type { EmissionsRecord } from '../src/model/record.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import {
  configureNvmlStub,
  fakeNvidiaSmi,
  NVML_STUB_LIBRARY,
  type StubGpu,
  stubEnergyJ,
  stubPowerW,
} from './helpers/gpu.mjs'
import { expectSaneNumbers } from './helpers/sane.js'

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  delete process.env.NVML_STUB_CONFIG
  delete process.env.NVML_STUB_INIT_RC
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-gpu-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const joules = (kWh: number) => kWh * 3.6e6

/** Runs a tracker for `ms` with GPU options; returns its record, warnings, row and baseline. */
async function measure(options: TrackerOptions, ms: number) {
  const dir = tempDir()
  const tracker = new EmissionsTracker({
    outputDir: dir,
    logLevel: 'silent',
    carbonIntensityGPerKWh: 100,
    intervalMs: 50,
    raplRoot: join(dir, 'no-powercap'),
    nvidiaSmiPath: join(dir, 'no-nvidia-smi'),
    ...options,
  })
  const warnings: TrackerWarning[] = []
  tracker.on('warning', (w) => warnings.push(w))
  // When each interval ended, in s since the baseline: when the meters were read.
  const readS: number[] = [0]
  tracker.on('sample', (s) => readS.push(s.elapsedS))
  await tracker.start()
  await sleep(ms)
  const record = await tracker.stop()
  if ((readS.at(-1) ?? 0) < record.durationS - 1e-6) readS.push(record.durationS)
  const baselineNs = tracker.baselineNs ?? 0n
  const [row] = readCsv(join(dir, 'emissions.csv'))
  expectSaneNumbers(record, 'record')
  expectSaneNumbers(row)
  return { record, warnings, row: row ?? {}, baselineNs, dir, readS }
}

const channelJ = (record: EmissionsRecord, meterId: string, channel: string) =>
  joules(
    record.meters.find((m) => m.id === meterId)?.channels.find((c) => c.name === channel)?.energyKWh ??
      Number.NaN,
  )

const hopper = (uuid: string, watts: number, extra: Partial<StubGpu> = {}): StubGpu => ({
  uuid,
  name: 'NVIDIA H100 80GB HBM3',
  arch: 9,
  energyCounter: true,
  profile: { watts },
  ...extra,
})

describe.each(['worker', 'inline'] as const)('NVML through koffi (stub library), %s sampling', (sampling) => {
  it('reads energy counters, integrates power where there is none, and goes on when a GPU is lost', async () => {
    const dir = tempDir()
    const square = { lowW: 100, highW: 300, halfMs: 400 }
    configureNvmlStub(dir, [
      hopper('GPU-aaaa1111', 250),
      { uuid: 'GPU-bbbb2222', name: 'Tesla P100-PCIE-16GB', arch: 4, energyCounter: false, profile: square },
      hopper('GPU-cccc3333', 250, { lostAfterMs: 1000 }),
    ])
    const { record, warnings, row, baselineNs, readS } = await measure(
      { sampling, nvmlLibraryPath: NVML_STUB_LIBRARY },
      3000,
    )
    const endNs = baselineNs + BigInt(Math.round(record.durationS * 1e9))
    expect(record.meters.map((m) => [m.id, m.source, m.channels.map((c) => c.name)])).toContainEqual([
      'nvml-energy',
      'nvml-energy',
      ['gpu0', 'gpu2'],
    ])
    // 250 W for the whole run, from the energy counter. Like a real one it moves every 100 ms, and is read
    // at most every 50 ms: each end of the run may be up to 150 ms late, never more.
    expect(Math.abs(channelJ(record, 'nvml-energy', 'gpu0') - 250 * record.durationS)).toBeLessThan(
      250 * 0.15,
    )
    // The power-only GPU on a 100/300 W square wave, integrated from its readings: the trapezoid rule over
    // the instants it was really read (within 2 %: a read and its time stamp may straddle an edge), and so
    // within what sampling every 50 ms can know of the true integral. How far that is depends on when the
    // reads fell, which a busy machine shifts: each edge between two reads costs up to half their gap of
    // 200 W.
    const powerJ = channelJ(record, 'nvml-power', 'gpu1')
    let trapezoidJ = 0
    let edgeBoundJ = 0
    const at = (s: number) => baselineNs + BigInt(Math.round(s * 1e9))
    const phase = (s: number) => Math.floor(Number(at(s)) / 1e6 / square.halfMs)
    for (let i = 1; i < readS.length; i++) {
      const [a, b] = [readS[i - 1] ?? 0, readS[i] ?? 0]
      trapezoidJ += ((stubPowerW(square, at(a)) + stubPowerW(square, at(b))) / 2) * (b - a)
      edgeBoundJ += (phase(b) - phase(a)) * ((b - a) / 2) * (square.highW - square.lowW)
    }
    expect(Math.abs(powerJ / trapezoidJ - 1)).toBeLessThan(0.02)
    const truth = stubEnergyJ(square, baselineNs, endNs)
    expect(Math.abs(powerJ - truth)).toBeLessThanOrEqual(edgeBoundJ + 0.02 * truth)
    // The lost GPU counted until it was lost (about 1 s of 250 W), then stopped, with a warning and a note.
    const lost = channelJ(record, 'nvml-energy', 'gpu2')
    expect(lost).toBeGreaterThan(150)
    expect(lost).toBeLessThan(400)
    expect(warnings.map((w) => w.message).join(' ')).toMatch(/GPU 2 \(NVIDIA H100 80GB HBM3\) is lost/)
    expect(record.notes.join(' ')).toMatch(
      /nvml-energy could not be read \(GPU 2 .* is lost: GPU is lost \(NVML return code 15\); no longer read\)/,
    )
    expect(row).toMatchObject({
      gpu_count: '3',
      gpu_model: '2 x NVIDIA H100 80GB HBM3, 1 x Tesla P100-PCIE-16GB',
    })
    expect(row.gpu_source).toBe('nvml-energy')
    expect(Number(row.gpu_energy)).toBeCloseTo(record.gpu.energyKWh, 12)
    expect(Number(row.gpu_utilization_percent)).toBeGreaterThanOrEqual(14)
    expect(Number(row.gpu_utilization_percent)).toBeLessThanOrEqual(42)
    expect(record.gpu.method).toBe('measured')
  })
})

describe('the NVML energy counter', () => {
  it('is read at most every 50 ms, however often the tracker samples (a read cost 3.8 ms on an H200)', async () => {
    const dir = tempDir()
    configureNvmlStub(dir, [hopper('GPU-aaaa1111', 300)])
    const calls = join(dir, 'calls')
    process.env.NVML_STUB_CALLS = calls
    cleanups.push(() => {
      delete process.env.NVML_STUB_CALLS
    })
    const { record, warnings } = await measure(
      { sampling: 'inline', intervalMs: 10, nvmlLibraryPath: NVML_STUB_LIBRARY },
      1000,
    )
    const reads = Number(readFileSync(calls, 'utf8'))
    // About 100 samples; about 20 reads of the counter (and the probe at start), not 100.
    expect(reads).toBeGreaterThan(5)
    expect(reads).toBeLessThanOrEqual(Math.ceil((record.durationS * 1000) / 50) + 3)
    // Its 100 ms steps, read every 10 ms, are 30 J in 10 ms: not the glitch (3000 W) they would seem if
    // judged over the interval alone, rather than over the time since the counter last moved.
    expect(Math.abs(channelJ(record, 'nvml-energy', 'gpu0') - 300 * record.durationS)).toBeLessThan(
      300 * 0.15,
    )
    expect(warnings.map((w) => w.code)).not.toContain('COUNTER_IMPLAUSIBLE')
  })
})

describe('trackers started together in one process', () => {
  // Each tracker's worker thread initialises NVML while the others already read their GPUs, as the device
  // check's four ways do: every one must find each GPU's counter (the stub once zeroed its devices on every
  // init, and a GPU read in that moment seemed to have none: 2 trackers in 120).
  it('each read every GPU by its energy counter', async () => {
    const dir = tempDir()
    configureNvmlStub(
      dir,
      Array.from({ length: 8 }, (_, i) => hopper(`GPU-aaaa000${i}`, 100 + i)),
    )
    const common = {
      saveToFile: false,
      logLevel: 'silent',
      carbonIntensityGPerKWh: 100,
      raplRoot: join(dir, 'no-powercap'),
      nvidiaSmiPath: join(dir, 'no-nvidia-smi'),
      nvmlLibraryPath: NVML_STUB_LIBRARY,
    } as const
    const sources: string[] = []
    for (let round = 0; round < 8; round++) {
      const trackers = Array.from({ length: 8 }, () => new EmissionsTracker(common))
      await Promise.all(trackers.map((t) => t.start()))
      for (const tracker of trackers) {
        const record = await tracker.stop()
        const gpus = record.meters.filter((m) => m.component === 'gpu')
        sources.push(gpus.map((m) => `${m.id}:${m.channels.length}`).join(','))
      }
    }
    expect(new Set(sources)).toEqual(new Set(['nvml-energy:8']))
  }, 60_000)
})

describe('nvmlEnergyCounter: false', () => {
  it('integrates nvmlDeviceGetPowerUsage on a GPU that has a counter, and says so', async () => {
    const dir = tempDir()
    // An instantaneous-power GPU (Volta), so that the stub's readings are what a real one reports.
    configureNvmlStub(dir, [hopper('GPU-aaaa1111', 200, { arch: 5, name: 'Tesla V100-SXM2-32GB' })])
    process.env.WATTPRINT_NVML_ENERGY_COUNTER = 'false'
    cleanups.push(() => {
      delete process.env.WATTPRINT_NVML_ENERGY_COUNTER
    })
    const { record, row } = await measure({ sampling: 'inline', nvmlLibraryPath: NVML_STUB_LIBRARY }, 1500)
    expect(record.meters.map((m) => m.id)).toContain('nvml-power')
    expect(record.meters.map((m) => m.id)).not.toContain('nvml-energy')
    expect(row.gpu_source).toBe('nvml-power')
    expect(channelJ(record, 'nvml-power', 'gpu0') / (200 * record.durationS)).toBeCloseTo(1, 2)
    expect(record.notes.join(' ')).toMatch(/nvmlEnergyCounter is false: GPU power is integrated/)
    expect(record.notes.join(' ')).not.toMatch(/lack an energy counter/)
  })
})

describe('GPU selection', () => {
  const devices = [
    { index: 0, uuid: 'GPU-aaaa1111' },
    { index: 1, uuid: 'GPU-bbbb2222' },
    { index: 2, uuid: 'GPU-cccc3333' },
  ]
  const pick = (env: Record<string, string>, gpuIds: string[] | null = null) =>
    selectGpus(devices, gpuSelection(gpuIds, env)).selected.map((d) => d.index)

  it('follows gpuIds, then CUDA_VISIBLE_DEVICES, then NVIDIA_VISIBLE_DEVICES, else all', () => {
    expect(pick({})).toEqual([0, 1, 2])
    expect(pick({ CUDA_VISIBLE_DEVICES: '2,0' })).toEqual([2, 0])
    expect(pick({ CUDA_VISIBLE_DEVICES: 'GPU-bbbb' })).toEqual([1])
    expect(pick({ CUDA_VISIBLE_DEVICES: '' })).toEqual([])
    expect(pick({ CUDA_VISIBLE_DEVICES: '-1' })).toEqual([])
    expect(pick({ CUDA_VISIBLE_DEVICES: '1,-1,2' })).toEqual([1])
    expect(pick({ CUDA_VISIBLE_DEVICES: '1' }, ['0'])).toEqual([0])
    expect(pick({ NVIDIA_VISIBLE_DEVICES: 'all' })).toEqual([0, 1, 2])
    expect(pick({ NVIDIA_VISIBLE_DEVICES: 'none' })).toEqual([])
    expect(pick({ NVIDIA_VISIBLE_DEVICES: 'GPU-cccc3333' })).toEqual([2])
    // Host indices the container runtime already applied: the container sees them as 0.. n-1.
    expect(pick({ NVIDIA_VISIBLE_DEVICES: '5,6,7' })).toEqual([0, 1, 2])
    expect(selectGpus(devices, gpuSelection(['9', 'GPU-ffff'], {})).unmatched).toEqual(['9', 'GPU-ffff'])
  })

  it('measures only the selected GPUs, a MIG instance by its parent, and warns about ids matching none', async () => {
    const dir = tempDir()
    configureNvmlStub(
      dir,
      [hopper('GPU-aaaa1111', 100), hopper('GPU-bbbb2222', 200)],
      [{ uuid: 'MIG-1234abcd', parent: 1 }],
    )
    const { record, warnings } = await measure(
      { sampling: 'inline', nvmlLibraryPath: NVML_STUB_LIBRARY, gpuIds: ['MIG-1234abcd', 'GPU-ffff'] },
      300,
    )
    expect(record.meters.find((m) => m.id === 'nvml-energy')?.channels.map((c) => c.name)).toEqual(['gpu1'])
    // The stub's utilisation is the power's share of 700 W: 200 W → 28 %.
    expect(record.gpuUtilizationPercent).toBeCloseTo(28, 9)
    expect(record.notes.join(' ')).toContain(
      'MIG-1234abcd is a MIG instance: its whole GPU GPU-bbbb2222 is measured',
    )
    expect(warnings.find((w) => w.code === 'GPU_NOT_FOUND')?.message).toContain('GPU-ffff')
    const none = await measure({ sampling: 'inline', nvmlLibraryPath: NVML_STUB_LIBRARY, gpuIds: [] }, 100)
    expect(none.record.meters.filter((m) => m.component === 'gpu')).toEqual([])
    expect(none.record.gpuCount).toBeNull()
  })
})

describe('when NVML cannot be used', () => {
  it('falls back to nvidia-smi when nvmlInit fails, and says why', async () => {
    const dir = tempDir()
    configureNvmlStub(dir, [hopper('GPU-aaaa1111', 250)])
    process.env.NVML_STUB_INIT_RC = '9'
    const smi = fakeNvidiaSmi(dir, {
      gpus: [{ uuid: 'GPU-aaaa1111', name: 'NVIDIA H100 80GB HBM3', watts: 200 }],
    })
    const { record } = await measure({ nvmlLibraryPath: NVML_STUB_LIBRARY, nvidiaSmiPath: smi }, 1500)
    expect(record.gpu.source).toBe('nvidia-smi')
    expect(record.notes.join(' ')).toContain('nvmlInit failed: Driver Not Loaded (NVML return code 9)')
    expect(record.gpu.powerW).toBeGreaterThan(150)
  })

  it('counts nothing, quietly, on a machine without an NVIDIA GPU', async () => {
    const { record, warnings, row } = await measure(
      { nvmlLibraryPath: '/nonexistent/libnvidia-ml.so.1' },
      100,
    )
    expect(record.meters.filter((m) => m.component === 'gpu')).toEqual([])
    expect(record.notes.join(' ')).toMatch(
      /no NVIDIA GPU found \(NVML: NVML library not found .*; nvidia-smi: .* not found/,
    )
    expect(warnings.filter((w) => w.code.startsWith('GPU'))).toEqual([])
    expect(row).toMatchObject({ gpu_count: '', gpu_model: '', gpu_source: '', gpu_energy: '0' })
  })

  it('does not load NVML where no NVIDIA driver is there and no library path names one', async () => {
    // The real machine decides which: the test machines have no NVIDIA driver; a GPU machine has one.
    const driver = ['/dev/nvidiactl', '/proc/driver/nvidia', '/dev/dxg'].some((p) => existsSync(p))
    const saved = process.env.LD_LIBRARY_PATH
    process.env.LD_LIBRARY_PATH = tempDir()
    try {
      const { record, warnings } = await measure({ nvidiaSmiPath: '/nonexistent/nvidia-smi' }, 100)
      const notes = record.notes.join(' ')
      if (driver) expect(notes).not.toContain('no NVIDIA driver on this machine')
      else {
        expect(notes).toContain(
          'no NVIDIA GPU found (NVML: no NVIDIA driver on this machine (none of /dev/nvidiactl, /proc/driver/nvidia, /dev/dxg): NVML was not loaded',
        )
        // No GPU here is news for the notes, not a warning.
        expect(warnings.filter((w) => w.code.startsWith('GPU'))).toEqual([])
      }
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH
      else process.env.LD_LIBRARY_PATH = saved
    }
  })

  it('still measures the CPU when koffi is not installed, and says why NVML was not used', () => {
    // A copy of the package whose node_modules lack koffi (an optional dependency).
    const dir = tempDir()
    cpSync(resolve('dist'), join(dir, 'dist'), { recursive: true })
    cpSync(resolve('data'), join(dir, 'data'), { recursive: true })
    cpSync(resolve('package.json'), join(dir, 'package.json'))
    mkdirSync(join(dir, 'node_modules', '@koromix'), { recursive: true })
    for (const entry of readdirSync(resolve('node_modules'))) {
      if (entry === 'koffi' || entry === '@koromix' || entry === '.bin') continue
      symlinkSync(resolve('node_modules', entry), join(dir, 'node_modules', entry))
    }
    const script = `
      import { EmissionsTracker } from ${JSON.stringify(join(dir, 'dist/index.js'))}
      const t = new EmissionsTracker({ saveToFile: false, logLevel: 'silent', carbonIntensityGPerKWh: 1, nvidiaSmiPath: '/nonexistent', nvmlLibraryPath: '/nonexistent/libnvidia-ml.so.1' })
      await t.start(); await new Promise((r) => setTimeout(r, 100)); const r = await t.stop()
      console.log(JSON.stringify({ cpu: r.cpu.energyKWh, notes: r.notes }))`
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(run.status).toBe(0)
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { cpu: number; notes: string[] }
    expect(result.cpu).toBeGreaterThan(0)
    expect(result.notes.join(' ')).toContain(
      'koffi (the optional dependency that calls NVML) is not installed',
    )
    expect(existsSync(join(dir, 'node_modules', 'koffi'))).toBe(false)
  })
})

describe('nvidia-smi, streamed', () => {
  it('parses its CSV lines, bracketed values being unknown, never 0', () => {
    expect(parseSmiLine('0, GPU-aaaa1111, NVIDIA H100 80GB HBM3, 87, 67.03')).toEqual({
      index: 0,
      uuid: 'GPU-aaaa1111',
      name: 'NVIDIA H100 80GB HBM3',
      utilizationPercent: 87,
      watts: 67.03,
    })
    expect(parseSmiLine('2, GPU-c, Odd, Name, 5, 10')?.name).toBe('Odd, Name')
    for (const token of ['[N/A]', '[Not Supported]', '[GPU is lost]', '[Unknown Error]']) {
      expect(parseSmiLine(`1, GPU-b, Tesla T4, ${token}, ${token}`)?.watts).toBeNaN()
      expect(parseSmiLine(`1, GPU-b, Tesla T4, ${token}, ${token}`)?.utilizationPercent).toBeNaN()
    }
    expect(parseSmiLine('No devices were found')).toBeNull()
  })

  it('runs one long-lived child, uses power.draw.instant when known, and never outlives the tracker', async () => {
    const dir = tempDir()
    const smi = fakeNvidiaSmi(dir, {
      gpus: [
        { uuid: 'GPU-aaaa1111', name: 'NVIDIA L4', watts: 60, utilization: 77 },
        { uuid: 'GPU-bbbb2222', name: 'NVIDIA L4', watts: '[N/A]', utilization: '[N/A]' },
      ],
    })
    const { record, warnings } = await measure({ nvidiaSmiPath: smi, nvmlLibraryPath: '/nonexistent' }, 1500)
    const calls = readFileSync(join(dir, 'fake-smi.calls'), 'utf8').trim().split('\n')
    expect(calls[0]).toBe(
      '--query-gpu=index,uuid,name,utilization.gpu,power.draw.instant --format=csv,noheader,nounits',
    )
    expect(calls.slice(1)).toEqual([
      '--query-gpu=index,uuid,name,utilization.gpu,power.draw.instant --format=csv,noheader,nounits -lms 50',
    ])
    expect(channelJ(record, 'nvidia-smi', 'gpu0') / record.durationS).toBeGreaterThan(50)
    // The GPU whose utilisation is [N/A] does not drag the mean down.
    expect(record.gpuUtilizationPercent).toBeCloseTo(77, 6)
    // [N/A]: blind and said so, never counted as 0 W.
    expect(record.notes.join(' ')).toMatch(
      /nvidia-smi could not be read \(nvidia-smi reports the power of some GPU as unknown/,
    )
    expect(channelJ(record, 'nvidia-smi', 'gpu1')).toBe(0)
    expect(record.meters.find((m) => m.id === 'nvidia-smi')?.blindS).toBeGreaterThan(1)
    expect(warnings.some((w) => w.code === 'METER_READ_FAILED')).toBe(true)
    await sleep(200)
    const alive = spawnSync('pgrep', ['-f', smi], { encoding: 'utf8' })
    expect(alive.stdout.trim()).toBe('')
  })

  it('falls back to power.draw on drivers without power.draw.instant', async () => {
    const dir = tempDir()
    const smi = fakeNvidiaSmi(dir, {
      gpus: [{ uuid: 'GPU-aaaa1111', name: 'Tesla V100', watts: 100 }],
      instantField: false,
    })
    const { record } = await measure({ nvidiaSmiPath: smi, nvmlLibraryPath: '/nonexistent' }, 800)
    const calls = readFileSync(join(dir, 'fake-smi.calls'), 'utf8')
    expect(calls).toContain(
      '--query-gpu=index,uuid,name,utilization.gpu,power.draw --format=csv,noheader,nounits -lms 50',
    )
    expect(record.gpu.powerW).toBeGreaterThan(50)
  })

  it('restarts a child that crashes mid-stream, reporting the blind time', async () => {
    const dir = tempDir()
    const smi = fakeNvidiaSmi(dir, {
      gpus: [{ uuid: 'GPU-aaaa1111', name: 'NVIDIA A10G', watts: 150 }],
      crashAfterIterations: 10,
    })
    const { record, warnings } = await measure({ nvidiaSmiPath: smi, nvmlLibraryPath: '/nonexistent' }, 3000)
    const streams = readFileSync(join(dir, 'fake-smi.calls'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('-lms'))
    expect(streams.length).toBe(2)
    expect(warnings.map((w) => w.message).join(' ')).toContain('nvidia-smi exited (1); restarting it in 1 s')
    expect(warnings.some((w) => w.code === 'METER_RECOVERED')).toBe(true)
    // Bridged across the gap from the readings on either side: the whole run is counted at about 150 W.
    expect(record.gpu.powerW).toBeGreaterThan(120)
    expect(record.meters.find((m) => m.id === 'nvidia-smi')?.blindS).toBeGreaterThan(0.5)
  })

  it('reads garbage as unknown: blind, never a figure', async () => {
    const dir = tempDir()
    const smi = fakeNvidiaSmi(dir, {
      gpus: [{ uuid: 'GPU-aaaa1111', name: 'NVIDIA L4', watts: 70 }],
      garbageAfterIterations: 5,
    })
    // The last good line goes stale after 2 s: the run must outlast it, by enough that a fake nvidia-smi
    // slow to start on a busy machine still leaves a second or more of blindness.
    const { record, warnings } = await measure({ nvidiaSmiPath: smi, nvmlLibraryPath: '/nonexistent' }, 4500)
    expect(warnings.map((w) => w.message).join(' ')).toContain(
      'nvidia-smi could not be read (no fresh line from nvidia-smi)',
    )
    expect(record.meters.find((m) => m.id === 'nvidia-smi')?.blindS).toBeGreaterThan(0.5)
  })

  it('kills and restarts a child that hangs without exiting', async () => {
    const dir = tempDir()
    const smi = fakeNvidiaSmi(dir, {
      gpus: [{ uuid: 'GPU-aaaa1111', name: 'NVIDIA L4', watts: 70 }],
      hangAfterIterations: 5,
    })
    const { warnings } = await measure({ nvidiaSmiPath: smi, nvmlLibraryPath: '/nonexistent' }, 8000)
    const streams = readFileSync(join(dir, 'fake-smi.calls'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('-lms'))
    expect(streams.length).toBe(2)
    expect(warnings.some((w) => w.code === 'METER_RECOVERED')).toBe(true)
  }, 20_000)

  it('warns when the driver cannot be reached', async () => {
    const dir = tempDir()
    const smi = fakeNvidiaSmi(dir, { gpus: [], driverFailure: true })
    const { warnings, record } = await measure(
      { nvidiaSmiPath: smi, nvmlLibraryPath: NVML_STUB_LIBRARY },
      100,
    )
    expect(warnings.find((w) => w.code === 'GPU_UNAVAILABLE')?.message).toContain(
      "couldn't communicate with the NVIDIA driver",
    )
    expect(record.meters.filter((m) => m.component === 'gpu')).toEqual([])
  })
})
