import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

// `npm init -y` makes a CommonJS app: it must be able to require() the package (Node 20.19 and later load
// an ES module through require()). Here the app's node_modules/wattprint is this checkout, built; `npm run
// test:package` does the same with the packed tarball installed.

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const APP = `
const { readFileSync } = require('node:fs')
const { EmissionsTracker, formatEnergy } = require('wattprint')
const { wattprintFastify } = require('wattprint/fastify')
const { measureOnnxSession } = require('wattprint/onnxruntime')
if (typeof wattprintFastify !== 'function' || typeof measureOnnxSession !== 'function') throw new Error('subpaths')
const outputDir = process.argv[2]
;(async () => {
  const tracker = new EmissionsTracker({ projectName: 'commonjs', outputDir, logLevel: 'error', raplRoot: '/nonexistent' })
  await tracker.start()
  const record = await tracker.stop()
  const lines = readFileSync(outputDir + '/emissions.csv', 'utf8').trim().split('\\n')
  process.stdout.write(lines.length + ' ' + record.cpu.source + ' ' + formatEnergy(record.energyKWh))
})()
`

describe('the package in a CommonJS app', () => {
  it('is require()d, the main entry and the subpaths, and measures a run', () => {
    const app = mkdtempSync(join(tmpdir(), 'wattprint-cjs-'))
    dirs.push(app)
    // As `npm init -y` writes it: no "type", so .js files are CommonJS.
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', main: 'index.js' }),
    )
    mkdirSync(join(app, 'node_modules'))
    symlinkSync(resolve('.'), join(app, 'node_modules', 'wattprint'), 'dir')
    writeFileSync(join(app, 'index.js'), APP)
    const run = spawnSync(process.execPath, ['index.js', join(app, 'out')], {
      cwd: app,
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^2 cpu-model [\d.]+ J$/)
    expect(readFileSync(join(app, 'out', 'emissions.csv'), 'utf8')).toContain(',commonjs,')
  })
})
