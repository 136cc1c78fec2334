// The device check's last step: every step's JSON in one figures.json, and a short table in the log.
// Usage: node summarize.mjs <work dir> <figures.json>
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeJson } from './common.mjs'

const [work, target] = process.argv.slice(2)
const read = (name) => {
  const path = join(work, name)
  if (!existsSync(path)) return { missing: name }
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    return { unreadable: name, error: String(error) }
  }
}
const steps = readFileSync(join(work, 'steps.tsv'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [step, rc, seconds] = line.split('\t')
    return { step, rc: Number(rc), seconds: Number(seconds) }
  })
const figures = {
  date: new Date().toISOString(),
  steps,
  environment: read('environment.json'),
  detect: read('detect.json'),
  measure: read('measure.json'),
  attribution: read('attribution.json'),
  cost: read('cost.json'),
  endToEnd: read('e2e.json'),
}
writeJson(target, figures)

const row = (...cells) => console.log(cells.map((c) => String(c ?? '—').padEnd(22)).join(' '))
console.log('\n== summary ==')
for (const s of steps) row(s.step, s.rc === 0 ? 'ok' : `FAILED (${s.rc})`, `${s.seconds} s`)
for (const window of ['idle', 'load']) {
  const w = figures.measure[window]
  if (!w) continue
  console.log(
    `\n${window}: independent counter ${w.independent?.counterJ} J (${w.independent?.counterWatts} W),` +
      ` its integrated power ${w.independent?.powerOffCounterPercent} % off, counter update ${w.independent?.counterUpdate?.medianMs} ms`,
  )
  for (const way of ['nvml-energy', 'nvml-energy-10ms', 'nvml-power', 'nvidia-smi']) {
    const m = w[way]
    if (m) row(`  ${way}`, `${m.joules} J`, `${m.watts} W`, `${m.offCounterPercent} % off the counter`)
  }
}
const a = figures.attribution
if (a.big && a.small) {
  console.log(
    `\nattribution: big ${a.big.gpuJ?.toFixed?.(1)} J of ${a.big.machineGpuJ?.toFixed?.(1)} J,` +
      ` small ${a.small.gpuJ?.toFixed?.(1)} J of ${a.small.machineGpuJ?.toFixed?.(1)} J;` +
      ` NVML SM ${JSON.stringify(a.nvml?.meanSmByJob)}, pmon SM ${JSON.stringify(a.pmonMeanSm)};` +
      ` the two jobs together ${a.jobsOfActivePercent} % of the machine's GPU energy above idle`,
  )
}
const e = figures.endToEnd
if (e.gpu_source)
  console.log(`\nend to end: gpu_source ${e.gpu_source}, ${e.gpu_power} W, status ${e.status}`)
