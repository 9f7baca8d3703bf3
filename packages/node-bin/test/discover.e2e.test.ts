import '../src/polyfill.js'
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Libp2p } from '@libp2p/interface'
import { TOPIC_PEERS_PROTOCOL } from '../src/constants.js'
import { NodeProcess, eventually } from './helpers/node-process.js'

const nodes: NodeProcess[] = []
after(async () => {
  await Promise.all(nodes.map(async (node) => await node.kill()))
  for (const node of nodes) assert.deepEqual(node.badLines, [])
})

/** A plain libp2p peer on 127.0.0.1: it speaks no p2p-node protocol unless the test adds one. */
async function rawPeer (): Promise<Libp2p> {
  return await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
}

/** One entry of a topic peers answer. */
interface Told { id: string, addrs: string[] }

/** Makes a plain peer answer each topic peers question with what `told` returns when the question comes. */
async function answerTopicPeers (peer: Libp2p, told: () => Told[]): Promise<void> {
  await peer.handle(TOPIC_PEERS_PROTOCOL, async (stream) => {
    const lp = lpStream(stream)
    await lp.read()
    await lp.write(new TextEncoder().encode(JSON.stringify({ peers: told() })))
    await stream.close()
  })
}

/** Starts a DHT client node on 127.0.0.1 that knows the given bootstrap addresses. */
async function start (label: string, bootstrap: string[] = [], extraArgs: string[] = []): Promise<NodeProcess> {
  const node = await NodeProcess.start(label, { args: ['--host', '127.0.0.1', '--dht-mode', 'client', ...(bootstrap.length > 0 ? ['--bootstrap', ...bootstrap] : []), ...extraArgs] })
  nodes.push(node)
  return node
}

// DHT clients only: no provider record can be stored or found, so C can learn
// of A only by asking B, the one topic peer it is connected to.
test('discover finds a topic peer through the topic peers it is connected to, without the DHT', async () => {
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

// DHT clients again (the node all others start from too), so that no DHT
// query or routing table check opens connections: each node is connected to
// that first node only, until discover dials. It does not subscribe, like a
// bootstrap node, yet knows every subscriber connected to it.
test('discover reports every topic peer but connects to only 8 of them; send reaches one it did not dial', async () => {
  const { first, members, subscribed } = await topicWithMembers('crowd', Array.from({ length: 12 }, (_, i) => `M${i}`))
  const seeker = await start('seeker', [first.addr])
  await seeker.waitFor((e) => e.type === 'peer_connected' && e.peerId === first.peerId, 'the seeker connected to the first node')

  // The seeker does not subscribe: all it knows comes from the first node's answer.
  const found = await seeker.ok({ type: 'discover', topic: 'crowd', timeoutMs: 5_000 })
  const memberIds = members.map((member) => member.peerId).sort()
  assert.deepEqual([...found.peers].sort(), memberIds)
  for (const id of memberIds) await seeker.waitFor((e) => e.type === 'peer_discovered' && e.peerId === id, `peer_discovered ${id}`)
  const connected = new Set((await seeker.ok({ type: 'peers' })).peers.map((p: any) => p.peerId))
  assert.equal(memberIds.filter((id) => connected.has(id)).length, 8, 'connected to exactly 8 of the 12 topic peers')

  const notDialled = members.find((member) => !connected.has(member.peerId)) as NodeProcess
  await seeker.ok({ type: 'send', peerId: notDialled.peerId, data: 'found, not dialled' })
  await notDialled.waitFor((e) => e.type === 'message' && e.from === seeker.peerId && e.data === 'found, not dialled', 'the message to a peer discover did not dial')
  await subscribed
})

// Two plain libp2p peers run no gossipsub, so the node never hears their
// subscriptions: as a peer on a relayed connection (where gossipsub does not
// run) or one whose subscription has not come yet on a new connection. The
// node asks both, as peers off the topic; one answer lists the other. That
// peer is on the topic and is reported, although the node asked it too.
test('discover reports a connected peer that an answer lists, though it asked that peer as one off the topic', async () => {
  const node = await start('listener')
  const member = await rawPeer()
  const teller = await rawPeer()
  try {
    await answerTopicPeers(member, () => [])
    await answerTopicPeers(teller, () => [{ id: member.peerId.toString(), addrs: member.getMultiaddrs().map(String) }])
    for (const peer of [member, teller]) {
      await peer.dial(multiaddr(node.addr))
      await node.waitFor((e) => e.type === 'peer_connected' && e.peerId === peer.peerId.toString(), 'a raw peer connected')
    }
    const reply = await node.ok({ type: 'discover', topic: 'unheard', timeoutMs: 3_000 })
    assert.deepEqual(reply.peers, [member.peerId.toString()])
  } finally {
    await Promise.all([member.stop(), teller.stop()])
  }
})

// B announces its subscription half a second after discover connected to it
// (it subscribes late). The discover waits for the announcement, so that the
// publish right after it finds B; before, the publish failed with
// NO_PEERS_SUBSCRIBED.
test('a publish right after discover finds the topic peer discover connected to, though that peer announced its subscription late', async () => {
  const seeker = await start('seeker')
  const late = await start('late')
  const teller = await rawPeer()
  try {
    await answerTopicPeers(teller, () => [{ id: late.peerId, addrs: [late.addr] }])
    await teller.dial(multiaddr(seeker.addr))
    await seeker.waitFor((e) => e.type === 'peer_connected' && e.peerId === teller.peerId.toString(), 'the teller connected')
    const subscribed = (async () => {
      await late.waitFor((e) => e.type === 'peer_connected' && e.peerId === seeker.peerId, 'discover dialled the late subscriber')
      // The stimulus, not a wait for an outcome: the subscription goes out half a second after the connection.
      await new Promise((resolve) => setTimeout(resolve, 500))
      // With no DHT server, the reply comes once the advertisement gives up, after 10 s.
      return await late.ok({ type: 'subscribe', topic: 'late' }, 15_000)
    })()
    // Its DHT lookup (no server answers) runs until 70 % of the 10 s, the dial follows, and the
    // subscription arrives half a second later, before the dials' deadline at 90 %.
    const found = await seeker.ok({ type: 'discover', topic: 'late', timeoutMs: 10_000 }, 15_000)
    assert.deepEqual(found.peers, [late.peerId])
    const published = await seeker.request({ type: 'publish', topic: 'late', data: 'first' })
    assert.equal(published.type, 'result', `publish right after discover: ${JSON.stringify(published)}`)
    assert.equal(published.recipients, 1)
    await subscribed
  } finally {
    await teller.stop()
  }
})

// A raw libp2p peer takes the node's question and never answers it. The
// command still replies within its timeoutMs, with what it knew: before, it
// waited the whole timeoutMs for the answer and then looked up the DHT.
test('discover replies within its timeoutMs when a connected peer never answers', async () => {
  const node = await start('asker')
  await node.ok({ type: 'subscribe', topic: 'quiet' }, 15_000)
  const silent = await rawPeer()
  const questions: unknown[] = []
  await silent.handle(TOPIC_PEERS_PROTOCOL, (stream) => { questions.push(stream) })
  try {
    await silent.dial(multiaddr(node.addr))
    await node.waitFor((e) => e.type === 'peer_connected' && e.peerId === silent.peerId.toString(), 'the silent peer connected')
    const timeoutMs = 3_000
    const started = performance.now()
    const reply = await node.ok({ type: 'discover', topic: 'quiet', timeoutMs }, timeoutMs + 5_000)
    const elapsed = performance.now() - started
    assert.equal(questions.length, 1, 'the node asked the silent peer')
    assert.deepEqual(reply.peers, [])
    assert.ok(elapsed < timeoutMs, `discover replied after ${elapsed.toFixed(0)} ms, more than its timeoutMs of ${timeoutMs}`)
  } finally {
    await silent.stop()
  }
})

// Six plain libp2p peers, none on the topic, answer the node's topic peer
// questions with lists the test controls. discover asks 4 of them first and
// the other 2 only when those told of a peer that no discover of the topic had
// found and no one of their answers listed all the others did: a node that
// calls discover again and again asks 4, not all, and so does one that a peer
// connected to the whole topic (a bootstrap node) answered.
test('discover asks beyond its first 4 peers only when they tell of a peer no earlier discover found and no one answer lists all the others do', async () => {
  const node = await start('poller')
  // What the answering peer with this index tells, when asked.
  let telling: (index: number) => Told[] = () => []
  let questions = 0
  const answering = await Promise.all(Array.from({ length: 6 }, async (_, index) => {
    const peer = await rawPeer()
    await answerTopicPeers(peer, () => {
      questions++
      return telling(index)
    })
    return peer
  }))
  // The peers they tell of hang up once connected (after identify, so that
  // discover's dial has succeeded): the node is left connected to the six only.
  const newcomers = await Promise.all([0, 1, 2].map(async () => {
    const peer = await rawPeer()
    peer.addEventListener('peer:identify', (event) => { void peer.hangUp(event.detail.peerId) })
    return peer
  }))
  const hungUp = async (peer: Libp2p, times: number): Promise<void> => {
    const id = peer.peerId.toString()
    await eventually(() => node.all('peer_disconnected').filter((e) => e.peerId === id).length >= times ? true : undefined, `${times} hang-ups of a told peer`)
  }
  const entry = (peer: Libp2p): Told => ({ id: peer.peerId.toString(), addrs: peer.getMultiaddrs().map(String) })
  const ids = (...peers: Libp2p[]): string[] => peers.map((peer) => peer.peerId.toString()).sort()
  const discoverAndCount = async (): Promise<{ asked: number, peers: string[] }> => {
    const before = questions
    const reply = await node.ok({ type: 'discover', topic: 'polled', timeoutMs: 5_000 }, 10_000)
    return { asked: questions - before, peers: [...reply.peers].sort() }
  }
  try {
    for (const peer of answering) {
      await peer.dial(multiaddr(node.addr))
      await node.waitFor((e) => e.type === 'peer_connected' && e.peerId === peer.peerId.toString(), 'an answering peer connected')
    }
    const [first, second, third] = newcomers as [Libp2p, Libp2p, Libp2p]

    telling = () => [entry(first)]
    const agreed = await discoverAndCount()
    assert.deepEqual(agreed, { asked: 4, peers: ids(first) }, 'the first 4 told of a new peer, but each listed all the others did: discover asks no more')
    await hungUp(first, 1)

    // Any 4 of the six include both halves, so no one answer lists both peers.
    telling = (index) => [entry(index % 2 === 0 ? second : third)]
    const split = await discoverAndCount()
    assert.deepEqual(split, { asked: 6, peers: ids(first, second, third) }, 'the first 4 told of new peers and no one of them listed all: discover asks the other 2 as well')
    await Promise.all([hungUp(first, 2), hungUp(second, 1), hungUp(third, 1)])

    const again = await discoverAndCount()
    assert.deepEqual(again, { asked: 4, peers: ids(first, second, third) }, 'a repeated discover told of nothing new asks only 4')
    await Promise.all([hungUp(first, 3), hungUp(second, 2), hungUp(third, 2)])

    // An answer of 64 peers, the most one may list, may have been cut short:
    // though all six list the same peers, the other 2 are asked too.
    const many = await Promise.all(Array.from({ length: 64 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
    telling = () => many.map((id) => ({ id, addrs: [] }))
    const full = await discoverAndCount()
    assert.equal(full.asked, 6, 'answers of 64 peers cover nothing: discover asks the other 2 as well')
  } finally {
    await Promise.all([...answering, ...newcomers].map(async (peer) => { await peer.stop() }))
  }
})

/**
 * A first node (they all start from it, like a bootstrap node) and members
 * subscribed to the topic. With no DHT server, each subscribe replies only
 * after giving up advertising (10 s): the test needs only the subscriptions
 * the first node sees, and awaits the replies at the end (`subscribed`).
 */
async function topicWithMembers (topic: string, labels: string[]): Promise<{ first: NodeProcess, members: NodeProcess[], subscribed: Promise<unknown> }> {
  const first = await start(`${topic}-first`)
  const members = await Promise.all(labels.map(async (label) => await start(label, [first.addr])))
  const subscribed = Promise.all(members.map(async (member) => await member.ok({ type: 'subscribe', topic }, 15_000)))
  await eventually(async () => (await first.ok({ type: 'peers' })).peers.filter((p: any) => p.topics.includes(topic)).length === members.length ? true : undefined, `the first node sees the ${members.length} subscriptions to ${topic}`)
  return { first, members, subscribed }
}

// The node asked (frozen with SIGSTOP, as a bootstrap node starved of CPU by
// many nodes on one machine is, in effect) answers after discover has replied.
// The answer is kept: the next discover reports the peers it listed, though
// that node is frozen again. Before, the answer was thrown away at discover's
// deadline, and a busy node that answered late never helped anyone.
test('a topic peers answer that comes after discover has replied serves the next discover', async () => {
  const { first, members, subscribed } = await topicWithMembers('late', ['late-B', 'late-C'])
  const seeker = await start('late-seeker', [first.addr], ['--log-level', 'debug'])
  await seeker.waitFor((e) => e.type === 'peer_connected' && e.peerId === first.peerId, 'the seeker connected to the first node')
  const answered = (e: Record<string, any>): boolean => e.type === 'log' && e.message === 'a peer answered a topic peers request' && e.meta?.peerId === first.peerId
  try {
    first.proc.kill('SIGSTOP')
    const early = await seeker.ok({ type: 'discover', topic: 'late', timeoutMs: 1_000 })
    assert.deepEqual(early.peers, [], 'nothing known while the first node is frozen')
    assert.equal(seeker.all('log').some(answered), false, 'no answer yet')
    first.proc.kill('SIGCONT')
    const answer = await seeker.waitFor(answered, 'the late answer')
    assert.equal(answer.meta.peers, 2)
    first.proc.kill('SIGSTOP')
    const later = await seeker.ok({ type: 'discover', topic: 'late', timeoutMs: 2_000 })
    assert.deepEqual([...later.peers].sort(), members.map((member) => member.peerId).sort())
  } finally {
    first.proc.kill('SIGCONT')
  }
  await subscribed
})

// The peer discover finds is frozen, so discover's dial to it cannot finish
// before the command's deadline. The dial goes on: once the peer thaws, the
// two connect, with no second discover. Before, the deadline aborted the dial,
// and its work was lost at both ends.
test('a dial that discover could not finish in time goes on after it replies', async () => {
  const { first, members, subscribed } = await topicWithMembers('drowsy', ['sleeper'])
  const sleeper = members[0] as NodeProcess
  const { peerId } = sleeper
  const seeker = await start('drowsy-seeker', [first.addr])
  await seeker.waitFor((e) => e.type === 'peer_connected' && e.peerId === first.peerId, 'the seeker connected to the first node')
  try {
    sleeper.proc.kill('SIGSTOP')
    const reply = await seeker.ok({ type: 'discover', topic: 'drowsy', timeoutMs: 2_000 })
    assert.deepEqual(reply.peers, [peerId], 'a peer whose dial ran out of time is still reported')
    assert.equal(seeker.all('peer_connected').some((e) => e.peerId === peerId), false, 'not connected while it is frozen')
  } finally {
    sleeper.proc.kill('SIGCONT')
  }
  await seeker.waitFor((e) => e.type === 'peer_connected' && e.peerId === peerId, 'the connection once the peer thaws')
  await subscribed
})

// A connected peer tells of 12 topic peers whose addresses accept TCP
// connections and never answer, so each dial hangs until its 10 s limit. A
// discover right after the first counts the first one's 8 dials, still under
// way, as connections, and dials no more: else a node that polls discover would
// dial 8 more peers each time.
test('a discover right after another dials no more peers while the first one\'s dials are under way', async () => {
  const node = await start('hole-poller')
  const sockets = new Set<Socket>()
  const holes = await Promise.all(Array.from({ length: 12 }, async () => {
    const hole = { accepted: 0, server: createServer((socket) => { hole.accepted++; sockets.add(socket) }) }
    await new Promise<void>((resolve) => { hole.server.listen(0, '127.0.0.1', resolve) })
    return hole
  }))
  const told = await Promise.all(holes.map(async ({ server }) => ({
    id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString(),
    addrs: [`/ip4/127.0.0.1/tcp/${(server.address() as AddressInfo).port}`]
  })))
  const teller = await rawPeer()
  await answerTopicPeers(teller, () => told)
  const dialled = (): number => holes.filter((hole) => hole.accepted > 0).length
  try {
    await teller.dial(multiaddr(node.addr))
    await node.waitFor((e) => e.type === 'peer_connected' && e.peerId === teller.peerId.toString(), 'the telling peer connected')
    const first = await node.ok({ type: 'discover', topic: 'holes', timeoutMs: 1_000 })
    assert.equal(first.peers.length, 12, 'peers whose dials ran out of time are still reported')
    await eventually(() => dialled() >= 8 ? true : undefined, '8 dials to the silent peers')
    const second = await node.ok({ type: 'discover', topic: 'holes', timeoutMs: 1_000 })
    assert.equal(second.peers.length, 12)
    assert.equal(dialled(), 8, 'the second discover dialled no more peers')
  } finally {
    for (const socket of sockets) socket.destroy()
    await Promise.all(holes.map(async ({ server }) => { await new Promise((resolve) => server.close(resolve)) }))
    await teller.stop()
  }
})

// A DHT provider lookup asks every DHT peer near the topic's key, and dials
// those it is not connected to; a node that polls discover made one at every
// call that knew fewer than 20 peers. The discovers of a topic in the 10 s after a lookup take the providers
// it found, and say so in a debug log event.
test('discover walks the DHT for a topic once, and the discovers right after take what that lookup found', async () => {
  const keeper = await NodeProcess.start('dht-keeper', { args: ['--host', '127.0.0.1', '--bootstrap-node'] })
  nodes.push(keeper)
  const provider = await NodeProcess.start('dht-provider', { args: ['--host', '127.0.0.1', '--bootstrap', keeper.addr] })
  nodes.push(provider)
  const seeker = await NodeProcess.start('dht-seeker', { args: ['--host', '127.0.0.1', '--bootstrap', keeper.addr, '--log-level', 'debug'] })
  nodes.push(seeker)
  const reused = (topic: string): ReturnType<NodeProcess['all']> => seeker.all('log').filter((e) => e.message === 'reused a recent DHT provider lookup' && e.meta?.topic === topic)
  await provider.ok({ type: 'subscribe', topic: 'walked' })
  await seeker.waitFor((e) => e.type === 'peer_connected' && e.peerId === keeper.peerId, 'the seeker connected to the DHT keeper')

  const first = await seeker.ok({ type: 'discover', topic: 'walked', timeoutMs: 5_000 }, 10_000)
  assert.deepEqual(first.peers, [provider.peerId])
  assert.equal(reused('walked').length, 0, 'the first discover made a lookup of its own')

  const second = await seeker.ok({ type: 'discover', topic: 'walked', timeoutMs: 5_000 }, 10_000)
  assert.deepEqual(second.peers, [provider.peerId])
  const [log] = await eventually(() => reused('walked').length > 0 ? reused('walked') : undefined, 'the log event of the reused lookup')
  assert.ok((log?.meta?.providers as number) >= 1, `the reused lookup had found the provider: ${JSON.stringify(log)}`)

  await seeker.ok({ type: 'discover', topic: 'elsewhere', timeoutMs: 2_000 }, 10_000)
  assert.equal(reused('elsewhere').length, 0, 'another topic gets a lookup of its own')
})
