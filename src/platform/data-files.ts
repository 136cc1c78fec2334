import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { packageRoot } from '../core/package-root.js'

/** Absolute path of a table shipped in the package's data/ folder. */
export function dataFilePath(name: string): string {
  return fileURLToPath(new URL(`data/${name}`, packageRoot()))
}

/** Reads a shipped table as text. */
export function readDataFile(name: string): string {
  return readFileSync(dataFilePath(name), 'utf8')
}
