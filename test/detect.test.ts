import { chmodSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { planMeters } from '../src/meters/detect.js'
import { type PowercapTree, serverTree } from './helpers/powercap.mjs'

const trees: PowercapTree[] = []
afterEach(() => {
  for (const t of trees.splice(0)) t.cleanup()
})

const options = (raplRoot: string) => ({
  raplRoot,
  procStatPath: '/proc/stat',
  cpuPowerW: null,
  ramPowerW: null,
})

describe('planMeters', () => {
  it('measures CPU and RAM through RAPL when every counter can be read', () => {
    const tree = serverTree()
    trees.push(tree)
    const plan = planMeters(options(tree.root))
    expect(plan.specs.map((s) => (s.type === 'rapl' ? s.source : s.type))).toEqual([
      'rapl',
      'rapl-dram',
      'model',
    ])
    expect(plan.warnings).toEqual([])
    expect(plan.pending).toEqual({ cpu: false, ram: false, rest: true })
  })

  it('warns, with the fix, when the packages can be read but not the DRAM zones', (context) => {
    if (process.getuid?.() === 0)
      context.skip('root reads mode-000 files; the nobody child in rapl.test.ts covers EACCES as root')
    const tree = serverTree()
    trees.push(tree)
    chmodSync(tree.energyPath('intel-rapl:0:2'), 0o000)
    const plan = planMeters(options(tree.root))
    expect(plan.specs.map((s) => (s.type === 'rapl' ? s.source : s.type))).toEqual(['rapl', 'model', 'model'])
    expect(plan.pending.ram).toBe(true)
    expect(plan.warnings.map((w) => w.code)).toEqual(['RAPL_UNREADABLE'])
    expect(plan.warnings[0]?.message).toContain('DRAM counters')
    expect(plan.notes.join('\n')).toContain('DRAM counters are not readable')
  })

  it('warns, with the fix, when a DRAM counter holds no number', () => {
    const tree = serverTree()
    trees.push(tree)
    tree.setEnergy('intel-rapl:1:1', Number.NaN)
    const plan = planMeters(options(tree.root))
    expect(plan.specs.map((s) => (s.type === 'rapl' ? s.source : s.type))).toEqual(['rapl', 'model', 'model'])
    expect(plan.warnings[0]?.message).toMatch(/DRAM counters .* not readable \(not a number\)/)
    expect(plan.warnings[0]?.message).toContain('sudo chmod a+r')
  })
})
