import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describeError } from '../core/errors.js'
import type { Channel } from '../model/meter.js'
import { parseCounter, readSmallFile } from '../platform/sysfs.js'
import type { Meter } from './meter.js'

/** One powercap zone wattprint reads. */
export interface RaplZone {
  /** Zone directory name, e.g. `intel-rapl:0:2`. */
  readonly id: string
  /** Contents of its `name` file: `package-0`, `dram`, `psys`, `core` … */
  readonly name: string
  readonly energyPath: string
  /** `max_energy_range_uj`, or null when it could not be read (a decrease is then a reset). */
  readonly rangeUj: number | null
  /** `intel-rapl` (MSR) or `intel-rapl-mmio`. */
  readonly controlType: string
  /** The `name` of the package this zone is a sub-zone of, when it is one. */
  readonly parentName: string | null
}

/** Plain-data description of a RAPL meter, sent to the sampler worker. */
export interface RaplMeterSpec {
  readonly type: 'rapl'
  readonly id: string
  readonly component: 'cpu' | 'ram'
  readonly source: 'rapl' | 'rapl-psys' | 'rapl-dram'
  readonly zones: readonly {
    readonly name: string
    readonly energyPath: string
    readonly rangeUj: number | null
  }[]
}

/** What a powercap tree offers, and what was set aside and why. */
export interface RaplDiscovery {
  readonly root: string
  /** Package zones to sum for the CPU (or psys when no package exists). */
  readonly cpuZones: readonly RaplZone[]
  readonly cpuSource: 'rapl' | 'rapl-psys' | null
  readonly dramZones: readonly RaplZone[]
  /** Zones found but not counted, with the reason (sub-zones of a package, MMIO duplicates, psys …). */
  readonly skipped: readonly { readonly zone: RaplZone; readonly reason: string }[]
  /** Zones whose `energy_uj` could not be read, with the error code (EACCES …). */
  readonly unreadable: readonly { readonly zone: RaplZone; readonly error: string }[]
  /** Why no RAPL meter is possible, when none is. */
  readonly unavailableReason: string | null
}

/**
 * No RAPL zone draws this much (the largest server packages are rated near 500 W): a counter step that
 * implies more is a glitch or a wrong max_energy_range_uj, and is not counted as energy.
 */
export const RAPL_MAX_WATTS_PER_ZONE = 2000

const CONTROL_TYPE = /^intel-rapl(-mmio)?$/
const ZONE_DIR = /^(intel-rapl(?:-mmio)?):(\d+(?::\d+)*)$/
const PACKAGE_NAME = /^package-\d+(-die-\d+)?$/

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1').trim()
  } catch {
    return null
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort()
  } catch {
    return []
  }
}

/**
 * Collects every zone directory under `root`, whether laid out flat (as /sys/class/powercap lists them)
 * or nested (as under /sys/devices/virtual/powercap), each once (by real path). Only directories named
 * like powercap RAPL zones are entered, so sysfs's `device`/`subsystem` links cannot loop.
 */
function collectZoneDirs(root: string): Map<string, { dir: string; id: string; controlType: string }> {
  const found = new Map<string, { dir: string; id: string; controlType: string }>()
  const visit = (dir: string, depth: number): void => {
    if (depth > 4) return
    for (const entry of listDir(dir)) {
      const path = join(dir, entry)
      const zone = ZONE_DIR.exec(entry)
      if (zone && isDirectory(path)) {
        let real = path
        try {
          real = realpathSync(path)
        } catch {}
        if (!found.has(real)) found.set(real, { dir: path, id: entry, controlType: zone[1] ?? 'intel-rapl' })
        visit(path, depth + 1)
      } else if (CONTROL_TYPE.test(entry) && isDirectory(path)) {
        visit(path, depth + 1)
      }
    }
  }
  visit(root, 0)
  return found
}

/** Reads the range file; null when missing, unreadable or not a positive integer. */
function readRange(dir: string): number | null {
  const text = readText(join(dir, 'max_energy_range_uj'))
  const value = text === null ? Number.NaN : parseCounter(text)
  return Number.isFinite(value) && value > 0 ? value : null
}

/**
 * Finds the RAPL zones under a powercap root and decides what to count, following the no-double-count
 * rule: sum every package once; add DRAM separately; never add core/uncore (inside the package) or psys
 * (the whole platform, package included), and use psys only when no package zone exists; never count an
 * MMIO copy of a package the MSR interface already gives. Zones are known by their `name` file.
 */
export function discoverRapl(root: string): RaplDiscovery {
  const dirs = collectZoneDirs(root)
  if (dirs.size === 0) {
    return {
      root,
      cpuZones: [],
      cpuSource: null,
      dramZones: [],
      skipped: [],
      unreadable: [],
      unavailableReason: isDirectory(root)
        ? `no RAPL zones under ${root} (not an Intel/AMD CPU with the powercap driver, or a VM that hides it)`
        : `${root} does not exist (no powercap driver, or not Linux)`,
    }
  }

  const byId = new Map<string, { dir: string; name: string | null }>()
  for (const { dir, id } of dirs.values()) byId.set(id, { dir, name: readText(join(dir, 'name')) })

  const zones: RaplZone[] = []
  const skipped: { zone: RaplZone; reason: string }[] = []
  for (const { dir, id, controlType } of dirs.values()) {
    const name = byId.get(id)?.name ?? id
    const parts = id.split(':')
    const parentId = parts.length > 2 ? parts.slice(0, 2).join(':') : null
    const parentName = parentId ? (byId.get(parentId)?.name ?? null) : null
    zones.push({
      id,
      name,
      energyPath: join(dir, 'energy_uj'),
      rangeUj: readRange(dir),
      controlType,
      parentName,
    })
  }

  const msrPackageNames = new Set(
    zones.filter((z) => z.controlType === 'intel-rapl' && PACKAGE_NAME.test(z.name)).map((z) => z.name),
  )
  const packages: RaplZone[] = []
  const drams: RaplZone[] = []
  const psys: RaplZone[] = []
  const seenPackages = new Set<string>()
  for (const zone of zones) {
    if (PACKAGE_NAME.test(zone.name)) {
      const key = zone.name
      if (zone.controlType !== 'intel-rapl' && msrPackageNames.has(zone.name)) {
        skipped.push({ zone, reason: `MMIO copy of ${zone.name}, already counted through MSR` })
      } else if (seenPackages.has(key)) {
        skipped.push({ zone, reason: `second zone named ${zone.name}, counted once` })
      } else {
        seenPackages.add(key)
        packages.push(zone)
      }
    } else if (zone.name === 'dram') {
      if (zone.controlType !== 'intel-rapl') skipped.push({ zone, reason: 'MMIO copy of dram' })
      else drams.push(zone)
    } else if (zone.name === 'psys') {
      psys.push(zone)
    } else if (zone.name === 'core' || zone.name === 'uncore') {
      skipped.push({ zone, reason: `${zone.name} is inside its package's energy` })
    } else {
      skipped.push({ zone, reason: `unknown zone name '${zone.name}'` })
    }
  }

  let cpuZones: RaplZone[] = packages
  let cpuSource: 'rapl' | 'rapl-psys' | null = packages.length > 0 ? 'rapl' : null
  if (packages.length > 0) {
    for (const zone of psys) skipped.push({ zone, reason: 'psys includes the packages; never added to them' })
  } else if (psys.length > 0) {
    cpuZones = psys.slice(0, 1)
    cpuSource = 'rapl-psys'
    for (const zone of psys.slice(1)) skipped.push({ zone, reason: 'second psys zone' })
  }

  const unreadable: { zone: RaplZone; error: string }[] = []
  const probe = Buffer.allocUnsafe(32)
  for (const zone of [...cpuZones, ...drams]) {
    try {
      const value = parseCounter(readSmallFile(zone.energyPath, probe))
      if (!Number.isFinite(value)) unreadable.push({ zone, error: 'not a number' })
    } catch (error) {
      unreadable.push({ zone, error: (error as NodeJS.ErrnoException).code ?? describeError(error) })
    }
  }
  const cpuUnreadable = unreadable.some((u) => cpuZones.includes(u.zone))
  const dramUnreadable = unreadable.some((u) => drams.includes(u.zone))

  let unavailableReason: string | null = null
  if (cpuZones.length === 0) unavailableReason = `no package or psys zone under ${root}`
  else if (cpuUnreadable) {
    const codes = [...new Set(unreadable.map((u) => u.error))].join(', ')
    unavailableReason = `RAPL energy counters under ${root} are not readable (${codes})`
  }

  return {
    root,
    cpuZones: cpuUnreadable ? [] : cpuZones,
    cpuSource: cpuUnreadable ? null : cpuSource,
    dramZones: cpuUnreadable || dramUnreadable ? [] : drams,
    skipped,
    unreadable,
    unavailableReason,
  }
}

/** The exact commands that make RAPL readable without running the job as root. */
export function raplPermissionFix(root: string): string {
  const glob = `${root.replace(/\/$/, '')}/intel-rapl*/energy_uj`
  return [
    'Since Linux 5.10 (CVE-2020-8694) RAPL energy counters are readable by root only. To measure instead of',
    'estimate, make them readable (this also lets other local users observe power, the reason for the default):',
    `  until the next reboot:  sudo chmod a+r ${glob}`,
    `  at every boot:          echo 'z ${glob} 0444 root root -' | sudo tee /etc/tmpfiles.d/wattprint-rapl.conf`,
    `                          sudo systemd-tmpfiles --create /etc/tmpfiles.d/wattprint-rapl.conf`,
  ].join('\n')
}

/** Turns a discovery into meter specs: one for the CPU (packages or psys), one for DRAM when present. */
export function raplMeterSpecs(discovery: RaplDiscovery): {
  cpu: RaplMeterSpec | null
  ram: RaplMeterSpec | null
} {
  const zoneSpec = (zone: RaplZone) => ({
    name: zone.parentName && zone.name === 'dram' ? `${zone.parentName}/dram` : zone.name,
    energyPath: zone.energyPath,
    rangeUj: zone.rangeUj,
  })
  const cpu: RaplMeterSpec | null =
    discovery.cpuSource && discovery.cpuZones.length > 0
      ? {
          type: 'rapl',
          id: discovery.cpuSource === 'rapl' ? 'rapl-package' : 'rapl-psys',
          component: 'cpu',
          source: discovery.cpuSource,
          zones: discovery.cpuZones.map(zoneSpec),
        }
      : null
  const ram: RaplMeterSpec | null =
    discovery.dramZones.length > 0
      ? {
          type: 'rapl',
          id: 'rapl-dram',
          component: 'ram',
          source: 'rapl-dram',
          zones: discovery.dramZones.map(zoneSpec),
        }
      : null
  return { cpu, ram }
}

/** A counter meter over one or more RAPL zones (µJ counters, summed by the sampler). */
export class RaplMeter implements Meter {
  readonly id: string
  readonly component: 'cpu' | 'ram'
  readonly source: RaplMeterSpec['source']
  readonly method = 'measured' as const
  readonly channels: readonly Channel[]
  /** The last read's failure, when a zone could not be read. */
  lastError: string | undefined
  private readonly paths: readonly string[]
  private readonly buffer = Buffer.allocUnsafe(32)

  constructor(spec: RaplMeterSpec) {
    this.id = spec.id
    this.component = spec.component
    this.source = spec.source
    this.channels = spec.zones.map((z) => ({
      name: z.name,
      kind: 'counter',
      unitJ: 1e-6,
      rangeRaw: z.rangeUj,
      maxWatts: RAPL_MAX_WATTS_PER_ZONE,
    }))
    this.paths = spec.zones.map((z) => z.energyPath)
  }

  read(out: Float64Array): void {
    this.lastError = undefined
    for (let i = 0; i < this.paths.length; i++) {
      const path = this.paths[i] as string
      try {
        out[i] = parseCounter(readSmallFile(path, this.buffer))
        if (Number.isNaN(out[i])) this.lastError = `${path}: not a number`
      } catch (error) {
        out[i] = Number.NaN
        this.lastError = `${path}: ${describeError(error)}`
      }
    }
  }
}
