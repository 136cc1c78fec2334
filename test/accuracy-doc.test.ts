import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readRaplProfiles, readServers } from '../scripts/power-model/dataset.js'
import { fitModel } from '../scripts/power-model/fit.js'
import { generatedBlock, renderAccuracy } from '../scripts/power-model/report.js'
import { cpuFamily } from '../src/estimates/cpu-family.js'

// The published accuracy and the shipped coefficients are recomputed from the training file: a change to the
// model, the data or the method that is not carried into docs/accuracy.md and data/power-model.json fails here.
describe('the power model and its published accuracy', () => {
  const servers = readServers()

  it('reads every training server, with a TDP for all but the CPUs the table does not know', () => {
    expect(servers).toHaveLength(837)
    const unknown = servers.filter((s) => s.facts.tdpW === null)
    expect(unknown.length).toBeGreaterThan(0)
    expect(unknown.length).toBeLessThan(25)
    // Every server's year comes from its name where the name tells it, and agrees with the hardware year
    // within two years for nearly all of them.
    const named = servers.filter((s) => s.facts.year !== null)
    expect(named.length / servers.length).toBeGreaterThan(0.95)
    const far = named.filter((s) => Math.abs((s.facts.year ?? 0) - s.hardwareYear) > 2)
    expect(far.length / named.length).toBeLessThan(0.02)
  })

  it('ships the coefficients the fit script gives, to six significant digits', () => {
    const shipped = JSON.parse(readFileSync('data/power-model.json', 'utf8'))
    const refit = fitModel(servers, Number.POSITIVE_INFINITY, shipped.fitted)
    const round = (v: unknown): unknown =>
      typeof v === 'number' ? Number(v.toPrecision(6)) : Array.isArray(v) ? v.map(round) : v
    expect(JSON.parse(JSON.stringify(refit, (_k, v) => round(v)))).toEqual(shipped)
    // The fit and its calibration splits take a second or two; a busy machine may take many times that.
  }, 60_000)

  it('docs/accuracy.md holds the tables npm run accuracy computes', () => {
    const doc = readFileSync('docs/accuracy.md', 'utf8')
    const block = generatedBlock(doc)
    expect(block, 'docs/accuracy.md lost its accuracy markers').not.toBeNull()
    expect(block).toBe(renderAccuracy(servers, readRaplProfiles()))
  }, 60_000)

  it('states targets the headline split meets, in the document and in the figures', () => {
    const doc = readFileSync('docs/accuracy.md', 'utf8')
    const headline = doc.split('### Fit on hardware up to 2016')[1]?.split('###')[0] ?? ''
    const row = headline.split('\n').find((l) => l.startsWith('| wattprint ('))
    const cells = (row ?? '').split('|').map((c) => c.trim())
    const [idleMedian] = (cells[2] ?? '').split(' / ').map(Number)
    const [halfMedian, halfP90] = (cells[7] ?? '').split(' / ').map(Number)
    const coverage = Number(/^(\d+) %/.exec(cells[13] ?? '')?.[1])
    expect(idleMedian).toBeLessThanOrEqual(30)
    expect(halfMedian).toBeLessThanOrEqual(20)
    expect(halfP90).toBeLessThanOrEqual(50)
    expect(coverage).toBeGreaterThanOrEqual(75)
    expect(coverage).toBeLessThanOrEqual(85)
    expect(doc).toContain(`median ${halfMedian} %, p90 ${halfP90} %`)
    expect(doc).toContain(`| ${idleMedian} % |`)
    expect(doc).toContain(`| ${coverage} % (`)
  })
})

describe('cpuFamily', () => {
  it.each([
    ['Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 'intel', 2019],
    ['Intel(R) Xeon(R) Platinum 8480+', 'intel', 2023],
    ['Intel Xeon E5-2660 v3', 'intel', 2014],
    ['Intel Xeon X5670', 'intel', 2010],
    ['AMD EPYC 7742 64-Core Processor', 'amd', 2019],
    ['AMD EPYC 7B13', 'amd', 2021],
    ['AMD Ryzen 9 7950X 16-Core Processor', 'amd', 2022],
    ['Intel(R) Core(TM) i7-10700K CPU @ 3.80GHz', 'intel', 2020],
    ['Apple M2 Pro', 'arm', 2022],
    ['Intel(R) Xeon(R) Processor', 'intel', null],
    ['QEMU Virtual CPU version 2.5+', 'unknown', null],
  ])('%s → %s, %s', (name, vendor, year) => {
    expect(cpuFamily(name)).toMatchObject({ vendor, year })
  })
})
