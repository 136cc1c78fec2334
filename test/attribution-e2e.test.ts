import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { driveCounters } from './helpers/driver.mjs'
import { DEFAULT_RANGE_UJ, makePowercapTree } from './helpers/powercap.mjs'
import { descendants, ownTicks } from './helpers/proc-tree.js'

// Real processes on this machine, each with its own tracker in process mode, on one powercap tree advancing
// at exactly 100 W. The machine's busy time (/proc/stat, a fixture here) is driven by the test as the sum of
// these processes' real CPU time, so that the jobs are the only work on the "machine" whatever else this
// computer runs: then their shares of it must add up to one, and split it as their CPU times do.

const WATTS = 100
const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A /proc/stat whose busy time is the CPU time of `pids` and of every descendant seen (each kept after it
 * ends), on 2 CPUs: as the kernel's counts CPU time when it is used, a child's time shows while it runs,
 * not only once its parent reaps it. A child too short-lived to be seen is missing from it, never counted
 * twice.
 */
function fakeProcStat(dir: string, pids: () => readonly number[]) {
  const path = join(dir, 'stat')
  const last = new Map<number, number>()
  const startMs = Date.now()
  const write = () => {
    const tree = new Set(pids())
    for (const pid of pids()) descendants(pid, tree)
    for (const pid of tree) last.set(pid, Math.max(last.get(pid) ?? 0, ownTicks(pid)))
    const busy = [...last.values()].reduce((a, b) => a + b, 0)
    const total = Math.max(busy, Math.round(((Date.now() - startMs) / 1000) * 100 * 2))
    writeFileSync(`${path}.tmp`, `cpu  ${busy} 0 0 ${total - busy} 0 0 0 0 0 0\n`)
    renameSync(`${path}.tmp`, path)
  }
  write()
  const timer = setInterval(write, 5)
  cleanups.push(() => clearInterval(timer))
  return path
}

const JOB = resolve('test/helpers/attributed-job.mjs')

interface JobResult {
  cpuJ: number
  machineCpuJ: number
  /** Its tracker's own CPU energy: the others', never the job's. */
  trackerJ: number
  /**
   * The task from GO to STOP: the job's CPU energy, the machine's, its tracker's, and the process's CPU
   * time in ticks (its tracker's included).
   */
  burn: { cpuJ: number; machineCpuJ: number; trackerJ: number; ticks: number }
  trackingMode: string
  note: string
  ticks: number
}

/** A job burning `duty` of a core between GO and STOP (see go()), tracked in process mode unless `track` is false. */
function job(env: Record<string, string>, duty: number, track = true) {
  const child = spawn(process.execPath, [JOB], {
    env: { ...process.env, ...env, DUTY: String(duty), TRACK: track ? '1' : '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  let readied: () => void = () => {}
  const ready = new Promise<void>((ok) => (readied = ok))
  child.stdout.on('data', (d) => {
    out += d
    if (out.startsWith('ready\n')) readied()
  })
  const done = new Promise<JobResult>((ok, fail) =>
    child.on('exit', (code) =>
      code === 0
        ? ok(JSON.parse(out.slice('ready\n'.length) || 'null'))
        : fail(new Error(`job exited ${code}`)),
    ),
  )
  return { child, ready, done }
}

/** Once every job's tracker has started: all burn for `seconds` together, then all stop. */
async function go(env: Record<string, string>, jobs: readonly ReturnType<typeof job>[], seconds: number) {
  await Promise.all(jobs.map((j) => j.ready))
  // The CPU share is summed over the last second (CPU_WINDOW_S in src/attribution/account.ts): a second
  // after every start, no start-up tick is left in a window to colour the stretch measured.
  await new Promise((r) => setTimeout(r, 1200))
  writeFileSync(env.GO as string, '')
  await new Promise((r) => setTimeout(r, seconds * 1000))
  writeFileSync(env.STOP as string, '')
  return Promise.all(jobs.map((j) => j.done))
}

async function machine(): Promise<{ env: Record<string, string>; track: (c: ChildProcess) => void }> {
  // Cleaned up in reverse: the writers stop before their folders go.
  const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0' }])
  cleanups.push(() => tree.cleanup())
  const driver = await driveCounters([
    { path: tree.energyPath('intel-rapl:0'), watts: WATTS, startUj: 1e9, rangeUj: DEFAULT_RANGE_UJ },
  ])
  cleanups.push(() => driver.stop())
  await driver.run()
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-attribution-e2e-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const pids: number[] = []
  const procStat = fakeProcStat(dir, () => pids)
  return {
    env: {
      WATTPRINT_RAPL_ROOT: tree.root,
      WATTPRINT_PROC_STAT_PATH: procStat,
      GO: join(dir, 'go'),
      STOP: join(dir, 'stop'),
    },
    track: (c) => {
      if (c.pid) pids.push(c.pid)
    },
  }
}

describe('attribution to processes, on a powercap tree at 100 W', () => {
  it('splits the CPU energy between two jobs as their CPU times: a full core and half a core get 2:1', async () => {
    const m = await machine()
    const jobs = [job(m.env, 1), job(m.env, 0.5)]
    for (const j of jobs) m.track(j.child)
    const [full, half] = await go(m.env, jobs, 5)
    if (!full || !half) throw new Error('no result')
    expect(full.trackingMode).toBe('process')
    expect(full.note).toContain('the process tree of pid')
    // Over the stretch both burned (their tasks from GO to STOP: their starts, which a busy machine spreads
    // over seconds, left out), each job's energy over its CPU time is the same price: energy splits as the
    // CPU time each really used does: within 8 % (the stand-in /proc/stat is written by this process, late
    // on a busy machine), and the tick either way that each count may be off by (CPU time is counted in
    // 10 ms ticks; a machine too busy to run them much gives few). A split by process count would be off
    // by the whole difference in their CPU times.
    // Each process's time is its job's and its tracker's, which its record reports apart.
    const processJ = (r: JobResult) => r.burn.cpuJ + r.burn.trackerJ
    const ratio = processJ(full) / processJ(half) / (full.burn.ticks / half.burn.ticks)
    const slack = 0.08 + 2 / full.burn.ticks + 2 / half.burn.ticks
    expect(ratio).toBeGreaterThan(1 - slack)
    expect(ratio).toBeLessThan(1 + slack)
    // (How much more CPU the full burner got is the scheduler's business on a busy machine.)
    expect(full.burn.ticks).toBeGreaterThan(half.burn.ticks)
    // And neither is charged the machine: together, no more than was drawn while both ran.
    expect(full.burn.cpuJ + half.burn.cpuJ).toBeLessThanOrEqual(full.burn.machineCpuJ * 1.05)
  }, 60_000)

  it('leaves an idle job next to a busy untracked process almost nothing', async () => {
    const m = await machine()
    const idle = job(m.env, 0)
    const busy = job(m.env, 1, false)
    for (const j of [idle, busy]) m.track(j.child)
    const [result, other] = await go(m.env, [idle, busy], 3)
    if (!result || !other) throw new Error('no result')
    // While the other burned (from GO to STOP), the idle job is charged at most for what little CPU its
    // process used (its tracker's is not the job's): its share of the two processes' CPU time, as each
    // read its own, not a share the scheduler was hoped to give the burner.
    const usedShare = result.burn.ticks / (result.burn.ticks + other.burn.ticks)
    expect(usedShare).toBeLessThan(0.25)
    expect(result.burn.cpuJ / result.burn.machineCpuJ).toBeLessThanOrEqual(usedShare * 1.5 + 0.02)
  }, 60_000)

  it('four ranks each tracking themselves count the machine once between them, not four times', async () => {
    const m = await machine()
    const ranks = [0, 1, 2, 3].map(() => job(m.env, 0.4))
    for (const r of ranks) m.track(r.child)
    const results = await go(m.env, ranks, 3)
    // Over the stretch they all burned (each rank's task from GO to STOP; their starts, which a busy machine
    // spreads over seconds, left out), with no idle (idle: include), the four shares and their four
    // trackers' (by the same rule, reported apart) add up to the whole machine's energy, not four times it.
    const sum = results.reduce((a, r) => a + r.burn.cpuJ + r.burn.trackerJ, 0)
    const machineJ = results.reduce((a, r) => a + r.burn.machineCpuJ, 0) / results.length
    expect(sum / machineJ).toBeGreaterThan(0.93)
    expect(sum / machineJ).toBeLessThan(1.03)
  }, 60_000)
})

describe('wattprint run --attribution process', () => {
  it("charges the command for 200 short-lived children, through their reapers' time", async () => {
    const m = await machine()
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-attribution-run-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const script = 'for i in $(seq 200); do sh -c "i=0; while [ \\$i -lt 3000 ]; do i=\\$((i+1)); done"; done'
    const run = spawn(
      process.execPath,
      [
        resolve('dist/cli.js'),
        'run',
        '-q',
        '--json',
        '--attribution',
        'process',
        '--idle',
        'include',
        '-o',
        dir,
        '--',
        'sh',
        '-c',
        script,
      ],
      { env: { ...process.env, ...m.env }, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    m.track(run)
    let out = ''
    run.stdout.on('data', (d) => (out += d))
    const code = await new Promise((ok) => run.on('exit', ok))
    expect(code).toBe(0)
    const { record } = JSON.parse(out) as {
      record: { trackingMode: string; cpu: { energyKWh: number }; machine: { cpuKWh: number } }
    }
    expect(record.trackingMode).toBe('process')
    // The machine's only work was this command's tree: most of it is the job's, children included. (Without
    // the children's time the job would be wattprint's own, a tenth of it. How close to all of it depends on
    // how fresh the test's stand-in /proc/stat is, written every 5 ms by this process: on a busy machine it
    // lags, and an interval whose job time outruns the machine's is capped at the whole. The exact split by
    // CPU time is the tests above, over the stretch all jobs ran.)
    expect(record.cpu.energyKWh / record.machine.cpuKWh).toBeGreaterThan(0.5)
    const csv = readFileSync(join(dir, 'emissions.csv'), 'utf8')
    expect(csv).toContain(',process,')
  }, 60_000)
})

describe('attribution to a cgroup', () => {
  it("charges a cgroup its share of the machine's busy time, read from cpu.stat and memory.current", async () => {
    const { EmissionsTracker } = await import('../src/tracker/tracker.js')
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-cgroup-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const procStat = join(dir, 'proc-stat')
    const startMs = Date.now()
    // The machine: one of two CPUs busy; the cgroup: a quarter of that busy time, and 1 GiB.
    const advance = () => {
      const s = (Date.now() - startMs) / 1000
      writeFileSync(
        join(dir, 'cpu.stat'),
        `usage_usec ${Math.round(s * 0.25e6)}\nuser_usec 0\nsystem_usec 0\n`,
      )
      writeFileSync(`${procStat}.tmp`, `cpu  ${Math.round(s * 100)} 0 0 ${Math.round(s * 100)} 0 0 0 0\n`)
      renameSync(`${procStat}.tmp`, procStat)
    }
    advance()
    writeFileSync(join(dir, 'memory.current'), String(2 ** 30))
    writeFileSync(join(dir, 'cgroup.procs'), `${process.pid}\n`)
    // Every cgroup but the hierarchy's root has it: this one is a job's, not the machine's.
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n')
    const timer = setInterval(advance, 5)
    cleanups.push(() => clearInterval(timer))
    const tracker = new EmissionsTracker({
      attribution: { cgroup: dir },
      sampling: 'inline',
      intervalMs: 100,
      procStatPath: procStat,
      cpuPowerW: 100,
      saveToFile: false,
      logLevel: 'silent',
      carbonIntensityGPerKWh: 100,
    })
    await tracker.start()
    await new Promise((r) => setTimeout(r, 1500))
    const record = await tracker.stop()
    expect(record.trackingMode).toBe('process')
    expect(record.attributionNote).toContain(`cgroup ${dir}`)
    expect(record.attributionNote).toContain("the cgroup's memory.current")
    // CPU at half load by the estimate: 100 W × (0.1 + 0.9 × 0.5³) = 21.25 W, of which 10 W is idle; the
    // cgroup gets a quarter of the 11.25 W above it.
    // Only the CPU has an idle floor here (RAM is split by memory alone, there is no GPU).
    const activeKWh = record.machine.cpuKWh - record.idleEnergyKWh
    expect(record.cpu.energyKWh / activeKWh).toBeGreaterThan(0.22)
    expect(record.cpu.energyKWh / activeKWh).toBeLessThan(0.28)
  }, 30_000)
})
