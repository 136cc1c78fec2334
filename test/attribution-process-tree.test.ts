import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ProcessTreeReader, parseProcessStat } from '../src/attribution/process-tree.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const exited = (child: ChildProcess) =>
  new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve),
  )

/** A stat line as the kernel writes it, with the given fields (the rest zero). */
function statLine(
  pid: number,
  ppid: number,
  comm: string,
  t: { u?: number; s?: number; cu?: number; cs?: number; start?: number },
): string {
  const fields = Array.from({ length: 50 }, () => '0')
  const set = (field: number, value: number | string) => {
    fields[field - 3] = String(value)
  }
  set(3, 'S')
  set(4, ppid)
  set(14, t.u ?? 0)
  set(15, t.s ?? 0)
  set(16, t.cu ?? 0)
  set(17, t.cs ?? 0)
  set(22, t.start ?? 1000 + pid)
  return `${pid} (${comm}) ${fields.join(' ')}\n`
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A /proc look-alike without children files (as on kernels without CONFIG_PROC_CHILDREN). */
function fakeProc(): {
  root: string
  write: (pid: number, line: string) => void
  remove: (pid: number) => void
} {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-proc-'))
  dirs.push(root)
  return {
    root,
    write: (pid, line) => {
      mkdirSync(join(root, String(pid), 'task', String(pid)), { recursive: true })
      writeFileSync(join(root, String(pid), 'stat'), line)
    },
    remove: (pid) => rmSync(join(root, String(pid)), { recursive: true, force: true }),
  }
}

describe('parseProcessStat', () => {
  it('reads the fields after a command name holding spaces and parentheses', () => {
    const parsed = parseProcessStat(statLine(42, 7, 'a) (b c', { u: 5, s: 6, cu: 7, cs: 8, start: 99 }))
    expect(parsed).toEqual({ pid: 42, ppid: 7, startTicks: 99, ownTicks: 11, reapedTicks: 15 })
  })

  it('refuses what is not a stat line', () => {
    expect(parseProcessStat('')).toBeNull()
    expect(parseProcessStat('12 (x) S 1 2')).toBeNull()
  })
})

describe('ProcessTreeReader on a /proc without children files', () => {
  it('finds descendants by their parents, counts reaped children once, and ignores other processes', () => {
    const proc = fakeProc()
    proc.write(10, statLine(10, 1, 'job', { u: 100 }))
    proc.write(11, statLine(11, 10, 'worker', { u: 50 }))
    proc.write(12, statLine(12, 11, 'grandchild', { u: 20 }))
    proc.write(20, statLine(20, 1, 'other', { u: 999 }))
    const reader = new ProcessTreeReader(10, proc.root)
    expect(reader.read()).toMatchObject({ cpuTicks: 0, processCount: 3, rootAlive: true })

    // Everyone works; the grandchild then ends and is reaped by the worker, which gets its 20 + 5 ticks.
    proc.write(10, statLine(10, 1, 'job', { u: 110 }))
    proc.write(11, statLine(11, 10, 'worker', { u: 60, cu: 25 }))
    proc.remove(12)
    proc.write(20, statLine(20, 1, 'other', { u: 1999 }))
    // 10 + 10 of their own, and the grandchild's 5 ticks since the first reading (its 20 were counted).
    expect(reader.read()).toMatchObject({ cpuTicks: 25, processCount: 2 })

    // A short-lived child born and reaped between readings reaches only the root's cutime.
    proc.write(10, statLine(10, 1, 'job', { u: 110, cu: 40 }))
    expect(reader.read().cpuTicks).toBe(40)

    // A reused pid is another process: its whole time is new, the old one's is not taken off twice.
    proc.write(11, statLine(11, 10, 'new worker', { u: 3, start: 5000 }))
    expect(reader.read().cpuTicks).toBe(3)

    proc.remove(10)
    expect(reader.read()).toMatchObject({ cpuTicks: 0, processCount: 0, rootAlive: false })
  })
})

describe("ProcessTreeReader with wattprint run's process as the tracker's", () => {
  it("counts the command's tree as the job's, wattprint and its helpers as the tracker's, and the command's last moments as the job's", () => {
    // 100 is wattprint, 101 a guard it started, 102 the command (spawned just before the first reading)
    // and 103 the command's child.
    const proc = fakeProc()
    proc.write(100, statLine(100, 1, 'node', { u: 50 }))
    proc.write(101, statLine(101, 100, 'sh', { u: 1 }))
    proc.write(102, statLine(102, 100, 'train', {}))
    proc.write(103, statLine(103, 102, 'worker', {}))
    const reader = new ProcessTreeReader(100, proc.root, { kind: 'process', pid: 100, jobPid: null })
    // Before wattprint knows the command's pid, nothing is the job's.
    expect(reader.read()).toMatchObject({ cpuTicks: 0, trackerTicks: 0, processCount: 0, pids: [] })
    reader.setJob(102)
    proc.write(100, statLine(100, 1, 'node', { u: 55 }))
    proc.write(101, statLine(101, 100, 'sh', { u: 2 }))
    proc.write(102, statLine(102, 100, 'train', { u: 10 }))
    proc.write(103, statLine(103, 102, 'worker', { u: 4 }))
    expect(reader.read()).toMatchObject({
      cpuTicks: 14,
      trackerTicks: 6,
      processCount: 2,
      pids: [102, 103],
      trackerPids: [100, 101],
    })
    // The child ends (reaped by the command: 6 ticks in all), then the command (13 of its own): wattprint
    // reaps it, and its cutime grows by all 19. The 5 not read before are the job's, not wattprint's.
    proc.remove(103)
    proc.remove(102)
    proc.write(100, statLine(100, 1, 'node', { u: 57, cu: 19 }))
    expect(reader.read()).toMatchObject({ cpuTicks: 5, trackerTicks: 2, processCount: 0, rootAlive: true })
    // A helper's end, by contrast, stays wattprint's.
    proc.remove(101)
    proc.write(100, statLine(100, 1, 'node', { u: 57, cu: 22 }))
    expect(reader.read()).toMatchObject({ cpuTicks: 0, trackerTicks: 1 })
  })
})

describe('a command that ends before the next reading', () => {
  it("is still the job's: its time reaches wattprint's cutime, and that part is the job's, not the tracker's", () => {
    // 100 is wattprint; 102 the command, started after the baseline and gone (with a child of its own)
    // before any reading saw it: a command shorter than one interval.
    const proc = fakeProc()
    proc.write(100, statLine(100, 1, 'node', { u: 50 }))
    const reader = new ProcessTreeReader(100, proc.root, { kind: 'process', pid: 100, jobPid: null })
    expect(reader.read()).toMatchObject({ cpuTicks: 0, trackerTicks: 0, processCount: 0 })
    proc.write(102, statLine(102, 100, 'sh', {}))
    reader.setJob(102)
    // The command ran 30 ticks (its children's included) and was reaped by wattprint, which ran 2 more.
    proc.remove(102)
    proc.write(100, statLine(100, 1, 'node', { u: 52, cu: 30 }))
    expect(reader.read()).toMatchObject({ cpuTicks: 30, trackerTicks: 2, processCount: 0, rootAlive: true })
  })
})

describe('ProcessTreeReader on this machine', () => {
  it('charges a job for 200 short-lived children it ran one after another', async () => {
    // The job's own view at the end (its times and its reaped children's, from its own /proc/self/stat)
    // is the truth; the reader, reading from outside every 50 ms, must have counted the same.
    const script = `
      const { execFileSync } = require('node:child_process')
      const { readFileSync } = require('node:fs')
      // Each child a shell burning a few ms of CPU: quicker to start than node, as make's jobs are.
      for (let i = 0; i < 200; i++) execFileSync('sh', ['-c', 'i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done'])
      const f = readFileSync('/proc/self/stat', 'utf8').slice(readFileSync('/proc/self/stat', 'utf8').lastIndexOf(')') + 2).split(' ')
      console.log(JSON.stringify(Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])))
      setTimeout(() => {}, 400)
    `
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let printed = ''
    child.stdout.on('data', (d) => (printed += d))
    const reader = new ProcessTreeReader(child.pid as number)
    let counted = 0
    let sawChildren = false
    reader.read()
    while (printed === '') {
      await sleep(50)
      const reading = reader.read()
      counted += reading.cpuTicks
      if (reading.processCount > 1) sawChildren = true
    }
    await sleep(100)
    counted += reader.read().cpuTicks
    await exited(child)
    const truth = Number(printed)
    expect(sawChildren).toBe(true)
    expect(truth).toBeGreaterThan(40) // 200 × a few ms of CPU, at 100 ticks/s
    // The first reading was taken a moment after the spawn, and the last tick may fall either side.
    expect(Math.abs(counted - truth)).toBeLessThanOrEqual(Math.max(5, truth * 0.03))
  }, 60_000)

  it('counts two children working at once and nothing of a process outside the tree', async () => {
    // Burns CPU time, not wall time, so a busy machine changes how long it takes but not what it costs.
    const burn = (ms: number) =>
      `for (let x = 0; ; x++) if (x % 1e6 === 0) { const u = process.cpuUsage(); if (u.user + u.system >= ${ms * 1000}) break }`
    const outsider = spawn(process.execPath, ['-e', burn(1500)])
    const job = spawn(process.execPath, [
      '-e',
      `const { spawn } = require('node:child_process'); for (let i = 0; i < 2; i++) spawn(process.execPath, ['-e', ${JSON.stringify(burn(600))}], { stdio: 'inherit' })`,
    ])
    const reader = new ProcessTreeReader(job.pid as number)
    reader.read()
    let counted = 0
    let most = 0
    for (let reading = reader.read(); reading.rootAlive; reading = reader.read()) {
      counted += reading.cpuTicks
      most = Math.max(most, reading.processCount)
      // Stop just before the job exits and is reaped outside the tree: what it has after the last reading
      // is lost (it is the tree's root).
      if (reading.processCount === 1 && most === 3) break
      await sleep(20)
    }
    await Promise.all([job, outsider].map(exited))
    expect(most).toBe(3)
    // Two children × 0.6 s of CPU and the job's own start, and nowhere near the outsider's 1.5 s on top.
    expect(counted).toBeGreaterThanOrEqual(120)
    expect(counted).toBeLessThan(190)
  }, 30_000)

  it('counts a child forked by a worker thread once, though only every tenth reading lists it', async () => {
    // The children file of the thread that forked it lists it; the readings in between read the main
    // threads' files alone. Counted each time it reappeared, its whole time would be charged again.
    const forked =
      "require('node:child_process').spawn('sh', ['-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 30'], { stdio: 'ignore' })"
    const job = spawn(process.execPath, [
      '-e',
      `new (require('node:worker_threads').Worker)(${JSON.stringify(forked)}, { eval: true }); setTimeout(() => {}, 30_000)`,
    ])
    const reader = new ProcessTreeReader(job.pid as number)
    const own = (pid: number) => {
      try {
        return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.ownTicks ?? 0
      } catch {
        return 0
      }
    }
    const atStart = own(job.pid as number)
    reader.read()
    let counted = 0
    const counts: number[] = []
    let pids: readonly number[] = []
    // Until the shell has burnt its loop and sleeps, then 30 readings more (three of every thread's files).
    let quiet = 0
    for (let i = 0; i < 400 && quiet < 30; i++) {
      await sleep(20)
      const reading = reader.read()
      counted += reading.cpuTicks
      counts.push(reading.processCount)
      pids = reading.pids
      if (reading.processCount === 3) quiet += 1
    }
    const truth = own(job.pid as number) - atStart + pids.slice(1).reduce((sum, pid) => sum + own(pid), 0)
    job.kill('SIGKILL')
    for (const pid of pids.slice(1)) process.kill(pid, 'SIGKILL')
    await exited(job)
    expect(quiet).toBe(30)
    // Once found, never lost again: node, the shell and its sleep on every reading.
    expect(counts.slice(counts.indexOf(3))).toEqual(counts.slice(counts.indexOf(3)).map(() => 3))
    expect(truth).toBeGreaterThan(5)
    expect(Math.abs(counted - truth)).toBeLessThanOrEqual(Math.max(4, truth * 0.05))
  }, 60_000)
})
