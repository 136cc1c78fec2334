import type { MeterSource } from '../core/components.js'
import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import { type AccelDevice, type AccelLibrary, AccelMeter } from './accel-meter.js'
import { type AmdSmi, type AmdSmiDevice, openAmdSmi } from './amdsmi.js'
import { type GpuSelection, selectGpus } from './gpu-select.js'
import { discoverHwmon, HwmonMeter, hwmonGpus } from './hwmon.js'
import { type LevelZero, type LevelZeroDevice, openLevelZero } from './level-zero.js'
import type { Meter } from './meter.js'
import { openRocmSmi, type RocmSmi, type RocmSmiDevice } from './rocm-smi.js'

/** Where the AMD and Intel libraries are, and which GPUs to read. */
export interface VendorOptions {
  readonly amdSmiLibraryPath: string | null
  readonly rocmSmiLibraryPath: string | null
  readonly levelZeroLibraryPath: string | null
  readonly hwmonRoot: string
  /** The AMD selection (gpuIds, else ROCR/HIP/CUDA_VISIBLE_DEVICES). */
  readonly amdSelection: GpuSelection
  /** The Intel selection (gpuIds, else all). */
  readonly intelSelection: GpuSelection
}

/** One way of reading a vendor's GPUs, and why it gave nothing (null: it gave the meters). */
export interface BackendStatus {
  readonly backend: 'amdsmi' | 'rocm-smi' | 'level-zero' | 'hwmon-amdgpu' | 'hwmon-intel'
  readonly unavailable: string | null
}

/** A GPU being measured by one of these backends. */
export interface VendorGpu {
  readonly index: number
  readonly uuid: string
  readonly name: string
  readonly source: MeterSource
}

/** What one vendor's chain found. */
export interface VendorResult {
  readonly meters: Meter[]
  readonly devices: VendorGpu[]
  readonly backends: BackendStatus[]
  readonly notes: string[]
  readonly warnings: TrackerWarning[]
}

const empty = (): VendorResult => ({ meters: [], devices: [], backends: [], notes: [], warnings: [] })

/** Applies a selection, noting what it left out and warning of ids that match nothing. */
function pick<T extends { index: number; uuid: string }>(
  all: readonly T[],
  selection: GpuSelection,
  vendor: string,
  out: VendorResult,
): T[] {
  const { selected, unmatched, note } = selectGpus(all, selection)
  if (note) out.notes.push(`${vendor}: ${note}`)
  if (unmatched.length > 0 && all.length > 0) {
    out.warnings.push({
      code: 'GPU_NOT_FOUND',
      message: `No ${vendor} GPU matches ${unmatched.join(', ')} (from ${selection.from}): those are not measured.`,
    })
  }
  return selected
}

/** Builds energy meters (and power meters for GPUs without a counter) over a library's selected GPUs. */
function libraryMeters<D extends AccelDevice & { readonly hasEnergyCounter?: boolean }>(
  library: AccelLibrary<D>,
  devices: readonly D[],
  sources: { readonly energy: MeterSource; readonly power: MeterSource },
  label: string,
  out: VendorResult,
): void {
  const energy = devices.filter((d) => d.hasEnergyCounter !== false)
  const power = devices.filter((d) => d.hasEnergyCounter === false)
  if (energy.length > 0) out.meters.push(new AccelMeter(library, energy, sources.energy, 'energy', label))
  if (power.length > 0 && library.powerW)
    out.meters.push(new AccelMeter(library, power, sources.power, 'power', label))
  for (const d of devices) {
    out.devices.push({
      index: d.index,
      uuid: d.uuid,
      name: d.name,
      source: d.hasEnergyCounter === false ? sources.power : sources.energy,
    })
  }
  if (power.length > 0) {
    out.notes.push(
      `${label}: GPU ${power.map((d) => d.index).join(', ')} have no energy counter: their power is integrated`,
    )
  }
}

/** hwmon GPU meters of the chips named, when no library could read that vendor. */
function hwmonFallback(
  names: readonly string[],
  backend: BackendStatus['backend'],
  vendor: string,
  options: VendorOptions,
  selection: GpuSelection,
  out: VendorResult,
): void {
  const { gpus, skipped } = hwmonGpus(discoverHwmon(options.hwmonRoot), names)
  for (const reason of skipped) out.notes.push(`hwmon: ${reason}`)
  if (gpus.length === 0) {
    out.backends.push({
      backend,
      unavailable: `no ${names.join(' or ')} hwmon chip with a sensor under ${options.hwmonRoot}`,
    })
    return
  }
  out.backends.push({ backend, unavailable: null })
  const selected = pick(gpus, selection, vendor, out)
  if (selected.length === 0) return
  out.meters.push(
    new HwmonMeter({
      type: 'hwmon',
      id: `hwmon-${names[0]}`,
      component: 'gpu',
      source: 'hwmon',
      channels: selected.map((g) => ({ name: `gpu${g.index}`, sensor: g.sensor })),
    }),
  )
  for (const g of selected) out.devices.push({ index: g.index, uuid: g.uuid, name: g.name, source: 'hwmon' })
  out.notes.push(
    `${vendor} GPU energy from hwmon (${selected.map((g) => `GPU ${g.index} ${g.chip.id}/${g.sensor.file}`).join(', ')}), because no ${vendor} library could be used`,
  )
}

/** A library that opened but whose GPUs could not be listed counts as unavailable, with the reason. */
function attempt<T>(what: string, run: () => T): T | { reason: string } {
  try {
    return run()
  } catch (error) {
    return { reason: `${what} failed: ${describeError(error)}` }
  }
}

/** One library a vendor's GPUs may be read through. */
interface LibraryChoice<D extends AccelDevice, L extends AccelLibrary<D>> {
  readonly backend: BackendStatus['backend']
  /** Its name in messages. */
  readonly label: string
  readonly open: () => L | { readonly reason: string }
  /** Its GPUs, and those set aside with the reason (integrated GPUs). */
  readonly list: (library: L) => { readonly devices: D[]; readonly skipped: readonly string[] }
  readonly sources: { readonly energy: MeterSource; readonly power: MeterSource }
  readonly note: (library: L) => string
}

/** Builds the meters of a library when it opens and lists GPUs; false (with the reason) when not. */
function useLibrary<D extends AccelDevice, L extends AccelLibrary<D>>(
  choice: LibraryChoice<D, L>,
  selection: GpuSelection,
  vendor: string,
  out: VendorResult,
): boolean {
  const library = attempt(choice.label, choice.open)
  if ('reason' in library) {
    out.backends.push({ backend: choice.backend, unavailable: library.reason })
    return false
  }
  const found = attempt(`${choice.label} enumeration`, () => choice.list(library))
  if (!('reason' in found)) for (const reason of found.skipped) out.notes.push(`${choice.label}: ${reason}`)
  if ('reason' in found || found.devices.length === 0) {
    const reason = 'reason' in found ? found.reason : `${choice.label} lists no GPU it can measure`
    out.backends.push({ backend: choice.backend, unavailable: reason })
    // Shut it down again: no meter will.
    library.retain()
    library.release()
    return false
  }
  out.backends.push({ backend: choice.backend, unavailable: null })
  const selected = pick(found.devices, selection, vendor, out)
  libraryMeters(library, selected, choice.sources, choice.label, out)
  out.notes.push(choice.note(library))
  return true
}

/** AMD GPUs: amdsmi, else ROCm SMI, else hwmon `amdgpu`. Never throws. */
export function buildAmdMeters(options: VendorOptions): VendorResult {
  const out = empty()
  const selection = options.amdSelection
  if (selection.kind === 'none') return out
  const amdsmi: LibraryChoice<AmdSmiDevice, AmdSmi> = {
    backend: 'amdsmi',
    label: 'amdsmi',
    open: () => openAmdSmi(options.amdSmiLibraryPath),
    list: (smi) => ({ devices: smi.devices(), skipped: [] }),
    sources: { energy: 'amdsmi-energy', power: 'amdsmi-power' },
    note: (smi) =>
      `AMD GPU energy from amdsmi ${smi.version} (${smi.library}, power-info layout ${smi.layout})`,
  }
  if (useLibrary(amdsmi, selection, 'AMD', out)) return out
  const rocm: LibraryChoice<RocmSmiDevice, RocmSmi> = {
    backend: 'rocm-smi',
    label: 'ROCm SMI',
    open: () => openRocmSmi(options.rocmSmiLibraryPath),
    list: (smi) => ({ devices: smi.devices(), skipped: [] }),
    sources: { energy: 'rocm-smi', power: 'rocm-smi' },
    note: (smi) => `AMD GPU energy from ROCm SMI (${smi.library}), because amdsmi is unavailable`,
  }
  if (useLibrary(rocm, selection, 'AMD', out)) return out
  hwmonFallback(['amdgpu'], 'hwmon-amdgpu', 'AMD', options, selection, out)
  return out
}

/** Intel GPUs: Level Zero Sysman, else hwmon `xe` / `i915` (discrete GPUs only). Never throws. */
export function buildIntelMeters(options: VendorOptions): VendorResult {
  const out = empty()
  const selection = options.intelSelection
  if (selection.kind === 'none') return out
  const levelZero: LibraryChoice<LevelZeroDevice, LevelZero> = {
    backend: 'level-zero',
    label: 'Level Zero',
    open: () => openLevelZero(options.levelZeroLibraryPath),
    list: (ze) => ze.devices(),
    sources: { energy: 'level-zero', power: 'level-zero' },
    note: (ze) => `Intel GPU energy from Level Zero Sysman (${ze.library})`,
  }
  if (useLibrary(levelZero, selection, 'Intel', out)) return out
  hwmonFallback(['xe', 'i915'], 'hwmon-intel', 'Intel', options, selection, out)
  return out
}
