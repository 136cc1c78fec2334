import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fakeNvidiaSmi, NVML_STUB_LIBRARY } from './helpers/gpu.mjs'

// The dry run of the real-GPU validation (scripts/device-bundle.sh, then scripts/device-check.sh), on this
// machine: the same scripts and the same bundle, with the stub NVML under the real library's name
// (libnvidia-ml.so.1, found through LD_LIBRARY_PATH as the real one is), a fake nvidia-smi on PATH, and a
// stand-in load that lists itself as the stub's compute process. What the GPU machine's minutes are spent
// on is proven here first.
const root = resolve('.')
const dir = mkdtempSync(join(tmpdir(), 'wattprint-device-check-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const run = (command: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(command, args, { cwd: root, encoding: 'utf8', env, timeout: 240_000 })

describe('the device check, dry run on the stub NVML', () => {
  it('bundles, then measures idle and load four ways, attribution, cost and a run end to end', () => {
    const bundle = join(dir, 'bundle')
    const packed = run('bash', ['scripts/device-bundle.sh', '--no-node', '--no-build', bundle])
    expect(packed.status, packed.stderr).toBe(0)
    expect(packed.stdout).toMatch(/app\.tar\.gz\s+[\d.]+ MiB/)

    const lib = join(dir, 'lib')
    mkdirSync(lib)
    symlinkSync(NVML_STUB_LIBRARY, join(lib, 'libnvidia-ml.so.1'))
    const config = join(dir, 'nvml-stub.conf')
    writeFileSync(config, 'gpu GPU-dry00000 9 1 const:300 -1 NVIDIA H200\n')
    const procs = join(dir, 'procs')
    writeFileSync(procs, '')
    const smi = fakeNvidiaSmi(dir, { gpus: [{ uuid: 'GPU-dry00000', name: 'NVIDIA H200', watts: 300 }] })
    const out = join(dir, 'out')
    const checked = run('bash', ['scripts/device-check.sh', out], {
      ...process.env,
      LD_LIBRARY_PATH: lib,
      NVML_STUB_CONFIG: config,
      NVML_STUB_PROCS: procs,
      PATH: `${dirname(smi)}${delimiter}${process.env.PATH ?? ''}`,
      DEVICE_BUNDLE: bundle,
      DEVICE_CHECK_LOAD: `python3 ${join(root, 'test/helpers/stub-gpu-load.py')}`,
      DEVICE_CHECK_IDLE_S: '2',
      DEVICE_CHECK_LOAD_S: '3',
      DEVICE_CHECK_ATTRIBUTION_S: '3',
      DEVICE_CHECK_E2E_S: '2',
      DEVICE_CHECK_COST_MS: '300',
    })
    const log = readFileSync(join(out, 'check.log'), 'utf8')
    expect(checked.status, log.slice(-3000)).toBe(0)
    expect(log).toMatch(/done in \d+ s/)
    const figures = JSON.parse(readFileSync(join(out, 'figures.json'), 'utf8'))

    expect(figures.steps.map((s: { step: string; rc: number }) => [s.step, s.rc])).toEqual(
      ['environment', 'detect', 'measure', 'attribution', 'cost', 'end-to-end'].map((s) => [s, 0]),
    )
    expect(figures.environment.nvml).toMatchObject({
      name: 'NVIDIA H200',
      architecture: 9,
      driver: '580.0-stub',
    })
    expect(figures.detect.gpu.devices).toMatchObject([{ name: 'NVIDIA H200', source: 'nvml-energy' }])

    // Over the load window, every way agrees with the independent reader's counter: within its 100 ms steps
    // and the 50 ms between reads (0.15 s of 300 W on a 3 s window), and the fake nvidia-smi's 300 W.
    const load = figures.measure.load
    expect(load.independent.counterWatts).toBeGreaterThan(280)
    expect(load.independent.counterWatts).toBeLessThan(320)
    expect(load.independent.counterUpdate.medianMs).toBeGreaterThan(90)
    expect(load.independent.counterUpdate.medianMs).toBeLessThan(110)
    const ways = [
      ['nvml-energy', 'nvml-energy'],
      ['nvml-energy-10ms', 'nvml-energy'],
      ['nvml-power', 'nvml-power'],
      ['nvidia-smi', 'nvidia-smi'],
    ] as const
    for (const [way, source] of ways) {
      expect(load[way].source, way).toBe(source)
      expect(Math.abs(load[way].offCounterPercent), way).toBeLessThan(6)
    }
    expect(figures.measure.nvidiaSmiStream.meanPeriodMs).toBeGreaterThan(80)

    // The stand-ins list themselves at 60 % and 20 % SM, taking turns: the samples give 3:1.
    const attribution = figures.attribution
    expect(attribution.big.exit.code).toBe(0)
    expect(attribution.small.exit.code).toBe(0)
    expect(attribution.nvml.processesListed).toEqual(
      expect.arrayContaining([attribution.big.pid, attribution.small.pid]),
    )
    expect(attribution.nvml.smShareByJob.big).toBeCloseTo(0.75, 1)
    expect(attribution.nvml.samplesReturnCodes).toBeDefined()

    for (const call of [
      'nvmlDeviceGetTotalEnergyConsumption',
      'nvmlDeviceGetPowerUsage',
      'nvmlDeviceGetProcessUtilization',
    ]) {
      expect(figures.cost.rawCalls[call].cpuUs, call).toBeGreaterThan(0)
    }
    expect(Object.keys(figures.cost.perSampleAt10ms)).toHaveLength(3)
    for (const cost of Object.values(figures.cost.perSampleAt10ms)) {
      expect((cost as { cpuUsPerSample: number }).cpuUsPerSample).toBeGreaterThan(0)
    }

    // The row, read back by Python's csv module.
    expect(figures.endToEnd).toMatchObject({
      rows: 1,
      status: 'finished',
      gpu_source: 'nvml-energy',
      gpu_model: '1 x NVIDIA H200',
    })
    expect(Number(figures.endToEnd.gpu_power)).toBeGreaterThan(250)

    const raw = run('tar', ['-tzf', join(out, 'raw.tar.gz')])
    expect(raw.stdout).toMatch(/reader-measure\.csv/)
    expect(raw.stdout).toMatch(/reader-attribution\.procs\.jsonl/)
  }, 240_000)
})
