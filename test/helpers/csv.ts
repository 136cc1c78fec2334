import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'

/** The rows of a CSV file, by column name. */
export function readCsv(path: string): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true }) as Record<string, string>[]
}
