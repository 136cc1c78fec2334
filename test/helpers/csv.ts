import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'

/** The rows of a CSV file, by column name. */
export function readCsv(path: string): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true }) as Record<string, string>[]
}

// Python's csv module as pandas and most tools read a CSV: newline='' as its documentation requires.
const PYTHON_READER = `
import csv, json, sys
csv.field_size_limit(sys.maxsize)
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
bad = [len(r) for r in body if len(r) != len(header)]
if bad:
    sys.exit('rows with the wrong number of cells: %r' % bad[:10])
json.dump([dict(zip(header, r)) for r in body], sys.stdout)
`

/** The rows of a CSV file as Python's csv module reads them; throws when a row has the wrong cell count. */
export function readCsvWithPython(path: string): Record<string, string>[] {
  const run = spawnSync('python3', ['-c', PYTHON_READER, path], { encoding: 'utf8', maxBuffer: 1 << 28 })
  if (run.error) throw run.error
  if (run.status !== 0) throw new Error(`python3 could not read ${path}: ${run.stderr}`)
  return JSON.parse(run.stdout) as Record<string, string>[]
}
