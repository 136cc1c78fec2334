import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { countMemoryModules, parseCpuInfo, readLinuxSystem } from '../src/platform/linux-system.js'
import { linuxSystemInfo } from '../src/platform/system.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A /proc + /sys pair in a temporary directory: `files` maps paths under the root to contents. */
function fixture(files: Record<string, string | Uint8Array>): { procRoot: string; sysRoot: string } {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-linux-'))
  dirs.push(root)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), content)
  }
  mkdirSync(join(root, 'proc'), { recursive: true })
  mkdirSync(join(root, 'sys/devices/system/cpu'), { recursive: true })
  return { procRoot: join(root, 'proc'), sysRoot: join(root, 'sys') }
}

/** /proc/cpuinfo of an x86 machine: `threads` logical CPUs spread over `sockets` packages. */
function x86CpuInfo(model: string, threads: number, sockets: number): string {
  return Array.from(
    { length: threads },
    (_, i) =>
      `processor\t: ${i}\nvendor_id\t: GenuineIntel\nmodel name\t: ${model}\n` +
      `physical id\t: ${i % sockets}\nflags\t\t: fpu vme hypervisor\n`,
  ).join('\n')
}

/** A packed SMBIOS structure: type, formatted area (after the 4-byte header) and strings. */
function structure(type: number, formatted: number[], strings: string[] = []): number[] {
  const header = [type, formatted.length + 4, 0x01, 0x00]
  const text = strings.length === 0 ? [0, 0] : [...Buffer.from(`${strings.join('\0')}\0\0`, 'latin1')]
  return [...header, ...formatted, ...text]
}

/** A type 17 memory device whose Size word (offset 0x0C) is `size`, with its locator strings. */
function memoryDevice(size: number): number[] {
  const formatted = new Array(0x28 - 4).fill(0)
  formatted[0x0c - 4] = size & 0xff
  formatted[0x0d - 4] = size >> 8
  formatted[0x10 - 4] = 1 // device locator: string 1
  return structure(17, formatted, ['DIMM A1', 'BANK 0'])
}

describe('parseCpuInfo', () => {
  it('reads the model, the logical CPUs and the physical packages of an x86 machine', () => {
    const model = 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz'
    expect(parseCpuInfo(x86CpuInfo(model, 8, 2))).toEqual({ model, logicalCpus: 8, physicalIds: 2 })
  })

  it('names an Arm core from its implementer and part, as lscpu does', () => {
    const entry = (i: number) =>
      `processor\t: ${i}\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n`
    expect(parseCpuInfo([0, 1, 2, 3].map(entry).join('\n'))).toEqual({
      model: 'Neoverse-N1',
      logicalCpus: 4,
      physicalIds: 0,
    })
  })

  it('says null for a model it cannot name', () => {
    expect(parseCpuInfo('processor\t: 0\nCPU implementer\t: 0x99\nCPU part\t: 0x001\n').model).toBeNull()
  })
})

describe('countMemoryModules', () => {
  it('counts populated memory devices and skips empty slots, unknown sizes and other structures', () => {
    const table = Uint8Array.from([
      ...structure(0, new Array(20).fill(0), ['Vendor BIOS', '1.0']),
      ...memoryDevice(16384), // 16 GB
      ...memoryDevice(0), // no module installed
      ...memoryDevice(0x7fff), // 32 GB or more, in Extended Size
      ...memoryDevice(0xffff), // unknown
      ...structure(16, new Array(19).fill(0)),
      ...memoryDevice(8192),
      ...structure(127, []),
      ...memoryDevice(8192), // after the end-of-table marker: not counted
    ])
    expect(countMemoryModules(table)).toBe(3)
  })

  it('stops at a truncated structure instead of reading past the table', () => {
    const whole = memoryDevice(4096)
    expect(countMemoryModules(Uint8Array.from([...whole, 17, 40, 0]))).toBe(1)
    expect(countMemoryModules(new Uint8Array(0))).toBe(0)
  })
})

describe('readLinuxSystem', () => {
  it('reads sockets from sysfs topology, and the modules from the SMBIOS table', () => {
    const roots = fixture({
      'proc/cpuinfo': x86CpuInfo('AMD EPYC 7763 64-Core Processor', 4, 1),
      // The topology says 2 packages though cpuinfo's physical ids say 1: sysfs wins, as for lscpu.
      'sys/devices/system/cpu/cpu0/topology/physical_package_id': '0\n',
      'sys/devices/system/cpu/cpu1/topology/physical_package_id': '0\n',
      'sys/devices/system/cpu/cpu2/topology/physical_package_id': '1\n',
      'sys/devices/system/cpu/cpu3/topology/physical_package_id': '1\n',
      'sys/devices/system/cpu/cpufreq/policy0': '',
      'sys/firmware/dmi/tables/DMI': Uint8Array.from([
        ...memoryDevice(32768),
        ...memoryDevice(32768),
        ...structure(127, []),
      ]),
    })
    expect(readLinuxSystem(roots)).toEqual({
      cpu: { model: 'AMD EPYC 7763 64-Core Processor', logicalCpus: 4, physicalIds: 1 },
      sockets: 2,
      memoryModules: 2,
      problems: [],
    })
    const info = linuxSystemInfo(roots)
    expect(info).toMatchObject({ cpuModel: 'AMD EPYC 7763 64-Core Processor', cpuCount: 4, sockets: 2 })
    expect(info.memoryModules).toBe(2)
  })

  it("falls back to cpuinfo's physical ids without a topology, and says null for an unreadable SMBIOS table", () => {
    const roots = fixture({
      'proc/cpuinfo': x86CpuInfo('Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz', 6, 3),
      'sys/firmware/dmi/tables/DMI': Uint8Array.from(memoryDevice(8192)),
    })
    // Unreadable as for a user other than root (the real file is mode 0400): root reads it regardless.
    chmodSync(join(roots.sysRoot, 'firmware/dmi/tables/DMI'), 0)
    const facts = readLinuxSystem(roots)
    expect(facts.sockets).toBe(3)
    if (process.getuid?.() !== 0) expect(facts.memoryModules).toBeNull()
    expect(facts.problems).toEqual([])
  })

  it('never throws: a missing /proc and /sys give nulls, the reasons, and os.* figures', () => {
    const missing = { procRoot: '/nonexistent/proc', sysRoot: '/nonexistent/sys' }
    const facts = readLinuxSystem(missing)
    expect(facts).toMatchObject({ cpu: null, sockets: null, memoryModules: null })
    expect(facts.problems.join('\n')).toMatch(/nonexistent\/proc\/cpuinfo: .*ENOENT/)
    const info = linuxSystemInfo(missing)
    expect(info.sockets).toBe(1)
    expect(info.cpuCount).toBeGreaterThan(0)
    expect(info.memoryModules).toBeNull()
  })
})
