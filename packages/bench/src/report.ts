import { cpus, totalmem } from 'node:os'
import { execFileSync } from 'node:child_process'
import { format, spread } from './stats.js'
import type { Figure, Target } from './stats.js'
import { NODE22 } from './host.js'

export interface RunInfo {
  /** probeHostSpeed() at the start and at the end of the run, ms. */
  hostSpeedMs: [number, number]
  smoke: boolean
  repeats: number
  startedAt: Date
  seconds: number
  command: string
}

/** bench/RESULTS.md: the machine, each figure with min/median/max over the repeats, each target. */
export function renderReport (run: RunInfo, figures: Figure[], targets: Target[], notes: string[]): string {
  const cpu = cpus()
  const lines = [
    '# p2p-node benchmarks',
    '',
    `Written by \`${run.command}\` on ${run.startedAt.toISOString()} (${run.smoke ? 'SMOKE run: tiny counts, figures not meaningful' : 'full run'}, ${run.seconds.toFixed(0)} s).`,
    'Every figure is the min / median / max over the repeats of its scenario (runs: how many it has); all implementations ran side by side in this one run.',
    '',
    '## Machine',
    '',
    `- CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Runner: Node ${process.version}; hosts and the executable: Node ${execFileSync(NODE22, ['--version'], { encoding: 'utf8' }).trim()}`,
    `- Repeats per scenario: ${run.repeats}`,
    `- Host speed: ${HOST_SPEED_TASK} took ${run.hostSpeedMs.map((ms) => `${ms.toFixed(0)} ms`).join(' at the start and ')} at the end of the run (best of 5). The machine is shared and its speed varies from day to day: compare runs by it.`,
    '',
    '## Targets',
    '',
    '| Target | Measured | Result |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.name} | ${t.detail} | ${t.pass === undefined ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL'} |`),
    ''
  ]
  const scenarios = [...new Set(figures.map((f) => f.scenario))]
  for (const scenario of scenarios) {
    lines.push(`## ${scenario}`, '', '| Metric | Implementation | Unit | runs | min | median | max |', '| --- | --- | --- | ---: | ---: | ---: | ---: |')
    for (const f of figures.filter((figure) => figure.scenario === scenario)) {
      const s = spread(f.values)
      lines.push(`| ${f.metric}${f.note === undefined ? '' : ` (${f.note})`} | ${f.impl} | ${f.unit} | ${f.values.length} | ${format(s.min, f.unit)} | ${format(s.median, f.unit)} | ${format(s.max, f.unit)} |`)
    }
    lines.push('')
  }
  if (notes.length > 0) lines.push('## Notes', '', ...notes.map((note) => `- ${note}`), '')
  return lines.join('\n')
}

const HOST_SPEED_TASK = '200 000 JSON round trips of a small event in the runner'

/**
 * A fixed piece of CPU work of the kind the sidecar does most (JSON, small
 * objects, garbage), timed in this process; the best of 5, ms. Figures of runs
 * on a host that was slower that day can be told apart by it.
 */
export function probeHostSpeed (): number {
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 5; round++) {
    const started = performance.now()
    let sum = 0
    for (let i = 0; i < 200_000; i++) {
      const event = JSON.parse(JSON.stringify({ type: 'message', i, data: { text: `hello ${i}`, list: [1, 2, 3] } })) as { i: number }
      sum += event.i
    }
    if (sum !== 199_999 * 100_000) throw new Error('the host speed probe computed a wrong sum')
    best = Math.min(best, performance.now() - started)
  }
  return best
}
