// Step 5 of the device check: two processes share the GPU (a big and a small matrix product), each run
// under `wattprint run --attribution process`; beside them the independent reader logs what
// nvmlDeviceGetComputeRunningProcesses_v3 and nvmlDeviceGetProcessUtilization return, and
// `nvidia-smi pmon` the SM share it sees per process.
// Usage: node attribution.mjs <out dir>   (DEVICE_CHECK_ATTRIBUTION_S: how long each job runs)
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EmissionsTracker } from 'wattprint'
import { here, joules, loadCommand, log, seconds, start, startReader, writeJson } from './common.mjs'

const out = process.argv[2]
const jobS = seconds('DEVICE_CHECK_ATTRIBUTION_S', 30)
const cli = join(here, '..', '..', 'dist', 'cli.js')
const smi = process.env.WATTPRINT_NVIDIA_SMI || 'nvidia-smi'

const readerPrefix = join(out, 'reader-attribution')
const reader = await startReader(readerPrefix, jobS + 120, true)
const machine = new EmissionsTracker({ saveToFile: false, logLevel: 'warning', carbonIntensity: 100 })
await machine.start()
const pmon = start(smi, ['pmon', '-s', 'u', '-d', '1', '-c', String(Math.ceil(jobS))])
const jobs = ['big', 'small'].map((size) => {
  const args = [cli, 'run', '--attribution', 'process', '--json', '--interval', '500ms']
  args.push('--carbon-intensity', '100', '-o', join(out, `attr-${size}`))
  args.push('--timeline', join(out, `attr-${size}.jsonl`), '--', ...loadCommand, '--seconds', String(jobS))
  args.push('--size', size)
  return { size, run: start(process.execPath, args) }
})
const statuses = await Promise.all(jobs.map((j) => j.run.exited))
const record = await machine.stop()
pmon.child.kill('SIGTERM')
await pmon.exited
await reader.stop()
writeFileSync(join(out, 'pmon.txt'), pmon.output.stdout + pmon.output.stderr)

const figures = { jobS, machine: { gpuJ: joules(record.gpu.energyKWh), seconds: record.durationS } }
const pids = {}
jobs.forEach((job, i) => {
  const pid = Number(/LOAD ready .*pid=(\d+)/.exec(job.run.output.stderr)?.[1] ?? Number.NaN)
  pids[pid] = job.size
  let result
  try {
    result = JSON.parse(job.run.output.stdout).record
  } catch {
    figures[job.size] = { exit: statuses[i], stderr: job.run.output.stderr.slice(-2000) }
    return
  }
  figures[job.size] = {
    pid,
    exit: statuses[i],
    seconds: result.durationS,
    gpuJ: joules(result.gpu.energyKWh),
    machineGpuJ: joules(result.machine.gpuKWh),
    idleJ: joules(result.idleEnergyKWh),
    gpuShareOfMachine: result.gpu.energyKWh / result.machine.gpuKWh,
    notes: result.notes.filter((n) => /GPU|attribut|share/i.test(n)),
  }
})

// Conservation: the two jobs' GPU energy against the machine's above idle, over the same time.
const both = [figures.big, figures.small]
if (both.every((j) => j?.gpuJ !== undefined)) {
  const mean = (key) => (figures.big[key] + figures.small[key]) / 2
  figures.jobsOfActivePercent =
    Math.round(((figures.big.gpuJ + figures.small.gpuJ) / (mean('machineGpuJ') - mean('idleJ'))) * 1000) / 10
}

// What the real library returned: processes listed, and utilisation samples (or their return codes).
const lines = readFileSync(`${readerPrefix}.procs.jsonl`, 'utf8').trim().split('\n').filter(Boolean)
const polls = lines.map((line) => JSON.parse(line))
const sm = {}
let withSamples = 0
const rcs = {}
for (const poll of polls) {
  if (poll.samples?.length) withSamples += 1
  if (poll.samplesRc !== undefined) rcs[poll.samplesRc] = (rcs[poll.samplesRc] ?? 0) + 1
  for (const s of poll.samples ?? []) {
    sm[s.pid] = [...(sm[s.pid] ?? []), s.sm]
  }
}
const average = (xs) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : null)
figures.nvml = {
  polls: polls.length,
  pollsWithSamples: withSamples,
  samplesReturnCodes: rcs,
  processesListed: [...new Set(polls.flatMap((p) => (p.processes ?? []).map((q) => q.pid)))],
  meanSmByJob: Object.fromEntries(Object.entries(sm).map(([pid, xs]) => [pids[pid] ?? pid, average(xs)])),
  samplesPerPoll: average(polls.map((p) => p.samples?.length ?? 0)),
  // Each job's part of all the SM utilisation sampled: the share wattprint's reader takes, over the run.
  smShareByJob: (() => {
    const sums = Object.fromEntries(
      Object.entries(sm).map(([pid, xs]) => [pids[pid] ?? pid, xs.reduce((a, b) => a + b, 0)]),
    )
    const total = Object.values(sums).reduce((a, b) => a + b, 0)
    return Object.fromEntries(
      Object.entries(sums).map(([who, v]) => [who, total > 0 ? Math.round((v / total) * 1000) / 1000 : null]),
    )
  })(),
}
// nvidia-smi pmon: "# gpu pid type sm mem enc dec command" then one line per process per second.
const pmonSm = {}
for (const line of pmon.output.stdout.split('\n')) {
  const cells = line.trim().split(/\s+/)
  if (cells[0]?.startsWith('#') || cells.length < 4) continue
  const value = Number(cells[3])
  const who = pids[cells[1]] ?? cells[1]
  if (Number.isFinite(value)) pmonSm[who] = [...(pmonSm[who] ?? []), value]
}
figures.pmonMeanSm = Object.fromEntries(Object.entries(pmonSm).map(([who, xs]) => [who, average(xs)]))
log('attribution:', JSON.stringify(figures))
writeJson(join(out, 'attribution.json'), figures)
process.exit(0)
