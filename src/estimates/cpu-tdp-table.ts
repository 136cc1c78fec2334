import { createRequire } from 'node:module'
import { readDataFile } from '../platform/data-files.js'

/** A TDP found for a CPU brand string, and how it was matched. */
export interface TdpMatch {
  /** The table's name for the CPU. */
  readonly name: string
  readonly tdpW: number
  /** `exact` (case-insensitive), `normalised` (trademarks, clock, "CPU", "n-Core Processor" removed) or `tokens`. */
  readonly how: 'exact' | 'normalised' | 'tokens'
}

interface Entry {
  readonly name: string
  readonly tdpW: number
  readonly normalised: string
  readonly tokens: readonly string[]
}

/** An indexed CPU TDP table. */
export interface CpuTable {
  readonly entries: readonly Entry[]
  readonly byLower: ReadonlyMap<string, Entry>
  readonly byNormalised: ReadonlyMap<string, Entry>
}

/**
 * Normalises a CPU name the way brand strings and table names differ: `Intel(R) Xeon(R) Gold 6248 CPU @
 * 2.50GHz` and `Intel Xeon Gold 6248` both become `intel xeon gold 6248`; `AMD Ryzen 9 5950X 16-Core
 * Processor` becomes `amd ryzen 9 5950x`.
 */
export function normaliseCpuName(name: string): string {
  return name
    .replace(/\((?:R|TM|C)\)|®|™/gi, ' ')
    .replace(/\s+CPU\s*@.*$/i, ' ')
    .replace(/@\s*\d+(?:\.\d+)?\s*[GM]Hz.*$/i, ' ')
    .replace(/\b\d+-Core\b/gi, ' ')
    .replace(/\b(?:CPU|Processor|with Radeon.*)$/gi, ' ')
    .replace(/\bCPU\b|\bProcessor\b/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()
}

const tokensOf = (normalised: string): string[] => normalised.split(/[^a-z0-9]+/).filter((t) => t.length > 0)

/** Builds the lookup structures for a `Name,TDP` table. */
export function buildCpuTable(rows: readonly (readonly [string, number])[]): CpuTable {
  const entries: Entry[] = []
  const byLower = new Map<string, Entry>()
  const byNormalised = new Map<string, Entry>()
  for (const [name, tdpW] of rows) {
    if (!(tdpW > 0)) continue
    const normalised = normaliseCpuName(name)
    const entry: Entry = { name, tdpW, normalised, tokens: tokensOf(normalised) }
    entries.push(entry)
    if (!byLower.has(name.toLowerCase())) byLower.set(name.toLowerCase(), entry)
    if (!byNormalised.has(normalised)) byNormalised.set(normalised, entry)
  }
  return { entries, byLower, byNormalised }
}

let shipped: Promise<CpuTable> | undefined
let shippedSync: CpuTable | undefined

const tableOf = (text: string, parse: typeof import('csv-parse/sync').parse): CpuTable => {
  const rows = parse(text, { from_line: 2, skip_empty_lines: true }) as string[][]
  return buildCpuTable(rows.map(([name = '', tdp = '']) => [name, Number(tdp)] as const))
}

/** The shipped table, parsed at once (for the synchronous estimateMachinePower and the CLI). */
export function shippedCpuTableSync(): CpuTable {
  shippedSync ??= tableOf(
    readDataFile('cpu_power.csv'),
    (createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')).parse,
  )
  return shippedSync
}

/**
 * The table shipped in data/cpu_power.csv (CodeCarbon's, MIT), parsed once per process. Loaded only when
 * a CPU has to be estimated, and off the start-up path (see planMeters/tuneEstimates).
 */
export function shippedCpuTable(): Promise<CpuTable> {
  shipped ??= shippedSync
    ? Promise.resolve(shippedSync)
    : import('csv-parse/sync').then(({ parse }) => {
        // One parse per process, whichever way asked first.
        shippedSync ??= tableOf(readDataFile('cpu_power.csv'), parse)
        return shippedSync
      })
  return shipped
}

const isSubset = (small: readonly string[], large: ReadonlySet<string>): boolean =>
  small.length > 0 && small.every((t) => large.has(t))

/**
 * Finds the TDP of a CPU from its brand string: an exact (case-insensitive) name, then a normalised name,
 * then a token-set match (one name's words all inside the other's) that is unambiguous: a single
 * candidate, or several that agree on the TDP. Returns null rather than a guess.
 */
export function matchCpu(brand: string, table: CpuTable): TdpMatch | null {
  const trimmed = brand.trim()
  if (trimmed.length === 0) return null
  const exact = table.byLower.get(trimmed.toLowerCase())
  if (exact) return { name: exact.name, tdpW: exact.tdpW, how: 'exact' }

  const normalised = normaliseCpuName(trimmed)
  const byNorm = table.byNormalised.get(normalised)
  if (byNorm) return { name: byNorm.name, tdpW: byNorm.tdpW, how: 'normalised' }

  const brandTokens = tokensOf(normalised)
  if (brandTokens.length === 0) return null
  const brandSet = new Set(brandTokens)
  const candidates = table.entries.filter(
    (e) => isSubset(e.tokens, brandSet) || isSubset(brandTokens, new Set(e.tokens)),
  )
  const first = candidates[0]
  if (!first) return null
  if (candidates.every((c) => c.tdpW === first.tdpW))
    return { name: first.name, tdpW: first.tdpW, how: 'tokens' }
  return null
}
