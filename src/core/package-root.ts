import { readFileSync } from 'node:fs'

// Bundled, every module is a file of dist/, one level below the package's root; run from the source
// (tests, scripts), a module is in src/<room>/, two levels below it. The root is the first of these that
// holds wattprint's package.json.
const CANDIDATES = ['../', '../../']

let root: URL | undefined

/** The package's root folder (where package.json and data/ are), as a file URL ending in a slash. */
export function packageRoot(): URL {
  if (root === undefined) {
    root = new URL(CANDIDATES[0] ?? '../', import.meta.url)
    for (const candidate of CANDIDATES) {
      const url = new URL(candidate, import.meta.url)
      try {
        const pkg = JSON.parse(readFileSync(new URL('package.json', url), 'utf8')) as { name?: unknown }
        if (pkg.name === 'wattprint') {
          root = url
          break
        }
      } catch {
        // Not here: try the next level up.
      }
    }
  }
  return root
}
