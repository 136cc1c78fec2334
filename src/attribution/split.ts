/**
 * Whether a job is charged for its share of the machine's idle power. `exclude` (the default, as Kepler):
 * the idle floor is the machine's, drawn whether the job runs or not, so it is reported on its own;
 * `include`: the job also carries its share of it, as a job that reserved the machine would.
 */
export type IdleMode = 'include' | 'exclude'

/** One component's energy in one interval, split three ways that add up to the machine's exactly. */
export interface ComponentSplit {
  /** The job's joules. */
  readonly jobJ: number
  /** Idle joules not charged to the job. */
  readonly idleJ: number
  /** Active joules of other processes. */
  readonly othersJ: number
}

/**
 * Splits `machineJ` of one interval: the idle part is `idleW` × the interval (never more than was
 * measured), the rest is active, and the job gets `share` of the active part (and of the idle part with
 * `include`). jobJ + idleJ + othersJ === machineJ up to one rounding of the last term.
 */
export function splitEnergy(
  machineJ: number,
  idleW: number,
  durationS: number,
  share: number,
  idle: IdleMode,
): ComponentSplit {
  const total = Number.isFinite(machineJ) && machineJ > 0 ? machineJ : 0
  const s = Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0
  const idleTotalJ = Math.min(total, Math.max(0, Number.isFinite(idleW * durationS) ? idleW * durationS : 0))
  const activeJ = total - idleTotalJ
  const jobJ = s * activeJ + (idle === 'include' ? s * idleTotalJ : 0)
  const idleJ = idle === 'include' ? idleTotalJ - s * idleTotalJ : idleTotalJ
  // The remainder by difference, so that the three add up to the machine's energy.
  return { jobJ, idleJ, othersJ: Math.max(0, total - jobJ - idleJ) }
}

/** Where an idle power figure came from. */
export type IdleSource = 'observed' | 'estimate' | 'none'

/**
 * The idle power of one component: the lowest power seen while the machine (or GPU) was nearly idle,
 * else a prior (the CPU estimate's own idle term), else none known (then everything counts as active).
 */
export class IdlePower {
  #lowestW: number | null = null

  constructor(
    private readonly priorW: number | null,
    /** The activity (load in [0, 1]) at or below which a reading counts as idle. */
    private readonly idleActivity = 0.1,
  ) {}

  /** Offers one interval's mean power at the given activity. */
  observe(powerW: number, activity: number): void {
    if (!Number.isFinite(powerW) || powerW < 0 || !(activity <= this.idleActivity)) return
    if (this.#lowestW === null || powerW < this.#lowestW) this.#lowestW = powerW
  }

  /** The idle power in force, W. */
  get watts(): number {
    return this.#lowestW ?? this.priorW ?? 0
  }

  get source(): IdleSource {
    if (this.#lowestW !== null) return 'observed'
    return this.priorW !== null ? 'estimate' : 'none'
  }
}

/** a / b as a share in [0, 1]; 0 when either is unknown or b is not positive. */
export const shareOf = (a: number | null, b: number | null): number =>
  a !== null && b !== null && b > 0 && Number.isFinite(a / b) ? Math.min(1, Math.max(0, a / b)) : 0
