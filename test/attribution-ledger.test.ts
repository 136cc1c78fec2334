import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Ledger } from '../src/accounting/ledger.js'
import { COMPONENTS } from '../src/core/components.js'
import type { AttributionSample } from '../src/model/attribution.js'
import type { MeterDescription } from '../src/model/interval.js'
import { intervalReport, raplPackageMeter } from './helpers/intervals.js'

const nvml: MeterDescription = {
  id: 'nvml-energy',
  component: 'gpu',
  source: 'nvml-energy',
  method: 'measured',
  channels: [
    { name: 'gpu0', kind: 'counter', unitJ: 1e-3, rangeRaw: null },
    { name: 'gpu1', kind: 'counter', unitJ: 1e-3, rangeRaw: null },
  ],
}
const ram: MeterDescription = {
  id: 'ram-model',
  component: 'ram',
  source: 'ram-model',
  method: 'estimated',
  channels: [{ name: 'ram', kind: 'power', mode: 'average' }],
}
const fixed = { at: () => ({ gPerKWh: 100, source: 'fixed' }) }

const sample = (over: Partial<AttributionSample> = {}): AttributionSample => ({
  jobCpuS: 0.5,
  trackerCpuS: null,
  machineBusyCpuS: 1,
  machineTotalCpuS: 2,
  jobMemoryBytes: 1e9,
  usedMemoryBytes: 4e9,
  memoryMeasure: 'pss',
  processes: 3,
  gpu: [
    { share: 0.75, method: 'sm', processes: 2, jobProcesses: 1, foreignProcesses: 0 },
    { share: 0, method: 'sm', processes: 1, jobProcesses: 0, foreignProcesses: 0 },
  ],
  ...over,
})

/** One interval: CPU 100 J, GPU 300 J and 200 J, RAM 20 J, with the attribution sample given. */
function report(seq: number, attribution: AttributionSample | undefined, cpuJ = 100) {
  const base = intervalReport(seq * 1000, [cpuJ, 500, 20], seq)
  const meters = [...base.meters]
  meters[1] = { joules: 500, channelJoules: [300, 200], blindS: 0 }
  return { ...base, meters, attribution }
}

describe('Ledger with attribution', () => {
  it('charges the job its shares: CPU of the active part, RAM by memory, each GPU by its SM share', () => {
    const ledger = new Ledger([raplPackageMeter, nvml, ram], 1, fixed, { idle: 'exclude', cpuIdlePriorW: 20 })
    const step = ledger.add(report(1, sample()))
    // CPU: 100 J − 20 J idle = 80 J active, half of the busy time: 40 J. GPU 0: no idle known yet, 75 % of
    // 300 J; GPU 1: none of 200 J. RAM: a quarter of the memory in use.
    expect(step.joules).toEqual({ cpu: 40, gpu: 225, ram: 5 })
    expect(step.split?.cpu).toEqual({ jobJ: 40, idleJ: 20, othersJ: 40 })
    const totals = ledger.totals()
    expect(totals.machineJoules).toEqual({ cpu: 100, gpu: 500, ram: 20 })
    expect(totals.idleJoules.cpu).toBe(20)
    expect(totals.energyKWh).toBeCloseTo(270 / 3.6e6, 15)
    expect(totals.machineEnergyKWh).toBeCloseTo(620 / 3.6e6, 15)
  })

  it('includes the idle share with idle: include, and learns the idle floor from a low-load interval', () => {
    const ledger = new Ledger([raplPackageMeter, nvml, ram], 1, fixed, {
      idle: 'include',
      cpuIdlePriorW: null,
    })
    // Load 0.05: an idle interval at 12 W teaches the floor.
    ledger.add(report(1, sample({ machineBusyCpuS: 0.1, machineTotalCpuS: 2, jobCpuS: 0 }), 12))
    const step = ledger.add(report(2, sample()))
    expect(step.split?.cpu).toEqual({ jobJ: 50, idleJ: 6, othersJ: 44 })
    expect(ledger.attributionFacts()).toMatchObject({
      cpuIdleW: 12,
      cpuIdleSource: 'observed',
      mostProcesses: 3,
    })
  })

  it("reports the tracker's own CPU time, and its share of the active CPU energy among the others'", () => {
    const ledger = new Ledger([raplPackageMeter, nvml, ram], 1.5, fixed, {
      idle: 'include',
      cpuIdlePriorW: 20,
    })
    // The job used half the busy time, the tracker a tenth: of the 80 J above idle, 40 J are the job's
    // and 8 J the tracker's, inside the others' 40 J; with idle: include each also carries its share of
    // the 20 J idle floor, 10 J and 2 J, the tracker's out of the idle the job was not charged.
    const step = ledger.add(report(1, sample({ trackerCpuS: 0.1 })))
    expect(step.split?.cpu).toEqual({ jobJ: 50, idleJ: 10, othersJ: 40 })
    expect(ledger.totals()).toMatchObject({ trackerCpuS: 0.1, trackerJoules: 10 })
    // An interval whose tracker time could not be told apart adds none; the time read stays.
    ledger.add(report(2, sample({ trackerCpuS: null })))
    expect(ledger.totals().trackerCpuS).toBeCloseTo(0.1, 12)
  })

  it("leaves the tracker's figures unknown where no interval told them apart, and absent in machine mode", () => {
    const ledger = new Ledger([raplPackageMeter, nvml, ram], 1, fixed, { idle: 'exclude', cpuIdlePriorW: 0 })
    ledger.add(report(1, sample()))
    expect(ledger.totals()).toMatchObject({ trackerCpuS: null, trackerJoules: 0 })
    const machine = new Ledger([raplPackageMeter, nvml, ram], 1, fixed)
    machine.add(report(1, sample({ trackerCpuS: 0.2 })))
    expect(machine.totals()).toMatchObject({ trackerCpuS: null, trackerJoules: null })
  })

  it('charges nothing of a GPU it cannot attribute, and says so', () => {
    const ledger = new Ledger([raplPackageMeter, nvml, ram], 1, fixed, { idle: 'exclude', cpuIdlePriorW: 0 })
    expect(ledger.add(report(1, sample({ gpu: null }))).joules.gpu).toBe(0)
    expect(ledger.add(report(2, undefined)).joules).toEqual({ cpu: 0, gpu: 0, ram: 0 })
    expect(ledger.attributionFacts()).toMatchObject({ gpuMethods: ['unknown'], intervalsWithoutSample: 1 })
  })

  it('conserves energy in every interval and component: job + idle + others = machine, never above, the tracker among the others', () => {
    const share = fc.double({ min: 0, max: 1, noNaN: true })
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cpuJ: fc.double({ min: 0, max: 1e4, noNaN: true }),
            job: share,
            tracker: share,
            busy: share,
            gpu0: share,
            ram: share,
          }),
          { minLength: 1, maxLength: 20 },
        ),
        fc.constantFrom('include' as const, 'exclude' as const),
        (intervals, idle) => {
          const ledger = new Ledger([raplPackageMeter, nvml, ram], 1.3, fixed, { idle, cpuIdlePriorW: 15 })
          intervals.forEach((i, seq) => {
            const trackerBefore = ledger.totals().trackerJoules ?? 0
            const step = ledger.add(
              report(
                seq,
                sample({
                  jobCpuS: i.job * i.busy * 2,
                  // Anything up to the whole busy time: read apart from the job's, the two may add up to more.
                  trackerCpuS: i.tracker * i.busy * 2,
                  machineBusyCpuS: i.busy * 2,
                  jobMemoryBytes: i.ram * 4e9,
                  gpu: [{ share: i.gpu0, method: 'sm', processes: 2, jobProcesses: 1, foreignProcesses: 0 }],
                }),
                i.cpuJ,
              ),
            )
            const machine = { cpu: i.cpuJ, gpu: 500, ram: 20 }
            for (const c of COMPONENTS) {
              const part = step.split?.[c]
              expect(part).toBeDefined()
              if (!part) continue
              expect(part.jobJ + part.idleJ + part.othersJ).toBeCloseTo(machine[c], 6)
              expect(part.jobJ).toBeLessThanOrEqual(machine[c] + 1e-9)
            }
            // The tracker's energy is some of the others' CPU energy (with include, of the idle not
            // charged to the job too), never the job's.
            const trackerJ = (ledger.totals().trackerJoules ?? 0) - trackerBefore
            const cpu = step.split?.cpu ?? { othersJ: 0, idleJ: 0 }
            expect(trackerJ).toBeGreaterThanOrEqual(0)
            expect(trackerJ).toBeLessThanOrEqual(
              (idle === 'include' ? cpu.othersJ + cpu.idleJ : cpu.othersJ) + 1e-6,
            )
          })
          const totals = ledger.totals()
          expect(totals.energyKWh).toBeLessThanOrEqual(totals.machineEnergyKWh * (1 + 1e-12))
        },
      ),
    )
  })

  it('takes the CPU share over the last second, so a count of ticks that moves in bursts still gives the job its half', () => {
    // 100 ms intervals: the job uses 50 ms of CPU in each, half the machine's busy time; the machine's count
    // (ticks of 10 ms, read a moment apart) moves in bursts: nothing, then two intervals' worth. Interval by
    // interval that would give the job 0, then a quarter: a quarter of the energy in all, not half.
    const ledger = new Ledger([raplPackageMeter, nvml, ram], 1, fixed, {
      idle: 'include',
      cpuIdlePriorW: null,
    })
    let jobJ = 0
    let machineJ = 0
    for (let seq = 1; seq <= 40; seq++) {
      const interval = { ...report(seq, sample({ jobCpuS: 0.05, machineBusyCpuS: seq % 2 === 0 ? 0.2 : 0 })) }
      const step = ledger.add({ ...interval, durationS: 0.1 })
      jobJ += step.split?.cpu.jobJ ?? 0
      machineJ += 100
    }
    expect(jobJ / machineJ).toBeGreaterThan(0.45)
    expect(jobJ / machineJ).toBeLessThan(0.55)
  })

  it('without attribution the job is the machine', () => {
    const ledger = new Ledger([raplPackageMeter, nvml, ram], 1, fixed)
    const step = ledger.add(report(1, sample()))
    expect(step.split).toBeNull()
    expect(ledger.totals().joules).toEqual(ledger.totals().machineJoules)
  })
})

describe('the wall figure with attribution', () => {
  const rest: MeterDescription = {
    id: 'rest-model',
    component: 'rest',
    source: 'rest-model',
    method: 'estimated',
    channels: [{ name: 'rest', kind: 'power', mode: 'average' }],
  }

  it("gives the job its components' share of the machine's wall, interval by interval, never more", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cpuJ: fc.double({ min: 0, max: 500, noNaN: true }),
            restJ: fc.double({ min: 0, max: 200, noNaN: true }),
            jobCpuS: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (intervals) => {
          const ledger = new Ledger([raplPackageMeter, nvml, ram, rest], 1, fixed, {
            idle: 'exclude',
            cpuIdlePriorW: 10,
          })
          intervals.forEach(({ cpuJ, restJ, jobCpuS }, i) => {
            const before = ledger.totals()
            const base = report(i + 1, sample({ jobCpuS }), cpuJ)
            const step = ledger.add({
              ...base,
              meters: [...base.meters, { joules: restJ, channelJoules: [restJ], blindS: 0 }],
            })
            const after = ledger.totals()
            const machineComponentsJ = cpuJ + 500 + 20
            const jobComponentsJ = step.joules.cpu + step.joules.gpu + step.joules.ram
            const wallJ = after.wallJoules - before.wallJoules
            // The machine's wall is its components and the rest; the job's is its share of the components.
            expect(after.machineWallJoules - before.machineWallJoules).toBeCloseTo(
              machineComponentsJ + restJ,
              6,
            )
            expect(wallJ).toBeCloseTo(((machineComponentsJ + restJ) * jobComponentsJ) / machineComponentsJ, 6)
            expect(wallJ).toBeLessThanOrEqual(machineComponentsJ + restJ + 1e-9)
          })
          // The rest is never one of CodeCarbon's components.
          expect(ledger.totals().machineJoules.cpu + ledger.totals().machineJoules.gpu).toBeGreaterThan(0)
          expect(Object.keys(ledger.totals().joules)).toEqual([...COMPONENTS])
        },
      ),
    )
  })
})
