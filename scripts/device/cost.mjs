// Step 6 of the device check: what the real NVML costs. Each call wattprint makes, timed through koffi in
// a hot loop; then the tracker's whole CPU per sample at 10 ms (bench/child.mjs, as `npm run bench -- gpu`
// measures it on the stub) with no GPU meter, with NVML, and with the streaming nvidia-smi.
// Usage: node cost.mjs <out dir>
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { here, log, seconds, writeJson } from './common.mjs'

const out = process.argv[2]
const library = process.env.WATTPRINT_NVML_LIBRARY || 'libnvidia-ml.so.1'
const figures = { library }

/** µs per call, wall and CPU, over `rounds` calls after 100 unmeasured ones. */
function time(call, rounds) {
  for (let i = 0; i < 100; i++) call()
  const cpu = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < rounds; i++) call()
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / rounds
  const used = process.cpuUsage(cpu)
  return {
    wallUs: Math.round(wallUs * 100) / 100,
    cpuUs: Math.round(((used.user + used.system) / rounds) * 100) / 100,
  }
}

try {
  const koffi = createRequire(join(here, '..', '..', 'package.json'))('koffi')
  const lib = koffi.load(library)
  const rc = lib.func('int nvmlInit_v2()')()
  if (rc !== 0) throw new Error(`nvmlInit_v2 returned ${rc}`)
  const handleOut = [null]
  lib.func('int nvmlDeviceGetHandleByIndex_v2(unsigned int index, _Out_ void **device)')(0, handleOut)
  const h = handleOut[0]
  const energy = lib.func(
    'int nvmlDeviceGetTotalEnergyConsumption(void *device, _Out_ unsigned long long *energy)',
  )
  const power = lib.func('int nvmlDeviceGetPowerUsage(void *device, _Out_ unsigned int *power)')
  const util = lib.func('int nvmlDeviceGetUtilizationRates(void *device, _Out_ uint8_t *rates)')
  const procs = lib.func(
    'int nvmlDeviceGetComputeRunningProcesses_v3(void *device, _Inout_ unsigned int *count, _Out_ uint8_t *infos)',
  )
  const samples = lib.func(
    'int nvmlDeviceGetProcessUtilization(void *device, _Out_ uint8_t *samples, _Inout_ unsigned int *count, unsigned long long lastSeen)',
  )
  const e = [0]
  const p = [0]
  const rates = Buffer.alloc(8)
  const infos = Buffer.alloc(24 * 64)
  const sampleBuffer = Buffer.alloc(32 * 256)
  figures.rawCalls = {
    nvmlDeviceGetTotalEnergyConsumption: time(() => energy(h, e), 2000),
    nvmlDeviceGetPowerUsage: time(() => power(h, p), 2000),
    nvmlDeviceGetUtilizationRates: time(() => util(h, rates), 2000),
    nvmlDeviceGetComputeRunningProcesses_v3: time(() => procs(h, [64], infos), 200),
    nvmlDeviceGetProcessUtilization: time(() => samples(h, sampleBuffer, [256], 0n), 200),
  }
  lib.func('int nvmlShutdown()')()
} catch (error) {
  figures.rawError = String(error)
}
log('raw NVML calls:', JSON.stringify(figures.rawCalls ?? figures.rawError))

const none = { nvmlLibraryPath: '/nonexistent', nvidiaSmiPath: '/nonexistent' }
const cases = {
  'no GPU meter': none,
  'NVML energy counter': { nvidiaSmiPath: '/nonexistent' },
  'streaming nvidia-smi': { nvmlLibraryPath: '/nonexistent' },
}
figures.perSampleAt10ms = {}
for (const [what, tracker] of Object.entries(cases)) {
  const windowMs = seconds('DEVICE_CHECK_COST_MS', 5000)
  const options = { mode: 'tracker', intervalMs: 10, warmupMs: Math.min(1500, windowMs), windowMs, tracker }
  try {
    const output = execFileSync(
      process.execPath,
      [join(here, '..', '..', 'bench', 'child.mjs'), 'cpu', JSON.stringify(options)],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    )
    const { cpuMs } = JSON.parse(output.trim().split('\n').at(-1) ?? '{}')
    figures.perSampleAt10ms[what] = { cpuUsPerSample: Math.round((cpuMs * 1000) / (options.windowMs / 10)) }
  } catch (error) {
    figures.perSampleAt10ms[what] = { error: String(error).slice(0, 400) }
  }
  log(`per sample at 10 ms, ${what}:`, JSON.stringify(figures.perSampleAt10ms[what]))
}
writeJson(join(out, 'cost.json'), figures)
