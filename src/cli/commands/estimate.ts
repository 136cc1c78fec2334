import { createRequire } from 'node:module'
import { linesOf, printJson, printOut } from '../../core/terminal.js'
import { editDistance } from '../../core/text.js'
import { matchCpu, shippedCpuTableSync } from '../../estimates/cpu-tdp-table.js'
import { estimateMachinePower, type MachinePowerEstimate } from '../../estimates/machine-power.js'
import { shippedPowerModel } from '../../estimates/model-file.js'
import { CLOUD_PROVIDERS, type CloudProvider, cloudRegionsOf } from '../../intensity/cloud-regions.js'
import { zoneIntensity } from '../../intensity/tables.js'
import { formatEnergy, formatMass } from '../../output/quantities.js'
import { readDataFile } from '../../platform/data-files.js'
import { ESTIMATE_FOOTPRINT_FLAGS, plannedEmbodied, regionWater } from '../estimate-footprint.js'
import { type CommandSpec, type Flags, helpText, parseFlags, textOf } from '../flags.js'
import { optionRange } from '../options.js'
import { massCell, sumKnown, waterCell } from '../report/footprint.js'
import { foreignFileMessage, readEmissionsCsv } from '../report/read.js'
import { tableLines } from '../table.js'
import { parseNumber, parseQuantity, UsageError } from '../units.js'

/** A GPU of data/gpus.csv. */
export interface GpuModel {
  readonly name: string
  readonly tdpW: number
  readonly source: string
}

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '')

/** data/gpus.csv: ML CO2 Impact's table and current datasheet figures (see data/README.md). */
export function gpuModels(): GpuModel[] {
  const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')
  const rows = parse(readDataFile('gpus.csv'), {
    columns: true,
    skip_empty_lines: true,
    trim: true,
  }) as Record<string, string>[]
  return rows
    .map((r) => ({ name: r.name ?? '', tdpW: Number(r.tdp_watts), source: r.source ?? '' }))
    .filter((g) => g.name !== '' && g.tdpW > 0)
}

/**
 * The GPU a name means: exactly (any case, spacing, punctuation); else the only one containing it, or
 * containing every word of it (`h100 sxm`, `a100 40gb`). Several that match are listed with their TDPs:
 * an H100 SXM draws twice an H100 PCIe, so no one of them is picked for the user.
 */
export function findGpu(name: string, models: readonly GpuModel[] = gpuModels()): GpuModel {
  const wanted = squash(name)
  const exact = models.find((g) => squash(g.name) === wanted)
  if (exact) return exact
  const words = name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
  const containing = models.filter(
    (g) =>
      squash(g.name).includes(wanted) || (words.length > 1 && words.every((w) => squash(g.name).includes(w))),
  )
  if (containing.length === 1 && containing[0]) return containing[0]
  const byDistance = (list: readonly GpuModel[]) =>
    list
      .map((g) => ({ g, d: editDistance(wanted, squash(g.name)) }))
      .sort((a, b) => a.d - b.d)
      .map(({ g }) => g)
  if (containing.length > 1) {
    const choices = byDistance(containing)
    throw new UsageError(
      `--gpu ${JSON.stringify(name)} matches ${choices.length} GPUs of the table: ` +
        `${choices.map((g) => `"${g.name}" (${g.tdpW} W)`).join(', ')}. ` +
        `Name one, for example --gpu "${choices[0]?.name}".`,
    )
  }
  const close = byDistance(models)
    .slice(0, 5)
    .map((g) => `"${g.name}"`)
  throw new UsageError(`--gpu ${JSON.stringify(name)} is not in the GPU table: try ${close.join(', ')}.`)
}

/** The whole machine `--cpu` describes, at its load. */
export function machineEstimate(values: Record<string, string | undefined>): MachinePowerEstimate & {
  what: string
  load: number
  assumed: string[]
} {
  if (values.cpu === undefined)
    throw new UsageError('--memory describes a machine: give its CPU with --cpu "<model>" too.')
  if (values['cpu-power'] !== undefined) {
    throw new UsageError(
      '--cpu estimates the whole machine; --cpu-power sets a CPU wattage by hand: give one of them.',
    )
  }
  if (values.memory === undefined) {
    throw new UsageError("--cpu needs the machine's memory: add --memory, for example --memory 256GB.")
  }
  const sockets = parseNumber('--sockets', values.sockets ?? '1', {
    example: '2',
    range: { min: 1, max: 64 },
    integer: true,
  })
  const memoryGB = parseQuantity('memory', '--memory', values.memory, {
    bareUnit: 'gb',
    range: { min: 0.001 },
    example: '256GB',
  })
  const loadText = values.load ?? '50%'
  const load = loadText.trim().endsWith('%')
    ? parseNumber('--load', loadText.trim().slice(0, -1), { example: '50%', range: { min: 0, max: 100 } }) /
      100
    : parseNumber('--load', loadText, { example: '50%', range: { min: 0, max: 1 } })
  const assumed: string[] = []
  let threads: number
  if (values.threads !== undefined) {
    threads = parseNumber('--threads', values.threads, {
      example: '80',
      range: { min: sockets, max: 1_000_000 },
      integer: true,
    })
  } else {
    const known = matchCpu(values.cpu, shippedCpuTableSync())
    if (known === null) {
      throw new UsageError(
        `--cpu ${JSON.stringify(values.cpu)} is not in the CPU table, so its thread count cannot be guessed: add --threads, for example --threads 16.`,
      )
    }
    const perThread = shippedPowerModel().components.tdpWPerThread
    threads = Math.max(sockets, 2 * Math.round((known.tdpW * sockets) / perThread / 2))
    assumed.push(
      `threads assumed ${threads} from the TDP (${perThread.toFixed(1)} W per thread, the training servers' median): give --threads`,
    )
  }
  const estimate = estimateMachinePower({ cpuModel: values.cpu, sockets, threads, memoryGB, load })
  const what = `${sockets} × ${values.cpu}, ${threads} threads, ${Number(memoryGB.toPrecision(4))} GB`
  return { ...estimate, what, load, assumed }
}

/** A region's price of a job. */
export interface RegionEstimate {
  readonly provider: CloudProvider
  readonly region: string
  readonly location: string
  readonly zone: string
  readonly gPerKWh: number
  readonly source: string
  readonly emissionsKg: number
  /** The job's embodied kg CO2e (the same in every region); null when unknown. */
  readonly embodiedKg: number | null
  /** Litres of water: on-site at the provider's WUE, off-site at --water-intensity or the table's grid factor; null when neither is known. */
  readonly waterL: number | null
  /** The provider's WUE in the region, L per IT kWh; null when it publishes none. */
  readonly wueLPerKWh: number | null
  /** @deprecated use wueLPerKWh (the same figure): kept in `--json` for readers of the former name. */
  readonly wue: number | null
}

/** The emissions of `energyKWh` (PUE included) in every region of the providers, cleanest first. */
export function priceInRegions(
  energyKWh: number,
  providers: readonly CloudProvider[],
  footprint: { embodiedKg: number | null; pue: number; waterIntensityLPerKWh: number | null } = {
    embodiedKg: null,
    pue: 1,
    waterIntensityLPerKWh: null,
  },
): RegionEstimate[] {
  const out: RegionEstimate[] = []
  for (const provider of providers) {
    for (const r of cloudRegionsOf(provider)) {
      const reading = zoneIntensity(r.zone)
      if (!reading) continue
      out.push({
        provider,
        region: r.region,
        location: r.location,
        zone: r.zone,
        gPerKWh: reading.gPerKWh,
        source: reading.source,
        emissionsKg: (energyKWh * reading.gPerKWh) / 1000,
        embodiedKg: footprint.embodiedKg,
        ...(({ litres, wueLPerKWh }) => ({ waterL: litres, wueLPerKWh, wue: wueLPerKWh }))(
          regionWater(r, energyKWh, footprint.pue, footprint.waterIntensityLPerKWh),
        ),
      })
    }
  }
  return out.sort((a, b) => a.emissionsKg - b.emissionsKg || a.region.localeCompare(b.region))
}

/** The flags of `wattprint estimate`: parsed, and listed in its help, from this one table. */
export const ESTIMATE_FLAGS = {
  gpu: {
    type: 'string',
    value: 'model',
    help: 'the GPU model, as data/gpus.csv names it, loosely matched: "A100 SXM4 80 GB", a10g, "h100 sxm"',
    example: '"A100 SXM4 80 GB"',
  },
  gpus: { type: 'string', value: 'n', help: 'how many GPUs, a whole number (default 1)', example: '8' },
  hours: { type: 'string', value: 'h', help: 'how long the job runs: 72 (hours), 90m, 2d', example: '72' },
  cpu: {
    type: 'string',
    value: 'model',
    help: 'estimate a whole machine by its CPU, as /proc/cpuinfo names it, with the power model fit to measured servers (see docs/accuracy.md)',
    example: '"Intel Xeon Gold 6248"',
  },
  sockets: { type: 'string', value: 'n', help: 'with --cpu: CPU sockets (default 1)', example: '2' },
  threads: {
    type: 'string',
    value: 'n',
    help: "with --cpu: hardware threads of the machine (default: from the CPU's TDP, stated)",
    example: '80',
  },
  memory: {
    type: 'string',
    value: 'size',
    help: "with --cpu: the machine's memory: 256GB, 24GiB",
    example: '256GB',
  },
  load: {
    type: 'string',
    value: '50%',
    help: "with --cpu: the machine's load, as 30% or 0.3 (default 50%)",
    example: '50%',
  },
  'cpu-power': {
    type: 'string',
    value: '200W',
    help: 'CPU power to add to the GPUs (default 0W)',
    example: '200W',
  },
  pue: {
    type: 'string',
    value: '1.1',
    help: "the data centre's power usage effectiveness, 1 to 5 (default 1)",
    example: '1.1',
  },
  provider: {
    type: 'string',
    value: 'aws|gcp|azure',
    help: 'price in this cloud only (default: all three)',
    example: 'aws',
  },
  from: {
    type: 'string',
    value: 'emissions.csv',
    help: "price the measured runs of an emissions CSV (wattprint's or CodeCarbon's) instead of a planned job",
    example: 'emissions.csv',
  },
  ...ESTIMATE_FOOTPRINT_FLAGS,
  json: { type: 'boolean', help: 'the estimate as JSON on stdout' },
} as const satisfies Flags

const ESTIMATE: CommandSpec = {
  name: 'estimate',
  usage:
    '--gpu <model> [--gpus <n>] --hours <h> [options]  |  --cpu <model> --memory <size> [--load 50%] [--hours <h>]  |  --from <emissions.csv> [options]',
  about: `A planned job's energy (GPUs at their TDP, an upper bound, plus --cpu-power, times --pue) or the
energy of measured runs (--from), and its emissions in every cloud region, cleanest first, at each
region's yearly grid average.`,
  flags: ESTIMATE_FLAGS,
  footer: `Examples:
  wattprint estimate --gpu "A100 SXM4 80 GB" --gpus 8 --hours 72 --pue 1.1 --provider aws
  wattprint estimate --cpu "Intel Xeon Gold 6248" --sockets 2 --threads 80 --memory 384GB --load 30% --hours 3
  wattprint estimate --from emissions.csv --provider gcp --json`,
}

/** `wattprint estimate`: a planned job (or a measured run, --from) priced in every cloud region. */
export async function estimateCommand(argv: readonly string[]): Promise<number> {
  const { values: flags } = parseFlags(ESTIMATE, argv)
  if (flags.help) {
    printOut(...linesOf(helpText(ESTIMATE)))
    return 0
  }
  const values = Object.fromEntries(
    Object.keys(ESTIMATE_FLAGS).map((name) => [name, textOf(flags, name)]),
  ) as Record<Exclude<keyof typeof ESTIMATE_FLAGS, 'json'>, string | undefined>
  const providers = values.provider ? [values.provider.toLowerCase()] : [...CLOUD_PROVIDERS]
  if (!providers.every((p): p is CloudProvider => (CLOUD_PROVIDERS as readonly string[]).includes(p))) {
    throw new UsageError(
      `--provider ${JSON.stringify(values.provider)} must be one of ${CLOUD_PROVIDERS.join(', ')}.`,
    )
  }
  const pue =
    values.pue !== undefined
      ? parseNumber('--pue', values.pue, { example: '1.1', range: optionRange('pue') })
      : 1
  let energyKWh: number
  let what: string
  let embodied: { kg: number | null; source: string }
  const planned = (
    [
      'gpu',
      'gpus',
      'hours',
      'cpu',
      'sockets',
      'threads',
      'memory',
      'load',
      'cpu-power',
      'pue',
      'instance-type',
      'embodied',
      'lifetime',
    ] as const
  ).filter((f) => values[f] !== undefined)
  if (values.from !== undefined && planned.length > 0) {
    // The file's energy was measured, PUE included: a planned job's figures would be silently ignored.
    throw new UsageError(
      `--from prices measured runs as they are; ${planned.map((f) => `--${f}`).join(', ')} ` +
        `${planned.length === 1 ? 'describes' : 'describe'} a planned job ` +
        'and cannot be combined with it: give either --from or --gpu and --hours.',
    )
  }
  if (values.from) {
    let read: ReturnType<typeof readEmissionsCsv>
    try {
      read = readEmissionsCsv(values.from)
    } catch (error) {
      throw new UsageError(`cannot read ${values.from}: ${(error as Error).message}`)
    }
    if (read.format === 'foreign') throw new UsageError(`--from ${foreignFileMessage(values.from)}`)
    const { runs } = read
    // The file's energy already includes the PUE it was measured with; --pue replaces nothing here.
    energyKWh = runs.reduce((sum, r) => sum + r.energyKWh, 0)
    what = `${runs.length} measured run(s) from ${values.from}: ${formatEnergy(energyKWh)}`
    const known = runs.filter((r) => r.embodiedKg !== null)
    embodied = {
      kg: sumKnown(runs.map((r) => r.embodiedKg)),
      source: `embodied_emissions of ${known.length} of ${runs.length} run(s)`,
    }
  } else if (values.cpu !== undefined || values.memory !== undefined) {
    const machine = machineEstimate(values)
    const hours =
      values.hours === undefined
        ? 1
        : parseQuantity('duration', '--hours', values.hours, { bareUnit: 'h', example: '3' }) / 3600
    if (values.gpus !== undefined && values.gpu === undefined) {
      throw new UsageError('--gpus counts the GPUs of --gpu: add --gpu <model>, or leave --gpus out.')
    }
    const gpu = values.gpu === undefined ? null : findGpu(values.gpu)
    const count =
      gpu === null
        ? 0
        : parseNumber('--gpus', values.gpus ?? '1', {
            example: '8',
            range: { min: 1, max: 100_000 },
            integer: true,
          })
    const gpuW = gpu === null ? 0 : count * gpu.tdpW
    energyKWh = ((machine.watts + gpuW) * hours * pue) / 1000
    const lowKWh = ((machine.lowW + gpuW) * hours * pue) / 1000
    const highKWh = ((machine.highW + gpuW) * hours * pue) / 1000
    embodied = plannedEmbodied(
      { instanceType: values['instance-type'], embodied: values.embodied, lifetime: values.lifetime },
      hours,
      count,
    )
    if (flags.json) {
      printJson({
        machine,
        hours,
        pue,
        gpus: gpu === null ? null : { name: gpu.name, count, tdpW: gpu.tdpW },
        energyKWh,
        energyLowKWh: lowKWh,
        energyHighKWh: highKWh,
        embodied,
        regions: priceInRegions(energyKWh, providers as CloudProvider[], {
          embodiedKg: embodied.kg,
          pue,
          waterIntensityLPerKWh: null,
        }),
      })
      return 0
    }
    const w = (x: number) => `${x.toFixed(0)} W`
    printOut(
      `${machine.what} at ${Math.round(machine.load * 100)} % load: ${w(machine.watts)} at the wall ` +
        `(80 % interval ${w(machine.lowW)}–${w(machine.highW)}): CPU ${w(machine.components.cpuW)}, ` +
        `RAM ${w(machine.components.ramW)}, the rest ${w(machine.components.otherW)}`,
      `  ${machine.source}${machine.assumed.length > 0 ? `; ${machine.assumed.join('; ')}` : ''}`,
    )
    what =
      `${hours} h${gpu === null ? '' : ` + ${count} × ${gpu.name} at TDP (${gpu.tdpW} W)`} at PUE ${pue}: ` +
      `${formatEnergy(energyKWh)} (80 % interval ${formatEnergy(lowKWh)}–${formatEnergy(highKWh)})`
  } else {
    if (!values.gpu || !values.hours) {
      throw new UsageError(
        'needs --gpu and --hours (or --from emissions.csv): for example --gpu "A100 SXM4 80 GB" --gpus 8 --hours 72',
      )
    }
    const gpu = findGpu(values.gpu)
    const count = parseNumber('--gpus', values.gpus ?? '1', {
      example: '8',
      range: { min: 1, max: 100_000 },
      integer: true,
    })
    const hours = parseQuantity('duration', '--hours', values.hours, { bareUnit: 'h', example: '72' }) / 3600
    const cpu = values['cpu-power']
    const cpuW =
      cpu !== undefined
        ? parseQuantity('power', '--cpu-power', cpu, { bareUnit: 'w', range: { min: 0 }, example: '200W' })
        : 0
    energyKWh = ((count * gpu.tdpW + cpuW) * hours * pue) / 1000
    embodied = plannedEmbodied(
      { instanceType: values['instance-type'], embodied: values.embodied, lifetime: values.lifetime },
      hours,
      count,
    )
    what =
      `${count} × ${gpu.name} (${gpu.tdpW} W TDP, ${gpu.source})${cpuW > 0 ? ` + ${cpuW} W CPU` : ''} for ` +
      `${hours} h at PUE ${pue}: ${formatEnergy(energyKWh)}, at TDP (an upper bound: GPUs rarely hold it)`
  }
  const waterText = values['water-intensity']
  const waterIntensityLPerKWh =
    waterText === undefined
      ? null
      : parseNumber('--water-intensity', waterText, {
          example: '3.1',
          range: optionRange('waterIntensityLPerKWh'),
        })
  // A CSV's energy already holds its PUE: its on-site water is counted on the energy as it is.
  const footprint = { embodiedKg: embodied.kg, pue: values.from ? 1 : pue, waterIntensityLPerKWh }
  const estimates = priceInRegions(energyKWh, providers as CloudProvider[], footprint)
  if (flags.json) {
    const embodiedOut = { kg: embodied.kg, source: embodied.source }
    printJson({ what, energyKWh, embodied: embodiedOut, regions: estimates })
    return 0
  }
  const header = ['provider', 'region', 'location', 'zone', 'g/kWh', 'emissions', 'embodied', 'water']
  const rows = estimates.map((e) => [
    e.provider,
    e.region,
    e.location,
    e.zone,
    e.gPerKWh.toFixed(0),
    formatMass(e.emissionsKg),
    massCell(e.embodiedKg),
    waterCell(e.waterL),
  ])
  printOut(
    what,
    `embodied: ${embodied.kg === null ? 'unknown' : formatMass(embodied.kg)} CO2e (${embodied.source}); ` +
      `water: on-site at the provider's published WUE + off-site at ${waterIntensityLPerKWh === null ? "WRI's 2020 factor for the region's grid (--water-intensity to set one)" : `${waterIntensityLPerKWh} L/kWh`}`,
    'yearly grid averages (Electricity Maps via CO2.js), cleanest first:',
    '',
    ...tableLines([header, ...rows], { right: (c) => c >= 4 }),
  )
  return 0
}
