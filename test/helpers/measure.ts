import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TrackerOptions } from '../../src/config/options.js'
import type { TrackerWarning } from '../../src/core/warnings.js'
import type { EmissionsRecord } from '../../src/model/record.js'
import { EmissionsTracker } from '../../src/tracker/tracker.js'
import { readCsv } from './csv.js'
import { expectSaneNumbers } from './sane.js'

/** Cleanups a test file runs after each test (register them with `cleanups.push`). */
export const cleanups: (() => void | Promise<void>)[] = []

/** Runs and empties the cleanups; call from afterEach. */
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
}

/** A temporary directory removed after the test. */
export function tempDir(prefix = 'wattprint-accel-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
export const joules = (kWh: number) => kWh * 3.6e6

/**
 * Runs a tracker for `ms` measuring nothing but what `options` points at (no powercap tree, no NVIDIA, an
 * empty hwmon tree unless given); returns its record, warnings and CSV row.
 */
export async function measure(
  options: TrackerOptions,
  ms: number,
  /** Runs after start(), before the wait: a test's doings while the tracker measures. */
  during?: () => Promise<void>,
) {
  const dir = tempDir()
  mkdirSync(join(dir, 'no-hwmon'))
  const tracker = new EmissionsTracker({
    outputDir: dir,
    logLevel: 'silent',
    carbonIntensityGPerKWh: 100,
    intervalMs: 50,
    ramPowerW: 0,
    raplRoot: join(dir, 'no-powercap'),
    nvidiaSmiPath: join(dir, 'no-nvidia-smi'),
    nvmlLibraryPath: join(dir, 'no-libnvidia-ml.so'),
    amdSmiLibraryPath: join(dir, 'no-libamd_smi.so'),
    rocmSmiLibraryPath: join(dir, 'no-librocm_smi64.so'),
    levelZeroLibraryPath: join(dir, 'no-libze_loader.so'),
    hwmonRoot: join(dir, 'no-hwmon'),
    ...options,
  })
  const warnings: TrackerWarning[] = []
  tracker.on('warning', (w) => warnings.push(w))
  await tracker.start()
  await during?.()
  await sleep(ms)
  const record = await tracker.stop()
  const [row] = readCsv(join(dir, 'emissions.csv'))
  expectSaneNumbers(record, 'record')
  expectSaneNumbers(row)
  return { record, warnings, row: row ?? {}, dir }
}

/** Joules of one channel of one meter of a record. */
export const channelJ = (record: EmissionsRecord, meterId: string, channel: string) =>
  joules(
    record.meters.find((m) => m.id === meterId)?.channels.find((c) => c.name === channel)?.energyKWh ??
      Number.NaN,
  )
