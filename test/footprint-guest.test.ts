import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readHostHardware } from '../src/footprint/hardware.js'
import type { FootprintConfig } from '../src/footprint/options.js'
import { withFootprint } from '../src/footprint/record.js'
import type { EmissionsRecord } from '../src/record.js'
import { sampleRecord } from './helpers/records.js'

// A virtual disk is no drive, and the footprint reads /sys where sysRoot says. Every fact is read from
// stand-in /proc and /sys trees.

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Two hours over a 4-year life of 365.25 days: 7,200 / 126,230,400 = 1 / 17,532. */
const TWO_HOURS_OF_LIFE = 1 / 17_532

interface Machine {
  /** Logical CPUs in /proc/cpuinfo. */
  cpus: number
  hypervisor: boolean
  /** DMI files under /sys/class/dmi/id. */
  dmi?: Record<string, string>
  /** Block devices: name → rotational flag, and the files under its `device/` folder. */
  block?: Record<string, { rotational: string; device?: Record<string, string> }>
  /** cgroup v2 files of this process's cgroup. */
  cgroup?: Record<string, string>
}

/** Stand-in /proc and /sys trees for a machine. */
function machine(m: Machine): { procRoot: string; sysRoot: string } {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-guest-footprint-'))
  dirs.push(root)
  const procRoot = join(root, 'proc')
  const sysRoot = join(root, 'sys')
  const write = (path: string, text: string) => {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, text)
  }
  const flags = `fpu vme de pse tsc msr pae${m.hypervisor ? ' hypervisor' : ''} lahf_lm`
  const cpuinfo = Array.from(
    { length: m.cpus },
    (_, i) => `processor\t: ${i}\nmodel name\t: Test CPU\nphysical id\t: 0\nflags\t\t: ${flags}\n`,
  )
  write(join(procRoot, 'cpuinfo'), `${cpuinfo.join('\n')}\n`)
  const cgroupRoot = join(sysRoot, 'fs/cgroup')
  write(join(procRoot, 'self/mountinfo'), `41 31 0:38 / ${cgroupRoot} rw,nosuid - cgroup2 cgroup2 rw\n`)
  write(join(procRoot, 'self/cgroup'), '0::/job\n')
  mkdirSync(join(cgroupRoot, 'job'), { recursive: true })
  for (const [file, text] of Object.entries(m.cgroup ?? {})) write(join(cgroupRoot, 'job', file), `${text}\n`)
  for (const [file, text] of Object.entries(m.dmi ?? {}))
    write(join(sysRoot, 'class/dmi/id', file), `${text}\n`)
  mkdirSync(join(sysRoot, 'block'), { recursive: true })
  for (const [name, disk] of Object.entries(m.block ?? {})) {
    write(join(sysRoot, 'block', name, 'size'), '209715200\n')
    write(join(sysRoot, 'block', name, 'queue/rotational'), `${disk.rotational}\n`)
    for (const [file, text] of Object.entries(disk.device ?? {}))
      write(join(sysRoot, 'block', name, 'device', file), `${text}\n`)
  }
  return { procRoot, sysRoot }
}

const config = (roots: { procRoot: string; sysRoot: string }, over: Partial<FootprintConfig> = {}) =>
  ({
    embodied: null,
    cloudInstanceType: null,
    wue: null,
    waterIntensity: null,
    functionalUnit: null,
    ...roots,
    ...over,
  }) as FootprintConfig

/** A 2 h run off any known cloud, the whole machine's (no attribution). */
const run = (over: Partial<EmissionsRecord>): EmissionsRecord =>
  sampleRecord({
    durationS: 7200,
    cloudProvider: null,
    cloudRegion: null,
    onCloud: false,
    gpuCount: null,
    gpuModel: null,
    trackingMode: 'machine',
    notes: [],
    ...over,
  })

const footprint = (c: FootprintConfig, record: EmissionsRecord, sockets = 1, type: string | null = null) =>
  withFootprint(c, {}, record, { sockets }, type)

describe('virtual disks', () => {
  it('are told from drives by name and maker, whatever their rotational flag says, and never counted', () => {
    const { sysRoot } = machine({
      cpus: 1,
      hypervisor: false,
      block: {
        vda: { rotational: '1', device: { vendor: '0x1af4' } },
        xvdb: { rotational: '1' },
        sda: { rotational: '1', device: { vendor: 'QEMU', model: 'QEMU HARDDISK' } },
        sdb: { rotational: '1', device: { vendor: 'Msft', model: 'Virtual Disk' } },
        sdc: { rotational: '0', device: { vendor: 'Google', model: 'PersistentDisk' } },
        sdd: { rotational: '1', device: { vendor: 'VMware', model: 'Virtual disk' } },
        nvme0n1: { rotational: '0', device: { model: 'Amazon Elastic Block Store' } },
        // A drive of the machine's own: a disk on a SATA port, and an NVMe SSD.
        sde: { rotational: '1', device: { vendor: 'ATA', model: 'ST4000NM0035-1V4' } },
        nvme1n1: { rotational: '0', device: { model: 'SAMSUNG MZQL23T8HCLS-00A07' } },
      },
    })
    expect(readHostHardware({ sysRoot })).toEqual({
      server: null,
      chassisType: null,
      drives: { ssd: 1, hdd: 1 },
      virtualDisks: [
        'nvme0n1 (Amazon)',
        'sda (QEMU)',
        'sdb (Hyper-V)',
        'sdc (Google)',
        'sdd (VMware)',
        'vda (virtio)',
        'xvdb (Xen)',
      ],
    })
  })
})

describe('bare metal', () => {
  it('stays the whole server, its drives counted, when no hypervisor, firmware or limit says otherwise', () => {
    const roots = machine({
      cpus: 64,
      hypervisor: false,
      dmi: { sys_vendor: 'Dell Inc.', product_name: 'PowerEdge R740', chassis_type: '23' },
      block: {
        nvme0n1: { rotational: '0', device: { model: 'Dell Ent NVMe AGN MU U.2 1.6TB' } },
        sda: { rotational: '1', device: { vendor: 'ATA', model: 'ST4000NM0035-1V4' } },
      },
      cgroup: { 'cpu.max': 'max 100000', 'memory.max': 'max' },
    })
    const row = footprint(config(roots), run({ cpuCount: 64, ramTotalSizeGiB: 256 }), 2)
    expect(row.embodiedEmissionsKg).toBeCloseTo((1100 + 240 * 1.388021 + 150) * TWO_HOURS_OF_LIFE, 9)
    expect(row.embodiedSource).toMatch(
      /^ccf-components; server component model 1583\.13 kg \(.*1 SSDs 100 kg \+ 1 HDDs 50 kg\); share 1; life 4 y$/,
    )
  })
})
