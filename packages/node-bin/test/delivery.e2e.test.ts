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

describe('delivery at volume', () => {
  const nodes: NodeProcess[] = []
  after(async () => {
    await Promise.all(nodes.map(async (node) => await node.kill()))
    for (const node of nodes) assert.deepEqual(node.badLines, [], `${node.label} wrote non-protocol stdout`)
  })

  test(`${SENDS} direct sends A→B: every one acknowledged, received exactly once and in order`, async () => {
    const b = await NodeProcess.start('B', { args: LOCAL })
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
    let acked = 0
    let sent = 0
    const failures: Record<string, any>[] = []
    const pump = (): void => {
      for (; sent < Math.min(SENDS, acked + failures.length + IN_FLIGHT); sent++) {
        a.write(JSON.stringify({ type: 'send', id: sent, peerId: b.peerId, data: sent, timeoutMs: 60_000 }) + '\n')
      }
    }
    const allAnswered = new Promise<void>((resolve) => {
      a.listeners.add((e) => {
        if (e.type === 'result' && e.command === 'send') acked++
        else if (e.type === 'error') failures.push(e)
        if (acked + failures.length === SENDS) resolve()
        else pump()
      })
    })
    pump()
    await Promise.race([allAnswered, a.exited.then(() => { throw new Error('A exited') })])
    assert.deepEqual(failures.slice(0, 3), [])
    assert.equal(acked, SENDS)
    await eventually(() => expected === SENDS ? true : undefined, `B received all ${SENDS} (has ${expected})`, 30_000)
    assert.equal(misordered, 0, 'received in order, none twice')
  })
})
