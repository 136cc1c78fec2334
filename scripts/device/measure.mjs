// Steps 3 and 4 of the device check: the idle GPU, then a real load, each measured over one window by
// wattprint four ways at once (NVML's energy counter read every second and every 10 ms, integrated
// nvmlDeviceGetPowerUsage, the streaming nvidia-smi meter) and by an independent reader (nvidia-ml-py) of the same counter and power.
// Usage: node measure.mjs <out dir>   (DEVICE_CHECK_IDLE_S, DEVICE_CHECK_LOAD_S: the windows' lengths)
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EmissionsTracker } from 'wattprint'
import {
  counterAt,
  counterPeriods,
  joules,
  loadCommand,
  log,
  monoS,
  percentOff,
  powerIntegralJ,
  readTrace,
  seconds,
  sleep,
  startReader,
  startWatched,
  waitFor,
  writeJson,
} from './common.mjs'

const out = process.argv[2]
const idleS = seconds('DEVICE_CHECK_IDLE_S', 20)
const loadS = seconds('DEVICE_CHECK_LOAD_S', 60)
const smi = process.env.WATTPRINT_NVIDIA_SMI || 'nvidia-smi'
const figures = { idleS, loadS }

/** How soon a streaming nvidia-smi prints its first line, and how often after (at -lms 100). */
async function smiStream() {
  const t0 = monoS()
  const child = spawn(smi, ['--query-gpu=index,power.draw', '--format=csv,noheader,nounits', '-lms', '100'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const stamps = []
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    for (const _ of chunk.split('\n').filter(Boolean)) stamps.push(monoS())
  })
  child.on('error', () => {})
  await sleep(3000)
  child.kill('SIGKILL')
  if (stamps.length === 0) return { error: 'no line in 3 s' }
  const span = (stamps.at(-1) ?? 0) - (stamps[0] ?? 0)
  return {
    firstLineMs: Math.round(((stamps[0] ?? 0) - t0) * 1000),
    lines: stamps.length,
    meanPeriodMs: stamps.length > 1 ? Math.round((span / (stamps.length - 1)) * 1000) : null,
  }
}

figures.nvidiaSmiStream = await smiStream()
log('nvidia-smi -lms 100:', JSON.stringify(figures.nvidiaSmiStream))

const readerPrefix = join(out, 'reader-measure')
const reader = await startReader(readerPrefix, idleS + loadS + 180)
const common = { saveToFile: false, logLevel: 'warning', carbonIntensity: 100 }
const ways = {
  'nvml-energy': { ...common },
  // The counter moves every 100 ms: read every 10 ms, its steps must not be taken for glitches.
  'nvml-energy-10ms': { ...common, intervalMs: 10 },
  'nvml-power': { ...common, nvmlEnergyCounter: false, intervalMs: 100 },
  'nvidia-smi': { ...common, nvmlLibraryPath: '/nonexistent', intervalMs: 100 },
}
const trackers = Object.entries(ways).map(([way, options]) => {
  const tracker = new EmissionsTracker(options)
  const warnings = []
  tracker.on('warning', (w) => warnings.push(w))
  return { way, tracker, warnings, windows: {}, tasks: {} }
})
await Promise.all(trackers.map((t) => t.tracker.start()))
log('trackers started:', trackers.map((t) => t.way).join(', '))
await sleep(1000)

const open = (name) => {
  for (const t of trackers) {
    t.tracker.startTask(name)
    t.windows[name] = { from: monoS() }
  }
}
const close = (name) => {
  for (const t of trackers) {
    t.tasks[name] = t.tracker.stopTask(name)
    t.windows[name].to = monoS()
  }
}

open('idle')
await sleep(idleS * 1000)
close('idle')
log(`idle window done (${idleS} s)`)

const load = startWatched(loadCommand[0], [
  ...loadCommand.slice(1),
  '--seconds',
  String(loadS),
  '--size',
  'big',
])
try {
  const ready = await waitFor(load, ['ready', 'failed'], 120_000)
  log('load:', ready.word, ready.rest)
  if (ready.word === 'failed') throw new Error(`the load failed: ${ready.rest}`)
  await waitFor(load, ['start'], 30_000)
  open('load')
  const end = await waitFor(load, ['end'], (loadS + 60) * 1000)
  close('load')
  figures.load = { python: end.rest }
  log('load:', end.rest)
} catch (error) {
  figures.loadError = String(error)
  log('LOAD FAILED:', String(error))
  load.child.kill('SIGKILL')
}
await load.exited
await sleep(3000)
const records = {}
for (const t of trackers) records[t.way] = await t.tracker.stop()
const readerLog = await reader.stop()
log('reader:', readerLog.trim().split('\n').at(-1))

const trace = readTrace(readerPrefix)
for (const name of ['idle', 'load']) {
  const windows = trackers.filter((t) => t.tasks[name])
  if (windows.length === 0) continue
  const result = {}
  for (const t of windows) {
    const { from, to } = t.windows[name]
    const counterJ = (counterAt(trace.energy, to) - counterAt(trace.energy, from)) / 1000
    const gpuJ = joules(t.tasks[name].gpu.energyKWh)
    result[t.way] = {
      source: t.tasks[name].gpu.source,
      seconds: Math.round((to - from) * 1000) / 1000,
      joules: Math.round(gpuJ * 10) / 10,
      watts: Math.round((gpuJ / (to - from)) * 10) / 10,
      independentCounterJ: Math.round(counterJ * 10) / 10,
      offCounterPercent: percentOff(gpuJ, counterJ),
    }
  }
  const { from, to } = windows[0].windows[name]
  const counterJ = (counterAt(trace.energy, to) - counterAt(trace.energy, from)) / 1000
  const powerJ = powerIntegralJ(trace.power, from, to)
  result.independent = {
    binding: JSON.parse(readFileSync(`${readerPrefix}.meta.json`, 'utf8')).binding,
    counterJ: Math.round(counterJ * 10) / 10,
    counterWatts: Math.round((counterJ / (to - from)) * 10) / 10,
    integratedPowerJ: Math.round(powerJ * 10) / 10,
    powerOffCounterPercent: percentOff(powerJ, counterJ),
    counterUpdate: counterPeriods(trace.energy, from, to),
  }
  figures[name] = { ...figures[name], ...result }
  log(`${name}:`, JSON.stringify(result))
}
figures.warnings = Object.fromEntries(trackers.map((t) => [t.way, t.warnings]))
figures.notes = Object.fromEntries(Object.entries(records).map(([way, r]) => [way, r.notes]))
figures.gpuModel = records['nvml-energy']?.gpuModel ?? null
writeJson(join(out, 'measure.json'), figures)
writeJson(join(out, 'measure-records.json'), {
  records,
  tasks: Object.fromEntries(trackers.map((t) => [t.way, t.tasks])),
})
process.exit(0)
