import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

// Whether this machine is a guest of a bigger one (a virtual machine, a container's limits), read once
// here for every room that asks: the RAM estimate (a guest owns only its memory) and the embodied footprint
// (a guest is charged its share of the host).

/** Whether /proc/cpuinfo shows the `hypervisor` flag, which CPUs set when running under one. */
export function underHypervisor(cpuinfo: string): boolean {
  return /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)
}

/** Where a guest's facts are read: `/proc` and `/sys`, or copies (a container's mounts, a test's trees). */
export interface GuestRoots {
  readonly procRoot: string
  readonly sysRoot: string
}

/** The real `/proc` and `/sys`. */
export const HOST_ROOTS: GuestRoots = { procRoot: '/proc', sysRoot: '/sys' }

/** What says this machine is a guest of a bigger one: a virtual machine, a container's limits. */
export interface GuestFacts {
  /** Why this is a virtual machine (`the CPU's hypervisor flag`, `DMI sys_vendor "QEMU"`); null if nothing says so. */
  readonly vm: string | null
  /** The instance type the firmware names: AWS writes it in DMI `product_name` (`m5.large`); else null. */
  readonly firmwareInstanceType: string | null
  /** The CPUs a cgroup limit leaves this process (cpu.max quota over period, or its cpuset); null if none. */
  readonly cpuLimit: { readonly cpus: number; readonly from: string } | null
  /** The memory a cgroup limit leaves this process, GiB (memory.max); null if none. */
  readonly memoryLimit: { readonly gib: number; readonly from: string } | null
}

/** No sign of a guest: bare metal. */
export const NOT_A_GUEST: GuestFacts = {
  vm: null,
  firmwareInstanceType: null,
  cpuLimit: null,
  memoryLimit: null,
}

const GIB = 2 ** 30

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

// systemd's detect-virt table (src/basic/virt.c, detect_vm_dmi_vendor): names a hypervisor's firmware
// writes at the start of these DMI fields, product_name first (KVM before QEMU).
const DMI_FIELDS = ['product_name', 'sys_vendor', 'board_vendor', 'bios_vendor', 'product_version']
const DMI_HYPERVISORS = [
  'KVM',
  'OpenStack',
  'KubeVirt',
  'Amazon EC2',
  'QEMU',
  'VMware',
  'VMW',
  'innotek GmbH',
  'VirtualBox',
  'Xen',
  'Bochs',
  'Parallels',
  'BHYVE',
  'Hyper-V',
  'Apple Virtualization',
  'Google Compute Engine',
]

/** Why the firmware says this is a virtual machine, or null; and the instance type AWS writes there. */
function fromDmi(sysRoot: string): { vm: string | null; instanceType: string | null } {
  const dmi = (field: string) => readText(join(sysRoot, 'class/dmi/id', field))
  const product = dmi('product_name')
  // EC2 writes the instance type in product_name; a `.metal` type is a whole server, not a guest.
  const ec2 =
    dmi('sys_vendor') === 'Amazon EC2' && product !== null && /^[a-z0-9-]+\.[a-z0-9-]+$/.test(product)
  const instanceType = ec2 ? product : null
  if (instanceType?.endsWith('.metal')) return { vm: null, instanceType: null }
  // Azure and Hyper-V: "Microsoft Corporation", "Virtual Machine" (systemd asks the CPU; the DMI says it too).
  if (dmi('sys_vendor') === 'Microsoft Corporation' && product === 'Virtual Machine')
    return { vm: 'DMI product_name "Virtual Machine" (Microsoft)', instanceType }
  for (const field of DMI_FIELDS) {
    const text = dmi(field)
    const name = text === null ? undefined : DMI_HYPERVISORS.find((h) => text.startsWith(h))
    if (name !== undefined) return { vm: `DMI ${field} "${name}"`, instanceType }
  }
  return { vm: null, instanceType }
}

/** One line of /proc/<pid>/mountinfo: the root of the mount within its file system, where, what type. */
interface Mount {
  readonly root: string
  readonly point: string
  readonly type: string
  readonly superOptions: readonly string[]
}

const unescapeOctal = (s: string) =>
  s.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))

function parseMounts(mountinfo: string): Mount[] {
  const mounts: Mount[] = []
  for (const line of mountinfo.split('\n')) {
    // `36 25 0:31 / /sys/fs/cgroup rw,nosuid … - cgroup2 cgroup2 rw`
    const [before, after] = line.split(' - ')
    const fields = before?.split(' ') ?? []
    const [type, , options] = after?.split(' ') ?? []
    if (!type || fields[3] === undefined || fields[4] === undefined) continue
    mounts.push({
      root: unescapeOctal(fields[3]),
      point: unescapeOctal(fields[4]),
      type,
      superOptions: (options ?? '').split(','),
    })
  }
  return mounts
}

/**
 * The folders of a cgroup and of its ancestors up to its mount, own first. The path in /proc/self/cgroup
 * is relative to the hierarchy's root; the mount shows its part from `root` on (a container's own cgroup).
 */
function cgroupDirs(mount: Mount, path: string): string[] {
  const inside =
    mount.root === '/' ? path : path.startsWith(mount.root) ? path.slice(mount.root.length) || '/' : '/'
  const dirs: string[] = []
  for (let dir = join(mount.point, inside); ; dir = dirname(dir)) {
    dirs.push(dir)
    if (dir === mount.point || dir.length <= mount.point.length) break
  }
  return dirs
}

/** The number of CPUs in a cpuset list (`0-3,8`); null when it is not one. */
export function cpusetCount(list: string): number | null {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list)) return null
  let count = 0
  for (const part of list.split(',')) {
    const [from = 0, to = from] = part.split('-').map(Number)
    count += to - from + 1
  }
  return count
}

/** The smallest of the limits offered, with where it was read. */
class Smallest {
  value = Number.POSITIVE_INFINITY
  from = ''
  offer(value: number, from: string): void {
    if (Number.isFinite(value) && value > 0 && value < this.value) {
      this.value = value
      this.from = from
    }
  }
}

/** The CPU and memory limits of this process's cgroups (v2 and v1), the smallest along each hierarchy. */
function cgroupLimits(procRoot: string): Pick<GuestFacts, 'cpuLimit' | 'memoryLimit'> {
  const mountinfo = readText(join(procRoot, 'self/mountinfo'))
  const own = readText(join(procRoot, 'self/cgroup'))
  if (mountinfo === null || own === null) return { cpuLimit: null, memoryLimit: null }
  const mounts = parseMounts(mountinfo)
  const cpus = new Smallest()
  const bytes = new Smallest()
  for (const line of own.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line)
    if (!match) continue
    const [, controllers = '', path = '/'] = match
    const names = controllers.split(',')
    const v2 = controllers === ''
    const mount = v2
      ? mounts.find((m) => m.type === 'cgroup2')
      : mounts.find((m) => m.type === 'cgroup' && names.some((n) => m.superOptions.includes(n)))
    if (!mount) continue
    const dirs = cgroupDirs(mount, path)
    for (const dir of dirs) {
      const read = (file: string) => readText(join(dir, file))
      if (v2) {
        const [quota = '', period = ''] = (read('cpu.max') ?? '').split(' ')
        // `max 100000` is no limit.
        if (/^\d+$/.test(quota))
          cpus.offer(Number(quota) / Number(period), `cgroup cpu.max ${quota} ${period}`)
        const max = read('memory.max') ?? ''
        if (/^\d+$/.test(max)) bytes.offer(Number(max), 'cgroup memory.max')
        continue
      }
      if (names.includes('cpu')) {
        const quota = Number(read('cpu.cfs_quota_us'))
        const period = Number(read('cpu.cfs_period_us'))
        // -1 is no quota.
        if (quota > 0 && period > 0) cpus.offer(quota / period, `cgroup cpu.cfs_quota_us ${quota} ${period}`)
      }
      if (names.includes('memory')) {
        const limit = read('memory.limit_in_bytes') ?? ''
        if (/^\d+$/.test(limit)) bytes.offer(Number(limit), 'cgroup memory.limit_in_bytes')
      }
    }
    // A cpuset (docker --cpuset-cpus) leaves the CPUs it lists; its own folder says the effective set.
    const file = v2 ? 'cpuset.cpus.effective' : 'cpuset.effective_cpus'
    if (v2 || names.includes('cpuset')) {
      const set = dirs.map((dir) => readText(join(dir, file))).find((s) => s)
      const count = set ? cpusetCount(set) : null
      if (count !== null) cpus.offer(count, `cgroup cpuset ${set}`)
    }
  }
  return {
    cpuLimit: cpus.from ? { cpus: cpus.value, from: cpus.from } : null,
    memoryLimit: bytes.from ? { gib: bytes.value / GIB, from: bytes.from } : null,
  }
}

/**
 * Whether this machine is a guest, read from files: the CPU's `hypervisor` flag (/proc/cpuinfo) or the
 * firmware's DMI names a virtual machine; this process's cgroups limit a container's CPUs and memory.
 * Limits are returned as found: whether one is below the machine's size is the caller's to judge (cgroup
 * v1 writes "no limit" as a huge number). Never throws.
 */
export function readGuest(roots: GuestRoots = HOST_ROOTS): GuestFacts {
  try {
    const dmi = fromDmi(roots.sysRoot)
    const flagged = underHypervisor(readText(join(roots.procRoot, 'cpuinfo')) ?? '')
    return {
      vm: flagged ? 'the hypervisor flag in /proc/cpuinfo' : dmi.vm,
      firmwareInstanceType: flagged || dmi.vm !== null ? dmi.instanceType : null,
      ...cgroupLimits(roots.procRoot),
    }
  } catch {
    return NOT_A_GUEST
  }
}
