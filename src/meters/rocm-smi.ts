import { describeError } from '../core/errors.js'
import {
  AccumulatorOut,
  AMD_DRIVER_PATHS,
  cString,
  loadNative,
  type NativeFunction,
  noDriver,
  SharedLibrary,
  statusText,
} from '../platform/native.js'
import type { AccelDevice, AccelLibrary, Reading } from './accel-meter.js'

// rsmi_status_t codes wattprint tells apart (rocm_smi/rocm_smi.h).
const SUCCESS = 0
/** RSMI_STATUS_FILE_ERROR, RSMI_STATUS_NOT_FOUND: the device's sysfs files are gone with it. */
const LOST = new Set([3, 10])

/** A GPU as ROCm SMI (the older library, before amdsmi) enumerates it. */
export interface RocmSmiDevice extends AccelDevice {
  readonly hasEnergyCounter: boolean
}

interface RocmSmiFunctions {
  shutdown: NativeFunction
  statusString?: NativeFunction
  count: NativeFunction
  energy: NativeFunction
  power: NativeFunction
  name?: NativeFunction
  uniqueId?: NativeFunction
}

/** An initialised librocm_smi64, shared by the meters built on it. */
export class RocmSmi extends SharedLibrary implements AccelLibrary<RocmSmiDevice> {
  readonly #energy = new AccumulatorOut()
  readonly #microwatts: (number | bigint)[] = [0]
  readonly #type: number[] = [0]

  constructor(
    private readonly fn: RocmSmiFunctions,
    /** The file that was loaded. */
    readonly library: string,
  ) {
    super(() => fn.shutdown())
  }

  /** `RSMI_STATUS_…` text for a status. */
  error(status: number): string {
    return statusText(this.fn.statusString, status, 'rocm_smi')
  }

  /** Every monitored GPU, with what it can measure. */
  devices(): RocmSmiDevice[] {
    const count = [0]
    const status = this.fn.count(count as never)
    if (status !== SUCCESS) throw new Error(`rsmi_num_monitor_devices: ${this.error(status)}`)
    const devices: RocmSmiDevice[] = []
    for (let index = 0; index < (count[0] ?? 0); index++) {
      const buffer = Buffer.alloc(256)
      const named = this.fn.name?.(index as never, buffer as never, buffer.length as never) === SUCCESS
      const id: (number | bigint)[] = [0]
      const unique = this.fn.uniqueId?.(index as never, id as never) === SUCCESS
      const base = {
        index,
        uuid: unique
          ? `GPU-${BigInt(id[0] ?? 0)
              .toString(16)
              .padStart(16, '0')}`
          : `amd-index-${index}`,
        name: (named ? cString(buffer) : null) ?? `AMD GPU ${index}`,
        group: null,
      }
      devices.push({
        ...base,
        hasEnergyCounter: typeof this.energyUj({ ...base, hasEnergyCounter: true }) === 'number',
      })
    }
    return devices
  }

  energyUj(device: RocmSmiDevice): Reading {
    const read = this.#energy.read((acc, res, ts) => this.fn.energy(device.index as never, acc, res, ts))
    return 'uj' in read ? read.uj : { error: this.error(read.status), lost: LOST.has(read.status) }
  }

  powerW(device: RocmSmiDevice): Reading {
    const status = this.fn.power(device.index as never, this.#microwatts as never, this.#type as never)
    if (status !== SUCCESS) return { error: this.error(status), lost: LOST.has(status) }
    return Number(this.#microwatts[0]) / 1e6
  }
}

/** Loads and initialises ROCm SMI through koffi; the reason instead when it cannot be. */
export function openRocmSmi(libraryPath: string | null): RocmSmi | { readonly reason: string } {
  const names = ['librocm_smi64.so', 'librocm_smi64.so.1', '/opt/rocm/lib/librocm_smi64.so']
  const absent = libraryPath ? null : noDriver('AMD', AMD_DRIVER_PATHS, names, 'ROCm SMI')
  if (absent) return { reason: absent }
  const loaded = loadNative(libraryPath ? [libraryPath] : names, 'ROCm SMI')
  if ('reason' in loaded) return loaded
  let fn: RocmSmiFunctions
  let init: NativeFunction
  try {
    init = loaded.required('int rsmi_init(uint64_t flags)')
    fn = {
      shutdown: loaded.required('int rsmi_shut_down()'),
      statusString: loaded.optional('int rsmi_status_string(int status, _Out_ const char **text)'),
      count: loaded.required('int rsmi_num_monitor_devices(_Out_ uint32_t *count)'),
      energy: loaded.required(
        'int rsmi_dev_energy_count_get(uint32_t device, _Out_ uint64_t *accumulator, _Out_ float *resolution, _Out_ uint64_t *timestamp)',
      ),
      power: loaded.required(
        'int rsmi_dev_power_get(uint32_t device, _Out_ uint64_t *power, _Out_ int *type)',
      ),
      name: loaded.optional('int rsmi_dev_name_get(uint32_t device, _Out_ uint8_t *name, size_t length)'),
      uniqueId: loaded.optional('int rsmi_dev_unique_id_get(uint32_t device, _Out_ uint64_t *id)'),
    }
  } catch (error) {
    return { reason: `${loaded.path} lacks a ROCm SMI function wattprint needs: ${describeError(error)}` }
  }
  const smi = new RocmSmi(fn, loaded.path)
  const status = init(0 as never)
  if (status !== SUCCESS) return { reason: `rsmi_init failed: ${smi.error(status)}` }
  return smi
}
