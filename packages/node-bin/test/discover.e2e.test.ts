import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess, eventually } from './helpers/node-process.js'

const nodes: NodeProcess[] = []
after(async () => {
  await Promise.all(nodes.map(async (node) => await node.kill()))
  for (const node of nodes) assert.deepEqual(node.badLines, [])
})

// DHT clients only: no provider record can be stored or found, so C can learn
// of A only by asking B, the one topic peer it is connected to.
test('discover finds a topic peer through the topic peers it is connected to, without the DHT', async () => {
  const start = async (label: string, bootstrap: string[] = []): Promise<NodeProcess> => {
    const node = await NodeProcess.start(label, { args: ['--host', '127.0.0.1', '--dht-mode', 'client', ...(bootstrap.length > 0 ? ['--bootstrap', ...bootstrap] : [])] })
    nodes.push(node)
    return node
  }
  const a = await start('A')
  const b = await start('B', [a.addr])
  // With no DHT server, each subscribe gives up advertising after 10 s and replies advertised: false.
  await Promise.all([a.ok({ type: 'subscribe', topic: 'rooms' }, 15_000), b.ok({ type: 'subscribe', topic: 'rooms' }, 15_000)])
  await eventually(async () => (await b.ok({ type: 'peers' })).peers.some((p: any) => p.peerId === a.peerId && p.topics.includes('rooms')) ? true : undefined, 'B sees A on the topic')

  const c = await start('C', [b.addr])
  assert.equal((await c.ok({ type: 'subscribe', topic: 'rooms' }, 15_000)).advertised, false)
  await c.waitFor((e) => e.type === 'peer_connected' && e.peerId === b.peerId, 'C connected to B')
  const found = await eventually(async () => {
    const reply = await c.ok({ type: 'discover', topic: 'rooms', timeoutMs: 2000 })
    return reply.peers.includes(a.peerId) ? reply : undefined
  }, 'C discovers A through B')
  assert.deepEqual([...found.peers].sort(), [a.peerId, b.peerId].sort())
  await c.waitFor((e) => e.type === 'peer_discovered' && e.peerId === a.peerId, 'peer_discovered A')
  assert.ok((await c.ok({ type: 'peers' })).peers.some((p: any) => p.peerId === a.peerId), 'C is connected to A')
})
