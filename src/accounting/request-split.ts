/** One accounted interval, on the spans' clock (performance.now() milliseconds). */
export interface SpanInterval {
  readonly startMs: number
  readonly endMs: number
  /** The interval's energy, J, PUE included (the job's share with attribution). */
  readonly energyJ: number
  /** The same energy by component, J, PUE included. */
  readonly cpuJ: number
  readonly gpuJ: number
  readonly ramJ: number
  readonly emissionsKg: number
}

/**
 * What the split reads and writes of a span (a request's span is one): where it is open on the spans' clock,
 * its weight, and the energy it has been charged so far, which the split adds to.
 */
export interface SplitSpan {
  readonly startMs: number
  readonly endMs: number
  /** When its first token came; NaN until then. */
  readonly firstTokenMs: number
  readonly weight: number
  energyJ: number
  prefillJ: number
  cpuJ: number
  gpuJ: number
  ramJ: number
  emissionsKg: number
}

/**
 * Splits one interval's energy among the spans open in it and returns the idle part (the energy of the
 * instants no span was open). The interval's power is taken as constant over it (it is all that was
 * measured), and at every instant it is shared among the open spans by weight: a span alone gets all of
 * its instants, two spans open together get half each. One sweep over the spans' ends, O(n log n):
 * F(t) = ∫ P / W(t) dt over the instants some span is open, and a span of weight w gets w × (F(end) −
 * F(start)), so the spans' energies and the idle part add up to the interval's energy.
 */
export function splitInterval(spans: readonly SplitSpan[], interval: SpanInterval): number {
  const lengthMs = interval.endMs - interval.startMs
  if (!(lengthMs > 0) || !(interval.energyJ > 0)) return Math.max(0, interval.energyJ)
  // Up to three events per span: where it enters the interval, its first token, where it leaves.
  const times = new Float64Array(spans.length * 3)
  const weights = new Float64Array(spans.length * 3)
  const kinds = new Int8Array(spans.length * 3)
  let events = 0
  const owners: number[] = []
  spans.forEach((span, i) => {
    const from = Math.max(interval.startMs, span.startMs)
    const to = Math.min(interval.endMs, span.endMs)
    if (!(to > from)) return
    times[events] = from
    weights[events] = span.weight
    kinds[events] = 1
    owners[events++] = i
    if (span.firstTokenMs > from && span.firstTokenMs < to) {
      times[events] = span.firstTokenMs
      kinds[events] = 0
      owners[events++] = i
    }
    times[events] = to
    weights[events] = -span.weight
    kinds[events] = -1
    owners[events++] = i
  })
  if (events === 0) return interval.energyJ
  const order = Array.from({ length: events }, (_, k) => k)
  // At equal times, leaving before entering: a span that ends where another starts never shares.
  order.sort((x, y) => (times[x] ?? 0) - (times[y] ?? 0) || (kinds[x] ?? 0) - (kinds[y] ?? 0))

  const powerJPerMs = interval.energyJ / lengthMs
  const f = new Float64Array(events)
  let cumulative = 0
  let weight = 0
  let open = 0
  let idleJ = 0
  let previousMs = interval.startMs
  for (const k of order) {
    const t = times[k] ?? previousMs
    const dt = t - previousMs
    if (dt > 0) {
      // Counted by spans, not by the weight sum: a float sum of +w and −w need not come back to 0.
      if (open > 0) cumulative += (powerJPerMs * dt) / weight
      else idleJ += powerJPerMs * dt
      previousMs = t
    }
    f[k] = cumulative
    const kind = kinds[k] ?? 0
    open += kind
    weight = open === 0 ? 0 : weight + (weights[k] ?? 0)
  }
  idleJ += powerJPerMs * Math.max(0, interval.endMs - previousMs)

  const perJ = {
    cpu: interval.cpuJ / interval.energyJ,
    gpu: interval.gpuJ / interval.energyJ,
    ram: interval.ramJ / interval.energyJ,
    kg: interval.emissionsKg / interval.energyJ,
  }
  // Events of one span come in the order they were pushed: enter, [first token], leave.
  for (let k = 0; k < events; k++) {
    if (kinds[k] !== 1) continue
    const span = spans[owners[k] ?? -1]
    if (!span) continue
    const markAt = kinds[k + 1] === 0 ? k + 1 : -1
    const leave = markAt >= 0 ? k + 2 : k + 1
    const share = span.weight * ((f[leave] ?? 0) - (f[k] ?? 0))
    span.energyJ += share
    span.cpuJ += share * perJ.cpu
    span.gpuJ += share * perJ.gpu
    span.ramJ += share * perJ.ram
    span.emissionsKg += share * perJ.kg
    // Before the first token is prefill: the whole share while it is still to come.
    if (markAt >= 0) span.prefillJ += span.weight * ((f[markAt] ?? 0) - (f[k] ?? 0))
    else if (!(span.firstTokenMs <= Math.max(interval.startMs, span.startMs))) span.prefillJ += share
  }
  return idleJ
}
