// Least squares with nothing but arrays: ordinary, robust (Huber, by iterated reweighting) and non-negative
// for a handful of unknowns. Small and exact enough for a few hundred rows and six features.

/** Solves A x = b by Gaussian elimination with partial pivoting; throws on a singular system. */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i] ?? 0])
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r
    const p = m[pivot]
    const c = m[col]
    if (!p || !c || Math.abs(p[col] ?? 0) < 1e-12) throw new Error('singular system')
    m[pivot] = c
    m[col] = p
    for (let r = 0; r < n; r++) {
      const row = m[r]
      if (r === col || !row) continue
      const f = (row[col] ?? 0) / (p[col] ?? 1)
      for (let k = col; k <= n; k++) row[k] = (row[k] ?? 0) - f * (p[k] ?? 0)
    }
  }
  return m.map((row, i) => (row[n] ?? 0) / (row[i] ?? 1))
}

/** Weighted least squares: minimises Σ wᵢ (yᵢ − xᵢ·β)². */
export function weightedLeastSquares(
  x: readonly number[][],
  y: readonly number[],
  w?: readonly number[],
): number[] {
  const p = x[0]?.length ?? 0
  const xtx = Array.from({ length: p }, () => new Array<number>(p).fill(0))
  const xty = new Array<number>(p).fill(0)
  x.forEach((row, i) => {
    const wi = w?.[i] ?? 1
    for (let a = 0; a < p; a++) {
      xty[a] = (xty[a] ?? 0) + wi * (row[a] ?? 0) * (y[i] ?? 0)
      const line = xtx[a] as number[]
      for (let b = 0; b < p; b++) line[b] = (line[b] ?? 0) + wi * (row[a] ?? 0) * (row[b] ?? 0)
    }
  })
  // A whisker of ridge keeps a feature that is constant in a subset (no AMD server before some year) solvable.
  for (let a = 1; a < p; a++) (xtx[a] as number[])[a] = ((xtx[a] as number[])[a] ?? 0) + 1e-6
  return solve(xtx, xty)
}

/** The median of a list (NaN when empty). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

/** The q-quantile of a list, linear between order statistics (NaN when empty). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const a = sorted[lo] ?? Number.NaN
  const b = sorted[Math.min(sorted.length - 1, lo + 1)] ?? a
  return a + (b - a) * (pos - lo)
}

/**
 * Huber regression by iteratively reweighted least squares: residuals beyond 1.345 robust standard
 * deviations weigh less, so a few odd servers (dense multi-node chassis, many drives) do not drag the fit.
 */
export function huber(x: readonly number[][], y: readonly number[], iterations = 50): number[] {
  let beta = weightedLeastSquares(x, y)
  for (let it = 0; it < iterations; it++) {
    const residuals = x.map((row, i) => (y[i] ?? 0) - row.reduce((s, v, k) => s + v * (beta[k] ?? 0), 0))
    const scale = median(residuals.map(Math.abs)) / 0.6745 + 1e-9
    const k = 1.345 * scale
    const w = residuals.map((r) => (Math.abs(r) <= k ? 1 : k / Math.abs(r)))
    const next = weightedLeastSquares(x, y, w)
    const moved = next.reduce((s, v, i) => s + Math.abs(v - (beta[i] ?? 0)), 0)
    beta = next
    if (moved < 1e-10) break
  }
  return beta
}

/**
 * Non-negative least squares with weights, for a few unknowns: every subset of the columns is tried and the
 * best fit whose coefficients are all ≥ 0 wins (2^p solves; p ≤ 4 here).
 */
export function nonNegativeLeastSquares(
  x: readonly number[][],
  y: readonly number[],
  w: readonly number[],
): number[] {
  const p = x[0]?.length ?? 0
  let best: { loss: number; beta: number[] } | null = null
  for (let mask = 1; mask < 1 << p; mask++) {
    const cols = [...Array(p).keys()].filter((c) => mask & (1 << c))
    let sub: number[]
    try {
      sub = weightedLeastSquares(
        x.map((row) => cols.map((c) => row[c] ?? 0)),
        y,
        w,
      )
    } catch {
      continue
    }
    if (sub.some((v) => v < 0)) continue
    const beta = new Array<number>(p).fill(0)
    cols.forEach((c, i) => {
      beta[c] = sub[i] ?? 0
    })
    const loss = x.reduce((s, row, i) => {
      const r = (y[i] ?? 0) - row.reduce((t, v, k) => t + v * (beta[k] ?? 0), 0)
      return s + (w[i] ?? 1) * r * r
    }, 0)
    if (!best || loss < best.loss) best = { loss, beta }
  }
  return best?.beta ?? new Array<number>(p).fill(0)
}
