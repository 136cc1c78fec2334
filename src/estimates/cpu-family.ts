// What a CPU's name says about it beyond its TDP: its vendor and the year its generation came out. The
// power model uses the year because servers' idle draw relative to their full load fell steadily as
// generations improved their sleep states (SPECpower: 0.27 of full load over all servers, 0.22 from 2019).
// The years are launch years of the product families, public facts from Intel's ARK and AMD's pages.

/** Who made a CPU, as far as its name says. */
export type CpuVendor = 'intel' | 'amd' | 'arm' | 'unknown'

/** What a CPU's name tells the power model. */
export interface CpuFamily {
  readonly vendor: CpuVendor
  /** Launch year of the CPU's generation; null when the name does not say. */
  readonly year: number | null
  /** The family the year was read from, in words (`Xeon Scalable 2nd gen`); null when unknown. */
  readonly family: string | null
}

type Rule = readonly [RegExp, (m: RegExpMatchArray) => readonly [number, string] | null]

const byDigit = (table: Readonly<Record<string, number>>, digit: string | undefined): number | null =>
  digit === undefined ? null : (table[digit] ?? null)

// Xeon Scalable: the second digit of the number is the generation (Gold 6148 → 1st, 6248 → 2nd …).
const SCALABLE: Readonly<Record<string, number>> = { '1': 2017, '2': 2019, '3': 2021, '4': 2023, '5': 2023 }
// EPYC: the last digit is the generation (7551 → Naples, 7742 → Rome, 9654 → Genoa, 9755 → Turin).
const EPYC: Readonly<Record<string, number>> = { '1': 2017, '2': 2019, '3': 2021, '4': 2022, '5': 2024 }
// Ryzen and Threadripper: the first digit of the number is the series.
const RYZEN: Readonly<Record<string, number>> = {
  '1': 2017,
  '2': 2018,
  '3': 2019,
  '4': 2020,
  '5': 2020,
  '7': 2022,
  '8': 2024,
  '9': 2024,
}
const THREADRIPPER: Readonly<Record<string, number>> = {
  '1': 2017,
  '2': 2018,
  '3': 2019,
  '5': 2022,
  '7': 2023,
  '9': 2024,
}
// Core i: a four-digit number's first digit is the generation (2nd … 9th); five digits start 10 … 14.
const CORE4: Readonly<Record<string, number>> = {
  '2': 2011,
  '3': 2012,
  '4': 2013,
  '5': 2015,
  '6': 2015,
  '7': 2017,
  '8': 2017,
  '9': 2018,
}
const CORE5: Readonly<Record<string, number>> = { '10': 2020, '11': 2021, '12': 2021, '13': 2022, '14': 2023 }
const E5: Readonly<Record<string, number>> = { '': 2012, '2': 2013, '3': 2014, '4': 2016 }
const E7: Readonly<Record<string, number>> = { '': 2011, '2': 2014, '3': 2015, '4': 2016 }
const E3: Readonly<Record<string, number>> = {
  '': 2011,
  '2': 2012,
  '3': 2013,
  '4': 2014,
  '5': 2015,
  '6': 2017,
}
const OPTERON4: Readonly<Record<string, number>> = { '1': 2010, '2': 2011, '3': 2012 }
const APPLE: Readonly<Record<string, number>> = { '1': 2020, '2': 2022, '3': 2023, '4': 2024 }

const hit = (year: number | null, family: string): readonly [number, string] | null =>
  year === null ? null : [year, family]

// Order matters: the first rule whose pattern matches decides (a Xeon Scalable name also holds four digits
// that the older Xeon rules would read).
const RULES: readonly Rule[] = [
  [/\b(?:platinum|gold|silver|bronze)\s*\d(\d)\d\d/i, (m) => hit(byDigit(SCALABLE, m[1]), 'Xeon Scalable')],
  [/\bxeon\s*(?:cpu\s*)?max\s*9\d{3}/i, () => [2023, 'Xeon Max']],
  [/\bxeon\s*6\d{3}[pe]\b/i, () => [2024, 'Xeon 6']],
  [/\bE5-\d{4}[a-z]*\s*v?(\d)?\b/i, (m) => hit(E5[m[1] ?? ''] ?? null, 'Xeon E5')],
  [/\bE7-\d{4}[a-z]*\s*v?(\d)?\b/i, (m) => hit(E7[m[1] ?? ''] ?? null, 'Xeon E7')],
  [/\bE3-\d{4}[a-z]*\s*v?(\d)?\b/i, (m) => hit(E3[m[1] ?? ''] ?? null, 'Xeon E3')],
  [
    /\bE-2(\d)\d\d/i,
    (m) => hit(m[1] === '1' ? 2018 : m[1] === '2' ? 2019 : m[1] === '3' ? 2021 : 2023, 'Xeon E'),
  ],
  [
    /\bW-([123])(\d)\d\d/i,
    (m) => hit(m[2] === '1' ? 2017 : m[2] === '2' ? 2019 : m[2] === '3' ? 2021 : 2023, 'Xeon W'),
  ],
  [/\bD-(\d)\d\d\d/i, (m) => hit(m[1] === '1' ? 2015 : m[1] === '2' ? 2018 : 2022, 'Xeon D')],
  // Pre-2012 Xeons: letter and four digits (X5670, L5520, E5410, X7560, X3470).
  [
    /\b[XELW]?([3567])(\d)\d\d[a-z]?\b/i,
    (m) => {
      const series = `${m[1]}${m[2]}`
      const years: Readonly<Record<string, number>> = {
        '30': 2006,
        '31': 2007,
        '32': 2007,
        '33': 2007,
        '34': 2009,
        '50': 2006,
        '51': 2006,
        '52': 2007,
        '53': 2006,
        '54': 2007,
        '55': 2009,
        '56': 2010,
        '65': 2010,
        '70': 2005,
        '71': 2006,
        '73': 2007,
        '74': 2008,
        '75': 2010,
      }
      return /xeon/i.test(m.input ?? '') || /^[XELW]/i.test(m[0]) ? hit(years[series] ?? null, 'Xeon') : null
    },
  ],
  [/\bepyc\s*\d[\da-z]\d(\d)/i, (m) => hit(byDigit(EPYC, m[1]), 'EPYC')],
  [/\bthreadripper\s*(?:pro\s*)?(\d)\d\d\d/i, (m) => hit(byDigit(THREADRIPPER, m[1]), 'Ryzen Threadripper')],
  [/\bryzen\s*(?:ai\s*)?\d\s*(?:pro\s*)?(\d)\d\d\d/i, (m) => hit(byDigit(RYZEN, m[1]), 'Ryzen')],
  [/\bryzen\s*ai\b/i, () => [2024, 'Ryzen AI']],
  [/\bopteron\b\D*(\d{3,4})/i, (m) => opteron(m[1] ?? '')],
  [/\bcore\s*ultra\s*\d\s*(\d)\d\d/i, (m) => hit(m[1] === '1' ? 2023 : 2024, 'Core Ultra')],
  [/\bi[3579]-(1[0-4])\d\d\d/i, (m) => hit(CORE5[m[1] ?? ''] ?? null, 'Core i')],
  [/\bi[3579]-(\d)\d\d\d/i, (m) => hit(byDigit(CORE4, m[1]), 'Core i')],
  [/\bi[3579]-\d\d\d\b/i, () => [2010, 'Core i (1st gen)']],
  [/\bcore\s*(?:\(tm\))?\s*2\b/i, () => [2007, 'Core 2']],
  [/\bpentium\s*d\b/i, () => [2005, 'Pentium D']],
  [/\bapple\s*m(\d)/i, (m) => hit(byDigit(APPLE, m[1]), 'Apple M')],
  [/\bneoverse-?n1\b|graviton\s*2?\b(?!\d)/i, () => [2019, 'Neoverse N1']],
  [/\bneoverse-?v1\b|graviton\s*3/i, () => [2021, 'Neoverse V1']],
  [/\bneoverse-?v2\b|graviton\s*4|grace\b/i, () => [2023, 'Neoverse V2']],
]

function opteron(digits: string): readonly [number, string] | null {
  // Three digits (Opteron 250): the first, 2004–2005 parts.
  if (digits.length === 3) return hit(2004, 'Opteron')
  const first = digits[0]
  const second = digits[1]
  if (first === '4' || first === '6') return hit(byDigit(OPTERON4, second), 'Opteron')
  // 2000 and 8000 series: 22xx/82xx 2006, 23xx/83xx 2007, 24xx/84xx 2009.
  return hit(second === '2' ? 2006 : second === '3' ? 2007 : second === '4' ? 2009 : null, 'Opteron')
}

/** The vendor a CPU name implies. */
export function cpuVendor(name: string): CpuVendor {
  if (/\bamd\b|epyc|opteron|ryzen|threadripper|athlon/i.test(name)) return 'amd'
  if (/intel|xeon|\bcore\b|pentium|celeron|\bi[3579]-/i.test(name)) return 'intel'
  if (/apple|graviton|neoverse|ampere|cortex|\barm\b|aarch64|grace/i.test(name)) return 'arm'
  return 'unknown'
}

/** The vendor and generation year a CPU's name tells, or nulls where it tells nothing. */
export function cpuFamily(name: string): CpuFamily {
  const vendor = cpuVendor(name)
  for (const [pattern, read] of RULES) {
    const m = pattern.exec(name)
    if (!m) continue
    const found = read(m)
    if (found) return { vendor, year: found[0], family: found[1] }
  }
  return { vendor, year: null, family: null }
}
