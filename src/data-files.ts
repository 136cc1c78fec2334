import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// This module sits one level below the package root both as source (src/data-files.ts) and once bundled
// (dist/*.js), so the shipped tables are always at ../data relative to it.
const dataDir = new URL('../data/', import.meta.url)

/** Absolute path of a table shipped in the package's data/ folder. */
export function dataFilePath(name: string): string {
  return fileURLToPath(new URL(name, dataDir))
}

/** Reads a shipped table as text. */
export function readDataFile(name: string): string {
  return readFileSync(dataFilePath(name), 'utf8')
}
