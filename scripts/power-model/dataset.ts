// The training servers: scripts/power-model/data/specpower-train.csv (SPECpower_ssj2008 results, hardware up
// to 2020; provenance in that folder's README), read into the facts the model sees at run time. TDP comes
// from the row where the submitter gave it, else from the CPU table wattprint ships, matched as at run time.

import { readdirSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parse } from 'csv-parse/sync'
import { cpuFamily } from '../../src/estimates/cpu-family.js'
import { buildCpuTable, matchCpu } from '../../src/estimates/cpu-tdp-table.js'
import type { MachineFacts } from '../../src/estimates/power-model.js'
import { dataFilePath } from '../../src/platform/data-files.js'

/** One measured server. */
export interface Server {
  readonly cpuModel: string
  /** Year its hardware became available (the publication year where the source gives no other). */
  readonly hardwareYear: number
  readonly facts: MachineFacts
  /** Whether the TDP came from the row, the CPU table, or nowhere. */
  readonly tdpFrom: 'row' | 'table' | 'none'
  /** Measured AC watts at idle, 10 % … 100 %; NaN where the source has no figure. */
  readonly watts: readonly number[]
}

const COLUMNS = ['watts_idle', ...[10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((l) => `watts_${l}`)]

// Paths from the project's root, found through src/platform/data-files.ts: the same from the source under vitest and
// from the bundle run-ts.mjs makes.
const here = (name: string): URL => pathToFileURL(dataFilePath(`../scripts/power-model/${name}`))

/** Reads the training servers. */
export function readServers(path: string | URL = here('./data/specpower-train.csv')): Server[] {
  const table = buildCpuTable(
    (
      parse(readFileSync(pathToFileURL(dataFilePath('cpu_power.csv')), 'utf8'), {
        from_line: 2,
      }) as string[][]
    ).map(([name = '', tdp = '']) => [name, Number(tdp)] as const),
  )
  const rows = parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[]
  return rows.map((row) => {
    const cpuModel = row.cpu_model ?? ''
    const rowTdp = Number(row.tdp_w)
    const matched = Number.isFinite(rowTdp) && rowTdp > 0 ? null : matchCpu(cpuModel, table)
    const tdpW = rowTdp > 0 ? rowTdp : (matched?.tdpW ?? null)
    const family = cpuFamily(cpuModel)
    const hardwareYear = Number(row.hardware_year || row.published_year)
    return {
      cpuModel,
      hardwareYear,
      // Where the name tells no generation, the row's year stands in for it: the fit learns from it, and at
      // run time such a CPU uses a variant without the year.
      facts: {
        tdpW,
        sockets: Number(row.sockets),
        threads: Number(row.threads),
        memoryGB: Number(row.memory_gb),
        vendor: family.vendor,
        year: family.year,
      },
      tdpFrom: rowTdp > 0 ? 'row' : tdpW !== null ? 'table' : 'none',
      watts: COLUMNS.map((c) => (row[c] ? Number(row[c]) : Number.NaN)),
    }
  })
}

/** A CPU's all-cores RAPL sweep, as raplChecks() takes it. */
export interface RaplProfile {
  readonly cpu: string
  readonly tdpW: number
  readonly sockets: number
  readonly rows: { load: number; raplW: number; threads: number }[]
}

/**
 * Reads CodeCarbon's all-cores RAPL sweeps (scripts/power-model/data/rapl-profiles, MIT). The files do not
 * give sockets: the Xeon E5-2620 v3 machine shows 24 threads of a 6-core, 12-thread part, so two sockets.
 */
export function readRaplProfiles(dir: URL = here('./data/rapl-profiles/')): RaplProfile[] {
  const table = buildCpuTable(
    (
      parse(readFileSync(pathToFileURL(dataFilePath('cpu_power.csv')), 'utf8'), {
        from_line: 2,
      }) as string[][]
    ).map(([name = '', tdp = '']) => [name, Number(tdp)] as const),
  )
  return readdirSync(dir)
    .filter((f) => f.includes('-all_cores-'))
    .sort()
    .map((f) => {
      const rows = parse(readFileSync(new URL(f, dir), 'utf8'), { columns: true }) as Record<string, string>[]
      const cpu = rows[0]?.cpu_name ?? f
      const tdpW = matchCpu(cpu, table)?.tdpW ?? Number.NaN
      return {
        cpu,
        tdpW,
        sockets: /E5-2620 v3/.test(cpu) ? 2 : 1,
        rows: rows.map((r) => ({
          load: Number(r.cpu_load) / 100,
          raplW: Number(r.rapl_power),
          threads: Number(r.cores_used),
        })),
      }
    })
}
