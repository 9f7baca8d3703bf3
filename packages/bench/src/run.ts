// pnpm bench [--smoke] [--out FILE] [--only direct,pubsub,startup,memory,scale,flood]
//
// Runs every scenario, each implementation side by side in this one run, and
// writes the tables to bench/RESULTS.md (or --out). Never fails on speed: a
// missed target is a FAIL line in the report. Exits non-zero only if a
// scenario could not run at all.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { BINARY, Host, NODE22, REPO, pair } from './host.js'
import type { HostKind } from './host.js'
import { now } from './host-protocol.js'
import { cpuOf, privateOf, rssOf } from './proc.js'
import { quantile, spread } from './stats.js'
import type { Figure, Target } from './stats.js'
import { probeHostSpeed, renderReport } from './report.js'
import { measureStartup } from './startup.js'
import { DISCOVERY_LIMIT_MS, PRIORITISED_NICE, measureScale } from './scale.js'
import { DEFAULT_MAX_MESSAGES_PER_SECOND } from '../../node-bin/src/constants.js'

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: join(REPO, 'bench', 'RESULTS.md') },
    only: { type: 'string' },
    repeats: { type: 'string' }
  }
})
const smoke = flags.smoke ?? false
const only = flags.only?.split(',')
const defaults = smoke
  ? { repeats: 1, direct: [[64, 200], [1024, 200], [65_536, 20]], rtt: 20, pubsub: 100, startup: 3, memory: 1_000, flood: 10, scale: [3], scalePublishes: 3 }
  : { repeats: 3, direct: [[64, 20_000], [1024, 20_000], [65_536, 1_000]], rtt: 500, pubsub: 3_000, startup: 20, memory: 100_000, flood: 200, scale: [10, 25, 50], scalePublishes: 30 }
const repeats = flags.repeats === undefined ? defaults.repeats : Number(flags.repeats)
if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats ${flags.repeats}: give a whole number of runs, 1 or more`)
const P = { ...defaults, repeats }
/** Sends (or publishes) a host keeps unanswered at once. */
const SEND_WINDOW = 256
const PUBLISH_WINDOW = 50
const MiB = 1024 * 1024

const figures: Figure[] = []
const notes: string[] = []
const failures: string[] = []
const record = (figure: Omit<Figure, 'values'>, value: number): void => {
  const known = figures.find((f) => f.scenario === figure.scenario && f.metric === figure.metric && f.impl === figure.impl && f.unit === figure.unit)
  if (known !== undefined) known.values.push(value)
  else figures.push({ ...figure, values: [value] })
}
const log = (text: string): void => { process.stderr.write(`bench: ${text}\n`) }
const wanted = (scenario: string): boolean => only === undefined || only.includes(scenario)

/** Runs a scenario's body, turning a failure into a note rather than stopping the run. */
async function attempt (what: string, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    failures.push(what)
    notes.push(`${what} could not be measured: ${(err as Error).message.split('\n')[0]}`)
    log(`${what} FAILED: ${(err as Error).stack ?? String(err)}`)
  }
}

const DIRECT = '1. Direct send A→B'
const PUBSUB = '2–3. Gossipsub publish→deliver (1 KiB)'
const STARTUP = '4. Startup (exec until ready, and until connected)'
const MEMORY = '5. Memory (RSS of the process running libp2p)'
const SCALE = '6. Scale: N sidecars and one bootstrap node'
const FLOOD = '7. Commands during a flood (a peer sending past the rate limit)'
const IMPL: Record<HostKind, string> = { sidecar: 'sidecar', inproc: 'in-process', daemon: 'libp2p daemon' }
/** Where libp2p runs in a process of its own: what that process is, and what the agent drives it with. */
const OWN_PROCESS: Partial<Record<HostKind, { server: string, client: string }>> = {
  sidecar: { server: 'the sidecar', client: 'SDK' },
  daemon: { server: 'the daemon', client: 'daemon client' }
}

/**
 * Where the CPU of a burst went: the processes of each side, the one running
 * libp2p and, where that is a process of its own (the sidecar, the daemon),
 * the agent that drives it.
 * When they keep every core busy, as on a 2-core machine, a burst's rate is
 * bound by their sum. From /proc, in clock ticks: the smoke run's 100–200
 * messages give coarse figures.
 */
function cpuProbe (sides: Array<[string, Host]>): { take: () => Promise<void>, perMessage: (count: number) => Promise<Array<[string, number]>> } {
  const processes = sides.flatMap(([side, host]): Array<[string, number]> => {
    const own = OWN_PROCESS[host.kind]
    return own === undefined
      ? [[`${side}, libp2p process`, host.pid]]
      : [[`${side}, libp2p process (${own.server})`, host.pid], [`${side}, agent process (${own.client})`, host.hostPid]]
  })
  let before: number[] = []
  const read = async (): Promise<number[]> => await Promise.all(processes.map(async ([, pid]) => await cpuOf(pid)))
  return {
    take: async () => { before = await read() },
    perMessage: async (count) => {
      const after = await read()
      const each = processes.map(([name], i): [string, number] => [name, ((after[i] as number) - (before[i] as number)) * 1000 / count])
      return [...each, ['all processes', each.reduce((sum, [, us]) => sum + us, 0)]]
    }
  }
}

async function direct (kind: HostKind): Promise<void> {
  const [a, b] = await pair(kind) as [Host, Host]
  const cpu = cpuProbe([['sender', a], ['receiver', b]])
  try {
    for (const [size, count] of P.direct as Array<[number, number]>) {
      await a.call('sendBurst', { to: b.peerId, count: Math.max(10, count / 10), size, window: SEND_WINDOW }) // warm-up
      if (size === 1024) await cpu.take()
      const { ms } = await a.call('sendBurst', { to: b.peerId, count, size, window: SEND_WINDOW })
      const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`
      record({ scenario: DIRECT, metric: `throughput, ${label}`, impl: IMPL[kind], unit: 'msg/s', better: 'higher' }, count / ms * 1000)
      record({ scenario: DIRECT, metric: `throughput, ${label}`, impl: IMPL[kind], unit: 'MB/s', better: 'higher' }, count * size / ms / 1000)
      if (size !== 1024) continue
      for (const [name, us] of await cpu.perMessage(count)) {
        record({ scenario: DIRECT, metric: `CPU per message, 1 KiB: ${name}`, impl: IMPL[kind], unit: 'µs', better: 'lower' }, us)
      }
    }
    await b.call('echo', { enabled: true })
    await a.call('rtt', { to: b.peerId, count: Math.max(10, P.rtt / 10), size: 1024 })
    const { samples } = await a.call('rtt', { to: b.peerId, count: P.rtt, size: 1024 })
    record({ scenario: DIRECT, metric: 'request/reply round trip p50, 1 KiB', impl: IMPL[kind], unit: 'ms', better: 'lower' }, quantile(samples, 0.5))
    record({ scenario: DIRECT, metric: 'request/reply round trip p99, 1 KiB', impl: IMPL[kind], unit: 'ms', better: 'lower' }, quantile(samples, 0.99))
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

async function pubsub (kind: HostKind): Promise<void> {
  const [a, b] = await pair(kind) as [Host, Host]
  const cpu = cpuProbe([['publisher', a], ['subscriber', b]])
  const topic = 'bench'
  try {
    await b.call('subscribe', { topic })
    await a.call('waitSubscribers', { topic, count: 1, timeoutMs: 20_000 })
    const warm = Math.max(10, P.pubsub / 10)
    await a.call('publishBurst', { topic, count: warm, size: 1024, window: PUBLISH_WINDOW })
    await b.call('waitReceived', { count: warm, timeoutMs: 30_000 })
    await b.call('resetReceived', {})
    await cpu.take()
    const started = now()
    await a.call('publishBurst', { topic, count: P.pubsub, size: 1024, window: PUBLISH_WINDOW })
    const got = await b.call('waitReceived', { count: P.pubsub, timeoutMs: 60_000 })
    const perMessage = await cpu.perMessage(P.pubsub)
    const seconds = (got.lastAt - started) / 1000
    record({ scenario: PUBSUB, metric: 'delivered throughput', impl: IMPL[kind], unit: 'msg/s', better: 'higher' }, got.received / seconds)
    record({ scenario: PUBSUB, metric: 'delivered', impl: IMPL[kind], unit: '%', better: 'higher' }, 100 * got.received / P.pubsub)
    record({ scenario: PUBSUB, metric: 'publish→deliver latency p50', impl: IMPL[kind], unit: 'ms', better: 'lower' }, quantile(got.latencies, 0.5))
    record({ scenario: PUBSUB, metric: 'publish→deliver latency p99', impl: IMPL[kind], unit: 'ms', better: 'lower' }, quantile(got.latencies, 0.99))
    for (const [name, us] of perMessage) {
      record({ scenario: PUBSUB, metric: `CPU per message: ${name}`, impl: IMPL[kind], unit: 'µs', better: 'lower' }, us)
    }
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

/** How long after connecting, and after a burst, the RSS is read: a sidecar gives memory back after a few idle seconds (node-bin src/reclaim.ts); the in-process reference has only V8's own memory reducer. Idle and after-burst are read alike, so that growth compares like with like. */
const SETTLE_MS = smoke ? 4_000 : 15_000

/**
 * Drops the executable's pages from the page cache, so that it is loaded as
 * an installed file is. Run right after `pnpm build:exe` wrote it, each
 * process mapped about 12 MiB more of it (94.5 against 82.8 MiB idle RSS,
 * measured on this machine), with the same private memory.
 */
function loadExecutableFromDisk (): void {
  try {
    execFileSync('sync', [BINARY])
    execFileSync('dd', [`if=${BINARY}`, 'iflag=nocache', 'count=0', 'status=none'])
    if (!notes.some((note) => note.startsWith('memory: '))) notes.push(`memory: ${relative(REPO, BINARY)} was dropped from the page cache before each sidecar run, so that it loads as an installed file does; right after \`pnpm build:exe\` wrote it, each process mapped about 12 MiB more of it (same private memory)`)
  } catch (err) {
    notes.push(`memory: could not drop ${relative(REPO, BINARY)} from the page cache (${(err as Error).message}); its RSS counts a just-written file`)
  }
}

async function memory (kind: HostKind): Promise<void> {
  if (kind === 'sidecar') loadExecutableFromDisk()
  const [a, b] = await pair(kind) as [Host, Host]
  try {
    // Idle: connected, nothing sent, for as long as the burst below is given to
    // settle; a sidecar's first idle collection comes a few seconds after start.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    record({ scenario: MEMORY, metric: 'RSS 3 s after connecting (receiver)', impl: IMPL[kind], unit: 'MiB', better: 'lower' }, await rssOf(b.pid) / MiB)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS - 3_000))
    const idle = await rssOf(b.pid)
    record({ scenario: MEMORY, metric: `idle RSS (receiver), ${SETTLE_MS / 1000} s after connecting`, impl: IMPL[kind], unit: 'MiB', better: 'lower' }, idle / MiB)
    record({ scenario: MEMORY, metric: 'idle private memory (receiver; RSS less the pages shared with other processes, such as the executable)', impl: IMPL[kind], unit: 'MiB', better: 'lower' }, await privateOf(b.pid) / MiB)
    await a.call('sendBurst', { to: b.peerId, count: P.memory, size: 1024, window: SEND_WINDOW })
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const after = await rssOf(b.pid)
    const label = `${P.memory.toLocaleString('en-US')} messages of 1 KiB received, ${SETTLE_MS / 1000} s later`
    record({ scenario: MEMORY, metric: `RSS after ${label}`, impl: IMPL[kind], unit: 'MiB', better: 'lower' }, after / MiB)
    record({ scenario: MEMORY, metric: 'growth', impl: IMPL[kind], unit: 'MiB', better: 'lower' }, (after - idle) / MiB)
    record({ scenario: MEMORY, metric: `RSS of the sender after sending them, ${SETTLE_MS / 1000} s later`, impl: IMPL[kind], unit: 'MiB', better: 'lower' }, await rssOf(a.pid) / MiB)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

/** Gap between two `peers` commands while measuring their round trip, ms. */
const COMMAND_GAP_MS = 10

/**
 * A rogue peer (the in-process stack, writing raw frames) floods a sidecar
 * that runs with the default --max-messages-per-second, and the sidecar's
 * parent times `peers` commands: first with no flood, then during it.
 */
async function flood (): Promise<void> {
  const target = await Host.start('sidecar', { maxMessagesPerSecond: DEFAULT_MAX_MESSAGES_PER_SECOND })
  const rogue = await Host.start('inproc')
  try {
    await rogue.call('dial', { addr: target.addrs[0]! })
    const size = 64
    const timeCommands = async (impl: string): Promise<void> => {
      const { samples } = await target.call('commandRtt', { count: P.flood, gapMs: COMMAND_GAP_MS })
      record({ scenario: FLOOD, metric: '`peers` round trip p50', impl, unit: 'ms', better: 'lower' }, quantile(samples, 0.5))
      record({ scenario: FLOOD, metric: '`peers` round trip p99', impl, unit: 'ms', better: 'lower' }, quantile(samples, 0.99))
      record({ scenario: FLOOD, metric: '`peers` round trip, slowest', impl, unit: 'ms', better: 'lower', note: `of ${P.flood}` }, Math.max(...samples))
    }
    await timeCommands('no flood')
    const impl = `flood, ${size} B frames`
    await rogue.call('startFlood', { to: target.peerId, size })
    await timeCommands(impl)
    const sent = await rogue.call('stopFlood', {})
    record({ scenario: FLOOD, metric: 'frames the rogue peer wrote', impl, unit: 'frames/s', better: 'higher' }, sent.frames / sent.ms * 1000)
    record({ scenario: FLOOD, metric: 'its streams reset by the sidecar', impl, unit: 'streams/s', better: 'higher' }, sent.resets / sent.ms * 1000)
  } finally {
    await Promise.all([target.stop(), rogue.stop()])
  }
}

async function startup (): Promise<void> {
  const { ready, connected } = await measureStartup(P.startup)
  for (const [impl, samples] of Object.entries(ready)) {
    record({ scenario: STARTUP, metric: 'exec until ready, median', impl, unit: 'ms', better: 'lower', note: `${P.startup} runs` }, quantile(samples, 0.5))
    record({ scenario: STARTUP, metric: 'exec until ready, p90', impl, unit: 'ms', better: 'lower', note: `${P.startup} runs` }, quantile(samples, 0.9))
  }
  for (const [impl, samples] of Object.entries(connected)) {
    record({ scenario: STARTUP, metric: 'exec until connected to a running node (`connect` sent at ready), median', impl, unit: 'ms', better: 'lower', note: `${P.startup} runs` }, quantile(samples, 0.5))
  }
}

/** Each N of P.scale, then the largest again with the bootstrap prioritised; `which` (the repeat) goes into the notes, as each repeat can end differently. */
async function scale (which: string): Promise<void> {
  const runs = [...P.scale.map((n) => ({ n, prioritiseBootstrap: false })), { n: Math.max(...P.scale), prioritiseBootstrap: true }]
  for (const { n, prioritiseBootstrap } of runs) {
    const impl = prioritiseBootstrap ? `sidecar, bootstrap prioritised (the others at nice ${PRIORITISED_NICE})` : 'sidecar'
    const run = `scale N = ${n} (${impl}, ${which})`
    log(`scale, N = ${n}${prioritiseBootstrap ? ', bootstrap prioritised' : ''}, ${which}`)
    await attempt(run, async () => {
      const result = await measureScale(n, P.scalePublishes, { prioritiseBootstrap })
      record({ scenario: SCALE, metric: `N = ${n}: every node connected to the bootstrap node, from the first node's start`, impl, unit: 'ms', better: 'lower' }, result.bootstrapReachedMs)
      record({ scenario: SCALE, metric: `N = ${n}: all subscribed (each subscribe waits for its DHT advertisement)`, impl, unit: 'ms', better: 'lower' }, result.joinedMs)
      record({ scenario: SCALE, metric: `N = ${n}: everyone discovered everyone, from all subscribed`, impl, unit: 'ms', better: 'lower' }, result.discoveredMs)
      record({ scenario: SCALE, metric: `N = ${n}: CPU time of all the sidecars while they discovered`, impl, unit: 's', better: 'lower', note: 'all cores, bootstrap included' }, result.discoveryCpuMs / 1000)
      record({ scenario: SCALE, metric: `N = ${n}: publish→all delivered p50`, impl, unit: 'ms', better: 'lower', note: `${P.scalePublishes} publishes` }, quantile(result.allDeliveredMs, 0.5))
      record({ scenario: SCALE, metric: `N = ${n}: publish→all delivered p99`, impl, unit: 'ms', better: 'lower', note: `${P.scalePublishes} publishes` }, quantile(result.allDeliveredMs, 0.99))
      record({ scenario: SCALE, metric: `N = ${n}: total RSS`, impl, unit: 'MiB', better: 'lower', note: 'N nodes + bootstrap' }, result.totalRss / MiB)
      if (!Number.isFinite(result.bootstrapReachedMs)) notes.push(`${run}: not every node had connected to the bootstrap node by the end of discovery (reported as ∞)`)
      if (result.complete < n) notes.push(`${run}: only ${result.complete} of the ${n} nodes had found all the others within ${DISCOVERY_LIMIT_MS / 1000} s (reported as ∞)`)
      if (result.slowest !== undefined) notes.push(`${run}: the slowest publish to reach everyone was number ${result.slowest.index + 1} of ${P.scalePublishes} (${result.slowest.ms.toFixed(0)} ms)`)
      if (result.missing > 0) notes.push(`${run}: ${result.missing} deliveries of ${result.expected} did not arrive within 10 s of their publish`)
    })
  }
}

const median = (scenario: string, metric: string, impl: string, unit?: string): number => {
  const figure = figures.find((f) => f.scenario === scenario && f.metric === metric && f.impl === impl && (unit === undefined || f.unit === unit))
  return figure === undefined ? Number.NaN : spread(figure.values).median
}

function targets (): Target[] {
  const list: Target[] = []
  const ratio = (name: string, side: number, ref: number, min: number, refName: string): void => {
    const r = side / ref
    list.push({ name, detail: `${side.toFixed(0)} vs ${ref.toFixed(0)} msg/s ${refName}: ${(r * 100).toFixed(0)} % (target ≥ ${min * 100} %)`, pass: Number.isFinite(r) ? r >= min : undefined })
  }
  ratio('Direct 1 KiB throughput ≥ 80 % of in-process', median(DIRECT, 'throughput, 1 KiB', 'sidecar', 'msg/s'), median(DIRECT, 'throughput, 1 KiB', 'in-process', 'msg/s'), 0.8, 'in-process')
  ratio('Pubsub throughput ≥ 80 % of in-process', median(PUBSUB, 'delivered throughput', 'sidecar'), median(PUBSUB, 'delivered throughput', 'in-process'), 0.8, 'in-process')
  ratio('Pubsub throughput ≥ 2× the libp2p daemon', median(PUBSUB, 'delivered throughput', 'sidecar'), median(PUBSUB, 'delivered throughput', 'libp2p daemon'), 2, 'daemon')
  const rtt = median(DIRECT, 'request/reply round trip p50, 1 KiB', 'sidecar')
  const rttRef = median(DIRECT, 'request/reply round trip p50, 1 KiB', 'in-process')
  list.push({ name: 'Request/reply p50 ≤ in-process + 0.3 ms', detail: `${rtt.toFixed(2)} ms vs ${rttRef.toFixed(2)} ms (+${(rtt - rttRef).toFixed(2)} ms)`, pass: Number.isFinite(rtt - rttRef) ? rtt - rttRef <= 0.3 : undefined })
  const ready = median(STARTUP, 'exec until ready, median', './dist/p2p-node')
  list.push({ name: 'Ready in ≤ 150 ms (median)', detail: `${ready.toFixed(0)} ms`, pass: Number.isFinite(ready) ? ready <= 150 : undefined })
  const idle = median(MEMORY, `idle RSS (receiver), ${SETTLE_MS / 1000} s after connecting`, 'sidecar')
  list.push({ name: 'Idle RSS ≤ 80 MB', detail: `${(idle * MiB / 1e6).toFixed(1)} MB`, pass: Number.isFinite(idle) ? idle * MiB <= 80e6 : undefined })
  const growth = median(MEMORY, 'growth', 'sidecar')
  list.push({ name: 'RSS growth ≤ 10 MB after 100 000 messages', detail: `${(growth * MiB / 1e6).toFixed(1)} MB after ${P.memory.toLocaleString('en-US')}`, pass: Number.isFinite(growth) ? growth * MiB <= 10e6 : undefined })
  const flooded = median(FLOOD, '`peers` round trip p99', 'flood, 64 B frames')
  list.push({ name: 'Commands answered within 100 ms during a flood (p99)', detail: `${flooded.toFixed(1)} ms`, pass: Number.isFinite(flooded) ? flooded <= 100 : undefined })
  const n = Math.max(...P.scale)
  const discovered = median(SCALE, `N = ${n}: everyone discovered everyone, from all subscribed`, 'sidecar')
  list.push({ name: `${n} sidecars: everyone discovered within 10 s of all subscribing`, detail: discovered === Number.POSITIVE_INFINITY ? `not within ${DISCOVERY_LIMIT_MS / 1000} s` : `${(discovered / 1000).toFixed(1)} s`, pass: Number.isNaN(discovered) ? undefined : discovered <= 10_000 })
  const p99 = median(SCALE, `N = ${n}: publish→all delivered p99`, 'sidecar')
  list.push({ name: `${n} sidecars: publish→all-delivered p99 ≤ 500 ms`, detail: `${p99.toFixed(0)} ms`, pass: Number.isFinite(p99) ? p99 <= 500 : undefined })
  return list
}

const startedAt = new Date()
const hostSpeedAtStart = probeHostSpeed()
log(`${smoke ? 'smoke' : 'full'} run, ${P.repeats} repeat(s); executable ${relative(REPO, BINARY)}, hosts on ${NODE22}`)
for (let repeat = 0; repeat < P.repeats; repeat++) {
  const which = `repeat ${repeat + 1}`
  // Alternate which implementation goes first, so that neither always gets the cooler machine.
  const order: HostKind[] = repeat % 2 === 0 ? ['sidecar', 'inproc'] : ['inproc', 'sidecar']
  if (wanted('direct')) for (const kind of order) { log(`direct, ${kind}, ${which}`); await attempt(`direct send (${IMPL[kind]})`, async () => { await direct(kind) }) }
  if (wanted('pubsub')) for (const kind of [...order, 'daemon'] as HostKind[]) { log(`pubsub, ${kind}, ${which}`); await attempt(`pubsub (${IMPL[kind]})`, async () => { await pubsub(kind) }) }
  if (wanted('startup')) { log(`startup, ${which}`); await attempt('startup', startup) }
  if (wanted('memory')) for (const kind of order) { log(`memory, ${kind}, ${which}`); await attempt(`memory (${IMPL[kind]})`, async () => { await memory(kind) }) }
  if (wanted('scale')) await scale(which)
  if (wanted('flood')) { log(`flood, ${which}`); await attempt('flood', flood) }
}

const out = flags.out as string
mkdirSync(dirname(out), { recursive: true })
const command = `pnpm bench${smoke ? ' --smoke' : ''}${only === undefined ? '' : ` --only ${only.join(',')}`}${flags.repeats === undefined ? '' : ` --repeats ${P.repeats}`}`
writeFileSync(out, renderReport({ hostSpeedMs: [hostSpeedAtStart, probeHostSpeed()], smoke, repeats: P.repeats, startedAt, seconds: (Date.now() - startedAt.getTime()) / 1000, command }, figures, targets(), notes))
log(`wrote ${relative(process.cwd(), out)}`)
process.exitCode = failures.length > 0 ? 1 : 0
