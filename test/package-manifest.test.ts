import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

// The published package carries no script that runs at install (npm 11 warns about each), while a git
// install still builds dist/ through `prepare`: npm packs the manifest without them (prepack) and puts
// package.json back (postpack). `npm run test:package` checks the real tarball and npm's own output.

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare']
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A copy of this package's root: package.json and the script, which edits the package.json beside it. */
function packageCopy(): { dir: string; original: string; run: (command: string) => number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-manifest-'))
  dirs.push(dir)
  mkdirSync(join(dir, 'scripts'))
  copyFileSync(resolve('scripts/pack-manifest.mjs'), join(dir, 'scripts', 'pack-manifest.mjs'))
  copyFileSync(resolve('package.json'), join(dir, 'package.json'))
  const run = (command: string) =>
    spawnSync(process.execPath, [join(dir, 'scripts', 'pack-manifest.mjs'), command]).status
  return { dir, original: readFileSync(resolve('package.json'), 'utf8'), run }
}

describe('the manifest npm packs', () => {
  it('is built, then packed without install-time scripts, and package.json is put back as it was', () => {
    const { dir, original, run } = packageCopy()
    const pkg = JSON.parse(original) as { scripts: Record<string, string> }
    // This checkout builds for a git install, and npm runs the two around every pack and publish.
    expect(pkg.scripts.prepare).toBeDefined()
    expect(pkg.scripts.prepack).toBe('tsup --silent && node scripts/pack-manifest.mjs strip')
    expect(pkg.scripts.postpack).toBe('node scripts/pack-manifest.mjs restore')

    expect(run('strip')).toBe(0)
    const packed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg
    expect(Object.keys(packed.scripts).filter((s) => INSTALL_SCRIPTS.includes(s))).toEqual([])
    const { prepare: _, ...rest } = pkg.scripts
    expect(packed).toEqual({ ...pkg, scripts: rest })
    expect(run('restore')).toBe(0)
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(original)
    expect(existsSync(join(dir, 'package.json.prepack'))).toBe(false)
  })

  it('puts package.json back after a pack that failed before postpack', () => {
    const { dir, original, run } = packageCopy()
    expect(run('strip')).toBe(0)
    // npm stopped between the two: the next pack starts from the original, and loses nothing.
    expect(run('strip')).toBe(0)
    expect(run('restore')).toBe(0)
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(original)
    expect(run('bogus')).toBe(2)
  })
})
