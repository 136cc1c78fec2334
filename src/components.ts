// The vocabulary every figure is labelled with, from the meters to the sinks: which component it is, where
// it came from and by which method. It sits below all of them, so that accounting and output need not
// import the meters.

/** A hardware component whose energy is accounted separately. */
export type Component = 'cpu' | 'gpu' | 'ram'

export const COMPONENTS: readonly Component[] = ['cpu', 'gpu', 'ram']

/**
 * What a meter measures: a component, or `node`, the whole server at the wall (an ACPI power meter). A node
 * figure includes every component (and the power supply's losses), so it is shown beside their sum, never
 * added to it.
 */
export type MeterComponent = Component | 'node'

/**
 * Where a component's figure comes from. Each source implies a method: `rapl*`, `nvml-*`, `nvidia-smi`,
 * `amdsmi-*`, `rocm-smi`, `level-zero`, `hwmon` and `acpi-power-meter` (the node's) are measured; `cpu-tdp`,
 * `ram-modules`, `ram-per-gb` and `constant` are estimated.
 */
export type MeterSource =
  | 'rapl'
  | 'rapl-psys'
  | 'rapl-dram'
  | 'cpu-tdp'
  | 'ram-modules'
  | 'ram-per-gb'
  | 'constant'
  | 'nvml-energy'
  | 'nvml-power'
  | 'nvidia-smi'
  | 'amdsmi-energy'
  | 'amdsmi-power'
  | 'rocm-smi'
  | 'level-zero'
  | 'hwmon'
  | 'acpi-power-meter'

/** Whether a figure was read off the hardware or modelled. */
export type MeterMethod = 'measured' | 'estimated'
