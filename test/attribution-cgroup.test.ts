import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AttributionAccount } from '../src/attribution/account.js'
import { detectAttribution } from '../src/attribution/detect.js'
import { attributionNote, planAttribution } from '../src/attribution/plan.js'
import { AttributionReader } from '../src/attribution/reader.js'
import { resolveConfig } from '../src/config/config.js'
import type { AttributionSample } from '../src/model/attribution.js'

// A cgroup v2 tree and a /proc that points into it, as the kernel lays them out: the tests stand up a
// host mixing cgroup v1 and v2 (the v2 hierarchy at /sys/fs/cgroup/unified, every process in its root),
// a container's own cgroup, and a terminal's scope shared with other processes.

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-cgroup-'))
  dirs.push(dir)
  return dir
}

interface Host {
  readonly proc: string
  /** The cgroup v2 folder this process is in. */
  readonly cgroup: string
}

/**
 * A /proc whose `self` sits at `path` of a cgroup v2 hierarchy (mounted at `<tmp>/unified`, beside v1
 * controllers). `root`: the folder is the hierarchy's root (no cgroup.events, as the kernel has it).
 */
function host(options: {
  path: string
  root: boolean
  procs: readonly number[]
  memoryCurrent?: boolean
}): Host {
  const base = tempDir()
  const proc = join(base, 'proc')
  const mount = join(base, 'unified')
  const cgroup = options.path === '/' ? mount : join(mount, options.path)
  mkdirSync(join(proc, 'self'), { recursive: true })
  mkdirSync(cgroup, { recursive: true })
  writeFileSync(
    join(proc, 'self', 'mountinfo'),
    [
      `31 30 0:28 / ${base}/cpu rw,relatime - cgroup cgroup rw,cpu`,
      `34 30 0:31 / ${base}/memory rw,relatime - cgroup cgroup rw,memory`,
      `40 30 0:37 / ${mount} rw,relatime - cgroup2 cgroup2 rw`,
      '',
    ].join('\n'),
  )
  writeFileSync(join(proc, 'self', 'cgroup'), `4:memory:/job-1\n1:cpu:/\n0::${options.path}\n`)
  writeFileSync(join(cgroup, 'cpu.stat'), 'usage_usec 1000000\nuser_usec 0\nsystem_usec 0\n')
  writeFileSync(join(cgroup, 'cgroup.procs'), options.procs.map((p) => `${p}\n`).join(''))
  if (!options.root) writeFileSync(join(cgroup, 'cgroup.events'), 'populated 1\nfrozen 0\n')
  if (options.memoryCurrent) writeFileSync(join(cgroup, 'memory.current'), String(2 ** 30))
  return { proc, cgroup }
}

/** A /proc/<pid>/stat line with the given parent. */
const stat = (pid: number, ppid: number) =>
  `${pid} (node) S ${ppid} ${pid} ${pid} 0 -1 4194304 0 0 0 0 10 5 0 0 20 0 11 0 100 0 0\n`

const plan = (attribution: 'cgroup' | { cgroup: string }, procRoot: string) =>
  planAttribution(resolveConfig({ attribution, procRoot, saveToFile: false, logLevel: 'silent' }, {}))

describe('attribution to a cgroup that is not the job', () => {
  it("refuses this process's own cgroup when it is the v2 root of a host mixing v1 and v2, and says so", () => {
    const { proc, cgroup } = host({ path: '/', root: true, procs: [1, 2, process.pid] })
    const planned = plan('cgroup', proc)
    expect(planned.spec?.kind).toBe('process')
    expect(planned.job).toBe(`the process tree of pid ${process.pid}`)
    expect(planned.warnings).toHaveLength(1)
    expect(planned.warnings[0]?.code).toBe('ATTRIBUTION_UNAVAILABLE')
    expect(planned.warnings[0]?.message).toContain(`the root cgroup (${cgroup})`)
    expect(planned.warnings[0]?.message).toContain('every process of the machine')
    expect(planned.warnings[0]?.message).toContain('systemd-run --user --scope')
    const detected = detectAttribution(proc, null).cgroup
    expect(detected).toMatch(/^not possible: this process is in the root cgroup/)
    expect(detected).not.toMatch(/^possible/)
  })

  it("takes a container's own cgroup (/ through its namespace, not the root) as the job's", () => {
    const { proc, cgroup } = host({ path: '/', root: false, procs: [process.pid], memoryCurrent: true })
    const planned = plan('cgroup', proc)
    expect(planned.spec).toMatchObject({ kind: 'cgroup', dir: cgroup })
    expect(planned.warnings).toEqual([])
    expect(detectAttribution(proc, null).cgroup).toBe(
      `possible: this process's cgroup is ${cgroup}; memory by its memory.current`,
    )
  })

  it('says when the cgroup holds processes beside the job and its launchers, and names a few', () => {
    const launcher = 4242
    const { proc, cgroup } = host({
      path: '/user.slice/session-3.scope',
      root: false,
      procs: [launcher, process.pid, 777001, 777002],
    })
    // This process was started by 4242 (a shell), itself a child of init: neither is someone else's work.
    mkdirSync(join(proc, String(process.pid)))
    writeFileSync(join(proc, String(process.pid), 'stat'), stat(process.pid, launcher))
    mkdirSync(join(proc, String(launcher)))
    writeFileSync(join(proc, String(launcher), 'stat'), stat(launcher, 1))
    const planned = plan('cgroup', proc)
    expect(planned.spec).toMatchObject({ kind: 'cgroup', dir: cgroup })
    expect(planned.warnings.map((w) => w.code)).toEqual(['ATTRIBUTION_SHARED'])
    expect(planned.warnings[0]?.message).toContain('also holds 2 process(es)')
    expect(planned.warnings[0]?.message).toContain('pid 777001, 777002')
    expect(planned.warnings[0]?.message).not.toContain(String(launcher))
    expect(detectAttribution(proc, null).cgroup).toMatch(
      /^possible, but this process's cgroup .* also holds 2 process\(es\) .*; memory by its processes' PSS/,
    )
  })

  it('keeps a root cgroup named explicitly, saying plainly that it is the whole machine', () => {
    const { proc, cgroup } = host({ path: '/', root: true, procs: [1] })
    const planned = plan({ cgroup }, proc)
    expect(planned.spec).toMatchObject({ kind: 'cgroup', dir: cgroup })
    expect(planned.job).toBe(`cgroup ${cgroup} (the root cgroup: the whole machine)`)
    expect(planned.warnings.map((w) => w.code)).toEqual(['ATTRIBUTION_SHARED'])
    expect(planned.warnings[0]?.message).toContain('is the root cgroup')
  })
})

describe("a cgroup's memory without memory.current", () => {
  it("is its processes' PSS; processes none of which can be read hold an unknown amount, not 0", () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1000000\n')
    writeFileSync(join(dir, 'cgroup.procs'), `${process.pid}\n`)
    const reader = () =>
      new AttributionReader({
        type: 'attribution',
        kind: 'cgroup',
        dir,
        procRoot: '/proc',
        procStatPath: '/proc/stat',
      })
    const sample = reader().read()
    expect(sample.memoryMeasure).toMatch(/^(pss|rss)$/)
    expect(sample.jobMemoryBytes).toBeGreaterThan(1e6)
    // A pid above the kernel's limit (2^22) is never a live process.
    writeFileSync(join(dir, 'cgroup.procs'), '99999999\n')
    expect(reader().read()).toMatchObject({ jobMemoryBytes: null, memoryMeasure: null, processes: 1 })
    // No process at all holds no memory.
    writeFileSync(join(dir, 'cgroup.procs'), '')
    expect(reader().read()).toMatchObject({ jobMemoryBytes: 0, processes: 0 })
  })
})

describe('a share that cannot be read', () => {
  const sample = (over: Partial<AttributionSample>): AttributionSample => ({
    jobCpuS: 0.5,
    trackerCpuS: null,
    machineBusyCpuS: 1,
    machineTotalCpuS: 2,
    jobMemoryBytes: 1e9,
    usedMemoryBytes: 4e9,
    memoryMeasure: 'cgroup',
    processes: 1,
    gpu: null,
    ...over,
  })
  const interval = { durationS: 1, joules: { cpu: 100, gpu: 0, ram: 20 }, nvmlGpuJoules: null }

  it('is bridged with the last share read, or charged to others before any, and the note says which', () => {
    const account = new AttributionAccount({ idle: 'exclude', cpuIdlePriorW: 0 })
    const unread = { jobMemoryBytes: null, memoryMeasure: null, jobCpuS: null }
    // Before any share was read: nothing to bridge with, so 0 to the job, counted as such.
    expect(account.split(interval, sample(unread)).ram).toEqual({ jobJ: 0, idleJ: 0, othersJ: 20 })
    expect(account.split(interval, sample({})).ram.jobJ).toBe(5)
    // Then a gap: the last share read (a quarter), for RAM and CPU alike.
    const bridged = account.split(interval, sample(unread))
    expect(bridged.ram.jobJ).toBe(5)
    expect(bridged.cpu.jobJ).toBe(50)
    const facts = account.facts()
    expect(facts.unreadShares).toEqual({ cpu: { bridged: 1, unknown: 1 }, ram: { bridged: 1, unknown: 1 } })
    const note = attributionNote('cgroup /x', 'exclude', facts)
    expect(note).toContain('RAM share unreadable in 1 interval(s): the last share read used')
    expect(note).toContain(
      'RAM share unreadable in 1 interval(s) before any was read: charged to others, not the job',
    )
  })

  it('says so when no memory figure of the job was ever read', () => {
    const account = new AttributionAccount({ idle: 'exclude', cpuIdlePriorW: 0 })
    account.split(interval, sample({ jobMemoryBytes: null, memoryMeasure: null }))
    expect(attributionNote('cgroup /x', 'exclude', account.facts())).toContain(
      'RAM: no memory figure of the job could be read',
    )
  })
})

describe('a tracker attributing to a cgroup without memory.current', () => {
  it("charges the job RAM energy by its processes' memory, not 0 J", async () => {
    const { EmissionsTracker } = await import('../src/tracker/tracker.js')
    const dir = tempDir()
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 0\n')
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n')
    writeFileSync(join(dir, 'cgroup.procs'), `${process.pid}\n`)
    const tracker = new EmissionsTracker({
      attribution: { cgroup: dir },
      sampling: 'inline',
      intervalMs: 100,
      ramPowerW: 10,
      cpuPowerW: 10,
      raplRoot: join(dir, 'no-rapl'),
      saveToFile: false,
      logLevel: 'silent',
      carbonIntensityGPerKWh: 100,
    })
    const warnings: string[] = []
    tracker.on('warning', (w) => warnings.push(w.code))
    await tracker.start()
    await new Promise((r) => setTimeout(r, 800))
    const record = await tracker.stop()
    expect(warnings).toEqual([])
    expect(record.trackingMode).toBe('process')
    expect(record.attributionNote).toMatch(/RAM by (PSS|RSS) over the memory in use/)
    expect(record.machine.ramKWh).toBeGreaterThan(0)
    expect(record.ram.energyKWh).toBeGreaterThan(0)
    expect(record.ram.energyKWh).toBeLessThan(record.machine.ramKWh)
  }, 30_000)
})
