import { describeError } from '../core/errors.js'
import {
  AccumulatorOut,
  AMD_DRIVER_PATHS,
  cString,
  loadNative,
  type NativeFunction,
  type NativeLibrary,
  noDriver,
  SharedLibrary,
  statusText,
} from '../platform/native.js'
import type { AccelDevice, AccelLibrary, Reading } from './accel-meter.js'

// amdsmi_status_t codes wattprint tells apart (include/amd_smi/amdsmi.h).
const SUCCESS = 0
/** AMDSMI_STATUS_NOT_FOUND, AMDSMI_STATUS_DRIVER_NOT_LOADED: the GPU is gone. */
const LOST = new Set([31, 34])
const INIT_AMD_GPUS = 1n << 1n
/** A power field holding this or more is the library's "not supported" (UINT16_MAX, UINT32_MAX …). */
const UNSUPPORTED = 0xffff

/**
 * How amdsmi_power_info_t is laid out, by library version. Up to 24.x (ROCm 6.3 and older, whose
 * amdsmi_version_t starts with the year): `{ uint32 current_socket_power; uint32 average_socket_power; …
 * reserved[11] }`, 68 bytes. From 25 on: `{ uint64 socket_power; uint32 current_socket_power; uint32
 * average_socket_power; uint64 voltages[3]; uint32 power_limit; uint64 reserved[18] }`, 192 bytes; all in W.
 */
export type PowerInfoLayout = 'v24' | 'v25'

/**
 * The library's version and power-info layout from the raw amdsmi_version_t words. Before 25 the struct is
 * `{ year, major, minor, release, build }` (24.7.1.0); from 25 on `{ major, minor, release, build }`: both
 * put the build string's pointer at byte 16, and a first word of 25 or more is a major version, not a year.
 */
export function amdsmiVersion(words: readonly number[]): { version: string; layout: PowerInfoLayout } {
  const [w0 = 0, w1 = 0, w2 = 0, w3 = 0] = words
  return w0 >= 25
    ? { version: `${w0}.${w1}.${w2}`, layout: 'v25' }
    : { version: `${w0}.${w1}.${w2}.${w3}`, layout: 'v24' }
}

/** Watts from an amdsmi_power_info_t: the first supported, non-zero field in the order the layout gives. */
export function powerInfoWatts(info: Buffer, layout: PowerInfoLayout): number {
  const fields =
    layout === 'v25'
      ? [Number(info.readBigUInt64LE(0)), info.readUInt32LE(8), info.readUInt32LE(12)]
      : [info.readUInt32LE(0), info.readUInt32LE(4)]
  const supported = fields.filter((w) => w < UNSUPPORTED)
  return supported.find((w) => w > 0) ?? supported[0] ?? Number.NaN
}

/** An AMD GPU (or one die of it) as amdsmi enumerates it. */
export interface AmdSmiDevice extends AccelDevice {
  readonly handle: unknown
  readonly hasEnergyCounter: boolean
}

interface AmdSmiFunctions {
  shutdown: NativeFunction
  statusString?: NativeFunction
  sockets: NativeFunction
  processors: NativeFunction
  energy: NativeFunction
  powerInfo: NativeFunction
  uuid?: NativeFunction
  asicInfo?: NativeFunction
}

/** An initialised amdsmi, shared by the meters built on it. */
export class AmdSmi extends SharedLibrary implements AccelLibrary<AmdSmiDevice> {
  readonly #energy = new AccumulatorOut()
  readonly #info = Buffer.alloc(256)

  constructor(
    private readonly fn: AmdSmiFunctions,
    /** The file that was loaded. */
    readonly library: string,
    readonly version: string,
    readonly layout: PowerInfoLayout,
  ) {
    super(() => fn.shutdown())
  }

  /** `AMDSMI_STATUS_…` text for a status. */
  error(status: number): string {
    return statusText(this.fn.statusString, status, 'amdsmi')
  }

  /** Every GPU of every socket, numbered in that order, with what it can measure. */
  devices(): AmdSmiDevice[] {
    const sockets = this.handles((count, out) => this.fn.sockets(count as never, out as never))
    const devices: AmdSmiDevice[] = []
    sockets.forEach((socket, s) => {
      const processors = this.handles((count, out) =>
        this.fn.processors(socket as never, count as never, out as never),
      )
      for (const handle of processors) devices.push(this.describe(devices.length, handle, `socket ${s}`))
    })
    return devices
  }

  energyUj(device: AmdSmiDevice): Reading {
    const read = this.#energy.read((acc, res, ts) => this.fn.energy(device.handle as never, acc, res, ts))
    return 'uj' in read ? read.uj : { error: this.error(read.status), lost: LOST.has(read.status) }
  }

  powerW(device: AmdSmiDevice): Reading {
    this.#info.fill(0)
    const status = this.fn.powerInfo(device.handle as never, this.#info as never)
    if (status !== SUCCESS) return { error: this.error(status), lost: LOST.has(status) }
    const watts = powerInfoWatts(this.#info, this.layout)
    return Number.isNaN(watts)
      ? { error: 'amdsmi_get_power_info gives no supported field', lost: false }
      : watts
  }

  /** A handle array filled by the NULL-then-count protocol of amdsmi's enumeration calls. */
  private handles(call: (count: number[], out: unknown[] | null) => number): unknown[] {
    const count = [0]
    let status = call(count, null)
    if (status !== SUCCESS) throw new Error(this.error(status))
    if ((count[0] ?? 0) === 0) return []
    const out: unknown[] = new Array(count[0]).fill(null)
    status = call(count, out)
    if (status !== SUCCESS) throw new Error(this.error(status))
    return out.slice(0, count[0])
  }

  private describe(index: number, handle: unknown, group: string): AmdSmiDevice {
    const buffer = Buffer.alloc(4096)
    let name: string | null = null
    if (this.fn.asicInfo?.(handle as never, buffer as never) === SUCCESS) name = cString(buffer, 0, 256)
    buffer.fill(0)
    const length = [64]
    let uuid: string | null = null
    if (this.fn.uuid?.(handle as never, length as never, buffer as never) === SUCCESS)
      uuid = cString(buffer, 0, 64)
    const probe = this.energyUj({ index, uuid: '', name: '', group, handle, hasEnergyCounter: true })
    return {
      index,
      uuid: uuid ?? `amd-index-${index}`,
      name: name ?? `AMD GPU ${index}`,
      group,
      handle,
      hasEnergyCounter: typeof probe === 'number',
    }
  }
}

/** The library names to try. */
function candidates(libraryPath: string | null): string[] {
  if (libraryPath) return [libraryPath]
  return ['libamd_smi.so', '/opt/rocm/lib/libamd_smi.so']
}

/**
 * Loads and initialises amdsmi (AMDSMI_INIT_AMD_GPUS) through koffi, reading its version first to lay out
 * amdsmi_power_info_t; the reason instead when it cannot be.
 */
export function openAmdSmi(libraryPath: string | null): AmdSmi | { readonly reason: string } {
  const absent = libraryPath ? null : noDriver('AMD', AMD_DRIVER_PATHS, candidates(null), 'amdsmi')
  if (absent) return { reason: absent }
  const loaded = loadNative(candidates(libraryPath), 'amdsmi')
  if ('reason' in loaded) return loaded
  let fn: AmdSmiFunctions
  let init: NativeFunction
  let versionOf: NativeFunction
  try {
    fn = bind(loaded)
    init = loaded.required('int amdsmi_init(uint64_t flags)')
    versionOf = loaded.required('int amdsmi_get_lib_version(_Out_ uint8_t *version)')
  } catch (error) {
    return { reason: `${loaded.path} lacks an amdsmi function wattprint needs: ${describeError(error)}` }
  }
  const raw = Buffer.alloc(24)
  const versionStatus = versionOf(raw as never)
  if (versionStatus !== SUCCESS) return { reason: `amdsmi_get_lib_version failed (status ${versionStatus})` }
  const { version, layout } = amdsmiVersion([0, 4, 8, 12].map((o) => raw.readUInt32LE(o)))
  const smi = new AmdSmi(fn, loaded.path, version, layout)
  const status = init(INIT_AMD_GPUS as never)
  if (status !== SUCCESS) return { reason: `amdsmi_init failed: ${smi.error(status)}` }
  return smi
}

function bind(lib: NativeLibrary): AmdSmiFunctions {
  return {
    shutdown: lib.required('int amdsmi_shut_down()'),
    statusString: lib.optional('int amdsmi_status_code_to_string(int status, _Out_ const char **text)'),
    sockets: lib.required('int amdsmi_get_socket_handles(_Inout_ uint32_t *count, _Out_ void **sockets)'),
    processors: lib.required(
      'int amdsmi_get_processor_handles(void *socket, _Inout_ uint32_t *count, _Out_ void **processors)',
    ),
    energy: lib.required(
      'int amdsmi_get_energy_count(void *processor, _Out_ uint64_t *accumulator, _Out_ float *resolution, _Out_ uint64_t *timestamp)',
    ),
    powerInfo: lib.required('int amdsmi_get_power_info(void *processor, _Out_ uint8_t *info)'),
    uuid: lib.optional(
      'int amdsmi_get_gpu_device_uuid(void *processor, _Inout_ unsigned int *length, _Out_ uint8_t *uuid)',
    ),
    asicInfo: lib.optional('int amdsmi_get_gpu_asic_info(void *processor, _Out_ uint8_t *info)'),
  }
}
