import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess, eventually } from './helpers/node-process.js'

/**
 * Three compiled nodes on 127.0.0.1. A starts alone; B and C know nothing but
 * A's address. Every command and event of protocol v1 is exercised between them.
 */
describe('three nodes on 127.0.0.1', () => {
  let a: NodeProcess
  let b: NodeProcess
  let c: NodeProcess

  before(async () => {
    a = await NodeProcess.start('A')
    ;[b, c] = await Promise.all([
      NodeProcess.start('B', { args: ['--host', '127.0.0.1', '--bootstrap', a.addr] }),
      NodeProcess.start('C', { args: ['--host', '127.0.0.1', '--bootstrap', a.addr] })
    ])
  })

  after(async () => {
    await Promise.all([a, b, c].map(async (node) => await node?.kill()))
    for (const node of [a, b, c]) assert.deepEqual(node?.badLines ?? [], [], `${node?.label} wrote stdout lines that are not protocol events`)
  })

  test('ready is the first line and names the peer id and its addresses', () => {
    for (const node of [a, b, c]) {
      assert.equal(node.events[0]?.type, 'ready')
      assert.equal(node.ready.protocolVersion, 1)
      assert.match(node.peerId, /^12D3KooW/)
      assert.ok(node.ready.addrs.every((addr) => addr.startsWith('/ip4/127.0.0.1/tcp/') && addr.endsWith(`/p2p/${node.peerId}`)))
    }
  })

  test('--bootstrap peers are dialled at start: peer_connected on both sides', async () => {
    await b.waitFor((e) => e.type === 'peer_connected' && e.peerId === a.peerId, 'peer_connected A')
    await c.waitFor((e) => e.type === 'peer_connected' && e.peerId === a.peerId, 'peer_connected A')
    await a.waitFor((e) => e.type === 'peer_connected' && e.peerId === b.peerId, 'peer_connected B')
    await a.waitFor((e) => e.type === 'peer_connected' && e.peerId === c.peerId, 'peer_connected C')
  })

  test('connect dials bootstrap peers and reports the node and who answered', async () => {
    const reply = await c.ok({ type: 'connect', bootstrapPeers: [a.addr] })
    assert.equal(reply.command, 'connect')
    assert.equal(reply.peerId, c.peerId)
    assert.deepEqual(reply.connected, [a.peerId])
    assert.deepEqual(reply.failed, [])
    assert.deepEqual(reply.addrs, c.ready.addrs)
  })

  test('connect with one unreachable and one good peer succeeds and lists the failure', async () => {
    const dead = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWJrfLYVdsqdnDzXdNZ3mzVWnxvtgBKz5nhvJnpknPQrzY'
    const reply = await c.ok({ type: 'connect', bootstrapPeers: [a.addr, dead] })
    assert.deepEqual(reply.connected, [a.peerId])
    assert.equal(reply.failed.length, 1)
    assert.equal(reply.failed[0].addr, dead)
    assert.equal(reply.failed[0].code, 'DIAL_FAILED')
  })

  test('connect errors: nothing reachable, bad multiaddr, wrong port', async () => {
    const unreachable = await c.request({ type: 'connect', bootstrapPeers: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWJrfLYVdsqdnDzXdNZ3mzVWnxvtgBKz5nhvJnpknPQrzY'] })
    assert.equal(unreachable.type, 'error')
    assert.equal(unreachable.code, 'DIAL_FAILED')
    const bad = await c.request({ type: 'connect', bootstrapPeers: ['not-a-multiaddr'] })
    assert.equal(bad.code, 'INVALID_MULTIADDR')
    assert.match(bad.message, /bootstrapPeers\.0/)
    const port = await c.request({ type: 'connect', port: 1 })
    assert.equal(port.code, 'INVALID_COMMAND')
    assert.match(port.message, /port/)
  })

  test('discover finds the topic\'s peers starting from nothing but a bootstrap address', async () => {
    const topic = 'discover-topic'
    const subscribed = await c.ok({ type: 'subscribe', topic })
    assert.equal(subscribed.advertised, true)
    const found = await b.ok({ type: 'discover', topic })
    assert.deepEqual(found.peers, [c.peerId])
    const event = await b.waitFor((e) => e.type === 'peer_discovered' && e.peerId === c.peerId, 'peer_discovered C')
    assert.ok(event.topics.includes(topic))

    // peer_discovered comes once per peer and topic, however often discover runs.
    const again = await b.ok({ type: 'discover', topic })
    assert.deepEqual(again.peers, [c.peerId])
    assert.equal(b.all('peer_discovered').filter((e) => e.peerId === c.peerId && e.topics.includes(topic)).length, 1)

    const empty = await b.ok({ type: 'discover', topic: 'nobody-here', timeoutMs: 3000 })
    assert.deepEqual(empty.peers, [])
  })

  test('a message published by A reaches B and C, once each', async () => {
    const topic = 'news'
    await Promise.all([b.ok({ type: 'subscribe', topic }), c.ok({ type: 'subscribe', topic })])
    await eventually(async () => {
      const { peers } = await a.ok({ type: 'peers' })
      const onTopic = peers.filter((p: any) => p.topics.includes(topic)).map((p: any) => p.peerId)
      return onTopic.includes(b.peerId) && onTopic.includes(c.peerId) ? true : undefined
    }, 'A sees B and C subscribed to news')

    const data = { headline: 'hello', n: 1, nested: [true, null, 'ü'] }
    const reply = await a.ok({ type: 'publish', topic, data })
    assert.equal(reply.recipients, 2)
    for (const node of [b, c]) {
      const message = await node.waitFor((e) => e.type === 'message' && e.topic === topic, `message on ${topic}`)
      assert.equal(message.from, a.peerId)
      assert.deepEqual(message.data, data)
    }
    // One more publish, awaited on both, proves the first was not delivered twice.
    await a.ok({ type: 'publish', topic, data: 'second' })
    for (const node of [b, c]) {
      await node.waitFor((e) => e.type === 'message' && e.topic === topic && e.data === 'second', 'second message')
      assert.equal(node.all('message').filter((e) => e.topic === topic && e.data?.headline === 'hello').length, 1)
    }
  })

  test('unsubscribe stops delivery; publishing to a topic nobody is on is NO_PEERS_SUBSCRIBED', async () => {
    const topic = 'short-lived'
    await b.ok({ type: 'subscribe', topic })
    await eventually(async () => {
      const { peers } = await a.ok({ type: 'peers' })
      return peers.some((p: any) => p.peerId === b.peerId && p.topics.includes(topic)) ? true : undefined
    }, 'A sees B on short-lived')
    const left = await b.ok({ type: 'unsubscribe', topic })
    assert.equal(left.topic, topic)
    const refused = await eventually(async () => {
      const reply = await a.request({ type: 'publish', topic, data: 1 })
      return reply.type === 'error' ? reply : undefined
    }, 'publish after unsubscribe fails')
    assert.equal(refused.code, 'NO_PEERS_SUBSCRIBED')
    assert.match(refused.message, /short-lived/)
    assert.equal(b.all('message').filter((e) => e.topic === topic).length, 0)
  })

  test('send A→C is acknowledged and delivered exactly once', async () => {
    const data = { text: 'direct', at: 42 }
    const reply = await a.ok({ type: 'send', peerId: c.peerId, data })
    assert.equal(reply.peerId, c.peerId)
    const message = await c.waitFor((e) => e.type === 'message' && e.topic === undefined && e.data?.text === 'direct', 'direct message')
    assert.equal(message.from, a.peerId)
    assert.deepEqual(message.data, data)

    // Many sends in flight at once: every one acknowledged, each delivered once, in order.
    const replies = await Promise.all(Array.from({ length: 200 }, async (_, i) => await a.request({ type: 'send', peerId: c.peerId, data: { seq: i } })))
    assert.ok(replies.every((r) => r.type === 'result'), JSON.stringify(replies.find((r) => r.type !== 'result')))
    // C wrote every message before acknowledging it; this process may still be reading C's stdout.
    await c.waitFor((e) => e.type === 'message' && e.data?.seq === 199, 'the 200th direct message')
    const received = c.all('message').filter((e) => e.from === a.peerId && typeof e.data?.seq === 'number').map((e) => e.data.seq)
    assert.deepEqual(received, Array.from({ length: 200 }, (_, i) => i))
    assert.equal(c.all('message').filter((e) => e.data?.text === 'direct').length, 1)
  })

  test('the receiver reads the JSON text the sender wrote: its spaces, and every digit of a big number', async () => {
    let stdout = ''
    const capture = (chunk: Buffer): void => { stdout += chunk.toString() }
    c.proc.stdout.on('data', capture)
    try {
      const text = '{"big": 12345678901234567890, "list": [1, 2.50, "x"]}'
      a.write(`{"type":"send","id":"verbatim","peerId":"${c.peerId}","data": ${text}}\n`)
      assert.equal((await a.waitFor((e) => e.id === 'verbatim', 'reply to the verbatim send')).type, 'result')
      await c.waitFor((e) => e.type === 'message' && e.data?.list?.[2] === 'x', 'the verbatim message')
      assert.ok(stdout.includes(`"data":${text}}\n`), `C's line carries the text as written: ${stdout.slice(-300)}`)
    } finally {
      c.proc.stdout.off('data', capture)
    }
  })

  test('a send piped in with stdin closed right after still gets its reply', async () => {
    const once = new NodeProcess('pipe', { args: ['--host', '127.0.0.1', '--bootstrap', a.addr] })
    once.proc.stdin.end(JSON.stringify({ type: 'send', id: 'piped', peerId: a.peerId, data: 'from a pipe' }) + '\n')
    const reply = await once.waitFor((e) => e.id === 'piped', 'reply to the piped send')
    assert.equal(reply.type, 'result', JSON.stringify(reply))
    assert.equal((await once.waitExit()).code, 0)
    await a.waitFor((e) => e.type === 'message' && e.data === 'from a pipe', 'the piped message')
    assert.deepEqual(once.badLines, [])
  })

  test('send errors: bad peer id, own peer id, unknown peer', async () => {
    const bad = await a.request({ type: 'send', peerId: 'not a peer id!', data: 1 })
    assert.equal(bad.code, 'INVALID_PEER_ID')
    const unknownName = await a.request({ type: 'send', peerId: 'nobody-has-this-name', data: 1 })
    assert.equal(unknownName.code, 'NOT_FOUND')
    const self = await a.request({ type: 'send', peerId: a.peerId, data: 1 })
    assert.equal(self.code, 'INVALID_PEER_ID')
    const unknown = await a.request({ type: 'send', peerId: '12D3KooWJrfLYVdsqdnDzXdNZ3mzVWnxvtgBKz5nhvJnpknPQrzY', data: 1, timeoutMs: 1500 })
    assert.equal(unknown.type, 'error')
    assert.equal(unknown.code, 'PEER_NOT_FOUND', JSON.stringify(unknown))
    assert.match(unknown.message, /within 1500 ms/)
  })

  test('ping and send to a peer nobody knows are PEER_NOT_FOUND, on a connected node and on a lone one', async () => {
    // A lone node's DHT lookup waits for a DHT peer until the time limit; that used to be reported as TIMEOUT.
    const nobody = '12D3KooWJrfLYVdsqdnDzXdNZ3mzVWnxvtgBKz5nhvJnpknPQrzY'
    const lone = await NodeProcess.start('lone')
    try {
      for (const node of [a, lone]) {
        for (const command of [{ type: 'ping', peerId: nobody, timeoutMs: 1500 }, { type: 'send', peerId: nobody, data: 1, timeoutMs: 1500 }]) {
          const reply = await node.request(command)
          assert.equal(reply.type, 'error', `${node.label} ${command.type}: ${JSON.stringify(reply)}`)
          assert.equal(reply.code, 'PEER_NOT_FOUND', `${node.label} ${command.type}: ${JSON.stringify(reply)}`)
          assert.match(reply.message, /no address/)
        }
      }
    } finally {
      await lone.kill()
    }
    assert.deepEqual(lone.badLines, [])
  })

  test('ping: several at once to one peer all get their round trip', async () => {
    // The ping protocol allows one outbound stream per peer, and kad-dht pings
    // new contacts with the same service: the node takes the pings in turn.
    const replies = await Promise.all(Array.from({ length: 4 }, async () => await b.request({ type: 'ping', peerId: c.peerId })))
    for (const reply of replies) {
      assert.equal(reply.type, 'result', JSON.stringify(reply))
      assert.equal(reply.peerId, c.peerId)
      assert.ok(Number.isFinite(reply.latencyMs) && reply.latencyMs >= 0, JSON.stringify(reply))
    }
  })

  test('peers lists connected peers with their addresses and topics', async () => {
    const { peers } = await b.ok({ type: 'peers' })
    const ids = peers.map((p: any) => p.peerId)
    assert.ok(ids.includes(a.peerId))
    const toA = peers.find((p: any) => p.peerId === a.peerId)
    assert.ok(toA.addrs.length > 0 && toA.addrs.every((addr: string) => addr.startsWith('/ip4/127.0.0.1/tcp/')))
    const toC = peers.find((p: any) => p.peerId === c.peerId)
    assert.ok(toC.topics.includes('news'), JSON.stringify(toC))
  })

  test('peer_disconnected when a peer goes away', async () => {
    const d = await NodeProcess.start('D', { args: ['--host', '127.0.0.1', '--bootstrap', a.addr] })
    await a.waitFor((e) => e.type === 'peer_connected' && e.peerId === d.peerId, 'peer_connected D')
    d.write(JSON.stringify({ type: 'shutdown' }) + '\n')
    assert.equal((await d.waitExit()).code, 0)
    await a.waitFor((e) => e.type === 'peer_disconnected' && e.peerId === d.peerId, 'peer_disconnected D')
    assert.deepEqual(d.badLines, [])
  })
})

