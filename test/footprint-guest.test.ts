import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../src/config/config.js'
import { readHostHardware } from '../src/footprint/hardware.js'
import type { FootprintConfig } from '../src/footprint/options.js'
import type { EmissionsRecord } from '../src/model/record.js'
import { footprintOf } from '../src/tracker/footprint.js'
import { readCsvWithPython } from './helpers/csv.js'
import { sampleRecord } from './helpers/records.js'

// A virtual machine or a container is charged its share of its host's embodied emissions, never a whole
// server's; its virtual disks are no drives. Every fact is read from stand-in /proc and /sys trees.

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const GIB = 2 ** 30
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
    wueLPerKWh: null,
    waterIntensityLPerKWh: null,
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

/** The record's footprint fields, and its notes with the footprint's. */
function footprint(c: FootprintConfig, record: EmissionsRecord, sockets = 1, type: string | null = null) {
  const { fields, notes } = footprintOf(c, {}, record, { sockets }, type)
  return { ...fields, notes: [...record.notes, ...notes] }
}

/** A QEMU/KVM guest: the hypervisor flag, QEMU in the DMI, a virtio disk and a QEMU SCSI disk, both "rotational". */
const QEMU_VM: Machine = {
  cpus: 2,
  hypervisor: true,
  dmi: { sys_vendor: 'QEMU', product_name: 'Standard PC (Q35 + ICH9, 2009)', chassis_type: '1' },
  block: {
    vda: { rotational: '1', device: { vendor: '0x1af4' } },
    sda: { rotational: '1', device: { vendor: 'QEMU', model: 'QEMU HARDDISK' } },
  },
}

describe('a virtual machine', () => {
  it('whose host is unknown is charged its share of an assumed host, with the assumption stated', () => {
    const roots = machine(QEMU_VM)
    const row = footprint(config(roots), run({ cpuCount: 2, ramTotalSizeGiB: 8 }))
    // The assumed host: 2 sockets, 96 threads, 384 GiB, no drives: 1,000 + 100 + 368 × 1.388021 = 1,610.79 kg.
    // Its share by part: the platform's 1,100 kg × 2/96 vCPUs + the RAM's 510.79 kg × 8/384 GiB = 33.56 kg,
    // not the whole 1,050 kg of a server with an HDD (the virtio disk) it was charged before.
    const guestKg = 1100 * (2 / 96) + 368 * 1.388021 * (8 / 384)
    expect(guestKg).toBeCloseTo(33.558, 3)
    expect(row.embodiedEmissionsKg).toBeCloseTo(guestKg * TWO_HOURS_OF_LIFE, 9)
    expect(row.embodiedSource).toMatch(
      /^ccf-components:assumed-host; assumed host: 2 sockets, 96 threads, 384 GiB, no drives, 1610\.79 kg \(the table's CPU hosts: 16\.26–63\.89 kg per vCPU, 10th–90th percentile\); /,
    )
    expect(row.embodiedSource).toContain(
      'a virtual machine (the hypervisor flag in /proc/cpuinfo), 2 vCPUs and 8 GiB',
    )
    expect(row.embodiedSource).toContain(
      'share by part: platform 1100 kg × 2/96 vCPUs + RAM 510.79 kg × 8/384 GiB',
    )
    expect(row.embodiedSource).toContain('virtual disks not counted (sda (QEMU), vda (virtio))')
    // Every row says the host was assumed, what that assumption spans, and how to give the real one.
    const note = row.notes.find((n) => n.includes('assumed'))
    expect(note).toMatch(/on an unknown host assumed to be 2 sockets, 96 threads, 384 GiB, no drives/)
    expect(note).toMatch(/its 2 vCPUs would be [\d.]+–[\d.]+ kg \(10th–90th percentile\)/)
    expect(note).toContain('set cloudInstanceType or embodied.host')
  })

  it('is told by its firmware (DMI) where the CPU flags say nothing (an Arm guest)', () => {
    const roots = machine({
      ...QEMU_VM,
      hypervisor: false,
      dmi: { sys_vendor: 'QEMU', product_name: 'KVM Virtual Machine' },
    })
    const row = footprint(config(roots), run({ cpuCount: 4, ramTotalSizeGiB: 16 }))
    expect(row.embodiedSource).toContain('a virtual machine (DMI product_name "KVM")')
    expect(row.embodiedEmissionsKg).toBeCloseTo(
      (1100 * (4 / 96) + 368 * 1.388021 * (16 / 384)) * TWO_HOURS_OF_LIFE,
      9,
    )
  })

  it('on EC2 is an m5.large by its DMI product_name: 2/96 of its host in the table', () => {
    const roots = machine({
      cpus: 2,
      hypervisor: true,
      dmi: { sys_vendor: 'Amazon EC2', product_name: 'm5.large', chassis_type: '1' },
      block: { nvme0n1: { rotational: '0', device: { model: 'Amazon Elastic Block Store' } } },
    })
    const row = footprint(config(roots), run({ cpuCount: 2, ramTotalSizeGiB: 7.6 }))
    // CCF's m5 host: 1,610.79 kg, 96 vCPUs; the instance's 2 → 1,610.79 × 2/96 over 2 h of 4 years.
    expect(row.embodiedEmissionsKg).toBeCloseTo(1610.79 * (2 / 96) * TWO_HOURS_OF_LIFE, 10)
    expect(row.embodiedSource).toMatch(
      /^ccf-embodied:aws\/m5\.large; host 1610\.79 kg \(Cloud Carbon Footprint\), share 2\/96 vCPUs; instance type from the firmware/,
    )
    expect(row.notes.filter((n) => n.startsWith('embodied'))).toEqual([])
  })

  it('on a cloud whose instance type is unknown, or not in the table, gets the assumed host, said so', () => {
    const roots = machine({
      cpus: 4,
      hypervisor: true,
      dmi: { sys_vendor: 'Google', product_name: 'Google Compute Engine' },
      block: { sda: { rotational: '1', device: { vendor: 'Google', model: 'PersistentDisk' } } },
    })
    const gcp = run({
      cloudProvider: 'gcp',
      cloudRegion: 'europe-west4',
      onCloud: true,
      cpuCount: 4,
      ramTotalSizeGiB: 16,
    })
    const guestKg = 1100 * (4 / 96) + 368 * 1.388021 * (16 / 384)
    const typeless = footprint(config(roots), gcp)
    expect(typeless.embodiedEmissionsKg).toBeCloseTo(guestKg * TWO_HOURS_OF_LIFE, 9)
    expect(typeless.embodiedSource).toMatch(/^ccf-components:assumed-host; /)
    expect(typeless.embodiedSource).toContain('a virtual machine (the hypervisor flag in /proc/cpuinfo)')
    const unlisted = footprint(config(roots, { cloudInstanceType: 'zz9-plural-4' }), gcp)
    expect(unlisted.embodiedEmissionsKg).toBeCloseTo(guestKg * TWO_HOURS_OF_LIFE, 9)
    expect(unlisted.notes.join(' ')).toContain(
      "(instance type zz9-plural-4 is not in Cloud Carbon Footprint's table), on an unknown host assumed to be",
    )
  })

  it('takes the host the user gives (embodied.host), and a share given wins over any', () => {
    const roots = machine(QEMU_VM)
    const record = run({ cpuCount: 8, ramTotalSizeGiB: 32 })
    const given = footprint(config(roots, { embodied: { host: { threads: 64, memoryGiB: 256 } } }), record)
    // 2 sockets of 64 threads and 256 GiB: 1,100 kg × 8/64 + 240 × 1.388021 kg × 32/256.
    const ramKg = 240 * 1.388021
    expect(given.embodiedEmissionsKg).toBeCloseTo(
      (1100 * (8 / 64) + ramKg * (32 / 256)) * TWO_HOURS_OF_LIFE,
      9,
    )
    expect(given.embodiedSource).toMatch(
      /^ccf-components; host as given \(embodied\.host\): 2 sockets, 64 threads/,
    )
    expect(given.notes.some((n) => n.includes('assumed'))).toBe(false)
    // The user's kg of the host is split as the host's model is.
    const kg = footprint(
      config(roots, { embodied: { emissionsKg: 2000, host: { threads: 64, memoryGiB: 256 } } }),
      record,
    )
    const share = (1100 * (8 / 64) + ramKg * (32 / 256)) / (1100 + ramKg)
    expect(kg.embodiedEmissionsKg).toBeCloseTo(2000 * share * TWO_HOURS_OF_LIFE, 9)
    expect(kg.embodiedSource).toMatch(/^option; host 2000 kg as given/)
    const shared = footprint(config(roots, { embodied: { share: 0.5 } }), record)
    expect(shared.embodiedEmissionsKg).toBeCloseTo(1610.79 * 0.5 * TWO_HOURS_OF_LIFE, 6)
  })

  it('refuses a bad host, naming the field and the fix', () => {
    expect(() => resolveConfig({ embodied: { host: { threads: 2.5 } } }, {})).toThrow(
      'Option embodied.host.threads must be a whole number of threads (logical CPUs) from 1 to 100000 (got 2.5). ' +
        'For example: new EmissionsTracker({ embodied: { host: { threads: 64, memoryGiB: 512 } } }).',
    )
    expect(() => resolveConfig({ embodied: { host: { memoryGiB: -1 } } }, {})).toThrow(
      /Option embodied\.host\.memoryGiB must be a finite, positive number of GiB/,
    )
    expect(() => resolveConfig({ embodied: { host: {} } }, {})).toThrow(
      /Option embodied\.host must set at least one of threads, memoryGiB/,
    )
    expect(() => resolveConfig({ sysRoot: '' }, {})).toThrow(/Option sysRoot must not be empty/)
    expect(resolveConfig({}, { WATTPRINT_SYS_ROOT: '/host/sys' }).sysRoot).toBe('/host/sys')
  })
})

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

describe('a container', () => {
  /** A 2-socket rack server with 64 threads, an NVMe SSD and an HDD. */
  const host = (cgroup: Record<string, string>): Machine => ({
    cpus: 64,
    hypervisor: false,
    dmi: { sys_vendor: 'Dell Inc.', product_name: 'PowerEdge R740', chassis_type: '23' },
    block: {
      nvme0n1: { rotational: '0', device: { model: 'Dell Ent NVMe AGN MU U.2 1.6TB' } },
      sda: { rotational: '1', device: { vendor: 'ATA', model: 'ST4000NM0035-1V4' } },
    },
    cgroup,
  })
  // The host in the component model: 1,000 + 100 (second socket) + 240 × 1.388021 (256 GiB) + 100 + 50.
  const ramKg = 240 * 1.388021
  const hostKg = 1100 + ramKg + 150

  it('limited by cgroup cpu.max and memory.max is charged its share of this machine, by part', () => {
    const roots = machine(host({ 'cpu.max': '200000 100000', 'memory.max': String(8 * GIB) }))
    const row = footprint(config(roots), run({ cpuCount: 64, ramTotalSizeGiB: 256 }), 2)
    // Platform and drives by 2/64 CPUs, RAM by 8/256 GiB.
    const guestKg = (1100 + 150) * (2 / 64) + ramKg * (8 / 256)
    expect(row.embodiedEmissionsKg).toBeCloseTo(guestKg * TWO_HOURS_OF_LIFE, 9)
    expect(row.embodiedSource).toMatch(
      /^ccf-components; this machine, the container's host: 2 sockets, 64 threads, 256 GiB, 1 SSDs, 1 HDDs, 1583\.13 kg; /,
    )
    expect(row.embodiedSource).toContain('cgroup cpu.max 200000 100000: 2 CPUs, cgroup memory.max: 8 GiB')
    expect(row.embodiedSource).toContain('drives 150 kg × 2/64 vCPUs')
    expect(hostKg).toBeCloseTo(1583.125, 3)
  })

  it('limited by its CPUs alone keeps all the memory it may use', () => {
    const roots = machine(host({ 'cpu.max': '400000 100000', 'memory.max': 'max' }))
    const row = footprint(config(roots), run({ cpuCount: 64, ramTotalSizeGiB: 256 }), 2)
    expect(row.embodiedEmissionsKg).toBeCloseTo(((1100 + 150) * (4 / 64) + ramKg) * TWO_HOURS_OF_LIFE, 9)
  })

  it('under attribution takes the job’s share of the host’s energy, not its limits on top', () => {
    const roots = machine(host({ 'cpu.max': '200000 100000' }))
    // The meters of a container read the host's CPUs: the job drew 1/4 of the host's energy.
    const job = run({
      cpuCount: 64,
      ramTotalSizeGiB: 256,
      trackingMode: 'process',
      energyKWh: 2.5,
      machine: { energyKWh: 10, cpuKWh: 10, gpuKWh: 0, ramKWh: 0, wallKWh: 12 },
      wall: { ...sampleRecord().wall, energyKWh: 3 },
    })
    const row = footprint(config(roots), job, 2)
    expect(row.embodiedEmissionsKg).toBeCloseTo(hostKg * 0.25 * TWO_HOURS_OF_LIFE, 9)
    expect(row.embodiedSource).toContain("the container's meters read this machine")
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

describe('wattprint run in a virtual machine', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [resolve('dist/cli.js'), 'run', ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100',
        WATTPRINT_RAPL_ROOT: '/nonexistent',
        ...env,
      },
      timeout: 30_000,
    })
  const command = ['--', process.execPath, '-e', 'setTimeout(() => {}, 200)']

  /** The embodied_source of a run in the stand-in trees, with these flags. */
  function sourceOf(roots: { procRoot: string; sysRoot: string }, flags: string[]): string | undefined {
    const out = mkdtempSync(join(tmpdir(), 'wattprint-guest-run-'))
    dirs.push(out)
    const run = cli(['-o', out, ...flags, ...command], {
      WATTPRINT_PROC_ROOT: roots.procRoot,
      WATTPRINT_SYS_ROOT: roots.sysRoot,
    })
    expect(run.status, run.stderr).toBe(0)
    return readCsvWithPython(join(out, 'emissions.csv'))[0]?.embodied_source
  }

  it('reads /proc and /sys where procRoot and sysRoot say', () => {
    // No hypervisor flag in this /proc: only the stand-in /sys's firmware can say it is a guest.
    const roots = machine({ ...QEMU_VM, hypervisor: false })
    const source = sourceOf(roots, [])
    expect(source).toMatch(
      /^ccf-components:assumed-host; assumed host: 2 sockets, 96 threads, 384 GiB, no drives, 1610\.79 kg \(the table's CPU hosts: [\d.]+–[\d.]+ kg per vCPU, 10th–90th percentile\); a virtual machine \(DMI sys_vendor "QEMU"\)/,
    )
    expect(source).toContain('virtual disks not counted (sda (QEMU), vda (virtio))')
  })

  it('takes --host threads:GiB as the host', () => {
    const source = sourceOf(machine(QEMU_VM), ['--host', '64:256'])
    expect(source).toMatch(
      /^ccf-components; host as given \(embodied\.host\): 2 sockets, 64 threads, 256 GiB, no drives, 1433\.13 kg; a virtual machine/,
    )
  })

  it('refuses a bad --host with the flag and an example', () => {
    const refused = cli(['--host', '2.5:512', '--', 'true'])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('--host "2.5" must be a whole number: for example --host 64:512.')
    expect(cli(['--host', ':', '--', 'true']).stderr).toContain('--host ":" must be threads:GiB')
  })
})
