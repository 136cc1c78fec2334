/** The load assumed while none can be read (half: CodeCarbon's constant-mode figure). */
export const LOAD_UNKNOWN = 0.5

/**
 * CPU power at machine load `load` in [0, 1]: TDP × (0.1 + 0.9 × L³). 10 % of TDP idle, 21.25 % at half
 * load, all of it at full load: CodeCarbon's curve, kept for comparisons with its figures (the tracker's
 * own estimate is the power model's, see estimateMachinePower and docs/accuracy.md).
 */
export function cpuPowerAtLoad(tdpW: number, load: number): number {
  const l = Math.min(1, Math.max(0, load))
  return tdpW * (0.1 + 0.9 * l ** 3)
}
