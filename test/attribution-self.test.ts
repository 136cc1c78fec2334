import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AttributionReader } from '../src/attribution/reader.js'
import { readCsvWithPython } from './helpers/csv.js'
import { driveCounters } from './helpers/driver.mjs'
import { DEFAULT_RANGE_UJ, makePowercapTree } from './helpers/powercap.mjs'
import { descendants, ownTicks } from './helpers/proc-tree.js'

// The tracker never charges itself to the job: not its sampler thread inside a library's process, not
// `wattprint run`'s own process beside the command. What it used is reported apart, among the others'.

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
const tempDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `wattprint-${name}-`))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A /proc stat line with the given pid, parent and own CPU ticks (utime), the rest zero. */
const statLine = (pid: number, ppid: number, utime: number) =>
  `${pid} (x) S ${ppid} ${Array.from({ length: 9 }, () => 0).join(' ')} ${utime} 0 0 0 ${Array.from({ length: 4 }, () => 0).join(' ')} ${1000 + pid} 0\n`

describe('AttributionReader, on a stand-in /proc where the tracker runs inside the job', () => {
  it("takes its sampler thread's CPU time and the process it started off the job, and reports them apart", () => {
    // Process 42 is the job and the tracker's host; its thread 43 is the sampler (thread-self says so, as
    // the kernel's link does for the thread reading it), and it started process 50 (nvidia-smi, say).
    const proc = tempDir('self-proc')
    const file = (path: string, text: string) => {
      mkdirSync(join(proc, path, '..'), { recursive: true })
      writeFileSync(join(proc, path), text)
    }
    symlinkSync('42/task/43', join(proc, 'thread-self'))
    symlinkSync('42', join(proc, 'self'))
    const GiB = 2 ** 30
    file('meminfo', `MemTotal: ${(8 * GiB) / 1024} kB\nMemAvailable: ${(4 * GiB) / 1024} kB\n`)
    file('42/smaps_rollup', `x [rollup]\nPss: ${GiB / 1024} kB\n`)
    file('50/smaps_rollup', `x [rollup]\nPss: ${(256 * 2 ** 20) / 1024} kB\n`)
    file('42/task/42/children', '')
    file('42/task/43/children', '50 ')
    file('50/task/50/children', '')
    const set = (job: number, sampler: number, child: number, busy: number) => {
      file('42/stat', statLine(42, 1, job))
      file('42/task/43/stat', statLine(43, 1, sampler))
      file('50/stat', statLine(50, 42, child))
      file('stat', `cpu  ${busy} 0 0 0 0 0 0 0 0 0\n`)
    }
    set(1000, 100, 10, 5000)
    const reader = new AttributionReader(
      { type: 'attribution', kind: 'process', pid: 42, procRoot: proc, procStatPath: join(proc, 'stat') },
      null,
      true,
    )
    expect(reader.read()).toMatchObject({ jobCpuS: 0, trackerCpuS: 0, processes: 1 })
    // The process used 150 ticks, 40 of them on the sampler thread; the sampler's child 20 more.
    set(1150, 140, 30, 5300)
    const sample = reader.read()
    expect(sample.jobCpuS).toBeCloseTo(1.1, 10)
    expect(sample.trackerCpuS).toBeCloseTo(0.6, 10)
    expect(sample.machineBusyCpuS).toBe(3)
    // The sampler's child is not one of the job's processes: its memory is not the job's.
    expect(sample.processes).toBe(1)
    // Of the process's own memory, the sampler's JavaScript heap (its isolate, here this thread's) is the
    // tracker's; the rest (Node's own, the thread's stack) cannot be told apart.
    expect(sample.jobMemoryBytes).toBeLessThan(GiB)
    expect(sample.jobMemoryBytes).toBeGreaterThan(GiB - 512 * 2 ** 20)
    // The next readings read the main thread's children file alone: the child stays the tracker's.
    for (let i = 0; i < 3; i++) {
      set(1150, 140, 30 + 10 * (i + 1), 5300)
      expect(reader.read()).toMatchObject({ jobCpuS: 0, processes: 1 })
    }
  })

  it('takes what its main thread spent starting after the baseline off the job, as the tracker’s', () => {
    // Process 42's main thread (42) starts the tracker; thread 43 samples. From the baseline to the end of
    // the start, the main thread used 30 ticks (the system's description, the power model): the tracker's.
    const proc = tempDir('self-proc')
    const file = (path: string, text: string) => {
      mkdirSync(join(proc, path, '..'), { recursive: true })
      writeFileSync(join(proc, path), text)
    }
    symlinkSync('42/task/43', join(proc, 'thread-self'))
    file('42/task/42/children', '')
    file('42/task/43/children', '')
    const set = (main: number, sampler: number, busy: number) => {
      file('42/stat', statLine(42, 1, main + sampler))
      file('42/task/42/stat', statLine(42, 1, main))
      file('42/task/43/stat', statLine(43, 1, sampler))
      file('stat', `cpu  ${busy} 0 0 0 0 0 0 0 0 0\n`)
    }
    set(200, 10, 5000)
    const reader = new AttributionReader(
      { type: 'attribution', kind: 'process', pid: 42, procRoot: proc, procStatPath: join(proc, 'stat') },
      null,
      true,
    )
    reader.read() // the baseline: the main thread at 200 ticks
    reader.startedAt(230) // started: 30 ticks since the baseline
    // The first interval: the main thread used 20 ticks so far, the sampler 2: all 20 are the tracker's.
    set(220, 12, 5100)
    expect(reader.read()).toMatchObject({ jobCpuS: 0, trackerCpuS: 0.22 })
    // The next: 10 more of the start, then 40 of the job's own work.
    set(270, 13, 5200)
    const next = reader.read()
    expect(next.jobCpuS).toBeCloseTo(0.4, 10)
    expect(next.trackerCpuS).toBeCloseTo(0.11, 10)
    // Nothing is owed twice: from now on the main thread's time is the job's.
    set(300, 14, 5300)
    expect(reader.read().jobCpuS).toBeCloseTo(0.3, 10)
    // A second startedAt owes only what ran since the baseline, never a negative.
    reader.startedAt(100)
    set(310, 14, 5400)
    expect(reader.read().jobCpuS).toBeCloseTo(0.1, 10)
  })

  it('on the job’s own thread (inline sampling) cannot tell its time apart: the tracker’s is unknown', () => {
    const proc = tempDir('self-proc')
    mkdirSync(join(proc, '42', 'task', '42'), { recursive: true })
    writeFileSync(join(proc, '42', 'task', '42', 'children'), '')
    writeFileSync(join(proc, '42', 'stat'), statLine(42, 1, 10))
    writeFileSync(join(proc, 'stat'), 'cpu  100 0 0 0 0 0 0 0 0 0\n')
    symlinkSync('42/task/42', join(proc, 'thread-self'))
    const reader = new AttributionReader(
      { type: 'attribution', kind: 'process', pid: 42, procRoot: proc, procStatPath: join(proc, 'stat') },
      null,
      false,
    )
    reader.read()
    writeFileSync(join(proc, '42', 'stat'), statLine(42, 1, 60))
    expect(reader.read()).toMatchObject({ jobCpuS: 0.5, trackerCpuS: null })
  })
})

describe("AttributionReader, on a stand-in /proc and cgroup holding wattprint run's process", () => {
  it("takes wattprint's and its guard's time and memory off the cgroup's, and leaves the command's", () => {
    // wattprint (42) started a guard (51) and the command (50), which started 60; all four are in the cgroup.
    const proc = tempDir('self-proc')
    const cgroup = tempDir('self-cgroup')
    const file = (path: string, text: string) => {
      mkdirSync(join(proc, path, '..'), { recursive: true })
      writeFileSync(join(proc, path), text)
    }
    symlinkSync('42', join(proc, 'self'))
    const MiB = 2 ** 20
    file('meminfo', `MemTotal: ${(8192 * MiB) / 1024} kB\nMemAvailable: ${(4096 * MiB) / 1024} kB\n`)
    for (const [pid, ppid, pssMiB] of [
      [42, 1, 40],
      [51, 42, 2],
      [50, 42, 300],
      [60, 50, 100],
    ] as const) {
      file(`${pid}/smaps_rollup`, `x [rollup]\nPss: ${(pssMiB * MiB) / 1024} kB\n`)
      file(`${pid}/statm`, '0 0\n')
      file(`${pid}/stat`, statLine(pid, ppid, 0))
    }
    file('42/task/42/children', '51 50 ')
    file('51/task/51/children', '')
    file('50/task/50/children', '60 ')
    file('60/task/60/children', '')
    file('stat', 'cpu  1000 0 0 0 0 0 0 0 0 0\n')
    writeFileSync(join(cgroup, 'cgroup.procs'), '42\n50\n51\n60\n')
    writeFileSync(join(cgroup, 'memory.current'), String(500 * MiB))
    writeFileSync(join(cgroup, 'cpu.stat'), 'usage_usec 0\n')
    const reader = new AttributionReader(
      {
        type: 'attribution',
        kind: 'cgroup',
        dir: cgroup,
        procRoot: proc,
        procStatPath: join(proc, 'stat'),
        command: { pid: null },
      },
      null,
      true,
    )
    reader.setJob(50)
    reader.read()
    // 2 s of CPU in the cgroup: wattprint used 0.3 s of it and its guard 0.1 s; the rest is the command's.
    writeFileSync(join(cgroup, 'cpu.stat'), 'usage_usec 2000000\n')
    file('42/stat', statLine(42, 1, 30))
    file('51/stat', statLine(51, 42, 10))
    file('50/stat', statLine(50, 42, 100))
    file('60/stat', statLine(60, 50, 60))
    file('stat', 'cpu  1400 0 0 0 0 0 0 0 0 0\n')
    const sample = reader.read()
    expect(sample.trackerCpuS).toBeCloseTo(0.4, 10)
    expect(sample.jobCpuS).toBeCloseTo(1.6, 10)
    // memory.current less wattprint's and its guard's PSS.
    expect(sample.jobMemoryBytes).toBe(458 * MiB)
    expect(sample).toMatchObject({ memoryMeasure: 'cgroup', processes: 2 })
  })
})

/**
 * A machine whose only work is one process tree: a powercap tree at 100 W, and a stand-in /proc/stat whose
 * busy time is the CPU time of `root()` and its descendants (each kept after it ends) and which is never
 * idle, so that all the CPU energy is active and split by CPU time alone.
 */
async function machineOf(root: () => number | undefined) {
  const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0' }])
  cleanups.push(() => tree.cleanup())
  const driver = await driveCounters([
    { path: tree.energyPath('intel-rapl:0'), watts: 100, startUj: 1e9, rangeUj: DEFAULT_RANGE_UJ },
  ])
  cleanups.push(() => driver.stop())
  await driver.run()
  const dir = tempDir('self-machine')
  const path = join(dir, 'stat')
  const last = new Map<number, number>()
  const write = () => {
    const pid = root()
    if (pid !== undefined) {
      const members = new Set([pid])
      descendants(pid, members)
      for (const p of members) last.set(p, Math.max(last.get(p) ?? 0, ownTicks(p)))
    }
    const busy = [...last.values()].reduce((a, b) => a + b, 0)
    writeFileSync(`${path}.tmp`, `cpu  ${busy} 0 0 0 0 0 0 0 0 0\n`)
    renameSync(`${path}.tmp`, path)
  }
  write()
  const timer = setInterval(write, 5)
  cleanups.push(() => clearInterval(timer))
  return { WATTPRINT_RAPL_ROOT: tree.root, WATTPRINT_PROC_STAT_PATH: path }
}

describe('a library tracking its own process', () => {
  it("charges the job none of its sampler thread's CPU time, and reports that time and its energy apart", async () => {
    let pid: number | undefined
    const env = await machineOf(() => pid)
    const job = spawn(process.execPath, [resolve('test/helpers/self-measuring-job.mjs')], {
      env: { ...process.env, ...env, SECONDS: '3', CHILDREN: '300' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    pid = job.pid
    let out = ''
    job.stdout.on('data', (d) => (out += d))
    const code = await new Promise((ok) => job.on('exit', ok))
    expect(code).toBe(0)
    const r = JSON.parse(out) as {
      added: string[]
      samplerTicks: number
      processTicks: number
      trackerCpuS: number
      trackerJ: number
      cpuJ: number
      machineCpuJ: number
    }
    expect(r.added).toHaveLength(1)
    // Reading 300 processes every 10 ms, the sampler thread works measurably, whatever else the machine runs.
    expect(r.samplerTicks).toBeGreaterThanOrEqual(30)
    // The machine's CPU energy is the process's: the job gets the share of what the rest of the process
    // used, not of the sampler thread's (the stand-in /proc/stat is written by this process every 5 ms,
    // late on a busy machine: 15 % either way).
    const samplerShare = r.samplerTicks / r.processTicks
    expect(r.cpuJ / r.machineCpuJ).toBeLessThan(1 - samplerShare + 0.15)
    // The tracker's CPU time is its thread's, as /proc counts it (read a moment apart at each end, while
    // the sampler may be reading: a few ticks either way), and its energy the share of that time, beside
    // the job's: together the whole.
    expect(Math.abs(r.trackerCpuS * 100 - r.samplerTicks)).toBeLessThanOrEqual(
      Math.max(5, r.samplerTicks * 0.05) + 1e-6,
    )
    expect(r.trackerJ / r.machineCpuJ).toBeGreaterThan(samplerShare - 0.15)
    expect(r.trackerJ / r.machineCpuJ).toBeLessThan(samplerShare + 0.15)
    expect((r.cpuJ + r.trackerJ) / r.machineCpuJ).toBeGreaterThan(0.85)
    expect((r.cpuJ + r.trackerJ) / r.machineCpuJ).toBeLessThanOrEqual(1 + 1e-9)
  }, 60_000)
})

describe('wattprint run --attribution process', () => {
  it("charges a sleeping command neither wattprint's CPU time nor its memory, and says what wattprint used", async () => {
    let pid: number | undefined
    const env = await machineOf(() => pid)
    const dir = tempDir('self-run')
    const run = spawn(
      process.execPath,
      [
        resolve('dist/cli.js'),
        'run',
        '-q',
        '--json',
        '--attribution',
        'process',
        '-o',
        dir,
        '--',
        'sleep',
        '3',
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    pid = run.pid
    let out = ''
    run.stdout.on('data', (d) => (out += d))
    // What wattprint's own process really holds and uses, and the memory in use on the machine, as it runs.
    let wattprintPssBytes = 0
    let wattprintTicks = 0
    const used: number[] = []
    const watch = setInterval(() => {
      try {
        const pss = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${run.pid}/smaps_rollup`, 'utf8'))
        wattprintPssBytes = Math.max(wattprintPssBytes, Number(pss?.[1] ?? 0) * 1024)
        wattprintTicks = Math.max(wattprintTicks, ownTicks(run.pid as number))
        const meminfo = readFileSync('/proc/meminfo', 'utf8')
        const kB = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(meminfo)?.[1])
        used.push((kB('MemTotal') - kB('MemAvailable')) * 1024)
      } catch {}
    }, 50)
    cleanups.push(() => clearInterval(watch))
    const code = await new Promise((ok) => run.on('exit', ok))
    clearInterval(watch)
    expect(code).toBe(0)
    const { record } = JSON.parse(out) as {
      record: {
        trackingMode: string
        attributionNote: string
        cpu: { energyKWh: number }
        ram: { energyKWh: number }
        machine: { cpuKWh: number; ramKWh: number }
        trackerCpuS: number
        trackerEnergyKWh: number
      }
    }
    // RAM: the job's share of the memory in use is sleep's few hundred kB, not wattprint's tens of MB.
    expect(wattprintPssBytes).toBeGreaterThan(20 * 2 ** 20)
    const meanUsed = used.reduce((a, b) => a + b, 0) / used.length
    const jobBytes = (record.ram.energyKWh / record.machine.ramKWh) * meanUsed
    expect(jobBytes).toBeGreaterThan(0)
    expect(jobBytes).toBeLessThan(5 * 2 ** 20)
    // CPU: the machine's only work was wattprint's (sleep used next to none): the tracker's, not the job's.
    // (How much of it the tracker's share finds depends on how many 10 ms ticks each second counted: a
    // second in which the stand-in /proc/stat, written by this process, has not moved gives no one a
    // share. The exact split by CPU time is the library's test above.)
    expect(record.cpu.energyKWh / record.machine.cpuKWh).toBeLessThan(0.1)
    expect(record.trackerEnergyKWh).toBeGreaterThan(0)
    expect(record.trackerEnergyKWh + record.cpu.energyKWh).toBeLessThanOrEqual(
      record.machine.cpuKWh * (1 + 1e-9),
    )
    // The note names the command as the job.
    expect(record.trackingMode).toBe('process')
    expect(record.attributionNote).toMatch(
      /^the process tree of the command \(pid \d+\) \(at most 1 process\)/,
    )
    // wattprint's CPU time from the baseline on (its start-up before that is not measured by anyone).
    expect(record.trackerCpuS).toBeGreaterThan(0)
    expect(record.trackerCpuS * 100).toBeLessThanOrEqual(wattprintTicks + 2)
    // The row says the same, in the columns Python's csv module finds by name.
    const [row] = readCsvWithPython(join(dir, 'emissions.csv'))
    expect(Number(row?.tracker_cpu_seconds)).toBe(record.trackerCpuS)
    expect(Number(row?.tracker_energy)).toBe(record.trackerEnergyKWh)
  }, 60_000)
})
