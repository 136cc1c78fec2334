// @ts-check
// A fake powercap tree in a temporary directory, laid out like sysfs; shared by the tests and bench/.
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * @typedef {object} ZoneDef
 * @property {string} id Zone directory name: `intel-rapl:0`, `intel-rapl:0:2`, `intel-rapl-mmio:0`.
 * @property {string} name Contents of its `name` file.
 * @property {number} [energyUj]
 * @property {number | null} [rangeUj] Omitted: DEFAULT_RANGE_UJ. null: no max_energy_range_uj file.
 */

/**
 * @typedef {object} PowercapTree
 * @property {string} root What to pass as raplRoot (the flat class view, like /sys/class/powercap).
 * @property {(id: string) => string} zoneDir The real, nested directory of a zone.
 * @property {(id: string) => string} energyPath
 * @property {(id: string, uj: number) => void} setEnergy Sets a counter atomically (temporary file + rename).
 * @property {() => void} cleanup
 */

export const DEFAULT_RANGE_UJ = 262_143_328_850

/**
 * Builds the tree the way sysfs lays it out: real directories nested under devices/intel-rapl
 * (`intel-rapl:0/intel-rapl:0:0`), and a flat class/ directory of symlinks to every zone, subzones
 * included, as /sys/class/powercap has.
 * @param {readonly ZoneDef[]} zones
 * @returns {PowercapTree}
 */
export function makePowercapTree(zones) {
  const base = mkdtempSync(join(tmpdir(), 'wattprint-powercap-'))
  const classDir = join(base, 'class')
  mkdirSync(classDir, { recursive: true })
  /** @type {Map<string, string>} */
  const dirs = new Map()
  const sorted = [...zones].sort((a, b) => a.id.split(':').length - b.id.split(':').length)
  for (const zone of sorted) {
    const parts = zone.id.split(':')
    const control = parts[0] ?? 'intel-rapl'
    const parentId = parts.length > 2 ? parts.slice(0, -1).join(':') : null
    const parentDir = parentId ? dirs.get(parentId) : join(base, 'devices', control)
    if (!parentDir) throw new Error(`zone ${zone.id} needs its parent ${parentId} defined first`)
    const dir = join(parentDir, zone.id)
    mkdirSync(dir, { recursive: true })
    dirs.set(zone.id, dir)
    writeFileSync(join(dir, 'name'), `${zone.name}\n`)
    writeFileSync(join(dir, 'energy_uj'), `${zone.energyUj ?? 1000}\n`)
    if (zone.rangeUj !== null)
      writeFileSync(join(dir, 'max_energy_range_uj'), `${zone.rangeUj ?? DEFAULT_RANGE_UJ}\n`)
    writeFileSync(join(dir, 'enabled'), '1\n')
    symlinkSync(dir, join(classDir, zone.id))
  }
  for (const control of new Set(zones.map((z) => z.id.split(':')[0] ?? 'intel-rapl'))) {
    mkdirSync(join(base, 'devices', control), { recursive: true })
    symlinkSync(join(base, 'devices', control), join(classDir, control))
  }
  /** @param {string} id */
  const zoneDir = (id) => {
    const dir = dirs.get(id)
    if (!dir) throw new Error(`no zone ${id}`)
    return dir
  }
  return {
    root: classDir,
    zoneDir,
    energyPath: (id) => join(zoneDir(id), 'energy_uj'),
    setEnergy(id, uj) {
      const path = join(zoneDir(id), 'energy_uj')
      writeFileSync(`${path}.tmp`, `${Math.floor(uj)}\n`)
      renameSync(`${path}.tmp`, path)
    },
    cleanup() {
      try {
        chmodSync(base, 0o700)
      } catch {}
      rmSync(base, { recursive: true, force: true })
    },
  }
}

/**
 * Two packages with dram, core and uncore subzones, a psys zone and an MMIO copy of package-0.
 * @returns {PowercapTree}
 */
export function serverTree() {
  return makePowercapTree([
    { id: 'intel-rapl:0', name: 'package-0' },
    { id: 'intel-rapl:0:0', name: 'core' },
    { id: 'intel-rapl:0:1', name: 'uncore' },
    { id: 'intel-rapl:0:2', name: 'dram' },
    { id: 'intel-rapl:1', name: 'package-1' },
    { id: 'intel-rapl:1:0', name: 'core' },
    { id: 'intel-rapl:1:1', name: 'dram' },
    { id: 'intel-rapl:2', name: 'psys' },
    { id: 'intel-rapl-mmio:0', name: 'package-0' },
  ])
}
