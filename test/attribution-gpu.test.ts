import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GpuProcessReader } from '../src/attribution/gpu-processes.js'
import { type Nvml, openNvml } from '../src/platform/nvml.js'
import { configureNvmlStub, NVML_STUB_LIBRARY } from './helpers/gpu.mjs'

// The stub NVML library (test/fixtures/nvml-stub.c), loaded through koffi as the real one would be. Its
// compute processes come from NVML_STUB_PROCS, re-read at every call.
let dir: string
let nvml: Nvml
let procs: string
const hopper = (uuid: string) => ({
  uuid,
  name: 'NVIDIA H100 80GB HBM3',
  arch: 9,
  energyCounter: true,
  profile: { watts: 300 },
})
// The stub's driver keeps samples only from when its process list last changed: lists written here are
// dated 10 s back, as of processes that have been running a while.
const writeProcs = (text: string) => {
  writeFileSync(procs, text)
  const since = new Date(Date.now() - 10_000)
  utimesSync(procs, since, since)
}
// Each line: the GPU, the pid, its SM %, and how many of the driver's 200 ms samples it takes in turn.
const setProcs = (lines: [gpu: number, pid: number, sm: number, turns?: number][]) =>
  writeProcs(lines.map(([gpu, pid, sm, turns = 1]) => `proc ${gpu} ${pid} ${sm} 1024 ${turns}\n`).join(''))

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattprint-gpu-attribution-'))
  configureNvmlStub(dir, [hopper('GPU-0000aaaa'), hopper('GPU-1111bbbb')])
  procs = join(dir, 'procs')
  process.env.NVML_STUB_PROCS = procs
  const opened = openNvml(NVML_STUB_LIBRARY)
  if ('reason' in opened) throw new Error(opened.reason)
  nvml = opened
  nvml.retain()
})
afterAll(() => {
  nvml.release()
  delete process.env.NVML_STUB_PROCS
  delete process.env.NVML_STUB_CONFIG
  rmSync(dir, { recursive: true, force: true })
})

// Real pids, so that none counts as foreign: this process is "job A", its parent "job B".
const jobA = process.pid
const jobB = process.ppid

describe('GpuProcessReader', () => {
  it('splits a shared GPU by SM samples: two jobs at 3:1 get 3:1, a GPU without the job gives it nothing', () => {
    setProcs([
      [0, jobA, 60],
      [0, jobB, 20],
      [1, jobB, 90],
    ])
    const reader = new GpuProcessReader(nvml, nvml.devices())
    expect(reader.supported).toBe(true)
    const [gpu0, gpu1] = reader.read(new Set([jobA]))
    expect(gpu0).toEqual({ share: 0.75, method: 'sm', processes: 2, jobProcesses: 1, foreignProcesses: 0 })
    expect(gpu1).toMatchObject({ share: 0, method: 'sm', processes: 1, jobProcesses: 0 })
    // Job B's own tracker sees the complement: the two shares of GPU 0 add up to the whole.
    const other = new GpuProcessReader(nvml, nvml.devices()).read(new Set([jobB]))
    expect((gpu0?.share ?? 0) + (other[0]?.share ?? 0)).toBe(1)
    expect(other[1]?.share).toBe(1)
  })

  it('without SM samples: all or nothing when exclusive, by count when shared; idle with no process', () => {
    setProcs([
      [0, jobA, 0],
      [1, jobA, 0],
      [1, jobB, 0],
    ])
    const reader = new GpuProcessReader(nvml, nvml.devices())
    const [gpu0, gpu1] = reader.read(new Set([jobA]))
    expect(gpu0).toMatchObject({ share: 1, method: 'exclusive' })
    expect(gpu1).toMatchObject({ share: 0.5, method: 'count' })
    setProcs([])
    expect(reader.read(new Set([jobA])).map((s) => s.method)).toEqual(['idle', 'idle'])
  })

  it('weighs each process by the samples it holds: one that takes two turns in three gets two thirds', () => {
    // As a real H200 reports two processes time-sharing it: one sample every 200 ms, each of ONE process.
    // A mean per process would call this 50/50.
    setProcs([
      [0, jobA, 90, 2],
      [0, jobB, 90, 1],
    ])
    const [a] = new GpuProcessReader(nvml, nvml.devices()).read(new Set([jobA]))
    const [b] = new GpuProcessReader(nvml, nvml.devices()).read(new Set([jobB]))
    expect(a).toMatchObject({ method: 'sm', processes: 2, jobProcesses: 1 })
    expect(a?.share).toBeCloseTo(2 / 3, 9)
    expect(b?.share).toBeCloseTo(1 / 3, 9)
  })

  it("keeps the last second of samples between the driver's, and grows its buffers past 16 processes", async () => {
    setProcs([
      [0, jobA, 60],
      [0, jobB, 20],
    ])
    const reader = new GpuProcessReader(nvml, nvml.devices())
    expect(reader.read(new Set([jobA]))[0]?.share).toBeCloseTo(0.75, 9)
    // Read again at once: no new sample (NVML_ERROR_NOT_FOUND), the same share, not a guess by count.
    expect(reader.read(new Set([jobA]))[0]).toMatchObject({ method: 'sm', share: 0.75 })
    // 41 processes taking turns: the first read asks for the driver's whole buffer (50 samples).
    const many: [number, number, number][] = Array.from({ length: 40 }, (_, k) => [0, 4_000_000 + k, 10])
    setProcs([[0, jobA, 50], ...many])
    const [first] = new GpuProcessReader(nvml, nvml.devices()).read(new Set([jobA]))
    expect(first).toMatchObject({ processes: 41, jobProcesses: 1, method: 'sm' })
    // Six samples in the last second, the job's in one of them at most (50 against five of 10).
    expect([0, 0.5]).toContain(first?.share)
    // Pids that do not exist here: another PID namespace (a container without --pid=host).
    expect(first?.foreignProcesses).toBe(40)
  })

  it('reports unknown, not zero, when NVML cannot list processes', () => {
    const noProcesses = { ...nvml, fn: { ...nvml.fn, getComputeProcesses: undefined } } as unknown as Nvml
    const reader = new GpuProcessReader(noProcesses, nvml.devices())
    expect(reader.supported).toBe(false)
    expect(reader.read(new Set([jobA]))[0]).toMatchObject({ method: 'unknown', share: 0 })
  })
})

describe('a tracker attributing a shared GPU', () => {
  it('gives two jobs sharing a GPU 3:1 of its energy 3:1, and nothing of a GPU they do not use', async () => {
    const { spawn } = await import('node:child_process')
    const { EmissionsTracker } = await import('../src/tracker/tracker.js')
    // Two "jobs": sleeping processes whose pids the stub NVML lists as the GPUs' compute processes.
    const jobs = [0, 1].map(() => spawn('sleep', ['30']))
    try {
      const [a, b] = jobs.map((j) => j.pid as number)
      writeProcs(`proc 0 ${a} 60 1024\nproc 0 ${b} 20 1024\nproc 1 ${process.ppid} 90 1024\n`)
      const options = {
        sampling: 'inline' as const,
        intervalMs: 50,
        saveToFile: false,
        logLevel: 'silent' as const,
        nvmlLibraryPath: NVML_STUB_LIBRARY,
        carbonIntensityGPerKWh: 100,
      }
      const trackers = [a, b].map(
        (pid) => new EmissionsTracker({ ...options, attribution: { pid: pid as number } }),
      )
      // Every interval: the job never gets more than the machine, component by component. (Collected, not
      // asserted in the listener: the tracker catches what a listener throws.)
      let intervals = 0
      const over: string[] = []
      for (const t of trackers) {
        t.on('sample', (sample) => {
          intervals += 1
          for (const c of ['cpu', 'gpu', 'ram'] as const) {
            if (sample.powerW[c] > sample.machine.powerW[c] * (1 + 1e-9) + 1e-9)
              over.push(`${sample.seq} ${c}`)
          }
        })
      }
      await Promise.all(trackers.map((t) => t.start()))
      await new Promise((r) => setTimeout(r, 1000))
      const [ra, rb] = await Promise.all(trackers.map((t) => t.stop()))
      if (!ra || !rb) throw new Error('no records')
      expect(ra.trackingMode).toBe('process')
      // Two 300 W GPUs: the machine's GPU energy is 600 W × t; job A gets 3/4 of GPU 0, B 1/4, neither GPU 1.
      // Each against the machine its own tracker saw: the counters move in 100 ms steps, and the two
      // trackers' windows differ by a few milliseconds, so one may hold a step the other does not.
      expect(ra.gpu.energyKWh / (ra.machine.gpuKWh / 2)).toBeCloseTo(0.75, 2)
      expect(rb.gpu.energyKWh / (rb.machine.gpuKWh / 2)).toBeCloseTo(0.25, 2)
      expect(ra.attributionNote).toContain('GPU by SM samples (NVML)')
      expect(intervals).toBeGreaterThan(20)
      expect(over).toEqual([])
    } finally {
      for (const j of jobs) j.kill()
    }
  })
})
