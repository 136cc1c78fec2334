import { readFileSync } from 'node:fs'
import { packageRoot } from './package-root.js'

let version: string | undefined

/** wattprint's version, from its package.json. */
export function wattprintVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot()), 'utf8')) as {
        version?: string
      }
      version = pkg.version ?? 'unknown'
    } catch {
      version = 'unknown'
    }
  }
  return version
}
