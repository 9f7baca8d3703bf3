// Soak run (not in CI): direct sends A→B with a bounded window, and a flood
// from C into B (which rate-limits it), for a set time; prints RSS over time.
//   node scripts/soak.mjs [--minutes 10] [--interval 10]
// Needs ./dist/p2p-node (pnpm build:exe). Everything stays on 127.0.0.1.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, interval: { type: 'string', default: '10' } } })
const durationMs = Number(values.minutes) * 60_000
const intervalMs = Number(values.interval) * 1000
const binary = process.env.P2P_NODE_PATH ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'p2p-node')
const IN_FLIGHT = 1000

function start (label, args) {
  const child = spawn(binary, ['--host', '127.0.0.1', ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const listeners = new Set()
  createInterface({ input: child.stdout }).on('line', (line) => { const event = JSON.parse(line); for (const l of listeners) l(event) })
  const ready = new Promise((resolve) => listeners.add(function once (e) { if (e.type === 'ready') { listeners.delete(once); resolve(e) } }))
  return { label, child, listeners, ready, send: (cmd) => child.stdin.write(JSON.stringify(cmd) + '\n') }
}
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

const b = start('B', ['--max-messages-per-second', '20000'])
const bReady = await b.ready
const a = start('A', ['--bootstrap', bReady.addrs[0]])
const c = start('C', ['--bootstrap', bReady.addrs[0]])
await Promise.all([a.ready, c.ready])

let sent = 0; let acked = 0; let failed = 0; let received = 0; let misordered = 0; let next = 0
b.listeners.add((e) => { if (e.type === 'message' && e.from !== undefined && typeof e.data === 'number') { received++; if (e.data !== next) misordered++; next = e.data + 1 } })
const pump = () => { while (sent - acked - failed < IN_FLIGHT) a.send({ type: 'send', id: sent, peerId: bReady.peerId, data: sent++, timeoutMs: 60_000 }) }
a.listeners.add((e) => { if (e.type === 'result') acked++; else if (e.type === 'error') failed++; pump() })
pump()
// The flood: C fires bursts far above B's limit; B resets C's streams and carries on.
let floodErrors = 0
c.listeners.add((e) => { if (e.type === 'error') floodErrors++ })
const flood = setInterval(() => { for (let i = 0; i < 2000; i++) c.send({ type: 'send', peerId: bReady.peerId, data: { flood: i } }) }, 50)

console.log('| t (s) | sent | acked | failed | received | misordered | flood errors | RSS A (MiB) | RSS B (MiB) | RSS C (MiB) |')
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
const started = Date.now()
await new Promise((resolve) => {
  const report = setInterval(() => {
    const t = ((Date.now() - started) / 1000).toFixed(0)
    console.log(`| ${t} | ${sent} | ${acked} | ${failed} | ${received} | ${misordered} | ${floodErrors} | ${rss(a.child.pid).toFixed(0)} | ${rss(b.child.pid).toFixed(0)} | ${rss(c.child.pid).toFixed(0)} |`)
    if (Date.now() - started >= durationMs) { clearInterval(report); resolve() }
  }, intervalMs)
})
clearInterval(flood)
for (const node of [a, b, c]) node.child.stdin.end()
