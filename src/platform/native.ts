import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, delimiter, join } from 'node:path'
import { describeError } from '../core/errors.js'

/** A C function bound through koffi. Out-parameters are one-element arrays (or arrays of n handles). */
export type NativeFunction = (...args: never[]) => number

/** A loaded shared library: its functions by signature. */
export interface NativeLibrary {
  /** The file that was loaded. */
  readonly path: string
  /** A function the library must have (throws when it lacks it). */
  required(signature: string): NativeFunction
  /** A function the library may lack (older versions). */
  optional(signature: string): NativeFunction | undefined
  /** koffi.decode(): a value of `type` at `offset` of a buffer (a pointer in a handle array). */
  decode(buffer: Buffer, offset: number, type: string): unknown
}

type Koffi = {
  load(path: string): { func(signature: string): unknown }
  decode(buffer: Buffer, offset: number, type: string): unknown
}

/**
 * Loads the first of `candidates` that exists through koffi (an optional dependency, required only here, in
 * the sampler's thread, when a GPU library is wanted); the reason instead when koffi or every candidate
 * fails. `what` names the library in that reason (`amdsmi`).
 */
export function loadNative(
  candidates: readonly string[],
  what: string,
): NativeLibrary | { readonly reason: string } {
  let koffi: Koffi
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi
  } catch (error) {
    return {
      reason: `koffi (the optional dependency that calls ${what}) is not installed: ${describeError(error)}`,
    }
  }
  const failures: string[] = []
  for (const candidate of candidates) {
    try {
      const lib = koffi.load(candidate)
      return {
        path: candidate,
        required: (signature) => lib.func(signature) as NativeFunction,
        optional: (signature) => {
          try {
            return lib.func(signature) as NativeFunction
          } catch {
            return undefined
          }
        },
        decode: (buffer, offset, type) => koffi.decode(buffer, offset, type),
      }
    } catch (error) {
      failures.push(`${candidate}: ${describeError(error)}`)
    }
  }
  return { reason: `${what} library not found (${failures.join('; ')})` }
}

/**
 * Where AMD's GPU kernel driver shows itself: ROCm's compute device (what a container is given) and the
 * amdgpu module. amdsmi and ROCm SMI read the GPUs through it.
 */
export const AMD_DRIVER_PATHS: readonly string[] = ['/dev/kfd', '/sys/module/amdgpu']

/** Where Intel's GPU kernel drivers show themselves: the i915 and xe modules, which Level Zero reads. */
export const INTEL_DRIVER_PATHS: readonly string[] = ['/sys/module/i915', '/sys/module/xe']

/**
 * Why a vendor's GPU library is not worth loading on this Linux machine, or null when it may work: none of
 * the paths where the vendor's kernel driver shows itself exists, and no copy of the library was put on
 * LD_LIBRARY_PATH (as a test's stub, or a driver in an odd place, would be). Without the driver the library
 * can only fail to find a GPU, and loading koffi to try costs the sampler's thread about 15 ms of its
 * start on a machine without that vendor's GPU, which is most of them. A library path named in the
 * options is always tried: the caller does not ask.
 */
export function noDriver(
  vendor: string,
  driverPaths: readonly string[],
  libraries: readonly string[],
  what: string,
): string | null {
  if (process.platform !== 'linux' || driverPaths.some((path) => existsSync(path))) return null
  const names = libraries.map((library) => basename(library))
  const onLibraryPath = (process.env.LD_LIBRARY_PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && names.some((name) => existsSync(join(dir, name))))
  if (onLibraryPath) return null
  return `no ${vendor} driver on this machine (none of ${driverPaths.join(', ')}): ${what} was not loaded`
}

/** A NUL-terminated string at `offset` of a buffer, at most `length` bytes; null when empty. */
export function cString(buffer: Buffer, offset = 0, length = buffer.length - offset): string | null {
  const slice = buffer.subarray(offset, offset + length)
  const end = slice.indexOf(0)
  const text = slice.toString('utf8', 0, end === -1 ? slice.length : end).trim()
  return text.length > 0 ? text : null
}

/**
 * Shuts a library down when the last meter using it is done (amdsmi, ROCm SMI and Level Zero are
 * initialised once per sampler thread and shared by its meters).
 */
export class SharedLibrary {
  #users = 0
  #down = false

  constructor(private readonly shutdown: () => void) {}

  /** A meter now uses the library. */
  retain(): void {
    this.#users += 1
  }

  /** A meter is done with the library. */
  release(): void {
    this.#users -= 1
    if (this.#users <= 0 && !this.#down) {
      this.#down = true
      try {
        this.shutdown()
      } catch {}
    }
  }
}

/**
 * A status code as the library's own text (`AMDSMI_STATUS_NOT_FOUND: …`) with the number, through its
 * `int f(int status, const char **text)` function when it has one.
 */
export function statusText(toText: NativeFunction | undefined, status: number, label: string): string {
  const text: (string | null)[] = [null]
  try {
    if (toText?.(status as never, text as never) === 0 && text[0])
      return `${text[0]} (${label} status ${status})`
  } catch {}
  return `${label} status ${status}`
}

/**
 * The out-parameters of an AMD energy call (`uint64 *accumulator, float *resolution_uJ, uint64 *timestamp`),
 * reused at every read: µJ = accumulator × resolution.
 */
export class AccumulatorOut {
  readonly #acc: (number | bigint)[] = [0]
  readonly #resolution: number[] = [0]
  readonly #timestamp: (number | bigint)[] = [0]

  /** Calls `call` with the three out-parameters: µJ, or the failing status. */
  read(
    call: (acc: never, resolution: never, timestamp: never) => number,
  ): { uj: number } | { status: number } {
    const status = call(this.#acc as never, this.#resolution as never, this.#timestamp as never)
    if (status !== 0) return { status }
    return { uj: Number(this.#acc[0]) * (this.#resolution[0] ?? 0) }
  }
}
