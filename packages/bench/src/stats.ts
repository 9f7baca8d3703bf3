/** The q-quantile (0..1) of values, by nearest rank. */
export function quantile (values: number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

export interface Spread { min: number, median: number, max: number }

/** min, median and max of repeated measurements. */
export function spread (values: number[]): Spread {
  return { min: Math.min(...values), median: quantile(values, 0.5), max: Math.max(...values) }
}

/** One measured figure: its repeats, and what it is. */
export interface Figure {
  scenario: string
  metric: string
  /** Which implementation: sidecar, in-process, daemon, … */
  impl: string
  unit: string
  values: number[]
  /** Larger is better (throughput) or smaller is better (latency, memory). */
  better: 'higher' | 'lower'
  note?: string
}

export interface Target {
  name: string
  /** What was compared, in words with the figures. */
  detail: string
  pass: boolean | undefined
}

export function format (value: number, unit: string): string {
  if (value === Number.POSITIVE_INFINITY) return '∞'
  if (!Number.isFinite(value)) return 'n/a'
  if (unit === 'MiB' || unit === 'ms' || unit === 'µs') return value.toFixed(value < 10 ? 2 : 1)
  if (value >= 100) return Math.round(value).toLocaleString('en-US')
  return value.toFixed(2)
}
