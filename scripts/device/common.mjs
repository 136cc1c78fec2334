// Helpers shared by the device check's steps (scripts/device-check.sh runs them with the bundled node).
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const here = dirname(fileURLToPath(import.meta.url))
export const python = process.env.DEVICE_CHECK_PYTHON || 'python3'
/** The load's command line, before its own arguments (a fake one in the dry run: no GPU, no torch). */
export const loadCommand = (process.env.DEVICE_CHECK_LOAD || `${python} ${join(here, 'load.py')}`).split(' ')
/** CLOCK_MONOTONIC in seconds, the clock Python's time.monotonic() reads. */
export const monoS = () => Number(process.hrtime.bigint()) / 1e9
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const seconds = (name, fallback) => Number(process.env[name] || fallback)
export const joules = (kWh) => kWh * 3.6e6
export const log = (...parts) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...parts)

export function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`)
}

/**
 * Starts a child and resolves each `LOAD <word>`/`READER <word>` line it prints on stderr to `on(word, rest)`;
 * everything it prints is kept. `exited` resolves with its exit code or signal.
 */
export function start(command, args, { on = () => {}, env } = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env })
  const output = { stdout: '', stderr: '' }
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    output.stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    output.stderr += chunk
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const match = /^(?:LOAD|READER) (\S+) ?(.*)$/.exec(line)
      if (match) on(match[1], match[2] ?? '')
    }
  })
  const exited = new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: null, error: String(error) }))
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, output, exited }
}

/**
 * Resolves with the first line of one of `words` not yet taken (lines that came before the call count too),
 * or rejects after `ms` or when the child exits first.
 */
export function waitFor(started, words, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${words} within ${ms / 1000} s`)), ms)
    started.waiting = () => {
      const index = started.lines.findIndex((line, i) => i >= started.taken && words.includes(line.word))
      if (index === -1) return
      started.taken = index + 1
      started.waiting = undefined
      clearTimeout(timer)
      resolve(started.lines[index])
    }
    started.waiting()
    started.exited.then((status) => {
      clearTimeout(timer)
      reject(
        new Error(`exited (${JSON.stringify(status)}) before ${words}: ${started.output.stderr.slice(-400)}`),
      )
    })
  })
}

/** start() whose LOAD/READER lines are kept, to be awaited in order with waitFor(). */
export function startWatched(command, args, options = {}) {
  const started = start(command, args, {
    ...options,
    on: (word, rest) => {
      started.lines.push({ word, rest })
      started.waiting?.()
    },
  })
  started.lines = []
  started.taken = 0
  return started
}

/** The independent reader (nvml_reader.py) over `seconds`, ready once it has opened NVML. */
export async function startReader(prefix, seconds, procs = false) {
  const args = [join(here, 'nvml_reader.py'), '--out', prefix, '--seconds', String(seconds)]
  if (procs) args.push('--procs')
  const reader = startWatched(python, args)
  await waitFor(reader, ['ready'], 30_000)
  return {
    async stop() {
      reader.child.kill('SIGTERM')
      await reader.exited
      return reader.output.stderr
    },
  }
}

/** The reader's trace: its counter rows and its power rows, in CLOCK_MONOTONIC seconds. */
export function readTrace(prefix) {
  const rows = readFileSync(`${prefix}.csv`, 'utf8').trim().split('\n').slice(1)
  const energy = []
  const power = []
  for (const row of rows) {
    const [t, mJ, mW] = row.split(',')
    energy.push({ t: Number(t), mJ: Number(mJ) })
    if (mW !== '' && mW !== undefined) power.push({ t: Number(t), W: Number(mW) / 1000 })
  }
  return { energy, power }
}

/**
 * The counter at time t (mJ): the last value read at or before t. A counter holds its value between
 * updates, so this is what any reader would have read at t.
 */
export function counterAt(energy, t) {
  let value = Number.NaN
  for (const row of energy) {
    if (row.t > t) break
    value = row.mJ
  }
  return value
}

/** The energy of the trace's power rows over [from, to], J (trapezoid rule, clipped to the window). */
export function powerIntegralJ(power, from, to) {
  let joules = 0
  for (let i = 1; i < power.length; i++) {
    const a = power[i - 1]
    const b = power[i]
    const start = Math.max(a.t, from)
    const end = Math.min(b.t, to)
    if (end <= start) continue
    const at = (t) => a.W + ((b.W - a.W) * (t - a.t)) / (b.t - a.t)
    joules += ((at(start) + at(end)) / 2) * (end - start)
  }
  return joules
}

/** The times between the counter's changes inside [from, to], ms: median, p10, p90, count. */
export function counterPeriods(energy, from, to) {
  const changes = []
  for (let i = 1; i < energy.length; i++) {
    const row = energy[i]
    if (row.t >= from && row.t <= to && row.mJ !== energy[i - 1].mJ) changes.push(row.t)
  }
  const gaps = changes
    .slice(1)
    .map((t, i) => (t - changes[i]) * 1000)
    .sort((a, b) => a - b)
  const at = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? null
  const ms = (q) => (at(q) === null ? null : Math.round(at(q) * 10) / 10)
  return { medianMs: ms(0.5), p10Ms: ms(0.1), p90Ms: ms(0.9), changes: changes.length }
}

/** (a / b − 1) in %, rounded to 0.01. */
export const percentOff = (a, b) => Math.round((a / b - 1) * 10_000) / 100
