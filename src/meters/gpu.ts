import type { MeterSource } from '../core/components.js'
import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import { type NvmlDevice, openNvml } from '../platform/nvml.js'
import { type GpuSelection, selectGpus } from './gpu-select.js'
import { type BackendStatus, buildAmdMeters, buildIntelMeters, type VendorOptions } from './gpu-vendors.js'
import type { Meter } from './meter.js'
import { NvidiaSmiMeter, probeNvidiaSmi } from './nvidia-smi.js'
import { NvmlMeter } from './nvml.js'

/** Plain data from which the sampler builds the GPU meters: NVML first, nvidia-smi when NVML fails. */
export interface GpuMeterSpec {
  readonly type: 'gpu'
  readonly nvmlLibraryPath: string | null
  /** false: integrate nvmlDeviceGetPowerUsage even where a GPU has an energy counter. */
  readonly nvmlEnergyCounter: boolean
  readonly nvidiaSmiPath: string
  readonly selection: GpuSelection
  readonly intervalMs: number
  /** AMD (amdsmi, ROCm SMI, hwmon) and Intel (Level Zero, hwmon); null: NVIDIA only. */
  readonly vendors: VendorOptions | null
}

/** A GPU being measured. */
export interface GpuDescription {
  readonly index: number
  readonly uuid: string
  readonly name: string
  readonly source: MeterSource
  readonly powerLimitW: number | null
}

/** What GPU detection found, for the record, `detect` and the log. */
export interface GpuReport {
  readonly devices: readonly GpuDescription[]
  /** Why NVML, and nvidia-smi, gave no meter (null: it did, or was not needed). */
  readonly nvmlUnavailable: string | null
  readonly nvidiaSmiUnavailable: string | null
  /** The AMD and Intel backends tried, and why each gave nothing. */
  readonly backends: readonly BackendStatus[]
  readonly notes: readonly string[]
  readonly warnings: readonly TrackerWarning[]
}

/** `2 x NVIDIA H100 80GB HBM3`, or `1 x A, 1 x B` for a mixed machine (CodeCarbon's form). */
export function gpuModelSummary(devices: readonly { readonly name: string }[]): string | null {
  if (devices.length === 0) return null
  const counts = new Map<string, number>()
  for (const d of devices) counts.set(d.name, (counts.get(d.name) ?? 0) + 1)
  return [...counts].map(([name, n]) => `${n} x ${name}`).join(', ')
}

/** Whether a backend's reason says there is no such GPU here (a note), not that one failed (a warning). */
const absent = (reason: string | null) =>
  reason === null || /not found|not installed|no GPU|no NVIDIA driver/.test(reason)

/**
 * Builds the GPU meters a spec asks for: NVIDIA's, AMD's and Intel's, each vendor by its best way; never
 * throws (a GPU problem must not stop the CPU's meters).
 */
export function buildGpuMeters(spec: GpuMeterSpec): { meters: Meter[]; report: GpuReport } {
  const nvidia = buildNvidiaMeters(spec)
  if (!spec.vendors) return nvidia
  const vendors = [buildAmdMeters(spec.vendors), buildIntelMeters(spec.vendors)]
  const found = vendors.flatMap((v) => v.devices)
  const report = nvidia.report
  return {
    meters: [...nvidia.meters, ...vendors.flatMap((v) => v.meters)],
    report: {
      ...report,
      devices: [...report.devices, ...found.map((d) => ({ ...d, powerLimitW: null }))],
      backends: vendors.flatMap((v) => v.backends),
      // "No NVIDIA GPU" is no news on a machine whose AMD or Intel GPUs are measured.
      notes: [
        ...(found.length > 0
          ? report.notes.filter((n) => !n.startsWith('no NVIDIA GPU found'))
          : report.notes),
        ...vendors.flatMap((v) => v.notes),
      ],
      warnings: [...report.warnings, ...vendors.flatMap((v) => v.warnings)],
    },
  }
}

/** NVML first, nvidia-smi when NVML fails. */
function buildNvidiaMeters(spec: GpuMeterSpec): { meters: Meter[]; report: GpuReport } {
  const notes: string[] = []
  const warnings: TrackerWarning[] = []
  if (spec.selection.kind === 'none') {
    notes.push(`GPU not measured: ${spec.selection.from} selects no GPU`)
    return {
      meters: [],
      report: {
        devices: [],
        nvmlUnavailable: null,
        nvidiaSmiUnavailable: null,
        backends: [],
        notes,
        warnings,
      },
    }
  }
  const unmatched = (ids: readonly string[]) => {
    if (ids.length === 0) return
    warnings.push({
      code: 'GPU_NOT_FOUND',
      message: `No GPU matches ${ids.join(', ')} (from ${spec.selection.from}): those are not measured.`,
    })
  }

  let nvmlUnavailable: string | null = null
  try {
    const nvml = openNvml(spec.nvmlLibraryPath)
    if ('reason' in nvml) nvmlUnavailable = nvml.reason
    else {
      const all = nvml.devices()
      let selection = spec.selection
      if (selection.kind === 'list') {
        // A MIG instance has no energy counter of its own: its parent GPU is measured, and said so.
        const ids = selection.ids.map((id) => {
          if (!id.startsWith('MIG-')) return id
          const parent = nvml.migParentUuid(id)
          if (parent) notes.push(`${id} is a MIG instance: its whole GPU ${parent} is measured`)
          return parent ?? id
        })
        selection = { ...selection, ids }
      }
      const { selected, unmatched: missing, note } = selectGpus(all, selection)
      if (note) notes.push(note)
      unmatched(missing)
      if (all.length === 0) {
        nvmlUnavailable = 'NVML lists no GPU'
        nvml.release()
      } else {
        const counted = (d: NvmlDevice) => d.hasEnergyCounter && spec.nvmlEnergyCounter
        const energy = selected.filter(counted)
        const power = selected.filter((d) => !counted(d))
        const meters: Meter[] = []
        if (energy.length > 0) meters.push(new NvmlMeter(nvml, energy, 'nvml-energy'))
        if (power.length > 0) meters.push(new NvmlMeter(nvml, power, 'nvml-power'))
        if (meters.length === 0) nvml.release()
        const devices = selected.map((d) => describeNvml(d, counted(d)))
        notes.push(
          `GPU energy from NVML (${nvml.library}): ${devices.map((d) => `GPU ${d.index} ${d.name} by ${d.source}`).join(', ') || 'no GPU selected'}`,
        )
        const lacking = power.filter((d) => !d.hasEnergyCounter)
        if (lacking.length > 0) {
          notes.push(
            `GPU ${lacking.map((d) => d.index).join(', ')} lack an energy counter (pre-Volta or virtual): their power is integrated`,
          )
        }
        if (lacking.length < power.length) {
          notes.push(
            'nvmlEnergyCounter is false: GPU power is integrated instead of the energy counters read',
          )
        }
        return {
          meters,
          report: {
            devices,
            nvmlUnavailable: null,
            nvidiaSmiUnavailable: null,
            backends: [],
            notes,
            warnings,
          },
        }
      }
    }
  } catch (error) {
    nvmlUnavailable = `NVML failed: ${describeError(error)}`
  }

  const probe = probeNvidiaSmi(spec.nvidiaSmiPath)
  if ('reason' in probe) {
    const report = {
      devices: [],
      nvmlUnavailable,
      nvidiaSmiUnavailable: probe.reason,
      backends: [],
      notes,
      warnings,
    }
    if (absent(nvmlUnavailable) && absent(probe.reason)) {
      notes.push(
        `no NVIDIA GPU found (NVML: ${nvmlUnavailable}; nvidia-smi: ${probe.reason}): GPU energy not counted`,
      )
    } else {
      warnings.push({
        code: 'GPU_UNAVAILABLE',
        message: `An NVIDIA GPU seems present but cannot be read: NVML: ${nvmlUnavailable}; nvidia-smi: ${probe.reason}. GPU energy is not counted.`,
      })
      notes.push(`GPU energy not counted: NVML: ${nvmlUnavailable}; nvidia-smi: ${probe.reason}`)
    }
    return { meters: [], report }
  }
  const { selected, unmatched: missing, note } = selectGpus(probe.devices, spec.selection)
  if (note) notes.push(note)
  unmatched(missing)
  const devices: GpuDescription[] = selected.map(({ index, uuid, name }) => ({
    index,
    uuid,
    name,
    source: 'nvidia-smi',
    powerLimitW: null,
  }))
  notes.push(
    `GPU power from nvidia-smi (${probe.field}, streamed every ${spec.intervalMs} ms), because NVML is unavailable: ${nvmlUnavailable}`,
  )
  const meters =
    selected.length > 0 ? [new NvidiaSmiMeter(spec.nvidiaSmiPath, probe, selected, spec.intervalMs)] : []
  return {
    meters,
    report: { devices, nvmlUnavailable, nvidiaSmiUnavailable: null, backends: [], notes, warnings },
  }
}

function describeNvml(d: NvmlDevice, counted: boolean): GpuDescription {
  return {
    index: d.index,
    uuid: d.uuid,
    name: d.name,
    source: counted ? 'nvml-energy' : 'nvml-power',
    powerLimitW: d.powerLimitW,
  }
}
