import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess, eventually } from './helpers/node-process.js'

/**
 * Direct messages at volume. CI runs 20 000 sends; P2P_DELIVERY_SENDS=100000
 * runs the full count.
 */
const SENDS = Number(process.env.P2P_DELIVERY_SENDS ?? 20_000)
/** How many sends a client keeps in flight, as a client of a reliable channel does. */
const IN_FLIGHT = 1_000
const LOCAL = ['--host', '127.0.0.1']
/** Bound on answering every send: 3 ms a send, at least a minute (CI's 20 000 take about 1.5 s on a 2-core machine). */
const ANSWERED_WITHIN_MS = Math.max(60_000, SENDS * 3)

describe('delivery at volume', () => {
  const nodes: NodeProcess[] = []
  after(async () => {
    await Promise.all(nodes.map(async (node) => await node.kill()))
    for (const node of nodes) assert.deepEqual(node.badLines, [], `${node.label} wrote non-protocol stdout`)
  })

  test(`${SENDS} direct sends A→B: every one acknowledged, received exactly once and in order`, async () => {
    // A now sends faster than B's default --max-messages-per-second lets
    // through (a bucket of 10 000 that refills at 10 000 a second): B reset
    // A's stream, as documented, after about 19 200 messages. This test is
    // about delivery, so B takes all A sends.
    const b = await NodeProcess.start('B', { args: [...LOCAL, '--max-messages-per-second', '1000000'] })
    const a = await NodeProcess.start('A', { args: [...LOCAL, '--bootstrap', b.addr] })
    nodes.push(a, b)
    a.keepEvents = false
    b.keepEvents = false
    let expected = 0
    let misordered = 0
    b.listeners.add((e) => {
      if (e.type !== 'message') return
      if (e.data !== expected) misordered++
      expected = (e.data as number) + 1
    })
    const failures = await a.pipeline(SENDS, IN_FLIGHT, (i) => ({ type: 'send', peerId: b.peerId, data: i, timeoutMs: 60_000 }), ANSWERED_WITHIN_MS)
    assert.deepEqual(failures.slice(0, 3), [])
    assert.equal(failures.length, 0, 'every send acknowledged')
    await eventually(() => expected === SENDS ? true : undefined, `B received all ${SENDS} (has ${expected})`, 30_000)
    assert.equal(misordered, 0, 'received in order, none twice')
  })
})
