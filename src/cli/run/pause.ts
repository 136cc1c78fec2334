import { IntensityTimeline } from '../../scheduling/timeline.js'
import { ResumeGuard } from './resume-guard.js'
import type { ForecastFeed } from './schedule.js'

/**
 * Pauses a command while the forecast is above a threshold: SIGSTOP to its process group when a slot
 * above it begins, SIGCONT when one at or below it does, and SIGCONT for good at the deadline. Decisions
 * are taken at slot boundaries (not by polling); a slot the forecast does not know never pauses. The
 * forecast is asked for again every `refreshMs`. Paused time is counted, interval by interval. A
 * ResumeGuard continues the command if wattprint dies while it is paused: without one, nothing is paused.
 */
export class PauseController {
  #paused = false
  #pausedSinceMs = 0
  #pausedMs = 0
  /** Closed pauses, [from, to], for pausedBetween(). */
  readonly #pauses: [number, number][] = []
  #timer: NodeJS.Timeout | undefined
  #refreshTimer: NodeJS.Timeout | undefined
  #done = false
  #timeline: IntensityTimeline
  #guard: ResumeGuard | undefined

  constructor(
    private readonly pid: number,
    private readonly feed: ForecastFeed,
    private readonly aboveGPerKWh: number,
    private readonly deadlineMs: number,
    private readonly refreshMs: number,
    /** The command was paused or continued, and why: `forecast 500 g/kWh`, `the deadline` … */
    private readonly onChange: (paused: boolean, why: string) => void = () => {},
    /** Pausing is off for the run, and why (its guard could not start). */
    private readonly onOff: (why: string) => void = () => {},
  ) {
    this.#timeline = new IntensityTimeline(feed.slots)
  }

  /** Starts deciding, now and at every slot boundary after. */
  start(): void {
    // However wattprint ends, it never leaves the command stopped: at its exit itself, and by the guard when
    // it cannot (SIGKILL, an abort). The first pause waits for the guard.
    process.once('exit', this.#onExit)
    const guard = new ResumeGuard(this.pid)
    this.#guard = guard
    void guard.started.then((problem) => {
      if (this.#done) return
      if (problem !== null) {
        this.release('pausing is off')
        this.onOff(`nothing would resume the command were wattprint killed while it is paused (${problem})`)
        return
      }
      this.#decide()
      this.#refreshTimer = setInterval(() => {
        void this.feed.refresh().then((ok) => {
          if (!ok || this.#done) return
          this.#timeline = new IntensityTimeline(this.feed.slots)
          this.#decide()
        })
      }, this.refreshMs)
      this.#refreshTimer.unref()
    })
  }

  /** Whether the command is paused now. */
  get paused(): boolean {
    return this.#paused
  }

  /** Seconds paused so far. */
  get pausedS(): number {
    return (this.#pausedMs + (this.#paused ? Date.now() - this.#pausedSinceMs : 0)) / 1000
  }

  /** Milliseconds of [fromMs, toMs] the command spent paused. */
  pausedBetween(fromMs: number, toMs: number): number {
    let ms = 0
    const spans = this.#paused
      ? [...this.#pauses, [this.#pausedSinceMs, Date.now()] as [number, number]]
      : this.#pauses
    for (const [a, b] of spans) ms += Math.max(0, Math.min(b, toMs) - Math.max(a, fromMs))
    return ms
  }

  /** Lets the command run for good, for this reason (the deadline, a signal passed on, a budget, its end). */
  release(why: string): void {
    process.off('exit', this.#onExit)
    this.#done = true
    clearTimeout(this.#timer)
    clearInterval(this.#refreshTimer)
    if (this.#paused) this.#resume(why)
    this.#guard?.end()
  }

  readonly #onExit = () => this.release('wattprint is exiting')

  #decide(): void {
    clearTimeout(this.#timer)
    if (this.#done) return
    const nowMs = Date.now()
    if (nowMs >= this.deadlineMs) {
      this.release('the deadline')
      return
    }
    const g = this.#timeline.at(nowMs)
    const above = g !== null && g > this.aboveGPerKWh
    if (above && !this.#paused) this.#pause(g)
    else if (!above && this.#paused)
      this.#resume(g === null ? 'the forecast ends' : `forecast ${g.toFixed(0)} g/kWh`)
    // Next decision: the next slot boundary, or the deadline.
    const i = this.#timeline.slotBefore(nowMs)
    const inSlot = i >= 0 && nowMs < (this.#timeline.ends[i] ?? 0)
    const next = inSlot
      ? (this.#timeline.ends[i] ?? this.deadlineMs)
      : (this.#timeline.starts[i + 1] ?? this.deadlineMs)
    this.#timer = setTimeout(() => this.#decide(), Math.max(1, Math.min(next, this.deadlineMs) - nowMs))
  }

  #pause(g: number): void {
    // The guard hears of it first: wattprint killed between the two leaves a SIGCONT owed, never missed.
    this.#guard?.paused()
    if (!this.#signal('SIGSTOP')) {
      this.#guard?.running()
      return
    }
    this.#paused = true
    this.#pausedSinceMs = Date.now()
    this.onChange(true, `forecast ${g.toFixed(0)} g/kWh`)
  }

  #resume(why: string): void {
    const continued = this.#signal('SIGCONT')
    this.#guard?.running()
    this.#paused = false
    this.#pauses.push([this.#pausedSinceMs, Date.now()])
    this.#pausedMs += Date.now() - this.#pausedSinceMs
    // A group that is gone was not continued: not said.
    if (continued) this.onChange(false, why)
  }

  /** Signals the command's process group; false when it is gone. */
  #signal(signal: 'SIGSTOP' | 'SIGCONT'): boolean {
    try {
      process.kill(-this.pid, signal)
      return true
    } catch {
      return false
    }
  }
}
