#!/usr/bin/env node
// Installs wattprint as users get it, in fresh folders, and checks that it works there:
//   1. `npm pack` (the manifest packed carries no install-time script, and package.json is left as it
//      was), then the tarball installed into a fresh app (npm says nothing about a wattprint script): import it, start and stop a tracker, run
//      `npx wattprint` (--version, and `run` writing a CSV); and into a CommonJS app as `npm init -y` makes
//      one, which require()s it (Node 20.19 and later load an ES module through require());
//   2. the published types compiled by a consumer under TypeScript 5.9, 6 and 7, with and without
//      `"types": ["node"]`, with the default `lib` and with `lib: ["esnext"]`;
//   3. a git install (`npm install git+file://…` of a clone of HEAD), which has no dist/ until `prepare`
//      builds it.
// Exits 1 on the first failure, naming the step. Needs the npm registry (for the app's dependencies).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { INSTALL_SCRIPTS } from './pack-manifest.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'wattprint-package-'))
const quiet = ['--no-audit', '--no-fund', '--loglevel=error']
let failed = false

function sh(command, args, cwd, env = {}) {
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

function step(name, fn) {
  const startMs = Date.now()
  process.stdout.write(`package: ${name} … `)
  try {
    const detail = fn()
    process.stdout.write(
      `ok (${((Date.now() - startMs) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}\n`,
    )
  } catch (error) {
    failed = true
    const output = [error.stdout, error.stderr].filter(Boolean).join('\n').trim()
    process.stdout.write(`FAILED\n${error.message}\n${output}\n`)
    throw error
  }
}

function freshApp(name, type = 'module') {
  const dir = join(work, name)
  mkdirSync(dir)
  // `npm init -y` writes no "type": such an app's .js files are CommonJS.
  const manifest =
    type === 'module' ? { name, private: true, type } : { name, private: true, version: '1.0.0' }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest))
  return dir
}

// A user's first script: start, stop, read the record and the CSV.
const USE = `
import { readFileSync } from 'node:fs'
import { EmissionsTracker } from 'wattprint'
const outputDir = process.argv[1]
const tracker = new EmissionsTracker({ projectName: 'package-check', outputDir, logLevel: 'error' })
await tracker.start()
const record = await tracker.stop()
const lines = readFileSync(outputDir + '/emissions.csv', 'utf8').trim().split('\\n')
if (!(record.energyKWh >= 0) || lines.length !== 2) throw new Error('bad record or CSV: ' + lines.length)
process.stdout.write(record.cpu.source + ' ' + record.energyKWh.toExponential(2) + ' kWh')
`

// The same first script, in CommonJS: require(), the main entry and a subpath.
const USE_REQUIRE = `
const { readFileSync } = require('node:fs')
const { EmissionsTracker } = require('wattprint')
const { wattprintExpress } = require('wattprint/express')
if (typeof wattprintExpress !== 'function') throw new Error('wattprint/express: ' + typeof wattprintExpress)
const outputDir = process.argv[2]
;(async () => {
  const tracker = new EmissionsTracker({ projectName: 'package-check-cjs', outputDir, logLevel: 'error' })
  await tracker.start()
  const record = await tracker.stop()
  const lines = readFileSync(outputDir + '/emissions.csv', 'utf8').trim().split('\\n')
  if (!(record.energyKWh >= 0) || lines.length !== 2) throw new Error('bad record or CSV: ' + lines.length)
  process.stdout.write(record.cpu.source + ' ' + record.energyKWh.toExponential(2) + ' kWh')
})()
`

// A CommonJS consumer of the types: TypeScript (5.8 on) follows require() of an ES module under nodenext.
const CONSUMER_CJS = `
import wattprint = require('wattprint')
const tracker = new wattprint.EmissionsTracker({ projectName: 'types-cjs' })
export const stopped: Promise<wattprint.EmissionsRecord> = tracker.stop()
`

function checkInstalled(app) {
  const out = join(app, 'out')
  const used = sh(process.execPath, ['--input-type=module', '-e', USE, out], app)
  const version = sh('npx', ['--no-install', 'wattprint', '--version'], app).trim()
  const runOut = join(app, 'run-out')
  sh(
    'npx',
    ['--no-install', 'wattprint', 'run', '--quiet', '-o', runOut, '--', process.execPath, '-e', ''],
    app,
  )
  const rows = readFileSync(join(runOut, 'emissions.csv'), 'utf8').trim().split('\n').length - 1
  if (rows !== 1) throw new Error(`wattprint run wrote ${rows} rows, expected 1`)
  return `import: ${used}; npx wattprint --version: ${version}; npx wattprint run: 1 row`
}

// Uses every kind of public type a consumer meets, and no Node global itself (so it compiles without
// @types/node): the library's own types must carry everything they need.
const CONSUMER = `
import { EmissionsTracker, type EmissionsRecord, type RequestRecord, type TrackerOptions, tfjsCallback, track } from 'wattprint'
import { wattprintExpress } from 'wattprint/express'
import { wattprintFastify } from 'wattprint/fastify'
import { measureLlamaSession } from 'wattprint/node-llama-cpp'
import { measureOnnxSession } from 'wattprint/onnxruntime'
import { measurePipeline } from 'wattprint/transformers'
import { tfjsCallback as tfjsFromSubpath } from 'wattprint/tfjs'
void measurePipeline
void tfjsFromSubpath
const options: TrackerOptions = { projectName: 'types', budget: { energyKWh: 1 } }
const tracker = new EmissionsTracker(options)
tracker.on('sample', (s) => s.energyKWh)
tracker.on('budget', (b) => b.limit)
const aborted: boolean = tracker.signal.aborted
const dispose: () => Promise<void> = () => tracker[Symbol.asyncDispose]()
const record: EmissionsRecord = await tracker.stop()
const kg: number = record.emissionsKg
const { result } = await track(async () => 42)
const callback = tfjsCallback(tracker, { epochs: 3 })
const span = tracker.request('generate', { weight: 2 })
span.firstToken()
const settled: Promise<RequestRecord> = span.end({ tokensIn: 3, tokensOut: 5 }).settled
const plugin = wattprintFastify(tracker, { energyHeader: true })
const middleware = wattprintExpress(tracker)
const onnx = measureOnnxSession(tracker, { run: async (feeds: Record<string, { dims: readonly number[] }>) => feeds })
const chat = measureLlamaSession(tracker, {
  prompt: async (text: string) => text,
  sequence: { tokenMeter: { getState: () => ({ usedInputTokens: 0, usedOutputTokens: 0 }) } },
})
export { aborted, callback, chat, dispose, kg, middleware, onnx, plugin, result, settled }
`

try {
  let tarball
  step('npm pack', () => {
    const manifestBefore = readFileSync(join(root, 'package.json'), 'utf8')
    const json = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work, ...quiet], root))
    if (readFileSync(join(root, 'package.json'), 'utf8') !== manifestBefore)
      throw new Error('npm pack left package.json changed')
    if (existsSync(join(root, 'package.json.prepack'))) throw new Error('npm pack left package.json.prepack')
    const files = json[0].files.map((f) => f.path)
    const integrations = ['fastify', 'express', 'onnxruntime', 'transformers', 'node-llama-cpp', 'tfjs']
    const entries = ['index', ...integrations].flatMap((n) => [`dist/${n}.js`, `dist/${n}.d.ts`])
    for (const needed of [...entries, 'dist/cli.js', 'dist/worker.js', 'LICENSE']) {
      if (!files.includes(needed)) throw new Error(`the tarball lacks ${needed}`)
    }
    const stray = files.filter((f) => /^(src|test|bench|scripts)\//.test(f))
    if (stray.length > 0) throw new Error(`the tarball holds ${stray.join(', ')}`)
    tarball = join(work, json[0].filename)
    return `${files.length} files, ${(json[0].size / 1024).toFixed(0)} kB`
  })

  const app = freshApp('app')
  step('install the tarball into a fresh app', () => {
    // npm 11 warns about each install-time script of what it installs: wattprint's tarball has none.
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', tarball], {
      cwd: app,
      encoding: 'utf8',
    })
    if (install.status !== 0) throw Object.assign(new Error('npm install failed'), install)
    const scripts = JSON.parse(
      readFileSync(join(app, 'node_modules', 'wattprint', 'package.json'), 'utf8'),
    ).scripts
    const atInstall = Object.keys(scripts ?? {}).filter((name) => INSTALL_SCRIPTS.includes(name))
    if (atInstall.length > 0) throw new Error(`the published package.json has ${atInstall.join(', ')}`)
    const warned = `${install.stdout}${install.stderr}`.split('\n').filter((l) => /wattprint@/.test(l))
    if (warned.length > 0) throw new Error(`npm warned about wattprint:\n${warned.join('\n')}`)
  })
  step('use it there', () => checkInstalled(app))

  const commonjs = freshApp('commonjs-app', 'commonjs')
  step('install the tarball into a CommonJS app (npm init -y)', () => {
    sh('npm', ['install', ...quiet, tarball], commonjs)
  })
  step('require() it there', () => {
    writeFileSync(join(commonjs, 'index.js'), USE_REQUIRE)
    return `require: ${sh(process.execPath, ['index.js', join(commonjs, 'out')], commonjs)}`
  })

  const consumer = freshApp('types')
  step('install TypeScript 5.9, 6 and 7 for the types check', () => {
    sh(
      'npm',
      [
        'install',
        ...quiet,
        tarball,
        'ts59@npm:typescript@~5.9',
        'ts6@npm:typescript@^6',
        'ts7@npm:typescript@^7',
        '@types/node@^20',
      ],
      consumer,
    )
  })
  writeFileSync(join(consumer, 'consumer.mts'), CONSUMER)
  writeFileSync(join(consumer, 'consumer.cts'), CONSUMER_CJS)
  for (const ts of ['ts59', 'ts6', 'ts7']) {
    for (const types of [undefined, ['node']]) {
      for (const lib of [undefined, ['esnext']]) {
        const label = `types compile: ${ts}, types ${types ? 'node' : 'unset'}, lib ${lib ?? 'default'}`
        step(label, () => {
          const compilerOptions = {
            strict: true,
            module: 'nodenext',
            target: 'es2022',
            noEmit: true,
            skipLibCheck: false,
            types,
            lib,
          }
          writeFileSync(
            join(consumer, 'tsconfig.json'),
            JSON.stringify({ compilerOptions, files: ['consumer.mts', 'consumer.cts'] }),
          )
          sh(process.execPath, [join(consumer, 'node_modules', ts, 'bin', 'tsc'), '-p', '.'], consumer)
        })
      }
    }
  }

  step('install from git (a clone of HEAD, built by prepare)', () => {
    const clone = join(work, 'clone')
    sh('git', ['clone', '--quiet', '--depth', '1', `file://${root}`, clone], work)
    const fromGit = freshApp('from-git')
    sh('npm', ['install', ...quiet, `git+file://${clone}`], fromGit)
    if (!existsSync(join(fromGit, 'node_modules', 'wattprint', 'dist', 'index.js'))) {
      throw new Error('the git install has no dist/index.js: prepare did not build')
    }
    const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no'], root).trim()
    return `${checkInstalled(fromGit)}${dirty ? ' (uncommitted changes were not part of it)' : ''}`
  })
} catch {
  // step() printed what failed.
} finally {
  rmSync(work, { recursive: true, force: true })
}
if (failed) process.exitCode = 1
else process.stdout.write('package: every check passed\n')
