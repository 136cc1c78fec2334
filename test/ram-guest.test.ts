import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { planMeters } from '../src/meters/detect.js'
import { GUEST_RAM_W_PER_GB, guestMemory, underHypervisor } from '../src/meters/ram-guest.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A /proc with a cpuinfo (with or without the hypervisor flag) and, optionally, a cgroup v2 memory limit. */
function fakeProc(options: { hypervisor: boolean; memoryMax?: string }): string {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-guest-'))
  dirs.push(root)
  mkdirSync(join(root, 'self'))
  const flags = `fpu vme de pse tsc msr${options.hypervisor ? ' hypervisor' : ''} lahf_lm`
  writeFileSync(join(root, 'cpuinfo'), `processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: ${flags}\n\n`)
  const cgroupRoot = join(root, 'cgroup2')
  mkdirSync(join(cgroupRoot, 'job'), { recursive: true })
  writeFileSync(join(root, 'self', 'mountinfo'), `41 31 0:38 / ${cgroupRoot} rw - cgroup2 cgroup2 rw\n`)
  writeFileSync(join(root, 'self', 'cgroup'), '0::/job\n')
  if (options.memoryMax !== undefined)
    writeFileSync(join(cgroupRoot, 'job', 'memory.max'), `${options.memoryMax}\n`)
  return root
}

const GIB = 2 ** 30
/** The stand-in /proc, and a /sys with no DMI: the machine running the test may itself be a VM. */
const roots = (procRoot: string) => ({ procRoot, sysRoot: join(procRoot, 'no-sys') })

describe('guest memory', () => {
  it("reads the hypervisor flag of /proc/cpuinfo's flags line only", () => {
    expect(underHypervisor('flags\t\t: fpu hypervisor sse\n')).toBe(true)
    expect(underHypervisor('flags\t\t: fpu sse\nbugs\t: hypervisor\n')).toBe(false)
  })

  it("counts a VM's own memory, a container's limit, and nothing on bare metal", () => {
    expect(guestMemory(32 * GIB, roots(fakeProc({ hypervisor: false })))).toBeNull()
    expect(guestMemory(32 * GIB, roots(fakeProc({ hypervisor: false, memoryMax: 'max' })))).toBeNull()
    expect(guestMemory(32 * GIB, roots(fakeProc({ hypervisor: true })))).toMatchObject({
      allocatedGB: (32 * GIB) / 1e9,
      why: expect.stringContaining('virtual machine'),
    })
    // A limit below the machine's memory is the container's share, even inside a VM.
    expect(
      guestMemory(32 * GIB, roots(fakeProc({ hypervisor: true, memoryMax: String(4 * GIB) }))),
    ).toMatchObject({
      allocatedGB: (4 * GIB) / 1e9,
      why: expect.stringContaining("container's memory limit"),
    })
  })

  it('gives the RAM estimate per GB on a guest, and says so in ram_source', () => {
    const base = {
      raplRoot: '/nonexistent',
      sysRoot: '/nonexistent',
      procStatPath: '/proc/stat',
      cpuPowerW: null,
      ramPowerW: null,
    }
    const vm = planMeters({ ...base, procRoot: fakeProc({ hypervisor: true, memoryMax: String(8e9) }) })
    const ram = vm.specs.find((s) => s.type === 'constant' && s.component === 'ram')
    expect(ram).toMatchObject({ source: 'ram-per-gb', watts: Math.round(GUEST_RAM_W_PER_GB * 8 * 100) / 100 })
    expect(vm.pending.ramModules).toBe(false)
    expect(vm.notes.join(' ')).toContain('0.392 W/GB (Cloud Carbon Footprint)')
    // The firmware's DMI names a virtual machine even where the CPU flag is hidden.
    const sys = join(fakeProc({ hypervisor: false }), 'sys')
    mkdirSync(join(sys, 'class', 'dmi', 'id'), { recursive: true })
    writeFileSync(join(sys, 'class', 'dmi', 'id', 'sys_vendor'), 'QEMU\n')
    expect(guestMemory(32 * GIB, { procRoot: fakeProc({ hypervisor: false }), sysRoot: sys })).toMatchObject({
      why: expect.stringContaining('virtual machine'),
    })
    const metal = planMeters({ ...base, procRoot: fakeProc({ hypervisor: false }) })
    expect(metal.specs.find((s) => s.type === 'constant')).toMatchObject({ source: 'ram-modules' })
  })
})
