import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildCpuTable, matchCpu, normaliseCpuName, shippedCpuTable } from '../src/estimates/cpu-tdp-table.js'
import { cpuPowerAtLoad } from '../src/meters/cpu-estimate.js'
import { ModelMeter, SharedLoad } from '../src/meters/model-meter.js'
import { loadBetween, parseProcStat } from '../src/platform/cpu-load.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
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

  it('drives the model meters: their curves interpolated at the load, /proc/stat read once per sample', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-stat-'))
    dirs.push(dir)
    const path = join(dir, 'stat')
    writeFileSync(path, 'cpu  1000 0 0 1000 0 0 0 0 0 0\n')
    const load = new SharedLoad(path)
    const spec = { type: 'model', procStatPath: path, curveW: null } as const
    const cpu = new ModelMeter({ ...spec, id: 'cpu-model', component: 'cpu', source: 'cpu-model' }, load)
    const rest = new ModelMeter({ ...spec, id: 'rest-model', component: 'rest', source: 'rest-model' }, load)
    const out = new Float64Array(1)
    cpu.read(out)
    expect(out[0]).toBeNaN() // no curve yet: the sampler treats it as unknown, not 0
    // Idle, 10 % … 100 %: 10 W a step.
    cpu.setWatts([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    rest.setWatts([40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 60])
    writeFileSync(path, 'cpu  1045 0 0 1055 0 0 0 0 0 0\n')
    cpu.read(out)
    expect(out[0]).toBeCloseTo(45)
    expect(cpu.lastLoad).toBeCloseTo(0.45)
    // The file changed again, but the second meter takes the first one's load of this sample.
    writeFileSync(path, 'cpu  1145 0 0 1055 0 0 0 0 0 0\n')
    rest.read(out)
    expect(out[0]).toBeCloseTo(40)
    expect(rest.lastLoad).toBeCloseTo(0.45)
    cpu.close()
    rest.close()
  })

  it('reads the load no more often than asked when only the rest of the machine is modelled', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-stat-'))
    dirs.push(dir)
    const path = join(dir, 'stat')
    writeFileSync(path, 'cpu  1000 0 0 1000 0 0 0 0 0 0\n')
    const load = new SharedLoad(path, 60_000)
    const rest = new ModelMeter(
      {
        type: 'model',
        procStatPath: path,
        curveW: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        id: 'rest-model',
        component: 'rest',
        source: 'rest-model',
      },
      load,
    )
    const out = new Float64Array(1)
    rest.read(out) // the first read: the baseline, the load unknown (half assumed)
    expect(out[0]).toBeCloseTo(50)
    writeFileSync(path, 'cpu  1100 0 0 1000 0 0 0 0 0 0\n')
    rest.read(out) // within the minute: the last load, the file not read
    expect(out[0]).toBeCloseTo(50)
    rest.close()
  })
})
