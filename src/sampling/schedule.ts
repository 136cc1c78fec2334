/**
 * Calls `tick` on an absolute schedule, t0 + k × period, never on a drifting setInterval. A tick that
 * comes late (a blocked thread) is not repeated: the next one lands on the next future slot, and the
 * interval it closes simply covers the whole time.
 *
 * It runs once a sample in a thread that sleeps in between, so what it does each time is kept small: the
 * slot arithmetic is in nanoseconds since t0 as doubles (exact to the nanosecond for 104 days, and to a
 * few nanoseconds long after), not BigInts, and the timer is re-armed with refresh() when its delay is the
 * one it had (most ticks), rather than made anew.
 */
export class FixedRateSchedule {
  private timer: NodeJS.Timeout | undefined
  /** The delay the timer was made with: refresh() re-arms it with that one. */
  private timerMs = -1
  private readonly periodNs: number
  private stopped = true
  /** The slot the pending timer aims at. */
  private slot = 0
  private readonly fireBound = (): void => this.fire()

  constructor(
    private readonly t0Ns: bigint,
    periodMs: number,
    private readonly tick: (nowNs: bigint) => void,
    private readonly options: { readonly unref?: boolean; readonly now?: () => bigint } = {},
  ) {
    this.periodNs = Math.round(periodMs * 1e6)
  }

  start(): void {
    this.stopped = false
    this.arm(this.now())
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private now(): bigint {
    return this.options.now ? this.options.now() : process.hrtime.bigint()
  }

  private arm(now: bigint): void {
    if (this.stopped) return
    const sinceNs = Number(now - this.t0Ns)
    // The next slot after both the one just served and the present: a timer may fire a hair early
    // (libuv's loop clock lags hrtime), and must not then be armed for the same slot again.
    const current = Math.floor(sinceNs / this.periodNs) + 1
    this.slot = current > this.slot ? current : this.slot + 1
    // Rounded up: libuv timers have millisecond resolution.
    const delayMs = Math.max(0, Math.ceil((this.slot * this.periodNs - sinceNs) / 1e6))
    if (this.timer && delayMs === this.timerMs) {
      this.timer.refresh()
      return
    }
    this.timer = setTimeout(this.fireBound, delayMs)
    this.timerMs = delayMs
    if (this.options.unref) this.timer.unref()
  }

  private fire(): void {
    if (this.stopped) return
    try {
      this.tick(this.now())
    } finally {
      this.arm(this.now())
    }
  }
}
