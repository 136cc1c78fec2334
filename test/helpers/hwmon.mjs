// @ts-check
// A fake hwmon tree in a temporary directory, laid out like /sys/class/hwmon (hwmonN/name, energyN_input in
// µJ, powerN_average / powerN_input in µW, and a `device` link to a PCI device directory); shared by the
// tests and bench/.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * @typedef {object} ChipDef
 * @property {string} name Contents of its `name` file: `amdgpu`, `xe`, `i915`, `power_meter`, `k10temp` …
 * @property {number} [energyUj] Writes energy1_input.
 * @property {number} [averageUw] Writes power1_average.
 * @property {number} [inputUw] Writes power1_input.
 * @property {{ pci: string, productName?: string, uniqueId?: string, vramBytes?: number }} [device]
 */

/**
 * @typedef {object} HwmonTree
 * @property {string} root What to pass as hwmonRoot.
 * @property {(index: number, file: string) => string} path A file of chip `index` (hwmon<index>).
 * @property {(index: number, file: string, value: number) => void} set Writes an attribute atomically.
 * @property {() => void} cleanup
 */

/**
 * Builds the tree: chip i is hwmon<i>; a chip with a device gets `device` → devices/<pci>.
 * @param {readonly ChipDef[]} chips
 * @returns {HwmonTree}
 */
export function makeHwmonTree(chips) {
  const base = mkdtempSync(join(tmpdir(), 'wattprint-hwmon-'))
  const root = join(base, 'class', 'hwmon')
  mkdirSync(root, { recursive: true })
  /** @type {(index: number, file: string) => string} */
  const path = (index, file) => join(root, `hwmon${index}`, file)
  /** @type {(index: number, file: string, value: number) => void} */
  const set = (index, file, value) => {
    const target = path(index, file)
    writeFileSync(`${target}.tmp`, `${Math.floor(value)}\n`)
    renameSync(`${target}.tmp`, target)
  }
  chips.forEach((chip, i) => {
    mkdirSync(join(root, `hwmon${i}`))
    writeFileSync(path(i, 'name'), `${chip.name}\n`)
    if (chip.energyUj !== undefined) set(i, 'energy1_input', chip.energyUj)
    if (chip.averageUw !== undefined) set(i, 'power1_average', chip.averageUw)
    if (chip.inputUw !== undefined) set(i, 'power1_input', chip.inputUw)
    if (chip.device) {
      const dir = join(base, 'devices', chip.device.pci)
      mkdirSync(dir, { recursive: true })
      if (chip.device.productName) writeFileSync(join(dir, 'product_name'), `${chip.device.productName}\n`)
      if (chip.device.uniqueId) writeFileSync(join(dir, 'unique_id'), `${chip.device.uniqueId}\n`)
      if (chip.device.vramBytes !== undefined)
        writeFileSync(join(dir, 'mem_info_vram_total'), `${chip.device.vramBytes}\n`)
      symlinkSync(dir, path(i, 'device'))
    }
  })
  return { root, path, set, cleanup: () => rmSync(base, { recursive: true, force: true }) }
}
