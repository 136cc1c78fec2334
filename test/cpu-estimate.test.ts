import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CpuTdpMeter, cpuPowerAtLoad } from '../src/meters/cpu-estimate.js'
import { loadBetween, parseProcStat } from '../src/meters/cpu-load.js'
import { buildCpuTable, matchCpu, normaliseCpuName, shippedCpuTable } from '../src/meters/cpu-tdp-table.js'
import { estimateTdp } from '../src/meters/detect.js'
import type { SystemInfo } from '../src/system.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const system = (over: Partial<SystemInfo>): SystemInfo => ({
  cpuModel: 'unknown',
  cpuCount: 8,
  sockets: 1,
  ramTotalGiB: 16,
  memoryModules: null,
  isArm: false,
  os: 'Linux-test',
  problems: [],
  ...over,
})

describe('the CPU TDP table', () => {
  it('matches exact names, case-insensitively', async () => {
    const table = await shippedCpuTable()
    expect(matchCpu('intel xeon gold 6248', table)).toEqual({
      name: 'Intel Xeon Gold 6248',
      tdpW: 150,
      how: 'exact',
    })
  })

  it('matches brand strings once trademarks, clock and "CPU" are removed', async () => {
    const table = await shippedCpuTable()
    expect(matchCpu('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', table)).toMatchObject({
      tdpW: 150,
      how: 'normalised',
    })
    expect(matchCpu('Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz', table)).toMatchObject({ tdpW: 95 })
    expect(matchCpu('AMD Ryzen 9 5950X 16-Core Processor', table)).toMatchObject({
      tdpW: 105,
      how: 'normalised',
    })
    expect(matchCpu('AMD EPYC 7763 64-Core Processor', table)).toMatchObject({ tdpW: 280 })
  })

  it('does not confuse a model with its suffixed sibling (6248 vs 6248R)', async () => {
    const table = await shippedCpuTable()
    expect(matchCpu('Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz', table)?.tdpW).toBe(205)
  })

  it('returns null rather than guess when the match is ambiguous', async () => {
    const table = await shippedCpuTable()
    // 'AMD EPYC' (what some VMs report) is inside 148 EPYC names with different TDPs.
    expect(matchCpu('AMD EPYC', table)).toBeNull()
    expect(matchCpu('', table)).toBeNull()
    expect(matchCpu('QEMU Virtual CPU version 2.5+', table)).toBeNull()
  })

  it('accepts a token match that is unambiguous: one candidate, or several agreeing on the TDP', () => {
    const table = buildCpuTable([
      ['Acme Turbo 9000', 65],
      ['Acme Turbo 9000X', 95],
      ['Zeta Q7 Pro', 30],
      ['Zeta Q7 Pro Max', 30],
    ])
    expect(matchCpu('Acme Turbo 9000 Eight Core', table)).toEqual({
      name: 'Acme Turbo 9000',
      tdpW: 65,
      how: 'tokens',
    })
    expect(matchCpu('Zeta Q7', table)).toMatchObject({ tdpW: 30, how: 'tokens' })
    expect(matchCpu('Acme Turbo', table)).toBeNull()
  })

  it('ships the repaired rows of the source table (27.29.5 → 29.5)', async () => {
    const table = await shippedCpuTable()
    expect(matchCpu('Intel Celeron 1000A', table)?.tdpW).toBe(29.5)
    expect(table.entries.every((e) => Number.isFinite(e.tdpW) && e.tdpW > 0)).toBe(true)
    expect(table.entries.length).toBeGreaterThan(4800)
  })

  it('normalises the way brand strings differ from table names', () => {
    expect(normaliseCpuName('Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.0GHz')).toBe('intel xeon platinum 8480+')
    expect(normaliseCpuName('AMD Ryzen 7 7840U w/ Radeon  780M Graphics')).toBe(
      'amd ryzen 7 7840u w/ radeon 780m graphics',
    )
  })
})

describe('estimateTdp', () => {
  it('multiplies the table TDP by the number of sockets', async () => {
    const tdp = await estimateTdp(
      system({ cpuModel: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', sockets: 2 }),
    )
    expect(tdp.watts).toBe(300)
    expect(tdp.how).toContain('× 2 sockets')
  })

  it('assumes 4 W per logical CPU for an unknown model', async () => {
    const tdp = await estimateTdp(system({ cpuModel: 'AMD EPYC', cpuCount: 16 }))
    expect(tdp).toMatchObject({ watts: 64, match: null })
  })
})

describe('cpuPowerAtLoad', () => {
  it('follows TDP × (0.1 + 0.9 × L³)', () => {
    expect(cpuPowerAtLoad(100, 0)).toBeCloseTo(10)
    expect(cpuPowerAtLoad(100, 0.5)).toBeCloseTo(21.25)
    expect(cpuPowerAtLoad(100, 1)).toBeCloseTo(100)
    expect(cpuPowerAtLoad(100, 7)).toBeCloseTo(100)
  })
})

describe('machine load from /proc/stat', () => {
  it('leaves guest time out (the kernel counts it inside user) and idle+iowait as idle', () => {
    const times = parseProcStat('cpu  100 20 30 400 50 6 4 10 99 99\ncpu0 1 2 3\n')
    expect(times).toEqual({ busy: 170, total: 620 })
    expect(parseProcStat('garbage')).toBeNull()
  })

  it('is the busy share between two readings', () => {
    expect(loadBetween({ busy: 100, total: 1000 }, { busy: 150, total: 1100 })).toBeCloseTo(0.5)
    expect(loadBetween({ busy: 100, total: 1000 }, { busy: 100, total: 1000 })).toBeNull()
  })

  it('drives the estimate meter: 50 % load on a 100 W CPU reads 21.25 W', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-stat-'))
    dirs.push(dir)
    const path = join(dir, 'stat')
    writeFileSync(path, 'cpu  1000 0 0 1000 0 0 0 0 0 0\n')
    const meter = new CpuTdpMeter({ type: 'cpu-tdp', tdpW: null, procStatPath: path })
    const out = new Float64Array(1)
    meter.read(out)
    expect(out[0]).toBeNaN() // no wattage yet: the sampler treats it as unknown, not 0
    meter.setWatts(100)
    writeFileSync(path, 'cpu  1050 0 0 1050 0 0 0 0 0 0\n')
    meter.read(out)
    expect(out[0]).toBeCloseTo(21.25)
    expect(meter.lastLoad).toBeCloseTo(0.5)
  })
})
