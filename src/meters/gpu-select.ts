import type { GpuIdentity } from '../platform/gpu-identity.js'

/**
 * Which GPUs to measure, as asked: `all`, `none`, or a list of indices and UUID prefixes (`0`, `GPU-8f6c`,
 * `MIG-…`), with where the list came from.
 */
export type GpuSelection =
  | { readonly kind: 'all'; readonly from: string }
  | { readonly kind: 'none'; readonly from: string }
  | {
      readonly kind: 'list'
      readonly ids: readonly string[]
      readonly from: string
      /**
       * A first selection the ids are relative to (ROCm: HIP_VISIBLE_DEVICES indices count among the GPUs
       * ROCR_VISIBLE_DEVICES left visible).
       */
      readonly within?: readonly string[]
    }

const split = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

/**
 * The selection in force: the `gpuIds` option, else CUDA_VISIBLE_DEVICES (indices or UUIDs; empty or
 * `-1` means none), else NVIDIA_VISIBLE_DEVICES (`all`, `none`, `void`, or a list), else all.
 */
export function gpuSelection(
  gpuIds: readonly string[] | null,
  env: Readonly<Record<string, string | undefined>> = process.env,
): GpuSelection {
  if (gpuIds) return { kind: 'list', ids: gpuIds, from: 'gpuIds' }
  const cuda = env.CUDA_VISIBLE_DEVICES
  if (cuda !== undefined) {
    const ids = split(cuda)
    // CUDA stops at the first invalid entry: `-1` (or nothing) hides every GPU.
    const stop = ids.findIndex((id) => id.startsWith('-'))
    const kept = stop === -1 ? ids : ids.slice(0, stop)
    if (kept.length === 0) return { kind: 'none', from: 'CUDA_VISIBLE_DEVICES' }
    return { kind: 'list', ids: kept, from: 'CUDA_VISIBLE_DEVICES' }
  }
  const nvidia = env.NVIDIA_VISIBLE_DEVICES?.trim()
  if (nvidia !== undefined && nvidia !== '') {
    if (nvidia === 'all') return { kind: 'all', from: 'NVIDIA_VISIBLE_DEVICES' }
    if (nvidia === 'none' || nvidia === 'void') return { kind: 'none', from: 'NVIDIA_VISIBLE_DEVICES' }
    return { kind: 'list', ids: split(nvidia), from: 'NVIDIA_VISIBLE_DEVICES' }
  }
  return { kind: 'all', from: 'default' }
}

/** A visible-devices variable's entries, up to the first invalid one (`-1`); null when unset. */
function visibleList(value: string | undefined): string[] | null {
  if (value === undefined) return null
  const ids = split(value)
  const stop = ids.findIndex((id) => id.startsWith('-'))
  return stop === -1 ? ids : ids.slice(0, stop)
}

/**
 * The AMD GPUs to measure, as ROCm picks them: the `gpuIds` option, else ROCR_VISIBLE_DEVICES (indices or
 * UUIDs), then HIP_VISIBLE_DEVICES, else CUDA_VISIBLE_DEVICES (which HIP also honours), counted among the
 * GPUs ROCR left visible. An empty list (or one starting with `-1`) hides every GPU.
 */
export function amdGpuSelection(
  gpuIds: readonly string[] | null,
  env: Readonly<Record<string, string | undefined>> = process.env,
): GpuSelection {
  if (gpuIds) return { kind: 'list', ids: gpuIds, from: 'gpuIds' }
  const rocr = visibleList(env.ROCR_VISIBLE_DEVICES)
  const hipFrom = env.HIP_VISIBLE_DEVICES !== undefined ? 'HIP_VISIBLE_DEVICES' : 'CUDA_VISIBLE_DEVICES'
  const hip = visibleList(env.HIP_VISIBLE_DEVICES ?? env.CUDA_VISIBLE_DEVICES)
  if (rocr?.length === 0) return { kind: 'none', from: 'ROCR_VISIBLE_DEVICES' }
  if (hip?.length === 0) return { kind: 'none', from: hipFrom }
  if (rocr && hip)
    return { kind: 'list', ids: hip, within: rocr, from: `ROCR_VISIBLE_DEVICES and ${hipFrom}` }
  if (rocr) return { kind: 'list', ids: rocr, from: 'ROCR_VISIBLE_DEVICES' }
  if (hip) return { kind: 'list', ids: hip, from: hipFrom }
  return { kind: 'all', from: 'default' }
}

/** The GPUs a selection keeps, and the ids it named that match none. */
export function selectGpus<T extends GpuIdentity>(
  devices: readonly T[],
  selection: GpuSelection,
): { readonly selected: T[]; readonly unmatched: string[]; readonly note: string | null } {
  if (selection.kind === 'all') return { selected: [...devices], unmatched: [], note: null }
  if (selection.kind === 'none') {
    return { selected: [], unmatched: [], note: `no GPU measured: ${selection.from} selects none` }
  }
  const ids = selection.ids.map((id) => id.trim())
  // Inside a container, NVIDIA_VISIBLE_DEVICES=2,3 has already been applied by the runtime: the two GPUs
  // are enumerated as 0 and 1 there. Host indices beyond what is visible mean exactly that.
  if (
    selection.from === 'NVIDIA_VISIBLE_DEVICES' &&
    ids.every((id) => /^\d+$/.test(id) && Number(id) >= devices.length)
  ) {
    return {
      selected: [...devices],
      unmatched: [],
      note: 'NVIDIA_VISIBLE_DEVICES names host GPU indices the container runtime already applied: all visible GPUs measured',
    }
  }
  // Relative ids count among the GPUs the first selection kept, in its order.
  const visible = selection.within
    ? selectGpus(devices, { kind: 'list', ids: selection.within, from: selection.from }).selected
    : null
  const selected: T[] = []
  const unmatched: string[] = []
  for (const id of ids) {
    const match = /^\d+$/.test(id)
      ? visible
        ? visible[Number(id)]
        : devices.find((d) => d.index === Number(id))
      : (visible ?? devices).find((d) => d.uuid.toLowerCase().startsWith(id.toLowerCase()))
    if (!match) unmatched.push(id)
    else if (!selected.includes(match)) selected.push(match)
  }
  return { selected, unmatched, note: null }
}
