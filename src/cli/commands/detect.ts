import { linesOf, printJson, printOut } from '../../core/terminal.js'
import { type Detection, detect, type ModelDetection } from '../../tracker/detect.js'
import { type CommandSpec, type Flags, helpText, parseFlags } from '../flags.js'
import { TRACKER_FLAGS, trackerOptionsFrom, usageErrorFrom } from '../options.js'

/** The lines `wattprint detect` prints for a detection. */
function render(d: Detection): string[] {
  const lines = [
    `CPU     ${d.cpu.model}: ${d.cpu.logicalCpus} logical CPUs, ${d.cpu.sockets} socket(s)`,
    `        measured by ${d.cpu.source}: ${d.cpu.how}`,
    `RAPL    ${d.rapl.root}: ${
      d.rapl.unavailable ??
      `packages ${d.rapl.packages.join(', ') || 'none'}; dram ${d.rapl.dram.join(', ') || 'none'}`
    }`,
  ]
  if (d.rapl.unreadable.length > 0) lines.push(`        unreadable: ${d.rapl.unreadable.join('; ')}`)
  if (d.rapl.fix) lines.push(...d.rapl.fix.split('\n').map((l) => `        ${l}`))
  if (d.gpu.devices.length > 0) {
    for (const g of d.gpu.devices) lines.push(`GPU     ${g.index}: ${g.name} (${g.uuid}) by ${g.source}`)
  } else lines.push('GPU     none measured')
  if (d.gpu.nvml) lines.push(`        NVML: ${d.gpu.nvml}`)
  if (d.gpu.nvidiaSmi) lines.push(`        nvidia-smi: ${d.gpu.nvidiaSmi}`)
  for (const [backend, reason] of Object.entries(d.gpu.backends)) {
    if (reason) lines.push(`        ${backend}: ${reason}`)
  }
  lines.push(
    d.node.source
      ? `Node    ${d.node.source}: ${d.node.sensors.join(', ')} (the whole server at the wall, beside the components, never added)`
      : `Node    no whole-server meter: ${d.node.unavailable}`,
  )
  lines.push(`RAM     ${d.ram.totalGiB.toFixed(1)} GiB, by ${d.ram.source}: ${d.ram.how}`)
  lines.push(`Rest    board, fans, drives, power-supply losses, by ${d.rest.source}: ${d.rest.how}`)
  if (d.estimate) lines.push(`        estimates from ${d.estimate}`)
  if (typeof d.model === 'string') lines.push(`Model   ${d.model}`)
  else {
    const w = (f: ModelDetection['idle']) =>
      `${f.watts.toFixed(0)} W (80 %: ${f.lowW.toFixed(0)}–${f.highW.toFixed(0)} W)`
    lines.push(
      `Model   a whole machine of this CPU, size and memory at the wall: idle ${w(d.model.idle)}, full load ${w(d.model.full)}`,
      `        ${d.model.source}; error on unseen servers in docs/accuracy.md`,
    )
  }
  lines.push(
    `Grid    ${d.intensity.gPerKWh} g CO2e/kWh from ${d.intensity.source}` +
      `${d.intensity.country ? `; ${d.intensity.country}` : ''}${d.intensity.zone ? `, zone ${d.intensity.zone}` : ''}` +
      `${d.intensity.cloud ? `, ${d.intensity.cloud}` : ''}`,
  )
  lines.push(
    `Share   --attribution process ${d.attribution.process}`,
    `        --attribution cgroup ${d.attribution.cgroup}`,
    `        memory by ${d.attribution.memory}; GPU ${d.attribution.gpu}`,
  )
  for (const w of d.warnings) lines.push(`warning ${w.split('\n')[0]}`)
  // Paths, names and the reasons that quote them come from the machine and the options: the printer
  // writes them out.
  return lines
}

/** The flags of `wattprint detect`: parsed, and listed in its help, from this one table. */
export const DETECT_FLAGS = {
  ...TRACKER_FLAGS,
  json: { type: 'boolean', help: 'the findings as JSON on stdout' },
} as const satisfies Flags

const DETECT: CommandSpec = {
  name: 'detect',
  usage: '[options]',
  about: `What a run with these options would measure on this machine, and how: the CPU and its RAPL counters
(and the fix when they are unreadable), the GPUs (NVIDIA through NVML or nvidia-smi, AMD through amdsmi,
ROCm SMI or hwmon, Intel through Level Zero or hwmon) and why each way is absent, the server's own power
meter, the RAM, and the grid's carbon intensity. Measures nothing and writes nothing; the options are those of wattprint run.`,
  flags: DETECT_FLAGS,
}

/** `wattprint detect [--json]`: always exit 0 once it could look (estimates are a valid answer). */
export async function detectCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(DETECT, argv)
  if (values.help) {
    printOut(...linesOf(helpText(DETECT)))
    return 0
  }
  let detection: Detection
  try {
    detection = await detect(trackerOptionsFrom(values))
  } catch (error) {
    throw usageErrorFrom(error, values, DETECT_FLAGS)
  }
  if (values.json) printJson(detection)
  else printOut(...render(detection))
  return 0
}
