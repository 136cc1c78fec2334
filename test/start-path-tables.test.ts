// The start path reads its tables without csv-parse and without parsing every row: these tests hold the new
// readings to the old ones (csv-parse, and the CPU table built row by row) on the shipped files themselves.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  buildCpuTable,
  matchCpu,
  shippedCpuTable,
  shippedCpuTableSync,
  textLookupReads,
} from '../src/estimates/cpu-tdp-table.js'
import { cpuHostKgPerVcpu, findInstanceEmbodied, instanceKey } from '../src/footprint/tables.js'
import { CLOUD_PROVIDERS, cloudRegionsOf } from '../src/intensity/cloud-regions.js'
import { parseCsv, readDataRecords } from '../src/platform/data-files.js'

const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')
const csvFiles = readdirSync('data').filter((f) => f.endsWith('.csv'))
const read = (name: string) => readFileSync(`data/${name}`, 'utf8')

describe('parseCsv, against csv-parse', () => {
  it.each(csvFiles)('reads data/%s as csv-parse does, with and without trim', (name) => {
    const text = read(name)
    expect(parseCsv(text)).toEqual(parse(text, { skip_empty_lines: true }))
    expect(parseCsv(text, { trim: true })).toEqual(parse(text, { skip_empty_lines: true, trim: true }))
  })

  it.each(csvFiles)('reads data/%s as records keyed by the header, as columns: true does', (name) => {
    expect(readDataRecords(name)).toEqual(
      parse(read(name), { columns: true, skip_empty_lines: true, trim: true }),
    )
  })

  it('reads quotes, commas and line ends inside quotes, CRLF and empty lines as csv-parse does', () => {
    const field = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r\n', '1') }),
      fc.string({ unit: fc.constantFrom('x', 'y', '2', ' ') }),
    )
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        (rows, eol, trim) => {
          // Quoted where needed (and where trim would otherwise eat the spaces), as a CSV writer does.
          const cell = (v: string) => (/[",\r\n]|^\s|\s$|^$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
          const text = `${rows.map((r) => r.map(cell).join(',')).join(eol)}${eol}`
          expect(parseCsv(text, { trim })).toEqual(parse(text, { skip_empty_lines: true, trim }))
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('the CPU TDP table, read from its lines', () => {
  // The table as it was read before: csv-parse, then every row indexed.
  const old = buildCpuTable(
    (parse(read('cpu_power.csv'), { from_line: 2, skip_empty_lines: true }) as string[][]).map(
      ([name = '', tdp = '']) => [name, Number(tdp)] as const,
    ),
  )

  it('is read from its text (a row a line, nothing that lowers out of place)', () => {
    const text = read('cpu_power.csv')
    expect(textLookupReads(text, text.toLowerCase())).toBe(true)
    expect(textLookupReads('Name,TDP\n"A\nB",1\n', 'name,tdp\n"a\nb",1\n')).toBe(false)
    expect(textLookupReads('Name,TDP\n\u212A1,1\n', 'name,tdp\nk1,1\n')).toBe(false)
  })

  it('has the same entries, in the same order, as the table built row by row', async () => {
    const table = await shippedCpuTable()
    expect(table).toBe(shippedCpuTableSync())
    expect(table.entries).toEqual(old.entries)
    expect([...table.byLower.keys()]).toEqual([...old.byLower.keys()])
    expect([...table.byNormalised.keys()]).toEqual([...old.byNormalised.keys()])
  })

  const same = (brands: Iterable<string>): string[] => {
    // The shipped table looks up through its text, whether or not its entries were built.
    const table = shippedCpuTableSync()
    const differ: string[] = []
    for (const brand of brands) {
      const a = JSON.stringify(matchCpu(brand, table))
      const b = JSON.stringify(matchCpu(brand, old))
      if (a !== b) differ.push(`${brand}: ${a} vs ${b}`)
    }
    return differ
  }

  it('matches every name, in any case, and every brand string made of one, as the old table does', () => {
    const brands = new Set<string>()
    old.entries.forEach(({ name }, i) => {
      brands.add(name)
      brands.add(name.toUpperCase())
      if (i % 4 !== 0) return
      brands.add(`Intel(R) ${name} CPU @ 2.50GHz`)
      brands.add(`${name} 16-Core Processor`)
    })
    expect(same(brands)).toEqual([])
  })

  it('matches token subsets and supersets (the token match) as the old table does', () => {
    const brands = new Set<string>([
      'AMD EPYC',
      'Intel Xeon',
      'QEMU Virtual CPU version 2.5+',
      'ryzen',
      'zz',
      'CPU',
    ])
    old.entries.forEach(({ tokens }, i) => {
      if (i % 8 !== 0) return
      brands.add(tokens.slice(0, 2).join(' '))
      brands.add(tokens.slice(-2).join(' '))
      brands.add(`${tokens.join(' ')} extra`)
      brands.add(`${tokens.join('_')} (R) cpu @ x`)
    })
    expect(same(brands)).toEqual([])
  })

  it("matches brand strings made of the table's words as the old table does", () => {
    const words = [...new Set(old.entries.flatMap((e) => e.tokens))]
    const word = fc.oneof(
      fc.constantFrom(...words),
      fc.constantFrom(
        '(R)',
        '(TM)',
        'CPU',
        'Processor',
        '@',
        '2.0GHz',
        '8-Core',
        'with Radeon',
        'Graphics',
        '+',
      ),
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(word, fc.constantFrom(' ', '  ', '-', '')), { maxLength: 5 }),
        (parts) => {
          expect(same([parts.map(([w, s]) => w + s).join('')])).toEqual([])
        },
      ),
      { numRuns: 1500 },
    )
  })
})

describe('the cloud tables, read without csv-parse', () => {
  const records = (name: string): Record<string, string>[] =>
    parse(read(name), { columns: true, skip_empty_lines: true, trim: true })

  it('finds every instance type and computes the spread of host kg per vCPU as before', () => {
    // As tables.ts read them before: csv-parse's records, keyed by instanceKey, the spread over the map.
    const old = new Map(
      records('cloud-embodied.csv').map((row) => [
        instanceKey(row.provider ?? '', row.instance_type ?? ''),
        {
          provider: row.provider,
          instanceType: row.instance_type,
          vcpus: Number(row.vcpus),
          platformVcpus: Number(row.platform_vcpus),
          gpus: Number(row.gpus),
          platformGpus: Number(row.platform_gpus),
          platformEmbodiedKg: Number(row.platform_embodied_kg),
        },
      ]),
    )
    for (const row of old.values())
      expect(findInstanceEmbodied(row.provider ?? '', row.instanceType ?? '')).toEqual(row)
    const values = [...old.values()]
      .filter((r) => r.platformGpus === 0 && r.platformVcpus > 0 && r.platformEmbodiedKg > 0)
      .map((r) => r.platformEmbodiedKg / r.platformVcpus)
      .sort((a, b) => a - b)
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]
    expect(cpuHostKgPerVcpu()).toEqual({ p10: at(0.1), p90: at(0.9) })
  })

  it('reads every cloud region as before', () => {
    const rows = records('cloud-regions.csv')
    for (const provider of CLOUD_PROVIDERS)
      expect(cloudRegionsOf(provider)).toEqual(
        rows
          .filter((r) => r.provider === provider)
          .map((r) => ({
            provider,
            region: r.region,
            location: r.location,
            zone: r.zone,
            alpha2: r.country,
          })),
      )
  })
})
