import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ASSUMED_HOST_WIDENING } from '../src/estimates/assumed-host.js'
import { estimateCurves } from '../src/estimates/machine-estimate.js'
import { shippedPowerModel } from '../src/estimates/model-file.js'
import { LOAD_STEPS, stepPowers } from '../src/estimates/power-model.js'
import { instanceHostPlatform } from '../src/footprint/guest-host.js'
import { modelEstimate, planMeters } from '../src/meters/detect.js'
import { underHypervisor } from '../src/platform/guest.js'
import type { SystemInfo } from '../src/platform/system.js'
import { cleanups, joules, measure, runCleanups, sleep, tempDir } from './helpers/measure.js'
import { makePowercapTree } from './helpers/powercap.mjs'

afterEach(runCleanups)

const system = (over: Partial<SystemInfo>): SystemInfo => ({
  cpuModel: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz',
  cpuCount: 80,
  sockets: 2,
  ramTotalGiB: 384,
  memoryModules: null,
  isArm: false,
  os: 'Linux-test',
  problems: [],
  ...over,
})

/** A /proc (cpuinfo with or without the hypervisor flag, optionally a cgroup v2 memory limit) and an empty /sys. */
function guestRoots(options: { hypervisor: boolean; memoryMax?: string }) {
  const root = tempDir('wattprint-guest-')
  mkdirSync(join(root, 'self'))
  const flags = `fpu vme de pse tsc msr${options.hypervisor ? ' hypervisor' : ''} lahf_lm`
  writeFileSync(join(root, 'cpuinfo'), `processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: ${flags}\n\n`)
  const cgroupRoot = join(root, 'cgroup2')
  mkdirSync(join(cgroupRoot, 'job'), { recursive: true })
  writeFileSync(join(root, 'self', 'mountinfo'), `41 31 0:38 / ${cgroupRoot} rw - cgroup2 cgroup2 rw\n`)
  writeFileSync(join(root, 'self', 'cgroup'), '0::/job\n')
  if (options.memoryMax !== undefined)
    writeFileSync(join(cgroupRoot, 'job', 'memory.max'), `${options.memoryMax}\n`)
  // The machine running the test may itself be a VM: its DMI is not looked at.
  return { procRoot: root, sysRoot: join(root, 'no-sys') }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0)

describe('the power model in the tracker', () => {
  it("reads the hypervisor flag of /proc/cpuinfo's flags line only", () => {
    expect(underHypervisor('flags\t\t: fpu hypervisor sse\n')).toBe(true)
    expect(underHypervisor('flags\t\t: fpu sse\nbugs\t: hypervisor\n')).toBe(false)
  })

  it('splits a bare-metal server into CPU, RAM and the rest, adding up to the model at every load', async () => {
    const estimate = await modelEstimate(system({}), {
      cpuPowerW: null,
      ...guestRoots({ hypervisor: false }),
    })
    expect(estimate.tdpFrom).toBe('cpu-table')
    expect(estimate.curves.variant).toBe('tdp-year')
    expect(estimate.curves.share).toBeNull()
    const model = shippedPowerModel()
    const steps = stepPowers(model, {
      tdpW: 150,
      sockets: 2,
      threads: 80,
      memoryGB: (384 * 2 ** 30) / 1e9,
      vendor: 'intel',
      year: 2019,
    })
    LOAD_STEPS.forEach((_, i) => {
      const { cpuW, ramW, restW, lowFactor, highFactor } = estimate.curves
      expect((cpuW[i] ?? 0) + (ramW[i] ?? 0) + (restW[i] ?? 0)).toBeCloseTo(steps.watts[i] ?? 0, 6)
      expect(lowFactor[i]).toBeCloseTo((steps.lowW[i] ?? 0) / (steps.watts[i] ?? 1), 9)
      expect(highFactor[i]).toBeCloseTo((steps.highW[i] ?? 0) / (steps.watts[i] ?? 1), 9)
    })
    // cpuPowerW replaces the table's TDP (all sockets): the CPU part follows it.
    const given = await modelEstimate(system({}), { cpuPowerW: 600, ...guestRoots({ hypervisor: false }) })
    expect(given.tdpFrom).toBe('option')
    expect(given.source).toContain('TDP 300 W per socket (cpuPowerW 600 W)')
    expect(given.curves.cpuW[10] ?? 0).toBeGreaterThan(estimate.curves.cpuW[10] ?? 0)
  })

  it("charges a virtual machine its vCPUs' and memory's share of the host, with a wider interval", async () => {
    const vm = system({ cpuCount: 2, sockets: 1, ramTotalGiB: 8 })
    const estimate = await modelEstimate(vm, { cpuPowerW: null, ...guestRoots({ hypervisor: true }) })
    const host = estimateCurves(shippedPowerModel(), {
      tdpW: 150,
      sockets: 2,
      threads: 96,
      memoryGiB: 384,
      vendor: 'intel',
      year: 2019,
      vm: null,
      memoryLimitGiB: null,
    })
    const { curves } = estimate
    LOAD_STEPS.forEach((_, i) => {
      expect(curves.cpuW[i]).toBeCloseTo(((host.cpuW[i] ?? 0) * 2) / 96, 9)
      expect(curves.restW[i]).toBeCloseTo(((host.restW[i] ?? 0) * 2) / 96, 9)
      expect(curves.ramW[i]).toBeCloseTo(((host.ramW[i] ?? 0) * 8) / 384, 9)
      expect(curves.lowFactor[i]).toBeCloseTo((host.lowFactor[i] ?? 0) ** ASSUMED_HOST_WIDENING, 9)
      expect(curves.highFactor[i]).toBeCloseTo((host.highFactor[i] ?? 0) ** ASSUMED_HOST_WIDENING, 9)
    })
    expect(curves.share).toContain('2/96 vCPUs')
    expect(curves.share).toContain('8/384 GiB')
    expect(curves.share).toContain("the host's own load is unknown")
    // A host the user knows: its size, and no widening.
    const known = await modelEstimate(vm, {
      cpuPowerW: null,
      host: { threads: 64, memoryGiB: 256 },
      ...guestRoots({ hypervisor: true }),
    })
    expect(known.curves.share).toContain('2/64 vCPUs')
    expect(known.curves.share).not.toContain('widened')
    // An instance type in Cloud Carbon Footprint's table: its host platform's threads (c5: 72), no widening.
    const c5 = await modelEstimate(vm, {
      cpuPowerW: null,
      instanceHost: instanceHostPlatform({ provider: 'aws', type: 'c5.large' }),
      ...guestRoots({ hypervisor: true }),
    })
    expect(c5.curves.share).toContain('2/72 vCPUs')
    expect(c5.curves.share).toContain("aws/c5.large's host platform of 72 threads")
    expect(c5.curves.share).toContain('8/288 GiB')
    expect(c5.curves.lowFactor[5]).toBeCloseTo(host.lowFactor[5] ?? 0, 9)
    // The firmware names the type where nothing else does (AWS's DMI product_name).
    const roots = guestRoots({ hypervisor: true })
    const dmi = join(roots.sysRoot, 'class', 'dmi', 'id')
    mkdirSync(dmi, { recursive: true })
    writeFileSync(join(dmi, 'product_name'), 'c5.large\n')
    writeFileSync(join(dmi, 'sys_vendor'), 'Amazon EC2\n')
    const named = await modelEstimate(vm, {
      cpuPowerW: null,
      instanceHost: instanceHostPlatform(null),
      ...roots,
    })
    expect(named.curves.share).toContain('2/72 vCPUs')
    // A container on bare metal: the machine's CPU, its memory limit's share of the RAM.
    const metal = await modelEstimate(system({}), { cpuPowerW: null, ...guestRoots({ hypervisor: false }) })
    const container = await modelEstimate(system({}), {
      cpuPowerW: null,
      ...guestRoots({ hypervisor: false, memoryMax: String(48 * 2 ** 30) }),
    })
    expect(container.curves.share).toContain('48/384 GiB')
    expect(container.curves.cpuW).toEqual(metal.curves.cpuW)
    expect(sum(container.curves.ramW)).toBeCloseTo(sum(metal.curves.ramW) / 8, 9)
  })

  it('plans model meters for what nothing measures, and the rest of the machine unless a node meter is there', () => {
    const plan = planMeters({
      raplRoot: '/nonexistent',
      procStatPath: '/proc/stat',
      cpuPowerW: null,
      ramPowerW: null,
    })
    expect(plan.specs.map((s) => (s.type === 'model' ? s.id : s.type))).toEqual([
      'cpu-model',
      'ram-model',
      'rest-model',
    ])
    expect(plan.pending).toEqual({ cpu: true, ram: true, rest: true })
    const forced = planMeters({
      raplRoot: '/nonexistent',
      procStatPath: '/proc/stat',
      cpuPowerW: null,
      ramPowerW: 3,
    })
    expect(forced.specs.map((s) => s.type)).toEqual(['model', 'constant', 'model'])
  })

  it('a sleep on a small VM: RAM is not the bulk, the wall adds the rest, every figure has its interval', async () => {
    const { record, row } = await measure(
      { ramPowerW: undefined, ...guestRoots({ hypervisor: true }), procStatPath: '/proc/stat' },
      1200,
    )
    expect(record.cpu.source).toBe('cpu-model')
    expect(record.ram.source).toBe('ram-model')
    expect(record.wall.source).toBe('cpu-model+ram-model+rest-model')
    const rest = record.meters.find((m) => m.id === 'rest-model')
    expect(rest?.energyKWh ?? 0).toBeGreaterThan(0)
    expect(record.wall.energyKWh).toBeCloseTo(record.energyKWh + (rest?.energyKWh ?? 0), 12)
    expect(record.ram.energyKWh).toBeLessThan(record.wall.energyKWh / 2)
    for (const [low, value, high] of [
      [record.energyLowKWh, record.energyKWh, record.energyHighKWh],
      [record.emissionsLowKg, record.emissionsKg, record.emissionsHighKg],
      [record.wall.lowKWh, record.wall.energyKWh, record.wall.highKWh],
      [record.wall.emissionsLowKg, record.wall.emissionsKg, record.wall.emissionsHighKg],
      [record.cpu.lowKWh, record.cpu.energyKWh, record.cpu.highKWh],
    ] as const) {
      expect(low).toBeLessThan(value)
      expect(high).toBeGreaterThan(value)
    }
    expect(record.notes.join('\n')).toContain("a virtual machine's share of an assumed host")
    // The CSV carries the same figures.
    expect(Number(row.wall_energy)).toBeCloseTo(record.wall.energyKWh, 15)
    expect(Number(row.energy_low)).toBeCloseTo(record.energyLowKWh, 15)
    expect(Number(row.wall_emissions_high)).toBeCloseTo(record.wall.emissionsHighKg, 15)
    expect(row.wall_source).toBe('cpu-model+ram-model+rest-model')
  })

  it('measured components carry their allowance; the model adds only the rest of the machine', async () => {
    const tree = makePowercapTree([
      { id: 'intel-rapl:0', name: 'package-0', energyUj: 1000 },
      { id: 'intel-rapl:0:0', name: 'dram', energyUj: 1000 },
    ])
    cleanups.push(() => tree.cleanup())
    const { record } = await measure(
      { raplRoot: tree.root, ramPowerW: undefined, ...guestRoots({ hypervisor: false }) },
      200,
      async () => {
        await sleep(200)
        tree.setEnergy('intel-rapl:0', 1000 + 50e6) // 50 J
        tree.setEnergy('intel-rapl:0:0', 1000 + 10e6) // 10 J
      },
    )
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(50, 6)
    expect(joules(record.cpu.lowKWh)).toBeCloseTo(47.5, 6)
    expect(joules(record.cpu.highKWh)).toBeCloseTo(52.5, 6)
    expect(joules(record.ram.lowKWh)).toBeCloseTo(9, 6)
    expect(joules(record.ram.highKWh)).toBeCloseTo(11, 6)
    expect(joules(record.energyLowKWh)).toBeCloseTo(56.5, 6)
    expect(joules(record.energyHighKWh)).toBeCloseTo(63.5, 6)
    expect(record.wall.source).toBe('rapl+rapl-dram+rest-model')
    const rest = record.meters.find((m) => m.id === 'rest-model')
    expect(rest?.method).toBe('estimated')
    const restJ = joules(rest?.energyKWh ?? 0)
    expect(restJ).toBeGreaterThan(0)
    expect(joules(record.wall.energyKWh)).toBeCloseTo(60 + restJ, 6)
    // The wall's interval: the measured parts' allowance and the model's on the rest, added.
    expect(joules(record.wall.lowKWh)).toBeLessThan(56.5 + restJ)
    expect(joules(record.wall.highKWh)).toBeGreaterThan(63.5 + restJ)
  })
})
