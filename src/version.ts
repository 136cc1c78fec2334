import { readFileSync } from 'node:fs'

let version: string | undefined

/** wattprint's version, from its package.json (one level above both src/ and dist/). */
export function wattprintVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
        version?: string
      }
      version = pkg.version ?? 'unknown'
    } catch {
      version = 'unknown'
    }
  }
  return version
}
