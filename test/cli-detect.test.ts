import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeTempDir } from './helpers/temp-dir.js'

const cli = resolve('dist/cli.js')
const tempDir = (): string => makeTempDir('wattprint-detect-')

/** `wattprint <args>` with no RAPL, a fixed intensity and `env` on top. */
const wattprint = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
      WATTPRINT_RAPL_ROOT: '/nonexistent',
      WATTPRINT_NVIDIA_SMI: '/nonexistent/nvidia-smi',
      ...env,
    },
    timeout: 60_000,
  })

/** A /proc whose CPUs carry the hypervisor flag: a virtual machine, whatever this machine is. */
function vmProc(dir: string): string {
  const proc = join(dir, 'proc')
  mkdirSync(join(proc, 'self'), { recursive: true })
  writeFileSync(
    join(proc, 'cpuinfo'),
    'processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu vme hypervisor lahf_lm\n\n',
  )
  return proc
}

describe('wattprint detect on a virtual machine', () => {
  it('gives the RAM and rest-of-machine watts a run uses (the model\'s share of a host), not "?"', () => {
    const dir = tempDir()
    const env = { WATTPRINT_PROC_ROOT: vmProc(dir) }
    const text = wattprint(env, 'detect')
    expect(text.status, text.stderr).toBe(0)
    const ramLine = text.stdout.split('\n').find((l) => l.startsWith('RAM')) ?? ''
    expect(ramLine).not.toContain('?')
    expect(text.stdout).toMatch(/^Rest {4}board, fans, drives, power-supply losses, by rest-model/m)
    expect(text.stdout).toContain("a virtual machine's share of an assumed host")
    const json = wattprint(env, 'detect', '--json')
    const detection = JSON.parse(json.stdout) as {
      ram: { source: string; how: string; watts: number }
      rest: { source: string }
      estimate: string
    }
    expect(detection.ram.source).toBe('ram-model')
    expect(detection.rest.source).toBe('rest-model')
    expect(detection.estimate).toContain('vCPUs')
    // A run on this machine charges its RAM by the same model meter.
    const run = wattprint(env, 'run', '--json', '-o', dir, '--', process.execPath, '-e', '')
    expect(run.status, run.stderr).toBe(0)
    const { record } = JSON.parse(run.stdout) as {
      record: { ram: { powerW: number; source: string }; wall: { source: string } }
    }
    expect(record.ram.source).toBe('ram-model')
    expect(record.wall.source).toBe('cpu-model+ram-model+rest-model')
    expect(ramLine).toContain(`idle`)
  })
})

describe('wattprint detect and the power model', () => {
  it("shows the model's prediction for a machine like this one, at idle and full load, with its interval", async () => {
    const { estimateMachinePower } = await import('../src/estimates/machine-power.js')
    const { totalmem } = await import('node:os')
    const json = wattprint({}, 'detect', '--json')
    expect(json.status, json.stderr).toBe(0)
    const d = JSON.parse(json.stdout) as {
      cpu: { model: string; sockets: number; logicalCpus: number }
      model: { idle: { watts: number; lowW: number; highW: number }; full: { watts: number }; source: string }
    }
    for (const f of [d.model.idle, d.model.full] as { watts: number; lowW: number; highW: number }[]) {
      expect(f.lowW).toBeLessThan(f.watts)
      expect(f.highW).toBeGreaterThan(f.watts)
    }
    expect(d.model.full.watts).toBeGreaterThanOrEqual(d.model.idle.watts)
    expect(d.model.source).toMatch(/SPECpower/)
    // The same figure the public API gives for this machine's CPU, sockets, threads and memory.
    const api = estimateMachinePower({
      cpuModel: d.cpu.model,
      sockets: d.cpu.sockets,
      threads: Math.max(d.cpu.logicalCpus, d.cpu.sockets),
      memoryGB: totalmem() / 1e9,
      load: 0,
    })
    expect(d.model.idle.watts).toBeCloseTo(api.watts, 6)
    const text = wattprint({}, 'detect')
    expect(text.stdout).toMatch(
      /^Model {3}a whole machine .* idle \d+ W \(80 %: \d+–\d+ W\), full load \d+ W/m,
    )
  })
})

// The library's detect(): what `wattprint detect --json` prints is this object, on the same machine.
describe('detect() in the library', () => {
  it('reads a powercap tree as a tracker would, and the CLI prints the same object', async () => {
    const { detect } = await import('../src/index.js')
    const { serverTree } = await import('./helpers/powercap.mjs')
    const tree = serverTree()
    try {
      const options = {
        raplRoot: tree.root,
        carbonIntensityGPerKWh: 100,
        nvidiaSmiPath: '/nonexistent/nvidia-smi',
      }
      const seen = await detect(options)
      expect(seen.cpu.source).toMatch(/^rapl/)
      // Two sockets, each package and its DRAM; psys and the MMIO duplicate are not counted again.
      expect(seen.rapl.packages).toEqual(['intel-rapl:0 (package-0)', 'intel-rapl:1 (package-1)'])
      expect(seen.rapl.dram).toEqual(['intel-rapl:0:2 (dram)', 'intel-rapl:1:1 (dram)'])
      expect(seen.ram.source).toBe('rapl-dram')
      expect(seen.intensity).toMatchObject({ gPerKWh: 100, source: 'fixed' })
      const printed = wattprint({ WATTPRINT_RAPL_ROOT: tree.root }, 'detect', '--json')
      expect(printed.status).toBe(0)
      const json = JSON.parse(printed.stdout) as typeof seen
      expect(json.cpu).toEqual(seen.cpu)
      expect(json.rapl).toEqual(seen.rapl)
      expect(json.ram).toEqual(seen.ram)
    } finally {
      tree.cleanup()
    }
    await expect(detect({ intervalMs: -1 })).rejects.toThrow(/Option intervalMs/)
  })
})
