import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { NodeProcess } from './helpers/node-process.js'

/** Resident set size of a process, in MiB, from /proc. */
function rssMiB (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1]) / 1024
}

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

interface Case { line: Buffer | string, id?: string | number, codes: string[] }

/** At least 10,000 lines no command accepts, of every kind of mistake, each with the error it must get. */
function generateCases (count: number, seed: number): Case[] {
  const next = random(seed)
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T
  const word = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(next() * 26))).join('')
  const cases: Case[] = []
  for (let i = 0; cases.length < count; i++) {
    const id = `f${i}`
    const kind = i % 17
    switch (kind) {
      case 0: { // random bytes, invalid UTF-8 included, never a newline
        const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 200) }, () => Math.floor(next() * 256)).map((b) => b === 10 ? 11 : b))
        bytes[0] = 0x01
        cases.push({ line: Buffer.concat([bytes, Buffer.from('\n')]), codes: ['INVALID_JSON'] })
        break
      }
      case 1: { // truncated JSON of a valid command
        const full = JSON.stringify({ type: 'publish', id, topic: word(5), data: { n: i, text: word(20) } })
        cases.push({ line: full.slice(0, 1 + Math.floor(next() * (full.length - 2))) + '\n', codes: ['INVALID_JSON'] })
        break
      }
      case 2: // valid JSON that is not an object
        cases.push({ line: pick(['[]', '[1,2,3]', '42', '-1.5e300', '"peers"', 'true', 'null', '[{"type":"peers"}]']) + '\n', codes: ['INVALID_COMMAND'] })
        break
      case 3: // objects without a usable type
        cases.push({ line: JSON.stringify(pick([{ id }, { id, type: 7 }, { id, type: null }, { id, type: ['peers'] }, { id, kind: 'peers' }])) + '\n', id, codes: ['INVALID_COMMAND'] })
        break
      case 4: // unknown command types
        cases.push({ line: JSON.stringify({ type: word(8), id }) + '\n', id, codes: ['UNKNOWN_COMMAND'] })
        break
      case 5: // numbers where strings belong
        cases.push({ line: JSON.stringify(pick([{ type: 'subscribe', id, topic: 7 }, { type: 'send', id, peerId: 12345, data: 1 }, { type: 'lookup', id, name: 3.14 }, { type: 'dht_get', id, key: 0 }])) + '\n', id, codes: ['INVALID_COMMAND'] })
        break
      case 6: // negative, fractional and out-of-range ports
        cases.push({ line: JSON.stringify({ type: 'connect', id, port: pick([-1, 0.5, 4001.25, 65536, -65535, 1e12]) }) + '\n', id, codes: ['INVALID_COMMAND'] })
        break
      case 7: { // invalid peer ids
        const peerId = pick(['!!!', '12D3KooW' + '!'.repeat(44), 'QmNotReally$', ' ', 'a b'])
        const command = pick([{ type: 'send', id, peerId, data: 1 }, { type: 'ping', id, peerId }])
        cases.push({ line: JSON.stringify(command) + '\n', id, codes: ['INVALID_PEER_ID'] })
        break
      }
      case 8: // invalid multiaddrs
        cases.push({ line: JSON.stringify({ type: 'connect', id, bootstrapPeers: [pick(['/nope', 'not-a-multiaddr', '/ip4/999.1.1.1/tcp/1', '/ip4/127.0.0.1/tcp/notaport', '//'])] }) + '\n', id, codes: ['INVALID_MULTIADDR'] })
        break
      case 9: { // ids of every JSON type
        const badId = pick([{ a: 1 }, [1], true, false, 1.5, null, 2 ** 60, 'x'.repeat(300)])
        cases.push({ line: JSON.stringify({ type: 'peers', id: badId }) + '\n', codes: badId === null ? ['INVALID_COMMAND'] : ['INVALID_COMMAND'] })
        break
      }
      case 10: { // deep nesting, unterminated and terminated
        const depth = 1_000 + Math.floor(next() * 50_000)
        cases.push(next() < 0.5
          ? { line: '['.repeat(depth) + '\n', codes: ['INVALID_JSON'] }
          : { line: `{"type":"subscribe","id":"${id}","topic":${'['.repeat(depth)}${']'.repeat(depth)}}\n`, id, codes: ['INVALID_COMMAND'] })
        break
      }
      case 11: // huge strings (over the line limit)
        cases.push({ line: JSON.stringify({ type: 'publish', id, topic: 't', data: 'x'.repeat(1_100_000) }) + '\n', codes: ['LINE_TOO_LONG'] })
        break
      case 12: // big arrays where a string belongs
        cases.push({ line: JSON.stringify({ type: 'unsubscribe', id, topic: Array.from({ length: 20_000 }, (_, k) => k) }) + '\n', id, codes: ['INVALID_COMMAND'] })
        break
      case 13: // empty and over-long required strings
        cases.push({ line: JSON.stringify(pick([{ type: 'subscribe', id, topic: '' }, { type: 'subscribe', id, topic: 'x'.repeat(513) }, { type: 'dht_get', id, key: '' }, { type: 'lookup', id, name: 'bad name' }])) + '\n', id, codes: ['INVALID_COMMAND'] })
        break
      case 14: // missing data, bad timeouts, bad ttl
        cases.push({ line: JSON.stringify(pick([{ type: 'publish', id, topic: 't' }, { type: 'discover', id, topic: 't', timeoutMs: -5 }, { type: 'dht_put', id, key: 'k', value: 1, ttlSeconds: 0 }])) + '\n', id, codes: ['INVALID_COMMAND'] })
        break
      case 16: // a field the command does not define, next to valid ones
        cases.push({ line: JSON.stringify({ ...pick([{ type: 'peers' }, { type: 'subscribe', topic: 't' }, { type: 'connect', bootstrapPeers: [] }]), id, [word(5)]: pick([1, 'x', null, [], {}]) }) + '\n', id, codes: ['INVALID_COMMAND'] })
        break
      default: // the same line split into tiny chunks, \r\n-terminated
        cases.push({ line: JSON.stringify({ type: word(6) + 'x', id }) + '\r\n', id, codes: ['UNKNOWN_COMMAND'] })
    }
  }
  return cases
}

test('10,000 lines of bad input: one error each, with its id where one could be read; stdout stays protocol; the node lives on', async () => {
  const node = await NodeProcess.start('fuzz')
  try {
    await fuzz(node)
  } finally {
    await node.kill()
  }
})

async function fuzz (node: NodeProcess): Promise<void> {
  const pid = node.proc.pid as number
  const rssBefore = rssMiB(pid)
  const cases = generateCases(10_000, 20261121)
  let peakRss = rssBefore
  // Written in batches, each awaited through a marker command, so the pipe never holds it all.
  for (let start = 0; start < cases.length; start += 500) {
    for (const { line } of cases.slice(start, start + 500)) node.write(line)
    await node.ok({ type: 'peers' }, 60_000)
    peakRss = Math.max(peakRss, rssMiB(pid))
  }
  assert.equal(node.proc.exitCode, null, 'the node is still running')
  const errors = node.events.filter((e) => e.type === 'error')
  assert.equal(errors.length, cases.length, 'one error per bad line')
  const byId = new Map<unknown, Record<string, any>[]>()
  for (const error of errors) byId.set(error.id, [...byId.get(error.id) ?? [], error])
  for (const { id, codes, line } of cases) {
    if (id === undefined) continue
    const replies = byId.get(id) ?? []
    assert.equal(replies.length, 1, `exactly one reply for ${id}: ${String(line).slice(0, 120)}`)
    assert.ok(codes.includes(replies[0]?.code), `${id}: expected ${codes.join('|')}, got ${JSON.stringify(replies[0])}`)
  }
  const countsByCode = new Map<string, number>()
  for (const error of errors) countsByCode.set(error.code, (countsByCode.get(error.code) ?? 0) + 1)
  for (const code of ['INVALID_JSON', 'INVALID_COMMAND', 'UNKNOWN_COMMAND', 'LINE_TOO_LONG', 'INVALID_PEER_ID', 'INVALID_MULTIADDR']) {
    assert.ok((countsByCode.get(code) ?? 0) > 0, `some ${code}`)
  }
  assert.equal(node.events.filter((e) => e.type === 'result').length, cases.length / 500, 'no bad line produced a result')
  assert.deepEqual(node.badLines, [])
  // Not a speed figure: a bound on memory. Oversize lines are dropped as they stream past.
  assert.ok(peakRss - rssBefore < 150, `RSS grew from ${rssBefore.toFixed(0)} to ${peakRss.toFixed(0)} MiB`)
}

test('an endless line without a newline is never held whole', async () => {
  const node = await NodeProcess.start('endless')
  try {
    const pid = node.proc.pid as number
    const rssBefore = rssMiB(pid)
    let peak = rssBefore
    const chunk = 'y'.repeat(1024 * 1024)
    for (let i = 0; i < 256; i++) {
      if (!node.proc.stdin.write(chunk)) await new Promise((resolve) => node.proc.stdin.once('drain', resolve))
      if (i % 16 === 0) peak = Math.max(peak, rssMiB(pid))
    }
    node.write('\n')
    const error = await node.waitFor((e) => e.type === 'error' && e.code === 'LINE_TOO_LONG', 'LINE_TOO_LONG')
    assert.match(error.message, /268435456 bytes/)
    // Garbage collection decides when dropped chunks are freed; holding the line would take 256 MiB.
    assert.ok(peak - rssBefore < 96, `RSS grew by ${(peak - rssBefore).toFixed(0)} MiB while 256 MiB streamed past`)
    await node.ok({ type: 'peers' })
  } finally {
    await node.kill()
  }
})
