import { afterEach, describe, expect, it } from 'vitest'
import { amdsmiVersion } from '../src/meters/amdsmi.js'
import { amdGpuSelection, selectGpus } from '../src/meters/gpu-select.js'
import { ACCEL_STUBS, configureAccelStub } from './helpers/accel.mjs'
import { makeHwmonTree } from './helpers/hwmon.mjs'
import { channelJ, cleanups, measure, runCleanups, tempDir } from './helpers/measure.js'

afterEach(async () => {
  await runCleanups()
  for (const stub of Object.values(ACCEL_STUBS)) delete process.env[stub.env]
})

const amdsmi = { amdSmiLibraryPath: ACCEL_STUBS.amdsmi.library }
const messages = (warnings: readonly { message: string }[]) => warnings.map((w) => w.message).join('\n')

describe.each(['worker', 'inline'] as const)(
  'amdsmi through koffi (stub library), %s sampling',
  (sampling) => {
    it('reads energy counters at known watts, reports a die at 0 W beside its sibling, and survives a lost GPU', async () => {
      configureAccelStub('amdsmi', tempDir(), [
        { uuid: 'GPU-aa11', socket: 0, watts: 250, name: 'AMD Instinct MI250X' },
        { uuid: 'GPU-bb22', socket: 0, zero: true, name: 'AMD Instinct MI250X' },
        { uuid: 'GPU-cc33', socket: 1, watts: 300, lostAfterMs: 1000, name: 'AMD Instinct MI210' },
      ])
      const { record, warnings, row } = await measure({ sampling, ...amdsmi }, 2500)
      // 250 W from the energy counter (accumulator × resolution µJ): within 1 %.
      expect(channelJ(record, 'amdsmi-energy', 'gpu0') / (250 * record.durationS)).toBeCloseTo(1, 2)
      expect(row.gpu_source).toBe('amdsmi-energy')
      expect(row.gpu_count).toBe('3')
      expect(row.gpu_model).toBe('2 x AMD Instinct MI250X, 1 x AMD Instinct MI210')
      // The second die reads 0 W while its sibling draws: said, not taken for its draw.
      expect(warnings.filter((w) => w.code === 'GPU_DIE_ZERO').map((w) => w.message)).toEqual([
        expect.stringMatching(
          /^GPU 1 \(AMD Instinct MI250X\) reads 0 W while GPU 0 on the same package draws \d+ W/,
        ),
      ])
      // The lost GPU counted until it was lost (about 1 s of 300 W), then no longer read, with a warning.
      const lost = channelJ(record, 'amdsmi-energy', 'gpu2')
      expect(lost).toBeGreaterThan(200)
      expect(lost).toBeLessThan(420)
      expect(messages(warnings)).toMatch(
        /GPU 2 \(AMD Instinct MI210\) is lost: AMDSMI_STATUS_NOT_FOUND.*no longer read/,
      )
    })
  },
)

describe('amdsmi power-info layouts and counter faults', () => {
  it.each([
    ['24.7.1.0 (the 68-byte struct of uint32 watts)', [24, 7, 1, 0]],
    ['26.1.0 (the 192-byte struct led by a uint64 socket_power)', [26, 1, 0, 0]],
  ])('integrates amdsmi_get_power_info laid out for library %s', async (_, version) => {
    configureAccelStub(
      'amdsmi',
      tempDir(),
      [{ uuid: 'GPU-dd44', watts: 300, energy: false, name: 'AMD Instinct MI100' }],
      version,
    )
    const { record, row } = await measure(amdsmi, 1500)
    expect(row.gpu_source).toBe('amdsmi-power')
    expect(Math.abs(channelJ(record, 'amdsmi-power', 'gpu0') / (300 * record.durationS) - 1)).toBeLessThan(
      0.02,
    )
    expect(record.notes.join(' ')).toContain(`amdsmi ${amdsmiVersion(version).version}`)
  })

  it('tells the library versions apart by amdsmi_version_t (the year went away in 25)', () => {
    expect(amdsmiVersion([24, 7, 1, 0])).toEqual({ version: '24.7.1.0', layout: 'v24' })
    expect(amdsmiVersion([23, 4, 0, 0]).layout).toBe('v24')
    expect(amdsmiVersion([26, 1, 0, 0])).toEqual({ version: '26.1.0', layout: 'v25' })
  })

  it('counts a counter that runs backwards as a reset (never negative, never silent)', async () => {
    configureAccelStub('amdsmi', tempDir(), [
      { uuid: 'GPU-ee55', watts: 200, backwardsAfterMs: 700, name: 'AMD Instinct MI300X' },
    ])
    const { record, warnings } = await measure(amdsmi, 1800)
    expect(warnings.map((w) => w.code)).toContain('COUNTER_RESET')
    expect(messages(warnings)).toMatch(/amdsmi-energy counter gpu0 went down/)
    // One interval (50 ms, 10 J) at most is lost to the reset; the 5000 J drop is never subtracted.
    const measured = channelJ(record, 'amdsmi-energy', 'gpu0')
    expect(measured).toBeGreaterThan(200 * record.durationS - 40)
    expect(measured).toBeLessThanOrEqual(200 * record.durationS * 1.01)
  })

  it('bridges a counter frozen while the GPU draws with its power reading, and says so', async () => {
    configureAccelStub('amdsmi', tempDir(), [
      { uuid: 'GPU-ff66', watts: 250, frozenAfterMs: 400, name: 'AMD Instinct MI250X' },
    ])
    const { record, warnings } = await measure(amdsmi, 3500)
    expect(warnings.filter((w) => w.code === 'COUNTER_FROZEN').map((w) => w.message)).toEqual([
      expect.stringMatching(
        /GPU 0 \(AMD Instinct MI250X\) has not moved for 2\.\d s while the GPU draws 250 W: frozen, not idle/,
      ),
    ])
    expect(Math.abs(channelJ(record, 'amdsmi-energy', 'gpu0') / (250 * record.durationS) - 1)).toBeLessThan(
      0.03,
    )
  })
})

describe('older ROCm and no library at all', () => {
  it('reads ROCm SMI when amdsmi is absent: energy counters, and power where there is none', async () => {
    configureAccelStub('rocmSmi', tempDir(), [
      { uuid: 'GPU-0123456789abcdef', watts: 200, name: 'AMD Instinct MI100' },
      { uuid: 'GPU-00000000000000ff', watts: 150, energy: false, name: 'Radeon Instinct MI50' },
    ])
    const { record, row } = await measure({ rocmSmiLibraryPath: ACCEL_STUBS.rocmSmi.library }, 1500)
    expect(row.gpu_source).toBe('rocm-smi')
    // The counter is exact between its first and last reads; a busy machine places them some milliseconds
    // inside the record's duration (0.6 % of 1.5 s seen with two CPU burners), as the power channel's 2 % allows.
    expect(Math.abs(channelJ(record, 'rocm-smi', 'gpu0') / (200 * record.durationS) - 1)).toBeLessThan(0.02)
    const power = record.meters.filter((m) => m.source === 'rocm-smi').flatMap((m) => m.channels)
    const gpu1J = (power.find((c) => c.name === 'gpu1')?.energyKWh ?? 0) * 3.6e6
    expect(Math.abs(gpu1J / (150 * record.durationS) - 1)).toBeLessThan(0.02)
    expect(record.notes.join(' ')).toMatch(/ROCm SMI .* because amdsmi is unavailable/)
  })

  it('falls back to hwmon amdgpu, leaving out an integrated GPU', async () => {
    const tree = makeHwmonTree([
      { name: 'k10temp' },
      {
        name: 'amdgpu',
        averageUw: 180e6,
        device: { pci: '0000:03:00.0', productName: 'AMD Radeon RX 7900 XTX', vramBytes: 24 * 2 ** 30 },
      },
      {
        name: 'amdgpu',
        inputUw: 15e6,
        device: { pci: '0000:c4:00.0', productName: 'AMD Radeon 780M', vramBytes: 512 * 2 ** 20 },
      },
    ])
    cleanups.push(() => tree.cleanup())
    const { record, row } = await measure({ hwmonRoot: tree.root }, 1200)
    expect(row.gpu_source).toBe('hwmon')
    expect(row.gpu_model).toBe('1 x AMD Radeon RX 7900 XTX')
    expect(Math.abs(channelJ(record, 'hwmon-amdgpu', 'gpu0') / (180 * record.durationS) - 1)).toBeLessThan(
      0.02,
    )
    expect(record.notes.join(' ')).toMatch(/0000:c4:00.0\) looks integrated \(512 MiB VRAM\)/)
  })
})

describe('AMD GPU selection, as ROCm reads it', () => {
  const devices = [0, 1, 2, 3].map((index) => ({ index, uuid: `GPU-${index}abc` }))
  const pick = (env: Record<string, string>, gpuIds: string[] | null = null) =>
    selectGpus(devices, amdGpuSelection(gpuIds, env)).selected.map((d) => d.index)

  it('takes gpuIds, else ROCR_VISIBLE_DEVICES, with HIP_VISIBLE_DEVICES (or CUDA_VISIBLE_DEVICES) counted among those', () => {
    expect(pick({})).toEqual([0, 1, 2, 3])
    expect(pick({ ROCR_VISIBLE_DEVICES: '2,3' }, ['1'])).toEqual([1])
    expect(pick({ ROCR_VISIBLE_DEVICES: '2,3' })).toEqual([2, 3])
    expect(pick({ ROCR_VISIBLE_DEVICES: '1,2,3', HIP_VISIBLE_DEVICES: '1' })).toEqual([2])
    expect(pick({ ROCR_VISIBLE_DEVICES: '3,1', CUDA_VISIBLE_DEVICES: '0' })).toEqual([3])
    expect(pick({ HIP_VISIBLE_DEVICES: '0,2', CUDA_VISIBLE_DEVICES: '1' })).toEqual([0, 2])
    expect(pick({ ROCR_VISIBLE_DEVICES: 'GPU-2abc' })).toEqual([2])
    expect(pick({ HIP_VISIBLE_DEVICES: '-1' })).toEqual([])
    expect(pick({ ROCR_VISIBLE_DEVICES: '' })).toEqual([])
  })
})
