import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { discoverRapl, RaplMeter, raplMeterSpecs, raplPermissionFix } from '../src/meters/rapl.js'
import { makePowercapTree, type PowercapTree, serverTree } from './helpers/powercap.mjs'

const trees: PowercapTree[] = []
const tree = (t: PowercapTree): PowercapTree => {
  trees.push(t)
  return t
}
afterEach(() => {
  for (const t of trees.splice(0)) t.cleanup()
})

describe('discoverRapl', () => {
  it('sums each package once, adds DRAM, and sets aside core, uncore, psys and the MMIO copy', () => {
    const t = tree(serverTree())
    const found = discoverRapl(t.root)
    expect(found.cpuSource).toBe('rapl')
    expect(found.cpuZones.map((z) => z.name).sort()).toEqual(['package-0', 'package-1'])
    expect(found.dramZones.map((z) => `${z.parentName}/${z.name}`).sort()).toEqual([
      'package-0/dram',
      'package-1/dram',
    ])
    const skipped = found.skipped.map((s) => `${s.zone.id}:${s.zone.name}`).sort()
    expect(skipped).toEqual([
      'intel-rapl-mmio:0:package-0',
      'intel-rapl:0:0:core',
      'intel-rapl:0:1:uncore',
      'intel-rapl:1:0:core',
      'intel-rapl:2:psys',
    ])
    expect(found.unavailableReason).toBeNull()
  })

  it('finds zones by their name file, not their index', () => {
    // A laptop: intel-rapl:1 is psys, not package-1; the package is intel-rapl:0.
    const t = tree(
      makePowercapTree([
        { id: 'intel-rapl:0', name: 'psys' },
        { id: 'intel-rapl:1', name: 'package-0' },
        { id: 'intel-rapl:1:0', name: 'core' },
      ]),
    )
    const found = discoverRapl(t.root)
    expect(found.cpuZones.map((z) => z.id)).toEqual(['intel-rapl:1'])
    expect(found.cpuSource).toBe('rapl')
  })

  it('uses psys only when no package zone exists, and says so through its source', () => {
    const t = tree(makePowercapTree([{ id: 'intel-rapl:0', name: 'psys' }]))
    const found = discoverRapl(t.root)
    expect(found.cpuSource).toBe('rapl-psys')
    expect(raplMeterSpecs(found).cpu?.source).toBe('rapl-psys')
  })

  it('uses an MMIO package when the MSR interface lacks it', () => {
    const t = tree(makePowercapTree([{ id: 'intel-rapl-mmio:0', name: 'package-0' }]))
    expect(discoverRapl(t.root).cpuZones.map((z) => z.id)).toEqual(['intel-rapl-mmio:0'])
  })

  it('counts two dies of one package separately (package-0-die-0, package-0-die-1)', () => {
    const t = tree(
      makePowercapTree([
        { id: 'intel-rapl:0', name: 'package-0-die-0' },
        { id: 'intel-rapl:1', name: 'package-0-die-1' },
      ]),
    )
    expect(discoverRapl(t.root).cpuZones).toHaveLength(2)
  })

  it('keeps an unreadable range as null (a later decrease is then a reset)', () => {
    const t = tree(makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0', rangeUj: null }]))
    expect(discoverRapl(t.root).cpuZones[0]?.rangeUj).toBeNull()
  })

  it('explains a missing tree', () => {
    const found = discoverRapl('/nonexistent/powercap')
    expect(found.cpuSource).toBeNull()
    expect(found.unavailableReason).toMatch(/does not exist/)
  })
})

describe('RaplMeter', () => {
  it('reads every zone of its spec, NaN with the reason for one that vanished', () => {
    const t = tree(serverTree())
    t.setEnergy('intel-rapl:0', 123_456)
    t.setEnergy('intel-rapl:1', 654_321)
    const spec = raplMeterSpecs(discoverRapl(t.root)).cpu
    if (!spec) throw new Error('no cpu spec')
    const meter = new RaplMeter(spec)
    const out = new Float64Array(2)
    meter.read(out)
    expect([...out].sort()).toEqual([123_456, 654_321])
    expect(meter.channels.every((c) => c.kind === 'counter' && c.unitJ === 1e-6)).toBe(true)
    execFileSync('rm', [t.energyPath('intel-rapl:1')])
    meter.read(out)
    expect(out.some(Number.isNaN)).toBe(true)
    expect(meter.lastError).toMatch(/ENOENT/)
  })
})

describe('unreadable counters (EACCES)', () => {
  const fix = raplPermissionFix('/sys/class/powercap')

  it('gives the exact commands that make the counters readable', () => {
    expect(fix).toContain('sudo chmod a+r /sys/class/powercap/intel-rapl*/energy_uj')
    expect(fix).toContain("echo 'z /sys/class/powercap/intel-rapl*/energy_uj 0444 root root -'")
    expect(fix).toContain('/etc/tmpfiles.d/wattprint-rapl.conf')
  })

  it('falls back to the estimate and warns once with the fix', async (context) => {
    const t = tree(serverTree())
    for (const id of ['intel-rapl:0', 'intel-rapl:1', 'intel-rapl:0:2', 'intel-rapl:1:1']) {
      chmodSync(t.energyPath(id), 0o400)
    }
    const isRoot = process.getuid?.() === 0
    // Root reads any file, so as root the tracker runs in a child process as the unprivileged user
    // `nobody` (uid 65534), for whom the 0400 root-owned counters are unreadable, as on a real machine.
    const script = `
      const { EmissionsTracker } = await import(${JSON.stringify(join(repoRoot(), 'dist', 'index.js'))})
      const warnings = []
      const t = new EmissionsTracker({ raplRoot: ${JSON.stringify(t.root)}, sampling: 'inline', saveToFile: false, logLevel: 'silent', intervalMs: 50 })
      t.on('warning', (w) => warnings.push(w))
      await t.start()
      await new Promise((r) => setTimeout(r, 200))
      const record = await t.stop()
      console.log(JSON.stringify({ cpu: record.cpu.source, ram: record.ram.source, warnings }))
    `
    if (isRoot) {
      // Let nobody traverse the temporary tree; the files themselves stay root-only (0400).
      for (let dir = dirname(t.energyPath('intel-rapl:0:2')); dir.length > 1; dir = dirname(dir)) {
        try {
          chmodSync(dir, 0o755)
        } catch {}
        if (dir === dirname(t.root)) break
      }
      const probe = spawnSync(
        process.execPath,
        ['-e', `import(${JSON.stringify(join(repoRoot(), 'dist', 'index.js'))})`],
        {
          uid: 65534,
          gid: 65534,
        },
      )
      if (probe.status !== 0) {
        context.skip(`running as root, and user nobody cannot read the checkout to run the test as non-root`)
      }
    } else {
      for (const id of ['intel-rapl:0', 'intel-rapl:1', 'intel-rapl:0:2', 'intel-rapl:1:1']) {
        chmodSync(t.energyPath(id), 0o000)
      }
    }
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
    })
    expect(run.status, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
      cpu: string
      ram: string
      warnings: { code: string; message: string }[]
    }
    expect(result.cpu).toBe('cpu-model')
    // The RAM estimate: the power model's RAM part.
    expect(result.ram).toBe('ram-model')
    const rapl = result.warnings.filter((w) => w.code === 'RAPL_UNREADABLE')
    expect(rapl).toHaveLength(1)
    expect(rapl[0]?.message).toContain('EACCES')
    expect(rapl[0]?.message).toContain(`sudo chmod a+r ${t.root}/intel-rapl*/energy_uj`)
  })
})

function repoRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url))
}
