import { parseCsv, readDataFile } from '../platform/data-files.js'

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

/** Where matchCpu finds a table's rows: its maps, or the shipped table's text (below). */
interface Lookup {
  /** The first row whose name, in lower case, is this. */
  exact(lower: string): Entry | undefined
  /** The first row whose normalised name is this (its tokens are given too). */
  normalised(normalised: string, tokens: readonly string[]): Entry | undefined
  /**
   * The token match: of the rows whose tokens are all the brand's or hold all the brand's, the first when
   * they all have its TDP; null when there is none or they differ.
   */
  tokenMatch(brandTokens: readonly string[], brandSet: ReadonlySet<string>): Entry | null
}

const isSubset = (small: readonly string[], large: ReadonlySet<string>): boolean =>
  small.length > 0 && small.every((t) => large.has(t))

const holdsOrIsHeld = (e: Entry, brandTokens: readonly string[], brandSet: ReadonlySet<string>): boolean =>
  isSubset(e.tokens, brandSet) || isSubset(brandTokens, new Set(e.tokens))

const mapLookup = (table: CpuTable): Lookup => ({
  exact: (lower) => table.byLower.get(lower),
  normalised: (normalised) => table.byNormalised.get(normalised),
  tokenMatch: (brandTokens, brandSet) => {
    const candidates = table.entries.filter((e) => holdsOrIsHeld(e, brandTokens, brandSet))
    const first = candidates[0]
    return first && candidates.every((c) => c.tdpW === first.tdpW) ? first : null
  },
})

// What normaliseCpuName removes of a name's words (tokens: runs of [a-z0-9]): `(R)`, `(TM)`, `(C)`, `CPU`,
// `Processor` and `n-Core` whole, and everything from an `@` or a closing `with Radeon` on.
const REMOVED_WORDS = ['cpu', 'processor', 'r', 'tm', 'c']
const EDGE = '(?![a-z0-9])'
// Tokens are [a-z0-9]+: nothing in them to escape.
const alternatives = (words: Iterable<string>): string => [...new Set(words)].join('|')

/**
 * Lines of the lower-case CSV text that may hold a row whose name has every one of these tokens: the
 * name's normalised tokens are whole runs of [a-z0-9] of its lower-case text (what the normalisation
 * removes, it removes whole), so such a row holds each token as a whole run somewhere on its line.
 */
const holding = (tokens: readonly string[]): RegExp =>
  new RegExp(`^${tokens.map((t) => `(?=[^\\n]*(?<![a-z0-9])${t}${EDGE})`).join('')}[^\\n]*$`, 'gm')

/**
 * Lines that may hold a row whose normalised tokens are all among these: each run of [a-z0-9] on the line
 * is one of them or one the normalisation removes, up to an `@` or `with radeon` (removed to the end) or
 * the TDP column. Each run is matched whole, by one alternative, so the pattern cannot backtrack far.
 */
const heldBy = (tokens: readonly string[]): RegExp =>
  new RegExp(
    `^(?:[^a-z0-9\\n]|(?:${alternatives([...tokens, ...REMOVED_WORDS])}|\\d+-core)${EDGE})*` +
      `(?:(?:@|with radeon)[^\\n]*|,[^,\\n]*)$`,
    'gm',
  )

/**
 * The shipped table's lookups on its text, without parsing it: a name is found by searching the
 * lower-case text, and a normalised name or the token match by regular expressions over it that keep every
 * line that may match (and few others); only those lines are parsed and normalised, in the table's order,
 * and checked as the row-by-row table checks every row. `AMD EPYC`, what virtual machines often report,
 * ends in the token match: three passes over the text, and a few lines parsed until two TDPs differ.
 */
class TextLookup implements Lookup {
  readonly #text: string
  readonly #lower: string
  readonly #full: () => CpuTable
  readonly #entries = new Map<number, Entry | undefined>()
  /** The lines each pattern kept, by the pattern's source: a brand's searches share them. */
  readonly #kept = new Map<string, number[]>()

  constructor(text: string, lower: string, full: () => CpuTable) {
    this.#text = text
    this.#lower = lower
    this.#full = full
  }

  /** The row on the line at `offset`, or undefined where its TDP is not a positive number. */
  #entryAt(offset: number): Entry | undefined {
    if (this.#entries.has(offset)) return this.#entries.get(offset)
    const end = this.#text.indexOf('\n', offset)
    const line = this.#text.slice(offset, end === -1 ? undefined : end)
    const comma = line.lastIndexOf(',')
    const [name = '', tdp = ''] = line.startsWith('"')
      ? (parseCsv(line)[0] ?? [])
      : comma === -1
        ? [line]
        : [line.slice(0, comma), line.slice(comma + 1)]
    const tdpW = Number(tdp)
    const normalised = normaliseCpuName(name)
    const entry = tdpW > 0 ? { name, tdpW, normalised, tokens: tokensOf(normalised) } : undefined
    this.#entries.set(offset, entry)
    return entry
  }

  /** Offsets of the lines that `pattern` (global, multiline, whole lines) matches, in order. */
  #lines(pattern: RegExp): number[] {
    let kept = this.#kept.get(pattern.source)
    if (!kept) {
      kept = Array.from(this.#lower.matchAll(pattern), (m) => m.index)
      this.#kept.set(pattern.source, kept)
    }
    return kept
  }

  exact(lower: string): Entry | undefined {
    // The name as the CSV spells it, plain or quoted, at the start of a line; each hit is checked.
    const hits: number[] = []
    for (const prefix of [`${lower},`, `"${lower.replace(/"/g, '""')}",`]) {
      for (let at = this.#lower.indexOf(prefix); at !== -1; at = this.#lower.indexOf(prefix, at + 1))
        if (at === 0 || this.#lower.charCodeAt(at - 1) === 10) hits.push(at)
    }
    for (const at of hits.sort((a, b) => a - b)) {
      const entry = this.#entryAt(at)
      if (entry && entry.name.toLowerCase() === lower) return entry
    }
    return undefined
  }

  normalised(normalised: string, tokens: readonly string[]): Entry | undefined {
    // A name with no token is not searched for: the row-by-row table answers (a rare brand: `CPU`).
    if (tokens.length === 0) return this.#full().byNormalised.get(normalised)
    // A row with this normalised name has these tokens and no other: heldBy keeps its line.
    for (const at of this.#lines(heldBy(tokens))) {
      const entry = this.#entryAt(at)
      if (entry && entry.normalised === normalised) return entry
    }
    return undefined
  }

  tokenMatch(brandTokens: readonly string[], brandSet: ReadonlySet<string>): Entry | null {
    const offsets = new Set([...this.#lines(heldBy([...brandSet])), ...this.#lines(holding(brandTokens))])
    let first: Entry | undefined
    for (const at of [...offsets].sort((a, b) => a - b)) {
      const entry = this.#entryAt(at)
      if (!entry || !holdsOrIsHeld(entry, brandTokens, brandSet)) continue
      first ??= entry
      // Two candidates that differ: no match, whatever the others are.
      if (entry.tdpW !== first.tdpW) return null
    }
    return first ?? null
  }
}

const lookups = new WeakMap<CpuTable, Lookup>()

/**
 * Whether the text lookup may read this table: a row is a line (no line end in quotes, none but `\n`),
 * lowering it keeps every character where it was (U+0130 would not), and no character outside ASCII
 * lowers to a letter or digit (the Kelvin sign does), so that the lower-case text's runs of [a-z0-9] are
 * the name's.
 */
export function textLookupReads(text: string, lower: string): boolean {
  if (lower.length !== text.length || /[\r\u2028\u2029]/.test(text)) return false
  if (/^[^"\n]*(?:"[^"\n]*"[^"\n]*)*"[^"\n]*$/m.test(text)) return false
  const outside = new Set(text.match(/[\u0080-\uffff]/g))
  return [...outside].every((c) => !/[a-z0-9]/.test(c.toLowerCase()))
}

/**
 * The shipped table: its lookups search its text (lowered once, on the first lookup) and parse only the
 * lines they may return; its maps and entries are built, row by row, only when read.
 */
function shippedTable(text: string): CpuTable {
  let built: CpuTable | undefined
  const full = (): CpuTable => {
    built ??= buildCpuTable(
      parseCsv(text)
        .slice(1)
        .map(([name = '', tdp = '']) => [name, Number(tdp)] as const),
    )
    return built
  }
  const table: CpuTable = {
    get entries() {
      return full().entries
    },
    get byLower() {
      return full().byLower
    },
    get byNormalised() {
      return full().byNormalised
    },
  }
  let lookup: Lookup | undefined
  const lazy = (): Lookup => {
    if (!lookup) {
      // The header is a line like any other here: no name's lookup can return it (its TDP is `TDP`).
      const lower = text.toLowerCase()
      lookup = textLookupReads(text, lower) ? new TextLookup(text, lower, full) : mapLookup(table)
    }
    return lookup
  }
  lookups.set(table, {
    exact: (lower) => lazy().exact(lower),
    normalised: (normalised, tokens) => lazy().normalised(normalised, tokens),
    tokenMatch: (brandTokens, brandSet) => lazy().tokenMatch(brandTokens, brandSet),
  })
  return table
}

let shipped: CpuTable | undefined

/** The shipped table (data/cpu_power.csv, CodeCarbon's, MIT), read once per process. */
export function shippedCpuTableSync(): CpuTable {
  shipped ??= shippedTable(readDataFile('cpu_power.csv'))
  return shipped
}

/**
 * The shipped table, as a promise (the tracker asks for it early in start()). Reading it costs a file
 * read; a lookup, a few passes over its text, and no row is parsed that the lookup does not return.
 */
export function shippedCpuTable(): Promise<CpuTable> {
  return new Promise((resolve) => resolve(shippedCpuTableSync()))
}

/**
 * Finds the TDP of a CPU from its brand string: an exact (case-insensitive) name, then a normalised name,
 * then a token-set match (one name's words all inside the other's) that is unambiguous: a single
 * candidate, or several that agree on the TDP. Returns null rather than a guess.
 */
export function matchCpu(brand: string, table: CpuTable): TdpMatch | null {
  const trimmed = brand.trim()
  if (trimmed.length === 0) return null
  const lookup = lookups.get(table) ?? mapLookup(table)
  const exact = lookup.exact(trimmed.toLowerCase())
  if (exact) return { name: exact.name, tdpW: exact.tdpW, how: 'exact' }

  const normalised = normaliseCpuName(trimmed)
  const brandTokens = tokensOf(normalised)
  const byNorm = lookup.normalised(normalised, brandTokens)
  if (byNorm) return { name: byNorm.name, tdpW: byNorm.tdpW, how: 'normalised' }

  if (brandTokens.length === 0) return null
  const match = lookup.tokenMatch(brandTokens, new Set(brandTokens))
  return match ? { name: match.name, tdpW: match.tdpW, how: 'tokens' } : null
}
