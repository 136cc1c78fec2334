// The vocabulary every figure is labelled with, from the meters to the sinks: which component it is, where
// it came from and by which method. It sits below all of them, so that accounting and output need not
// import the meters.

/** A hardware component whose energy is accounted separately. */
export type Component = 'cpu' | 'gpu' | 'ram'

export const COMPONENTS: readonly Component[] = ['cpu', 'gpu', 'ram']

/**
 * What a meter measures: a component; `node`, the whole server at the wall (an ACPI power meter), which
 * includes every component and the power supply's losses, so it is shown beside their sum, never added to
 * it; or `rest`, the rest of the machine (board, fans, drives, power-supply losses) as the power model has
 * it, which is not one of CodeCarbon's components and is added to them only for the wall figure.
 */
export type MeterComponent = Component | 'node' | 'rest'

/**
 * Where a component's figure comes from. Each source implies a method: `rapl*`, `nvml-*`, `nvidia-smi`,
 * `amdsmi-*`, `rocm-smi`, `level-zero`, `hwmon` and `acpi-power-meter` (the node's) are measured; `cpu-model`,
 * `ram-model`, `rest-model` (the power model's components, docs/accuracy.md) and `constant` (a wattage the
 * user set) are estimated.
 */
export type MeterSource =
  | 'rapl'
  | 'rapl-psys'
  | 'rapl-dram'
  | 'cpu-model'
  | 'ram-model'
  | 'rest-model'
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
