// The benchmark's smoke run: every scenario, every implementation, tiny
// counts, twice, so that `pnpm bench` cannot rot. It asserts that each figure
// was measured in every repeat and reported, never how fast anything was.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const RUN = fileURLToPath(new URL('../src/run.ts', import.meta.url))

/** Repeats of the smoke run: more than one, so that a scenario measured only once shows. */
const REPEATS = 2

test('pnpm bench --smoke measures every scenario side by side, in every repeat, and writes the report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-node-bench-'))
  try {
    const out = join(dir, 'RESULTS.md')
    const run = spawnSync(process.execPath, ['--import', 'tsx', RUN, '--smoke', '--repeats', String(REPEATS), '--out', out], { encoding: 'utf8', timeout: 600_000 })
    assert.equal(run.status, 0, `the smoke run failed:\n${run.stderr.slice(-3000)}`)
    const report = readFileSync(out, 'utf8')
    for (const section of ['## Machine', '## Targets', '## 1. Direct send', '## 2–3. Gossipsub', '## 4. Startup', '## 5. Memory', '## 6. Scale', '## 7. Commands during a flood']) {
      assert.ok(report.includes(section), `no ${section} section`)
    }
    for (const row of ['| throughput, 1 KiB | sidecar | msg/s |', '| throughput, 1 KiB | in-process | msg/s |', '| delivered throughput | libp2p daemon | msg/s |',
      '| CPU per message, 1 KiB: sender, agent process (SDK) | sidecar | µs |', '| CPU per message, 1 KiB: all processes | sidecar | µs |', '| CPU per message, 1 KiB: all processes | in-process | µs |',
      '| CPU per message: subscriber, libp2p process (the sidecar) | sidecar | µs |', '| CPU per message: all processes | in-process | µs |', '| CPU per message: publisher, agent process (daemon client) | libp2p daemon | µs |',
      '| request/reply round trip p50, 1 KiB | sidecar |', '| exec until ready, median (3 runs) | ./dist/p2p-node |', '| idle RSS (receiver), 4 s after connecting | sidecar |', '| N = 3: total RSS (N nodes + bootstrap) | sidecar |',
      '| N = 3: every node connected to the bootstrap node, from the first node\'s start | sidecar | ms |',
      '| N = 3: CPU time of all the sidecars while they discovered (all cores, bootstrap included) | sidecar | s |',
      '| `peers` round trip p99 | no flood | ms |', '| `peers` round trip p99 | flood, 64 B frames | ms |', '| its streams reset by the sidecar | flood, 64 B frames |']) {
      const line = report.split('\n').find((l) => l.startsWith(row))
      assert.ok(line !== undefined, `no row ${row}`)
      assert.doesNotMatch(line, /n\/a/, `row without a figure: ${line}`)
    }
    assert.match(report, /^- Host speed: .* took \d+ ms at the start and \d+ ms at the end of the run/m, 'no host speed line in the Machine section')
    // Every figure of every scenario has one value per repeat (the runs column).
    const figureRows = report.split('\n').filter((l) => /^\| .* \| \d+ \| [^|]+ \| [^|]+ \| [^|]+ \|$/.test(l))
    assert.ok(figureRows.length > 50, `only ${figureRows.length} figure rows`)
    const short = figureRows.filter((l) => l.split(' | ')[3] !== String(REPEATS))
    assert.deepEqual(short, [], `figures without one value per repeat (${REPEATS})`)
    for (let repeat = 1; repeat <= REPEATS; repeat++) {
      assert.match(report, new RegExp(`^- scale N = 3 \\(sidecar, repeat ${repeat}\\): the slowest publish to reach everyone was number \\d+ of 3 \\(\\d+ ms\\)$`, 'm'), `no note naming the slowest publish of the scale scenario's repeat ${repeat}`)
    }
    const targets = report.split('\n').filter((l) => /\| (PASS|FAIL|NOT MEASURED) \|$/.test(l))
    assert.equal(targets.length, 10, 'one line per target')
    assert.ok(!targets.some((l) => l.endsWith('| NOT MEASURED |')), `a target was not measured:\n${targets.join('\n')}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
