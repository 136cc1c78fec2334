import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { endsWithCompleteRow } from '../src/output/csv/file.js'
import { CSV_HEADER } from '../src/output/csv/format.js'
import { recordToLine } from '../src/output/csv/sink.js'
import { ACCEL_STUBS, configureAccelStub } from './helpers/accel.mjs'
import { driveCounters } from './helpers/driver.mjs'
import { makeHwmonTree } from './helpers/hwmon.mjs'
import { channelJ, cleanups, joules, measure, runCleanups, sleep, tempDir } from './helpers/measure.js'
import { makePowercapTree } from './helpers/powercap.mjs'
import { sampleRecord } from './helpers/records.js'

afterEach(async () => {
  await runCleanups()
  for (const stub of Object.values(ACCEL_STUBS)) delete process.env[stub.env]
})

describe('Intel GPUs', () => {
  it('reads Level Zero energy counters, leaving out an integrated GPU', async () => {
    configureAccelStub('levelZero', tempDir(), [
      { uuid: 'igpu', watts: 12, integrated: true, name: 'Intel(R) Iris(R) Xe Graphics' },
      { uuid: 'dgpu', watts: 120, name: 'Intel(R) Data Center GPU Max 1100' },
    ])
    const { record, row } = await measure({ levelZeroLibraryPath: ACCEL_STUBS.levelZero.library }, 1500)
    expect(row.gpu_source).toBe('level-zero')
    expect(row.gpu_model).toBe('1 x Intel(R) Data Center GPU Max 1100')
    expect(channelJ(record, 'level-zero', 'gpu0') / (120 * record.durationS)).toBeCloseTo(1, 2)
    expect(record.notes.join(' ')).toMatch(
      /Iris\(R\) Xe Graphics is integrated: its power is inside the CPU package's RAPL figure/,
    )
  })

  it('falls back to the hwmon xe energy counter (µJ) when Level Zero is absent', async () => {
    const tree = makeHwmonTree([
      { name: 'xe', energyUj: 5e6, device: { pci: '0000:03:00.0', productName: 'Intel Arc B580' } },
    ])
    cleanups.push(() => tree.cleanup())
    const driver = await driveCounters([
      { path: tree.path(0, 'energy1_input'), watts: 90, startUj: 5e6, rangeUj: 2 ** 52 },
    ])
    cleanups.push(() => driver.stop())
    // The counter moves only while the tracker runs, so what it advanced is the truth to the microjoule,
    // however the driver was scheduled on a busy machine.
    let advancedUj = 0
    const { record, row } = await measure({ hwmonRoot: tree.root }, 200, async () => {
      await driver.run()
      await sleep(1500)
      ;[advancedUj = 0] = await driver.freeze()
    })
    expect(row.gpu_source).toBe('hwmon')
    expect(advancedUj / 1e6).toBeGreaterThan(90 * 1.4)
    expect(channelJ(record, 'hwmon-xe', 'gpu0')).toBeCloseTo(advancedUj / 1e6, 3)
  })
})

describe('the whole node at the wall', () => {
  it('shows an ACPI power meter at 400 W beside RAPL at 150 W, neither added to the other', async () => {
    const rapl = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0' }])
    const hwmon = makeHwmonTree([{ name: 'power_meter', averageUw: 400e6 }, { name: 'coretemp' }])
    cleanups.push(
      () => rapl.cleanup(),
      () => hwmon.cleanup(),
    )
    const driver = await driveCounters([
      { path: rapl.energyPath('intel-rapl:0'), watts: 150, startUj: 0, rangeUj: 262_143_328_850 },
    ])
    cleanups.push(() => driver.stop())
    // The RAPL counter moves only while the tracker runs: what it advanced is the components' truth.
    let advancedUj = 0
    const { record, row } = await measure(
      { raplRoot: rapl.root, hwmonRoot: hwmon.root, intervalMs: 100 },
      300,
      async () => {
        await driver.run()
        await sleep(2000)
        ;[advancedUj = 0] = await driver.freeze()
      },
    )
    const seconds = record.durationS
    // The node: 400 W × t (±2 %), a figure of its own.
    expect(Math.abs(joules(record.node.energyKWh) / (400 * seconds) - 1)).toBeLessThan(0.02)
    expect(record.node.source).toBe('acpi-power-meter')
    // The components: the 150 W counter's advance, and the total is theirs alone.
    expect(advancedUj / 1e6).toBeGreaterThan(150 * 1.9)
    expect(joules(record.cpu.energyKWh)).toBeCloseTo(advancedUj / 1e6, 3)
    expect(joules(record.energyKWh)).toBeCloseTo(advancedUj / 1e6, 3)
    expect(Number(row.node_energy)).toBeCloseTo(record.node.energyKWh, 12)
    expect(row.node_source).toBe('acpi-power-meter')
    expect(Number(row.energy_consumed)).toBeCloseTo(record.cpu.energyKWh, 12)
    expect(record.notes.join(' ')).toMatch(/Node power from the ACPI power meter \(hwmon0\/power1_average\)/)
  })

  it('leaves node_energy and node_source empty without a power meter', async () => {
    const { row, record } = await measure({}, 300)
    expect(row.node_energy).toBe('')
    expect(row.node_source).toBe('')
    expect(record.node.source).toBeNull()
  })
})

describe('a CSV row with a node meter', () => {
  it('ends with the status, so a row cut short is still told from a whole one', () => {
    const node = {
      energyKWh: 0.002,
      lowKWh: 0.002,
      highKWh: 0.002,
      powerW: 400,
      source: 'acpi-power-meter',
      method: 'measured',
    } as const
    const line = recordToLine(sampleRecord({ node }))
    expect(line).toContain(',acpi-power-meter,')
    expect(line.endsWith(',finished\n')).toBe(true)
    const path = join(tempDir(), 'emissions.csv')
    writeFileSync(path, CSV_HEADER + line)
    expect(endsWithCompleteRow(path)).toBe(true)
    writeFileSync(path, CSV_HEADER + line.slice(0, -5))
    expect(endsWithCompleteRow(path)).toBe(false)
  })
})

describe('wattprint detect', () => {
  const cli = resolve('dist/cli.js')
  const detect = (env: Record<string, string>) => {
    const result = spawnSync(process.execPath, [cli, 'detect', '--json', '--rapl-root', '/nonexistent'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        WATTPRINT_NVIDIA_SMI: '/nonexistent/nvidia-smi',
        WATTPRINT_NVML_LIBRARY: '/nonexistent/libnvidia-ml.so',
        ...env,
      },
    })
    expect(result.status, result.stderr).toBe(0)
    return JSON.parse(result.stdout)
  }

  it('says, without loading them, that no AMD or Intel library is tried where no such driver shows itself', () => {
    // The real machine decides: the test machines have neither driver.
    const amd = ['/dev/kfd', '/sys/module/amdgpu'].some((path) => existsSync(path))
    const intel = ['/sys/module/i915', '/sys/module/xe'].some((path) => existsSync(path))
    const d = detect({ LD_LIBRARY_PATH: tempDir(), WATTPRINT_HWMON_ROOT: '/nonexistent/hwmon' })
    const none = (vendor: string, paths: string, what: string) =>
      `no ${vendor} driver on this machine (none of ${paths}): ${what} was not loaded`
    if (!amd) {
      expect(d.gpu.backends.amdsmi).toBe(none('AMD', '/dev/kfd, /sys/module/amdgpu', 'amdsmi'))
      expect(d.gpu.backends['rocm-smi']).toBe(none('AMD', '/dev/kfd, /sys/module/amdgpu', 'ROCm SMI'))
    }
    if (!intel) {
      expect(d.gpu.backends['level-zero']).toBe(
        none('Intel GPU', '/sys/module/i915, /sys/module/xe', 'Level Zero'),
      )
    }
  })

  it('says why each AMD and Intel way, and the node meter, is absent', () => {
    const d = detect({
      WATTPRINT_AMD_SMI_LIBRARY: '/nonexistent/libamd_smi.so',
      WATTPRINT_ROCM_SMI_LIBRARY: '/nonexistent/librocm_smi64.so',
      WATTPRINT_LEVEL_ZERO_LIBRARY: '/nonexistent/libze_loader.so.1',
      WATTPRINT_HWMON_ROOT: '/nonexistent/hwmon',
    })
    expect(d.gpu.backends).toEqual({
      amdsmi: expect.stringMatching(/^amdsmi library not found \(\/nonexistent\/libamd_smi\.so: /),
      'rocm-smi': expect.stringMatching(/^ROCm SMI library not found/),
      'hwmon-amdgpu': 'no amdgpu hwmon chip with a sensor under /nonexistent/hwmon',
      'level-zero': expect.stringMatching(/^Level Zero library not found/),
      'hwmon-intel': 'no xe or i915 hwmon chip with a sensor under /nonexistent/hwmon',
    })
    expect(d.node).toEqual({
      source: null,
      sensors: [],
      unavailable: 'no ACPI power_meter chip with a power or energy sensor under /nonexistent/hwmon',
    })
  })

  it('shows the GPUs each library finds and the node meter', () => {
    const dir = tempDir()
    configureAccelStub(
      'amdsmi',
      dir,
      [{ uuid: 'GPU-aa11', watts: 250, name: 'AMD Instinct MI300X' }],
      [26, 1, 0, 0],
    )
    configureAccelStub('levelZero', dir, [
      { uuid: 'x', watts: 100, name: 'Intel(R) Data Center GPU Max 1550' },
    ])
    const hwmon = makeHwmonTree([{ name: 'power_meter', averageUw: 350e6 }])
    cleanups.push(() => hwmon.cleanup())
    const d = detect({
      WATTPRINT_AMD_SMI_LIBRARY: ACCEL_STUBS.amdsmi.library,
      WATTPRINT_LEVEL_ZERO_LIBRARY: ACCEL_STUBS.levelZero.library,
      WATTPRINT_HWMON_ROOT: hwmon.root,
    })
    expect(d.gpu.devices.map((g: { name: string; source: string }) => `${g.name} by ${g.source}`)).toEqual([
      'AMD Instinct MI300X by amdsmi-energy',
      'Intel(R) Data Center GPU Max 1550 by level-zero',
    ])
    expect(d.gpu.backends).toMatchObject({ amdsmi: null, 'level-zero': null })
    expect(d.node).toEqual({
      source: 'acpi-power-meter',
      sensors: [hwmon.path(0, 'power1_average')],
      unavailable: null,
    })
    const text = spawnSync(process.execPath, [cli, 'detect', '--rapl-root', '/nonexistent'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        WATTPRINT_AMD_SMI_LIBRARY: ACCEL_STUBS.amdsmi.library,
        WATTPRINT_HWMON_ROOT: hwmon.root,
      },
    }).stdout
    expect(text).toMatch(/GPU {5}0: AMD Instinct MI300X \(GPU-aa11\) by amdsmi-energy/)
    expect(text).toMatch(/Node {4}acpi-power-meter: .*power1_average \(the whole server at the wall/)
  })
})
