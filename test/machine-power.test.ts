import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { estimateMachinePower, WattprintError } from '../src/index.js'

const gold = { cpuModel: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', sockets: 2, threads: 80, memoryGB: 384 }

describe('estimateMachinePower', () => {
  it('gives wall watts inside their interval, split into parts that add up, rising with load', () => {
    let previous = 0
    for (const load of [0, 0.05, 0.1, 0.25, 0.5, 0.75, 1]) {
      const e = estimateMachinePower({ ...gold, load })
      expect(e.lowW).toBeLessThan(e.watts)
      expect(e.highW).toBeGreaterThan(e.watts)
      const { cpuW, ramW, otherW } = e.components
      expect(cpuW + ramW + otherW).toBeCloseTo(e.watts, 9)
      expect(Math.min(cpuW, ramW, otherW)).toBeGreaterThanOrEqual(0)
      expect(e.watts).toBeGreaterThanOrEqual(previous)
      previous = e.watts
    }
    const e = estimateMachinePower({ ...gold, load: 0.5 })
    expect(e).toMatchObject({ variant: 'tdp-year', tdpW: 150, tdpFrom: 'cpu-table', generationYear: 2019 })
    expect(e.source).toMatch(/SPECpower/)
    // A two-socket Gold 6248 server draws some 150–250 W at half load in SPECpower results of its era.
    expect(e.watts).toBeGreaterThan(120)
    expect(e.watts).toBeLessThan(300)
  })

  it('idles well above CodeCarbon’s 10 % of TDP and far below full load', () => {
    const idle = estimateMachinePower({ ...gold, load: 0 })
    const full = estimateMachinePower({ ...gold, load: 1 })
    expect(idle.watts / full.watts).toBeGreaterThan(0.12)
    expect(idle.watts / full.watts).toBeLessThan(0.5)
  })

  it('still answers for a CPU it does not know, with a wider interval', () => {
    const known = estimateMachinePower({ ...gold, load: 0.5 })
    const unknown = estimateMachinePower({ ...gold, cpuModel: 'Mystery CPU 9000', load: 0.5 })
    expect(unknown.variant).toBe('none')
    expect(unknown.tdpW).toBeNull()
    expect(unknown.source).toMatch(/TDP unknown/)
    expect(unknown.highW / unknown.lowW).toBeGreaterThan(known.highW / known.lowW)
    // A vendor no training server had: the same variant, a wider interval, and the reason in the source.
    const arm = estimateMachinePower({ ...gold, cpuModel: 'Neoverse-V1', tdpW: 150, load: 0.5 })
    const intelSameYear = estimateMachinePower({
      ...gold,
      cpuModel: 'Intel Core i9-11900K',
      tdpW: 150,
      load: 0.5,
    })
    expect(arm.variant).toBe(intelSameYear.variant)
    expect(arm.highW / arm.lowW).toBeGreaterThan(intelSameYear.highW / intelSameYear.lowW)
    expect(arm.source).toMatch(/no ARM server/)
    const given = estimateMachinePower({ ...gold, cpuModel: 'Mystery CPU 9000', tdpW: 150, load: 0.5 })
    expect(given.tdpFrom).toBe('option')
  })

  it.each([
    [{ ...gold, load: 1.5 }, 'load'],
    [{ ...gold, load: Number.NaN }, 'load'],
    [{ ...gold, threads: 0 }, 'threads'],
    [{ ...gold, threads: 2.5 }, 'threads'],
    [{ ...gold, sockets: 4, threads: 2 }, 'threads'],
    [{ ...gold, memoryGB: -1 }, 'memoryGB'],
    [{ ...gold, tdpW: 0 }, 'tdpW'],
  ])('refuses %o naming %s', (input, option) => {
    let thrown: unknown
    try {
      estimateMachinePower(input as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(WattprintError)
    expect((thrown as WattprintError).option).toBe(option)
    expect((thrown as WattprintError).message).toContain(option)
  })
})

describe('wattprint estimate --cpu', () => {
  const cli = resolve('dist/cli.js')
  const wattprint = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

  it('prints the machine’s power and energy with the interval, and the same as JSON', () => {
    const args = [
      'estimate',
      '--cpu',
      'Intel Xeon Gold 6248',
      '--sockets',
      '2',
      '--threads',
      '80',
      '--memory',
      '384GB',
    ]
    const text = wattprint(...args, '--load', '50%', '--hours', '3', '--provider', 'aws')
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(/at 50 % load: \d+ W at the wall \(80 % interval \d+ W–\d+ W\)/)
    const run = wattprint(...args, '--load', '0.5', '--hours', '3', '--json')
    expect(run.status).toBe(0)
    const out = JSON.parse(run.stdout)
    const api = estimateMachinePower({ ...gold, cpuModel: 'Intel Xeon Gold 6248', load: 0.5 })
    expect(out.machine.watts).toBeCloseTo(api.watts, 9)
    expect(out.energyKWh).toBeCloseTo((api.watts * 3) / 1000, 9)
    expect(out.energyLowKWh).toBeCloseTo((api.lowW * 3) / 1000, 9)
    expect(out.energyHighKWh).toBeCloseTo((api.highW * 3) / 1000, 9)
  })

  it('says what is missing or wrong', () => {
    const noMemory = wattprint('estimate', '--cpu', 'Intel Xeon Gold 6248')
    expect(noMemory.status).toBe(2)
    expect(noMemory.stderr).toMatch(/--memory/)
    const badLoad = wattprint(
      'estimate',
      '--cpu',
      'Intel Xeon Gold 6248',
      '--memory',
      '64GB',
      '--load',
      '150%',
    )
    expect(badLoad.status).toBe(2)
    expect(badLoad.stderr).toMatch(/--load/)
    const unknown = wattprint('estimate', '--cpu', 'Mystery CPU', '--memory', '64GB')
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toMatch(/--threads/)
    const gpus = wattprint('estimate', '--cpu', 'Intel Xeon Gold 6248', '--memory', '64GB', '--gpus', '4')
    expect(gpus.status).toBe(2)
    expect(gpus.stderr).toMatch(/--gpus counts the GPUs of --gpu/)
    const assumed = wattprint('estimate', '--cpu', 'Intel Xeon Gold 6248', '--memory', '64GB')
    expect(assumed.status).toBe(0)
    expect(assumed.stdout).toMatch(/threads assumed \d+ from the TDP/)
  })
})
