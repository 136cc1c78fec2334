import { describeError } from '../core/errors.js'
import {
  cString,
  INTEL_DRIVER_PATHS,
  loadNative,
  type NativeFunction,
  noDriver,
  SharedLibrary,
} from '../platform/native.js'
import type { AccelDevice, AccelLibrary, Reading } from './accel-meter.js'

// ze_result_t codes wattprint tells apart (level_zero/ze_api.h).
const SUCCESS = 0
const DEVICE_LOST = 0x70000001
const INSUFFICIENT_PERMISSIONS = 0x70010000
// zes_device_properties_t (776 bytes): stype, pNext, then ze_device_properties_t core at byte 16.
const DEVICE_PROPERTIES = {
  size: 776,
  stype: 0x1,
  coreStype: 0x3,
  type: 32,
  flags: 44,
  uuid: 112,
  name: 128,
  model: 580,
}
// zes_power_properties_t (40 bytes): stype, pNext, ze_bool_t onSubdevice at byte 16.
const POWER_PROPERTIES = { size: 40, stype: 0xd, onSubdevice: 16 }
const DEVICE_TYPE_GPU = 1
const FLAG_INTEGRATED = 1

/** An Intel GPU as Level Zero Sysman enumerates it, with the power domains whose counters are summed. */
export interface LevelZeroDevice extends AccelDevice {
  readonly domains: readonly unknown[]
}

interface LevelZeroFunctions {
  drivers: NativeFunction
  devices: NativeFunction
  properties: NativeFunction
  cardDomain?: NativeFunction
  domains: NativeFunction
  powerProperties?: NativeFunction
  energy: NativeFunction
}

const hex = (n: number) => `0x${n.toString(16)}`

/** An initialised Level Zero Sysman, shared by the meters built on it. */
export class LevelZero extends SharedLibrary implements AccelLibrary<LevelZeroDevice> {
  readonly #counter = Buffer.alloc(16)

  constructor(
    private readonly fn: LevelZeroFunctions,
    /** The file that was loaded. */
    readonly library: string,
  ) {
    // zesInit has no matching shutdown: the loader is released with the thread.
    super(() => {})
  }

  /**
   * The discrete GPUs of every driver, numbered in that order, and the integrated ones set aside (their
   * power is inside the CPU package's RAPL figure: counting them would count it twice).
   */
  devices(): { devices: LevelZeroDevice[]; skipped: string[] } {
    const devices: LevelZeroDevice[] = []
    const skipped: string[] = []
    for (const driver of this.handles((count, out) => this.fn.drivers(count as never, out as never))) {
      const handles = this.handles((count, out) =>
        this.fn.devices(driver as never, count as never, out as never),
      )
      for (const handle of handles) {
        const props = Buffer.alloc(DEVICE_PROPERTIES.size)
        props.writeUInt32LE(DEVICE_PROPERTIES.stype, 0)
        props.writeUInt32LE(DEVICE_PROPERTIES.coreStype, 16)
        const known = this.fn.properties(handle as never, props as never) === SUCCESS
        const name =
          (known
            ? (cString(props, DEVICE_PROPERTIES.model, 64) ?? cString(props, DEVICE_PROPERTIES.name, 256))
            : null) ?? 'Intel GPU'
        if (known && props.readUInt32LE(DEVICE_PROPERTIES.type) !== DEVICE_TYPE_GPU) continue
        if (known && (props.readUInt32LE(DEVICE_PROPERTIES.flags) & FLAG_INTEGRATED) !== 0) {
          skipped.push(
            `${name} is integrated: its power is inside the CPU package's RAPL figure, not counted twice`,
          )
          continue
        }
        const index = devices.length
        const domains = this.domainsOf(handle)
        if (domains.length === 0) {
          skipped.push(`${name} has no power domain Level Zero can read`)
          continue
        }
        devices.push({
          index,
          uuid: known ? uuidOf(props) : `intel-index-${index}`,
          name,
          group: null,
          domains,
        })
      }
    }
    return { devices, skipped }
  }

  energyUj(device: LevelZeroDevice): Reading {
    let total = 0
    for (const domain of device.domains) {
      const result = this.fn.energy(domain as never, this.#counter as never)
      if (result !== SUCCESS) {
        return { error: `zesPowerGetEnergyCounter: ze_result ${hex(result)}`, lost: result === DEVICE_LOST }
      }
      total += Number(this.#counter.readBigUInt64LE(0))
    }
    return total
  }

  /** The card's power domain when there is one; else the device-level domains, else its sub-devices'. */
  private domainsOf(device: unknown): unknown[] {
    const card: unknown[] = [null]
    if (this.fn.cardDomain?.(device as never, card as never) === SUCCESS && card[0]) return [card[0]]
    const all = this.handles((count, out) => this.fn.domains(device as never, count as never, out as never))
    const onDevice = all.filter((domain) => {
      const props = Buffer.alloc(POWER_PROPERTIES.size)
      props.writeUInt32LE(POWER_PROPERTIES.stype, 0)
      if (this.fn.powerProperties?.(domain as never, props as never) !== SUCCESS) return true
      return props.readUInt8(POWER_PROPERTIES.onSubdevice) === 0
    })
    return onDevice.length > 0 ? onDevice.slice(0, 1) : all
  }

  private handles(call: (count: number[], out: unknown[] | null) => number): unknown[] {
    const count = [0]
    let result = call(count, null)
    if (result !== SUCCESS) throw new Error(`ze_result ${hex(result)}`)
    if ((count[0] ?? 0) === 0) return []
    const out: unknown[] = new Array(count[0]).fill(null)
    result = call(count, out)
    if (result !== SUCCESS) throw new Error(`ze_result ${hex(result)}`)
    return out.slice(0, count[0])
  }
}

/** ze_device_uuid_t as 8-4-4-4-12 hex digits. */
function uuidOf(props: Buffer): string {
  const h = props.subarray(DEVICE_PROPERTIES.uuid, DEVICE_PROPERTIES.uuid + 16).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** Loads the Level Zero loader through koffi and initialises Sysman (zesInit); the reason when it cannot. */
export function openLevelZero(libraryPath: string | null): LevelZero | { readonly reason: string } {
  const names = ['libze_loader.so.1', 'libze_loader.so']
  const absent = libraryPath ? null : noDriver('Intel GPU', INTEL_DRIVER_PATHS, names, 'Level Zero')
  if (absent) return { reason: absent }
  const loaded = loadNative(libraryPath ? [libraryPath] : names, 'Level Zero')
  if ('reason' in loaded) return loaded
  let fn: LevelZeroFunctions
  let init: NativeFunction
  try {
    init = loaded.required('uint32_t zesInit(uint32_t flags)')
    fn = {
      drivers: loaded.required('uint32_t zesDriverGet(_Inout_ uint32_t *count, _Out_ void **drivers)'),
      devices: loaded.required(
        'uint32_t zesDeviceGet(void *driver, _Inout_ uint32_t *count, _Out_ void **devices)',
      ),
      properties: loaded.required('uint32_t zesDeviceGetProperties(void *device, uint8_t *properties)'),
      cardDomain: loaded.optional('uint32_t zesDeviceGetCardPowerDomain(void *device, _Out_ void **power)'),
      domains: loaded.required(
        'uint32_t zesDeviceEnumPowerDomains(void *device, _Inout_ uint32_t *count, _Out_ void **power)',
      ),
      powerProperties: loaded.optional('uint32_t zesPowerGetProperties(void *power, uint8_t *properties)'),
      energy: loaded.required('uint32_t zesPowerGetEnergyCounter(void *power, uint8_t *counter)'),
    }
  } catch (error) {
    return {
      reason: `${loaded.path} lacks a Level Zero Sysman function wattprint needs (a loader before 1.5 has no zesInit): ${describeError(error)}`,
    }
  }
  const result = init(0 as never)
  if (result !== SUCCESS) {
    const why =
      result === INSUFFICIENT_PERMISSIONS ? ' (insufficient permissions: Sysman may need root here)' : ''
    return { reason: `zesInit failed: ze_result ${hex(result)}${why}` }
  }
  return new LevelZero(fn, loaded.path)
}
