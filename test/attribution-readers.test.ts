import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CgroupReader, cgroup2Mount, cgroup2Path, ownCgroupDir } from '../src/attribution/cgroup.js'
import { ProcessMemoryReader, parsePss, parseVmRss } from '../src/attribution/memory.js'
import { AttributionReader, sharesOf } from '../src/attribution/reader.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-attribution-'))
  dirs.push(dir)
  return dir
}

const MOUNTINFO = [
  '24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
  '42 31 0:39 / /sys/fs/cgroup/memory rw,relatime shared:11 - cgroup cgroup rw,memory',
].join('\n')

describe('finding the cgroup', () => {
  it('reads the cgroup2 mount point, not a v1 controller, and undoes octal escapes', () => {
    expect(cgroup2Mount(MOUNTINFO)).toBe('/sys/fs/cgroup/unified')
    expect(cgroup2Mount('50 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 none rw')).toBe('/mnt/my cgroups')
    expect(cgroup2Mount(MOUNTINFO.split('\n')[2] as string)).toBeNull()
  })

  it("reads the unified hierarchy's line of /proc/<pid>/cgroup", () => {
    expect(cgroup2Path('4:memory:/x\n0::/system.slice/job-42.scope\n')).toBe('/system.slice/job-42.scope')
    expect(cgroup2Path('0::/\n')).toBe('/')
    expect(cgroup2Path('4:memory:/x\n1:cpu:/\n')).toBeNull()
  })

  it('joins them for a process, and says why when it cannot', () => {
    const proc = tempDir()
    mkdirSync(join(proc, '77'))
    writeFileSync(join(proc, '77', 'mountinfo'), MOUNTINFO)
    writeFileSync(join(proc, '77', 'cgroup'), '0::/kubepods/pod-1/abc\n')
    expect(ownCgroupDir(77, proc)).toEqual({ dir: '/sys/fs/cgroup/unified/kubepods/pod-1/abc' })
    writeFileSync(join(proc, '77', 'cgroup'), '4:memory:/x\n')
    expect(ownCgroupDir(77, proc)).toMatchObject({ dir: null, why: expect.stringContaining('cgroup v1') })
    expect(ownCgroupDir(78, proc)).toMatchObject({
      dir: null,
      why: expect.stringContaining('cannot be read'),
    })
  })

  it("finds this process's own cgroup on this machine", () => {
    const own = ownCgroupDir()
    if (own.dir === null) return expect(own.why).toMatch(/cgroup/)
    expect(new CgroupReader(own.dir).read().cpuS).toBeGreaterThan(0)
  })
})

describe('CgroupReader', () => {
  it('reads cpu.stat and memory.current as the test advances them', () => {
    const dir = tempDir()
    const set = (usageUsec: number, memoryBytes: number | null) => {
      writeFileSync(
        join(dir, 'cpu.stat'),
        `usage_usec ${usageUsec}\nuser_usec 1\nsystem_usec 2\nnr_periods 0\n`,
      )
      if (memoryBytes !== null) writeFileSync(join(dir, 'memory.current'), `${memoryBytes}\n`)
    }
    const reader = new CgroupReader(dir)
    expect(reader.read()).toEqual({ cpuS: null, memoryBytes: null })
    set(1_500_000, null)
    expect(reader.read()).toEqual({ cpuS: 1.5, memoryBytes: null })
    set(4_000_000, 512 * 1024 * 1024)
    expect(reader.read()).toEqual({ cpuS: 4, memoryBytes: 536_870_912 })
    writeFileSync(join(dir, 'memory.current'), 'max\n')
    expect(reader.read().memoryBytes).toBeNull()
  })
})

describe('ProcessMemoryReader', () => {
  it('parses smaps_rollup and status', () => {
    expect(parsePss('55 [rollup]\nRss:  1736 kB\nPss:   225 kB\nPss_Dirty: 112 kB\n')).toBe(225 * 1024)
    expect(parsePss('Rss: 1 kB\n')).toBeNull()
    expect(parseVmRss('Name:\tnode\nVmRSS:\t  5120 kB\nRssAnon: 1 kB\n')).toBe(5120 * 1024)
  })

  it('sums PSS, falls back to RSS where smaps_rollup is missing, and counts what it could not read', () => {
    const proc = tempDir()
    mkdirSync(join(proc, '1'))
    writeFileSync(join(proc, '1', 'smaps_rollup'), 'x [rollup]\nRss: 400 kB\nPss: 100 kB\n')
    mkdirSync(join(proc, '2'))
    writeFileSync(join(proc, '2', 'status'), 'Name:\told\nVmRSS:\t300 kB\n')
    const reader = new ProcessMemoryReader(proc)
    expect(reader.read([1])).toEqual({ bytes: 100 * 1024, measure: 'pss', unreadable: 0 })
    expect(reader.read([1, 2, 3])).toEqual({ bytes: 400 * 1024, measure: 'rss', unreadable: 1 })
  })

  it('reads smaps_rollup again only every pssRefreshMs, scaling the last PSS by the resident pages between', () => {
    const proc = tempDir()
    mkdirSync(join(proc, '5'))
    const set = (pssKiB: number, residentPages: number) => {
      writeFileSync(join(proc, '5', 'smaps_rollup'), `x [rollup]\nPss: ${pssKiB} kB\n`)
      writeFileSync(join(proc, '5', 'statm'), `9000 ${residentPages} 100 1 0 500 0\n`)
    }
    set(1000, 400)
    const cached = new ProcessMemoryReader(proc, 60_000)
    expect(cached.read([5]).bytes).toBe(1000 * 1024)
    // The resident set doubled; smaps_rollup (which the reader does not read again yet) says otherwise.
    set(5000, 800)
    expect(cached.read([5]).bytes).toBe(2000 * 1024)
    // Read afresh once the refresh period is over (here: at once).
    set(1000, 400)
    const fresh = new ProcessMemoryReader(proc, 0)
    expect(fresh.read([5]).bytes).toBe(1000 * 1024)
    set(5000, 800)
    expect(fresh.read([5]).bytes).toBe(5000 * 1024)
  })

  it("reads this process's real PSS, below its RSS", () => {
    const pss = new ProcessMemoryReader().read([process.pid])
    expect(pss.measure).toBe('pss')
    expect(pss.bytes).toBeGreaterThan(10 * 1024 * 1024)
    expect(pss.bytes).toBeLessThanOrEqual(process.memoryUsage().rss)
  })
})

describe('AttributionReader', () => {
  const stat = (pid: number, ppid: number, utime: number) =>
    `${pid} (job) S ${ppid} ${Array.from({ length: 9 }, () => 0).join(' ')} ${utime} 0 0 0 ${Array.from({ length: 4 }, () => 0).join(' ')} 1000 0\n`

  it('reads the job and the machine over each interval: CPU seconds, memory and processes', () => {
    const proc = tempDir()
    const procStat = join(proc, 'stat')
    const setMachine = (busy: number, idle: number) =>
      writeFileSync(procStat, `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 1 2 3 4\n`)
    mkdirSync(join(proc, '10', 'task', '10'), { recursive: true })
    writeFileSync(join(proc, '10', 'task', '10', 'children'), '')
    writeFileSync(join(proc, '10', 'smaps_rollup'), 'x [rollup]\nPss: 2048 kB\n')
    writeFileSync(join(proc, 'meminfo'), 'MemTotal:  16384 kB\nMemFree: 1 kB\nMemAvailable:  8192 kB\n')
    writeFileSync(join(proc, '10', 'stat'), stat(10, 1, 100))
    setMachine(1000, 5000)
    const reader = new AttributionReader({
      type: 'attribution',
      kind: 'process',
      pid: 10,
      procRoot: proc,
      procStatPath: procStat,
    })
    expect(reader.read()).toMatchObject({ jobCpuS: 0, machineBusyCpuS: 0, processes: 1 })
    writeFileSync(join(proc, '10', 'stat'), stat(10, 1, 150))
    setMachine(1200, 5100)
    const sample = reader.read()
    expect(sample).toEqual({
      jobCpuS: 0.5,
      // No thread-self in this stand-in /proc, and no sampler thread: the tracker's time is not told apart.
      trackerCpuS: null,
      machineBusyCpuS: 2,
      machineTotalCpuS: 3,
      jobMemoryBytes: 2048 * 1024,
      usedMemoryBytes: 8192 * 1024,
      memoryMeasure: 'pss',
      processes: 1,
      gpu: null,
    })
    expect(sharesOf(sample)).toEqual({ cpu: 0.25, ram: 0.25, gpu: null })
  })

  it('reads a cgroup: CPU from cpu.stat, memory from memory.current, processes from cgroup.procs', () => {
    const dir = tempDir()
    const proc = tempDir()
    writeFileSync(join(proc, 'meminfo'), 'MemTotal:  4096 kB\nMemAvailable:  0 kB\n')
    writeFileSync(join(proc, 'stat'), 'cpu  100 0 0 0 0 0 0 0\n')
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1000000\n')
    writeFileSync(join(dir, 'memory.current'), String(1024 * 1024))
    writeFileSync(join(dir, 'cgroup.procs'), '7\n8\n')
    const reader = new AttributionReader({
      type: 'attribution',
      kind: 'cgroup',
      dir,
      procRoot: proc,
      procStatPath: join(proc, 'stat'),
    })
    reader.read()
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1750000\n')
    writeFileSync(join(proc, 'stat'), 'cpu  400 0 0 0 0 0 0 0\n')
    const sample = reader.read()
    expect(sample).toMatchObject({ jobCpuS: 0.75, machineBusyCpuS: 3, memoryMeasure: 'cgroup', processes: 2 })
    expect(sharesOf(sample)).toEqual({ cpu: 0.25, ram: 0.25, gpu: null })
  })
})
