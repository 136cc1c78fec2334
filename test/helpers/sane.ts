import { expect } from 'vitest'
import { CSV_COLUMNS, recordToCells } from '../../src/output/csv/sink.js'
import { sampleRecord } from './records.js'

// Columns that hold text, found from a record with every field filled: every other non-empty cell must be
// a finite, non-negative number.
const TEXT_COLUMNS = new Set<string>(
  Object.entries(
    recordToCells(
      sampleRecord({
        gpuModel: '1 x NVIDIA L4',
        gpu: { energyKWh: 0, lowKWh: 0, highKWh: 0, powerW: 0, source: 'nvml-energy', method: 'measured' },
        node: {
          energyKWh: 0,
          lowKWh: 0,
          highKWh: 0,
          powerW: 0,
          source: 'acpi-power-meter',
          method: 'measured',
        },
      }),
    ),
  )
    .filter(([, value]) => typeof value === 'string')
    .map(([column]) => column),
)

/**
 * Asserts that a CSV row (by column) or a record (any nesting) holds no NaN, no Infinity and no negative
 * figure: what a fault may never put into an output.
 */
export function expectSaneNumbers(value: unknown, path = 'row'): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true)
    expect(value, path).toBeGreaterThanOrEqual(0)
    return
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) expectSaneNumbers(item, `${path}[${i}]`)
    return
  }
  if (value === null || typeof value !== 'object') return
  const entries = Object.entries(value)
  const isCsvRow =
    entries.length === CSV_COLUMNS.length &&
    entries.every(([k]) => (CSV_COLUMNS as readonly string[]).includes(k))
  for (const [key, item] of entries) {
    if (isCsvRow && !TEXT_COLUMNS.has(key) && item !== '') {
      expect(String(item), `${path}.${key}`).toMatch(/^\d+(\.\d+)?(e[+-]?\d+)?$/i)
      expectSaneNumbers(Number(item), `${path}.${key}`)
    } else expectSaneNumbers(item, `${path}.${key}`)
  }
}
