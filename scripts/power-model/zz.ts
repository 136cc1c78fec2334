import { estimateMachinePower } from '../../src/estimates/machine-power.js'

for (const i of [
  { cpuModel: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', sockets: 2, threads: 80, memoryGB: 384, load: 0.5 },
  { cpuModel: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', sockets: 2, threads: 80, memoryGB: 384, load: 0 },
  { cpuModel: 'AMD EPYC 9654 96-Core Processor', sockets: 2, threads: 384, memoryGB: 768, load: 1 },
  { cpuModel: 'Intel(R) Xeon(R) Processor', sockets: 1, threads: 2, memoryGB: 24, load: 0 },
  { cpuModel: 'Intel(R) Xeon(R) Processor', sockets: 1, threads: 16, memoryGB: 135, load: 0.1 },
  { cpuModel: 'Apple M2 Pro', threads: 12, memoryGB: 32, load: 0.2 },
]) {
  const e = estimateMachinePower(i)
  console.log(
    i.cpuModel,
    i.load,
    e.watts.toFixed(1),
    e.lowW.toFixed(1),
    e.highW.toFixed(1),
    JSON.stringify(e.components, (k, v) => (typeof v === 'number' ? +v.toFixed(1) : v)),
    e.source,
  )
}
