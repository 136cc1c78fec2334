import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { describeError } from '../core/errors.js'
import type { Channel } from '../model/meter.js'
import type { GpuIdentity } from '../platform/gpu-identity.js'
import type { Meter } from './meter.js'

/** A GPU as nvidia-smi lists it. */
export interface SmiDevice extends GpuIdentity {
  readonly name: string
}

/** A GPU as the probe found it, with what it read then. */
export interface ProbedDevice extends SmiDevice {
  readonly watts: number
  readonly utilizationPercent: number
  readonly atMs: number
}

/** What the probe found: the GPUs, and the power field this driver knows. */
export interface SmiProbe {
  readonly devices: readonly ProbedDevice[]
  /** `power.draw.instant` on newer drivers; `power.draw` (1 s average on Ampere and newer) otherwise. */
  readonly field: 'power.draw.instant' | 'power.draw'
}

const FORMAT = '--format=csv,noheader,nounits'
const PROBE_TIMEOUT_MS = 10_000
/** Restarts after the child dies: 1 s, 2 s, 4 s, 8 s, 16 s, then give up. */
const MAX_RESTARTS = 5

/** The query: the name may hold commas, so it sits between the fixed fields and is parsed as the rest. */
const fields = (power: SmiProbe['field']) => `--query-gpu=index,uuid,name,utilization.gpu,${power}`

/** A numeric cell; bracketed values ([N/A], [Not Supported], [GPU is lost] …) are unknown, never 0. */
const figure = (cell: string | undefined): number => {
  if (cell === undefined || cell === '' || /^\[.*\]$/.test(cell)) return Number.NaN
  const value = Number(cell)
  return Number.isFinite(value) && value >= 0 ? value : Number.NaN
}

/** One CSV line of `index, uuid, name, utilization, power` → its cells. */
export function parseSmiLine(
  line: string,
): { index: number; uuid: string; name: string; utilizationPercent: number; watts: number } | null {
  const cells = line.split(',').map((cell) => cell.trim())
  if (cells.length < 5) return null
  const index = Number(cells[0])
  const uuid = cells[1] ?? ''
  if (!Number.isInteger(index) || uuid === '') return null
  return {
    index,
    uuid,
    name: cells.slice(2, -2).join(', '),
    utilizationPercent: figure(cells[cells.length - 2]),
    watts: figure(cells[cells.length - 1]),
  }
}

/**
 * Asks nvidia-smi once which GPUs there are, and whether it knows `power.draw.instant` (older drivers
 * refuse the whole query with "is not a valid field to query"). The reason when it cannot run.
 */
export function probeNvidiaSmi(path: string): SmiProbe | { readonly reason: string } {
  // Most machines have no nvidia-smi: look for it as a file rather than start a process to learn that.
  if (process.platform !== 'win32' && !findExecutable(path)) return { reason: notFound(path) }
  let lastReason = ''
  for (const field of ['power.draw.instant', 'power.draw'] as const) {
    const run = spawnSync(path, [fields(field), FORMAT], {
      encoding: 'utf8',
      timeout: PROBE_TIMEOUT_MS,
      windowsHide: true,
    })
    if (run.error) {
      const code = (run.error as NodeJS.ErrnoException).code
      return {
        reason: code === 'ENOENT' ? notFound(path) : `${path} could not run: ${describeError(run.error)}`,
      }
    }
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim()
    if (run.status !== 0) {
      lastReason = `${path} failed (exit ${run.status ?? run.signal}): ${output.split('\n')[0] ?? ''}`
      if (/not a valid field/i.test(output)) continue
      return { reason: lastReason }
    }
    const atMs = Date.now()
    const devices = (run.stdout ?? '')
      .split('\n')
      .map(parseSmiLine)
      .filter((d): d is NonNullable<typeof d> => d !== null)
      .map((d) => ({ ...d, atMs }))
    if (devices.length === 0) return { reason: `${path} lists no GPU: ${output.split('\n')[0] ?? ''}` }
    return { devices, field }
  }
  return { reason: lastReason }
}

const notFound = (path: string) => `${path} not found (set nvidiaSmiPath or WATTPRINT_NVIDIA_SMI)`

/** Whether `command` names an executable file: as a path when it holds a slash, else on $PATH, as execvp looks. */
function findExecutable(command: string): boolean {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir || '.', command))
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/**
 * GPU power from one long-lived `nvidia-smi --query-gpu=… -lms <interval>` child, read line by line: never
 * a process per sample. Each read gives the latest watts per GPU (NaN when stale or bracketed). A child
 * that dies or stops printing is restarted with backoff, and given up on after repeated failures; it is
 * killed when the meter closes or its thread exits, and dies of SIGPIPE at its next line if the host is
 * killed outright.
 */
export class NvidiaSmiMeter implements Meter {
  /** Its readings are a child process's output, which arrives through the event loop. */
  readonly needsEventLoop = true
  readonly id = 'nvidia-smi'
  readonly component = 'gpu' as const
  readonly source = 'nvidia-smi' as const
  readonly method = 'measured' as const
  readonly channels: readonly Channel[]
  lastError: string | undefined
  readonly #latest = new Map<number, { watts: number; utilizationPercent: number; atMs: number }>()
  readonly #staleMs: number
  #child: ChildProcess | undefined
  #restarts = 0
  #gaveUp = false
  #closed = false
  #lastLineMs = 0
  #timer: NodeJS.Timeout | undefined
  readonly #onExit = () => this.close()
  /** What went wrong with the child, for the next read that finds no fresh figure. */
  #problem: string | undefined

  constructor(
    private readonly path: string,
    private readonly probe: SmiProbe,
    private readonly devices: readonly SmiDevice[],
    private readonly intervalMs: number,
  ) {
    // power.draw.instant is integrated as instant readings; power.draw is a 1 s average on recent GPUs
    // and instantaneous on older ones: read often, either integrates well with the trapezoid rule.
    this.channels = devices.map((d): Channel => ({ name: `gpu${d.index}`, kind: 'power', mode: 'instant' }))
    this.#staleMs = Math.max(3 * intervalMs, 2000)
    // The probe's reading stands until the stream's first line: the baseline is not blind.
    for (const d of probe.devices) {
      this.#latest.set(d.index, { watts: d.watts, utilizationPercent: d.utilizationPercent, atMs: d.atMs })
    }
    process.once('exit', this.#onExit)
    this.#spawn()
    // A child that prints nothing for a while hangs: kill it, and the exit handler restarts it.
    this.#timer = setInterval(
      () => {
        if (this.#child && Date.now() - this.#lastLineMs > Math.max(5 * this.intervalMs, 5000)) {
          this.#problem = `nvidia-smi printed nothing for ${Math.round((Date.now() - this.#lastLineMs) / 1000)} s: restarting it`
          this.#child.kill('SIGKILL')
        }
      },
      Math.max(this.intervalMs, 1000),
    )
    this.#timer.unref()
  }

  read(out: Float64Array): void {
    const now = Date.now()
    let stale = false
    let unknown = false
    this.devices.forEach((device, i) => {
      const latest = this.#latest.get(device.index)
      const fresh = latest !== undefined && now - latest.atMs <= this.#staleMs
      out[i] = fresh ? latest.watts : Number.NaN
      if (!fresh) stale = true
      else if (Number.isNaN(latest.watts)) unknown = true
    })
    this.lastError = stale
      ? (this.#problem ?? 'no fresh line from nvidia-smi')
      : unknown
        ? 'nvidia-smi reports the power of some GPU as unknown ([N/A] or an error)'
        : undefined
  }

  /** Mean `utilization.gpu` of the fresh lines, %, NaN when none says. */
  utilizationPercent(): number {
    const now = Date.now()
    let sum = 0
    let count = 0
    for (const device of this.devices) {
      const latest = this.#latest.get(device.index)
      if (!latest || now - latest.atMs > this.#staleMs || Number.isNaN(latest.utilizationPercent)) continue
      sum += latest.utilizationPercent
      count += 1
    }
    return count > 0 ? sum / count : Number.NaN
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    process.off('exit', this.#onExit)
    this.#child?.kill('SIGKILL')
    this.#child = undefined
  }

  #spawn(): void {
    if (this.#closed) return
    const child = spawn(
      this.path,
      [fields(this.probe.field), FORMAT, '-lms', String(Math.max(10, this.intervalMs))],
      { stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true },
    )
    this.#child = child
    this.#lastLineMs = Date.now()
    let pending = ''
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      const now = Date.now()
      for (const line of lines) {
        const parsed = parseSmiLine(line)
        if (!parsed) continue
        this.#lastLineMs = now
        this.#restarts = 0
        this.#problem = undefined
        this.#latest.set(parsed.index, {
          watts: parsed.watts,
          utilizationPercent: parsed.utilizationPercent,
          atMs: now,
        })
      }
    })
    child.on('error', (error) => {
      this.#problem = `nvidia-smi: ${describeError(error)}`
    })
    child.on('exit', (code, signal) => {
      if (this.#closed || this.#child !== child) return
      this.#child = undefined
      // Whatever it printed last no longer describes the GPUs: unknown until the next child prints.
      this.#latest.clear()
      this.#restarts += 1
      if (this.#restarts > MAX_RESTARTS) {
        this.#gaveUp = true
        this.#problem = `nvidia-smi exited ${MAX_RESTARTS + 1} times in a row (last: ${code ?? signal}): GPU power is no longer read`
        return
      }
      const delayMs = 1000 * 2 ** (this.#restarts - 1)
      this.#problem = `nvidia-smi exited (${code ?? signal}); restarting it in ${delayMs / 1000} s`
      setTimeout(() => this.#spawn(), delayMs).unref()
    })
    // Neither the child nor its pipe may keep the host alive.
    child.unref()
    ;(child.stdout as { unref?: () => void } | null)?.unref?.()
  }

  /** Whether the meter stopped restarting nvidia-smi. */
  get gaveUp(): boolean {
    return this.#gaveUp
  }
}
