#!/usr/bin/env node
// `node scripts/pack-manifest.mjs strip|restore`: npm's prepack and postpack.
//
// `prepare` builds dist/ when a git dependency (`npm install github:…`) is installed; a packed package
// carries dist/ and needs no build, and npm 11 warns about every install-time script of a package it
// installs. So the manifest in the tarball carries none: `strip` (prepack, after the build that prepare
// would have run) writes package.json without them, the original kept in package.json.prepack; `restore`
// (postpack) puts the original back. A pack that failed between the two leaves the copy: `strip` and
// `restore` put it back first.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The scripts npm runs when it installs a package (prepare: from git or a folder). */
export const INSTALL_SCRIPTS = [
  'preinstall',
  'install',
  'postinstall',
  'preprepare',
  'prepare',
  'postprepare',
]

const manifest = fileURLToPath(new URL('../package.json', import.meta.url))
const kept = `${manifest}.prepack`

function restore() {
  if (existsSync(kept)) renameSync(kept, manifest)
}

function strip() {
  restore()
  const text = readFileSync(manifest, 'utf8')
  const pkg = JSON.parse(text)
  const scripts = Object.fromEntries(
    Object.entries(pkg.scripts ?? {}).filter(([name]) => !INSTALL_SCRIPTS.includes(name)),
  )
  if (Object.keys(scripts).length === Object.keys(pkg.scripts ?? {}).length) return
  writeFileSync(kept, text)
  writeFileSync(manifest, `${JSON.stringify({ ...pkg, scripts }, null, 2)}\n`)
}

// Run, not imported (scripts/check-package.mjs reads INSTALL_SCRIPTS).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const command = process.argv[2]
  if (command === 'strip') strip()
  else if (command === 'restore') restore()
  else {
    process.stderr.write('usage: node scripts/pack-manifest.mjs strip|restore\n')
    process.exitCode = 2
  }
}
