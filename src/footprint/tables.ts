import { parseCsv, readDataFile, readDataRecords } from '../platform/data-files.js'

/** An instance type of Cloud Carbon Footprint's embodied coefficients (data/cloud-embodied.csv). */
export interface CloudInstanceEmbodied {
  readonly provider: string
  /** The provider's name for the type, as the table spells it (`p4d.24xlarge`, `n2-standard-4`, `D2s v3`). */
  readonly instanceType: string
  readonly vcpus: number
  /** vCPUs of the host platform the type runs on. */
  readonly platformVcpus: number
  readonly gpus: number
  readonly platformGpus: number
  /** Embodied emissions of the whole host platform, kg CO2e. */
  readonly platformEmbodiedKg: number
}

/** A provider's (or one region's) water usage effectiveness, from its sustainability report. */
export interface WueFigure {
  readonly provider: string
  /** Empty for the provider's fleet-wide figure. */
  readonly region: string
  readonly lPerKWh: number
  readonly year: number
}

/** Litres of water consumed generating one kWh of a grid's electricity (data/water-intensity.csv). */
export interface WaterIntensityFigure {
  /** ISO 3166-1 alpha-3. */
  readonly country: string
  /** The Electricity Maps zone the figure is for; null for the country's figure. */
  readonly zone: string | null
  /** The eGRID subregion a US zone's figure is; null for a country's. */
  readonly egridSubregion: string | null
  readonly lPerKWh: number
  /** The dataset and its year, as `water_source` names it. */
  readonly dataset: string
}

/** The server component model (data/embodied-components.csv), kg CO2e. */
export interface ComponentModel {
  readonly baseKg: number
  readonly perExtraSocketKg: number
  readonly perGbAbove16Kg: number
  readonly perSsdKg: number
  readonly perHddKg: number
  /** By lower-case model name; `''` is the figure for any model. */
  readonly perGpuKg: ReadonlyMap<string, number>
}

// The tables are read on first use, each once, without csv-parse (a split a line: see parseCsv).
const readCsv = readDataRecords

/**
 * How an instance type is looked up: in any case, and for Azure without the `Standard_` prefix, spaces or
 * underscores (the metadata service says `Standard_D2s_v3`, the table `D2s v3`).
 */
export function instanceKey(provider: string, type: string): string {
  const name = type.trim().toLowerCase()
  return `${provider}/${provider === 'azure' ? name.replace(/^standard[_ ]/, '').replace(/[\s_]+/g, '') : name}`
}

let instances: Map<string, CloudInstanceEmbodied> | undefined
let wue: WueFigure[] | undefined
let components: ComponentModel | undefined
let waterIntensities: WaterIntensityFigure[] | undefined

/** Every row of data/water-intensity.csv: WRI's factors (Reig et al., 2020). */
export const WATER_INTENSITY_DATASET = 'wri-2020'

let instanceRows:
  | { readonly rows: readonly string[][]; readonly column: (name: string) => number }
  | undefined

/**
 * data/cloud-embodied.csv as rows of fields, read once: the start path (the first checkpoint's record)
 * needs only cpuHostKgPerVcpu's three columns, not 1,140 objects and their keys.
 */
function cloudEmbodiedRows(): NonNullable<typeof instanceRows> {
  if (!instanceRows) {
    const [header = [], ...rows] = parseCsv(readDataFile('cloud-embodied.csv'), { trim: true })
    instanceRows = { rows, column: (name) => header.indexOf(name) }
  }
  return instanceRows
}

function instanceTable(): Map<string, CloudInstanceEmbodied> {
  if (!instances) {
    instances = new Map()
    const { rows, column } = cloudEmbodiedRows()
    const [provider, type, vcpus, platformVcpus, gpus, platformGpus, platformKg] = [
      'provider',
      'instance_type',
      'vcpus',
      'platform_vcpus',
      'gpus',
      'platform_gpus',
      'platform_embodied_kg',
    ].map(column)
    const field = (row: readonly string[], at: number | undefined) =>
      at === undefined ? '' : (row[at] ?? '')
    for (const row of rows) {
      const providerName = field(row, provider)
      const instanceType = field(row, type)
      instances.set(instanceKey(providerName, instanceType), {
        provider: providerName,
        instanceType,
        vcpus: Number(field(row, vcpus)),
        platformVcpus: Number(field(row, platformVcpus)),
        gpus: Number(field(row, gpus)),
        platformGpus: Number(field(row, platformGpus)),
        platformEmbodiedKg: Number(field(row, platformKg)),
      })
    }
  }
  return instances
}

/** The instance type's row, or null when the table does not have it. */
export function findInstanceEmbodied(provider: string, type: string): CloudInstanceEmbodied | null {
  return instanceTable().get(instanceKey(provider, type)) ?? null
}

let perVcpu: { p10: number; p90: number } | undefined

/**
 * The spread of host kg per host vCPU over the table's CPU instance types (no GPU on the host): the 10th
 * and 90th percentiles, which say how far an assumed host may be from a real one.
 */
export function cpuHostKgPerVcpu(): { readonly p10: number; readonly p90: number } {
  if (!perVcpu) {
    // Over the rows themselves (the table has one row an instance type, as instanceTable keys them).
    const { rows, column } = cloudEmbodiedRows()
    const [platformVcpus, platformGpus, platformKg] = [
      'platform_vcpus',
      'platform_gpus',
      'platform_embodied_kg',
    ].map(column)
    const values: number[] = []
    for (const row of rows) {
      const vcpus = Number(row[platformVcpus ?? -1])
      const kg = Number(row[platformKg ?? -1])
      if (Number(row[platformGpus ?? -1]) === 0 && vcpus > 0 && kg > 0) values.push(kg / vcpus)
    }
    values.sort((a, b) => a - b)
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? Number.NaN
    perVcpu = { p10: at(0.1), p90: at(0.9) }
  }
  return perVcpu
}

/** The region's WUE where its provider publishes one, else the provider's fleet figure; null when none. */
export function findWue(provider: string, region: string | null): WueFigure | null {
  wue ??= readCsv('wue.csv').map((row) => ({
    provider: row.provider ?? '',
    region: row.region ?? '',
    lPerKWh: Number(row.wue_l_per_kwh),
    year: Number(row.year),
  }))
  const ofProvider = wue.filter((w) => w.provider === provider)
  const name = region?.trim().toLowerCase() ?? ''
  return (
    ofProvider.find((w) => w.region !== '' && w.region === name) ??
    ofProvider.find((w) => w.region === '') ??
    null
  )
}

/** The zone's figure where the table has one, else the country's (alpha-3); null when it has neither. */
export function findWaterIntensity(country: string | null, zone: string | null): WaterIntensityFigure | null {
  waterIntensities ??= readCsv('water-intensity.csv').map((row) => ({
    country: row.country ?? '',
    zone: row.zone || null,
    egridSubregion: row.egrid_subregion || null,
    lPerKWh: Number(row.l_per_kwh),
    dataset: WATER_INTENSITY_DATASET,
  }))
  const zoneName = zone?.trim().toUpperCase() || null
  const code = country?.trim().toUpperCase() || null
  return (
    (zoneName ? waterIntensities.find((w) => w.zone === zoneName) : undefined) ??
    (code ? waterIntensities.find((w) => w.zone === null && w.country === code) : undefined) ??
    null
  )
}

/** The server component model. */
export function componentModel(): ComponentModel {
  if (!components) {
    const rows = readCsv('embodied-components.csv')
    const kg = (component: string) => Number(rows.find((r) => r.component === component && !r.model)?.kgco2e)
    components = {
      baseKg: kg('base'),
      perExtraSocketKg: kg('cpu'),
      perGbAbove16Kg: kg('ram'),
      perSsdKg: kg('ssd'),
      perHddKg: kg('hdd'),
      perGpuKg: new Map(
        rows
          .filter((r) => r.component === 'gpu')
          .map((r) => [(r.model ?? '').toLowerCase(), Number(r.kgco2e)]),
      ),
    }
  }
  return components
}
