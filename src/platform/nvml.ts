import { createRequire } from 'node:module'
import { describeError } from '../core/errors.js'
import type { GpuIdentity } from './gpu-identity.js'
import { noDriver, SharedLibrary } from './native.js'

// nvmlReturn_t codes wattprint tells apart (the rest are reported by nvmlErrorString).
export const SUCCESS = 0
export const NOT_SUPPORTED = 3
export const GPU_IS_LOST = 15
/** nvmlDeviceArchitecture_t: Ampere and newer average power over 1 s (except the GA100, the A100). */
const ARCH_AMPERE = 7

/** The NVML functions wattprint calls, bound through koffi. Out-parameters are one-element arrays. */
interface NvmlFunctions {
  init(): number
  shutdown(): number
  errorString(rc: number): string
  getCount(out: number[]): number
  getHandleByIndex(index: number, out: unknown[]): number
  getName(device: unknown, buffer: Buffer, length: number): number
  getUuid(device: unknown, buffer: Buffer, length: number): number
  getTotalEnergy(device: unknown, out: (number | bigint)[]): number
  getPowerUsage(device: unknown, out: number[]): number
  getUtilizationRates?(device: unknown, rates: Buffer): number
  getEnforcedPowerLimit?(device: unknown, out: number[]): number
  getArchitecture?(device: unknown, out: number[]): number
  getHandleByUuid?(uuid: string, out: unknown[]): number
  getParentOfMig?(device: unknown, out: unknown[]): number
  /** nvmlDeviceGetComputeRunningProcesses_v3: 24-byte nvmlProcessInfo_t records into `infos`. */
  getComputeProcesses?(device: unknown, count: number[], infos: Buffer | null): number
  /** nvmlDeviceGetProcessUtilization: 32-byte samples newer than `lastSeenUs`. */
  getProcessUtilization?(device: unknown, samples: Buffer | null, count: number[], lastSeenUs: bigint): number
}

/** A GPU NVML can see. */
export interface NvmlDevice extends GpuIdentity {
  readonly name: string
  readonly handle: unknown
  /** Whether nvmlDeviceGetTotalEnergyConsumption answers (Volta and newer). */
  readonly hasEnergyCounter: boolean
  /** How nvmlDeviceGetPowerUsage reads: a 1 s average (Ampere+, not A100) or instantaneous. */
  readonly powerMode: 'instant' | 'average'
  readonly powerLimitW: number | null
}

/** An initialised NVML library, shared by the meters built on it and shut down when the last closes. */
export class Nvml extends SharedLibrary {
  constructor(
    readonly fn: NvmlFunctions,
    /** The file that was loaded. */
    readonly library: string,
  ) {
    // nvmlShutdown once the last meter using the library is done with it.
    super(() => fn.shutdown())
  }

  /** `NVML_ERROR_…` text for a return code. */
  error(rc: number): string {
    try {
      return `${this.fn.errorString(rc)} (NVML return code ${rc})`
    } catch {
      return `NVML return code ${rc}`
    }
  }

  /** Every GPU NVML enumerates, with what it can measure. */
  devices(): NvmlDevice[] {
    const count = [0]
    const rc = this.fn.getCount(count)
    if (rc !== SUCCESS) throw new Error(`nvmlDeviceGetCount: ${this.error(rc)}`)
    const devices: NvmlDevice[] = []
    for (let index = 0; index < (count[0] ?? 0); index++) {
      const out: unknown[] = [null]
      const found = this.fn.getHandleByIndex(index, out)
      if (found !== SUCCESS) continue
      devices.push(this.describe(index, out[0]))
    }
    return devices
  }

  /** The parent GPU's UUID of a MIG instance (`MIG-…`), when NVML can tell. */
  migParentUuid(migUuid: string): string | null {
    if (!this.fn.getHandleByUuid || !this.fn.getParentOfMig) return null
    const mig: unknown[] = [null]
    if (this.fn.getHandleByUuid(migUuid, mig) !== SUCCESS) return null
    const parent: unknown[] = [null]
    if (this.fn.getParentOfMig(mig[0], parent) !== SUCCESS) return null
    return this.text((buffer) => this.fn.getUuid(parent[0], buffer, buffer.length))
  }

  private describe(index: number, handle: unknown): NvmlDevice {
    const name = this.text((buffer) => this.fn.getName(handle, buffer, buffer.length)) ?? `GPU ${index}`
    const uuid = this.text((buffer) => this.fn.getUuid(handle, buffer, buffer.length)) ?? `GPU-index-${index}`
    const energy: (number | bigint)[] = [0]
    const hasEnergyCounter = this.fn.getTotalEnergy(handle, energy) === SUCCESS
    const arch = [0]
    const archKnown = this.fn.getArchitecture?.(handle, arch) === SUCCESS
    // Ampere and newer report a 1 s average, except the GA100 (A100), which, like older parts, is instant.
    const averaged = archKnown ? (arch[0] ?? 0) >= ARCH_AMPERE && !/A100/.test(name) : false
    const limit = [0]
    const limitKnown = this.fn.getEnforcedPowerLimit?.(handle, limit) === SUCCESS
    return {
      index,
      uuid,
      name,
      handle,
      hasEnergyCounter,
      powerMode: averaged ? 'average' : 'instant',
      powerLimitW: limitKnown ? (limit[0] ?? 0) / 1000 : null,
    }
  }

  private text(call: (buffer: Buffer) => number): string | null {
    const buffer = Buffer.alloc(96)
    if (call(buffer) !== SUCCESS) return null
    const end = buffer.indexOf(0)
    return buffer.toString('utf8', 0, end === -1 ? buffer.length : end)
  }
}

/**
 * Where the NVIDIA kernel driver shows itself: its control device, its procfs folder, and WSL's GPU device
 * (WSL has no /dev/nvidiactl). NVML talks to the driver through these; where none exists, nvmlInit can only
 * fail with "driver not loaded".
 */
const DRIVER_PATHS = ['/dev/nvidiactl', '/proc/driver/nvidia', '/dev/dxg']

/** The library names to try, by platform. */
function candidates(libraryPath: string | null): string[] {
  if (libraryPath) return [libraryPath]
  if (process.platform === 'win32') {
    return ['nvml.dll', 'C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvml.dll']
  }
  return ['libnvidia-ml.so.1', '/usr/lib/wsl/lib/libnvidia-ml.so.1']
}

type Koffi = {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown }
}

/**
 * Loads and initialises NVML through koffi (an optional dependency, loaded only here, inside the
 * sampler). Returns the reason instead when no driver is there (and no library path was named), or when
 * koffi, the library, a required function or nvmlInit fails.
 */
export function openNvml(libraryPath: string | null): Nvml | { readonly reason: string } {
  const absent = libraryPath ? null : noDriver('NVIDIA', DRIVER_PATHS, ['libnvidia-ml.so.1'], 'NVML')
  if (absent) return { reason: absent }
  let koffi: Koffi
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi
  } catch (error) {
    return {
      reason: `koffi (the optional dependency that calls NVML) is not installed: ${describeError(error)}`,
    }
  }
  let lib: ReturnType<Koffi['load']> | undefined
  let library = ''
  const failures: string[] = []
  for (const candidate of candidates(libraryPath)) {
    try {
      lib = koffi.load(candidate)
      library = candidate
      break
    } catch (error) {
      failures.push(`${candidate}: ${describeError(error)}`)
    }
  }
  if (!lib) return { reason: `NVML library not found (${failures.join('; ')})` }
  const loaded = lib
  const required = (signature: string) => loaded.func(signature) as (...args: never[]) => number
  const optional = (signature: string) => {
    try {
      return loaded.func(signature) as (...args: never[]) => number
    } catch {
      return undefined
    }
  }
  let fn: NvmlFunctions
  try {
    fn = {
      init: required('int nvmlInit_v2()'),
      shutdown: required('int nvmlShutdown()'),
      errorString: loaded.func('const char *nvmlErrorString(int)') as (rc: number) => string,
      getCount: required('int nvmlDeviceGetCount_v2(_Out_ unsigned int *count)'),
      getHandleByIndex: required(
        'int nvmlDeviceGetHandleByIndex_v2(unsigned int index, _Out_ void **device)',
      ),
      getName: required('int nvmlDeviceGetName(void *device, _Out_ uint8_t *name, unsigned int length)'),
      getUuid: required('int nvmlDeviceGetUUID(void *device, _Out_ uint8_t *uuid, unsigned int length)'),
      getTotalEnergy: required(
        'int nvmlDeviceGetTotalEnergyConsumption(void *device, _Out_ unsigned long long *energy)',
      ),
      getPowerUsage: required('int nvmlDeviceGetPowerUsage(void *device, _Out_ unsigned int *power)'),
      // nvmlUtilization_t is { unsigned int gpu; unsigned int memory }: read from 8 bytes.
      getUtilizationRates: optional('int nvmlDeviceGetUtilizationRates(void *device, _Out_ uint8_t *rates)'),
      getEnforcedPowerLimit: optional(
        'int nvmlDeviceGetEnforcedPowerLimit(void *device, _Out_ unsigned int *limit)',
      ),
      getArchitecture: optional('int nvmlDeviceGetArchitecture(void *device, _Out_ unsigned int *arch)'),
      getHandleByUuid: optional('int nvmlDeviceGetHandleByUUID(const char *uuid, _Out_ void **device)'),
      getParentOfMig: optional(
        'int nvmlDeviceGetDeviceHandleFromMigDeviceHandle(void *mig, _Out_ void **device)',
      ),
      getComputeProcesses: optional(
        'int nvmlDeviceGetComputeRunningProcesses_v3(void *device, _Inout_ unsigned int *count, _Out_ uint8_t *infos)',
      ),
      getProcessUtilization: optional(
        'int nvmlDeviceGetProcessUtilization(void *device, _Out_ uint8_t *samples, _Inout_ unsigned int *count, unsigned long long lastSeen)',
      ),
    } as NvmlFunctions
  } catch (error) {
    return { reason: `${library} lacks an NVML function wattprint needs: ${describeError(error)}` }
  }
  const nvml = new Nvml(fn, library)
  const rc = fn.init()
  if (rc !== SUCCESS) return { reason: `nvmlInit failed: ${nvml.error(rc)}` }
  return nvml
}
