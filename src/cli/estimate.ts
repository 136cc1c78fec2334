import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { readDataFile } from '../data-files.js'
import { formatEnergy, formatMass } from '../format.js'
import { CLOUD_PROVIDERS, type CloudProvider, cloudRegionsOf } from '../intensity/cloud-regions.js'
import { zoneIntensity } from '../intensity/tables.js'
import { editDistance } from '../text.js'
import { foreignFileMessage, readEmissionsCsv } from './report.js'
import { parseNumber, parseQuantity, UsageError } from './units.js'

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

/** The GPU a name means: exactly (any case, spacing, punctuation), else the only one containing it. */
export function findGpu(name: string, models: readonly GpuModel[] = gpuModels()): GpuModel {
  const wanted = squash(name)
  const exact = models.find((g) => squash(g.name) === wanted)
  if (exact) return exact
  const containing = models.filter((g) => squash(g.name).includes(wanted) || wanted.includes(squash(g.name)))
  if (containing.length === 1 && containing[0]) return containing[0]
  const close = (containing.length > 1 ? containing : models)
    .map((g) => ({ g, d: editDistance(wanted, squash(g.name)) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 5)
    .map(({ g }) => `"${g.name}"`)
  throw new UsageError(
    `--gpu ${JSON.stringify(name)} ${containing.length > 1 ? 'matches several GPUs' : 'is not in the GPU table'}: ` +
      `try ${close.join(', ')}.`,
  )
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
}

/** The emissions of `energyKWh` (PUE included) in every region of the providers, cleanest first. */
export function priceInRegions(energyKWh: number, providers: readonly CloudProvider[]): RegionEstimate[] {
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
      })
    }
  }
  return out.sort((a, b) => a.emissionsKg - b.emissionsKg || a.region.localeCompare(b.region))
}

/** `wattprint estimate`: a planned job (or a measured run, --from) priced in every cloud region. */
export async function estimateCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      gpu: { type: 'string' },
      gpus: { type: 'string', default: '1' },
      hours: { type: 'string' },
      'cpu-power': { type: 'string' },
      pue: { type: 'string' },
      provider: { type: 'string' },
      from: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  })
  const providers = values.provider ? [values.provider.toLowerCase()] : [...CLOUD_PROVIDERS]
  if (!providers.every((p): p is CloudProvider => (CLOUD_PROVIDERS as readonly string[]).includes(p))) {
    throw new UsageError(
      `--provider ${JSON.stringify(values.provider)} must be one of ${CLOUD_PROVIDERS.join(', ')}.`,
    )
  }
  const pue = values.pue ? parseNumber('--pue', values.pue, '1.1', 1, 5) : 1
  let energyKWh: number
  let what: string
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
  } else {
    if (!values.gpu || !values.hours) {
      throw new UsageError(
        'needs --gpu and --hours (or --from emissions.csv): for example --gpu "A100 SXM4 80 GB" --gpus 8 --hours 72',
      )
    }
    const gpu = findGpu(values.gpu)
    const count = parseNumber('--gpus', values.gpus ?? '1', '8', 1, 100_000)
    const hours = parseQuantity('duration', '--hours', values.hours, 'h') / 3600
    const cpuW = values['cpu-power'] ? parseQuantity('power', '--cpu-power', values['cpu-power'], 'w') : 0
    energyKWh = ((count * gpu.tdpW + cpuW) * hours * pue) / 1000
    what =
      `${count} × ${gpu.name} (${gpu.tdpW} W TDP, ${gpu.source})${cpuW > 0 ? ` + ${cpuW} W CPU` : ''} for ` +
      `${hours} h at PUE ${pue}: ${formatEnergy(energyKWh)}, at TDP (an upper bound: GPUs rarely hold it)`
  }
  const estimates = priceInRegions(energyKWh, providers as CloudProvider[])
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ what, energyKWh, regions: estimates }, null, 2)}\n`)
    return 0
  }
  const header = ['provider', 'region', 'location', 'zone', 'g/kWh', 'emissions']
  const rows = estimates.map((e) => [
    e.provider,
    e.region,
    e.location,
    e.zone,
    e.gPerKWh.toFixed(0),
    formatMass(e.emissionsKg),
  ])
  const widths = header.map((_, c) => Math.max(header[c]?.length ?? 0, ...rows.map((r) => r[c]?.length ?? 0)))
  const line = (r: string[]) =>
    r.map((cell, c) => (c >= 4 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join('  ')
  process.stdout.write(
    `${what}\nyearly grid averages (Electricity Maps via CO2.js), cleanest first:\n\n${line(header)}\n` +
      `${rows.map(line).join('\n')}\n`,
  )
  return 0
}
