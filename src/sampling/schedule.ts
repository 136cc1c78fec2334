import { msToNs } from '../core/units.js'

/**
 * Calls `tick` on an absolute schedule, t0 + k × period, never on a drifting setInterval. A tick that
 * comes late (a blocked thread) is not repeated: the next one lands on the next future slot, and the
 * interval it closes simply covers the whole time.
 */
export class FixedRateSchedule {
  private timer: NodeJS.Timeout | undefined
  private readonly periodNs: bigint
  private stopped = true
  /** The slot the pending timer aims at. */
  private slot = 0n

  constructor(
    private readonly t0Ns: bigint,
    periodMs: number,
    private readonly tick: (nowNs: bigint) => void,
    private readonly options: { readonly unref?: boolean; readonly now?: () => bigint } = {},
  ) {
    this.periodNs = msToNs(periodMs)
  }

  start(): void {
    this.stopped = false
    this.arm()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private now(): bigint {
    return this.options.now ? this.options.now() : process.hrtime.bigint()
  }

  private arm(): void {
    if (this.stopped) return
    const now = this.now()
    // The next slot after both the one just served and the present: a timer may fire a hair early
    // (libuv's loop clock lags hrtime), and must not then be armed for the same slot again.
    const current = (now - this.t0Ns) / this.periodNs + 1n
    this.slot = current > this.slot ? current : this.slot + 1n
    const next = this.t0Ns + this.slot * this.periodNs
    // Rounded up: libuv timers have millisecond resolution.
    const delayMs = Math.ceil(Number(next - now) / 1e6)
    this.timer = setTimeout(() => this.fire(), Math.max(0, delayMs))
    if (this.options.unref) this.timer.unref()
  }

  private fire(): void {
    if (this.stopped) return
    try {
      this.tick(this.now())
    } finally {
      this.arm()
    }
  }
}
