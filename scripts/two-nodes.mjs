// Two p2p-node processes on 127.0.0.1 exchange a direct message and a pub/sub
// message, and the conversation is printed as it happens. Run: pnpm demo
// Uses nothing but the executable and the JSON-lines protocol.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LineSplitter } from '../packages/protocol/dist/index.js'

const binary = process.env.P2P_NODE_PATH ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'p2p-node')
const WAIT_MS = 15_000
const short = (peerId) => `${peerId.slice(0, 8)}…${peerId.slice(-4)}`
const say = (who, text) => { console.log(`${who.padEnd(6)} ${text}`) }

/** Spawns a node; `request` sends a command and resolves with its result. */
function startNode (name, args) {
  const child = spawn(binary, ['--host', '127.0.0.1', '--name', name, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const listeners = new Set()
  const splitter = new LineSplitter({ maxLineBytes: 16 * 1024 * 1024 })
  child.stdout.on('data', (chunk) => {
    for (const item of splitter.push(chunk)) {
      if (item.kind !== 'line') continue
      const event = JSON.parse(item.text)
      for (const listener of listeners) listener(event)
    }
  })
  const next = (match, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { listeners.delete(listener); reject(new Error(`${name}: no ${what} within ${WAIT_MS} ms`)) }, WAIT_MS)
    const listener = (event) => {
      if (!match(event)) return
      clearTimeout(timer)
      listeners.delete(listener)
      resolve(event)
    }
    listeners.add(listener)
  })
  let id = 0
  const request = async (command) => {
    const requestId = ++id
    const reply = next((e) => e.id === requestId && (e.type === 'result' || e.type === 'error'), `reply to ${command.type}`)
    child.stdin.write(JSON.stringify({ ...command, id: requestId }) + '\n')
    const event = await reply
    if (event.type === 'error') throw new Error(`${name}: ${command.type} failed: ${event.code} ${event.message}`)
    return event
  }
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  return { name, child, next, request, exited, ready: next((e) => e.type === 'ready', 'ready') }
}

const alice = startNode('alice', [])
const aliceReady = await alice.ready
say('alice', `ready as ${short(aliceReady.peerId)} on ${aliceReady.addrs[0].split('/p2p/')[0]}`)

const bob = startNode('bob', ['--bootstrap', aliceReady.addrs[0]])
const bobConnected = bob.next((e) => e.type === 'peer_connected' && e.peerId === aliceReady.peerId, 'connection to alice')
const bobReady = await bob.ready
say('bob', `ready as ${short(bobReady.peerId)}, dialling alice`)
await bobConnected
say('bob', 'connected to alice')

const direct = alice.next((e) => e.type === 'message' && e.topic === undefined, 'direct message')
const started = performance.now()
await bob.request({ type: 'send', peerId: aliceReady.peerId, data: { text: 'hi alice, bob here' } })
say('bob', `→ alice (direct): acknowledged after ${(performance.now() - started).toFixed(1)} ms`)
const received = await direct
say('alice', `← ${received.from === bobReady.peerId ? 'bob' : short(received.from)} (direct): ${JSON.stringify(received.data)}`)

await bob.request({ type: 'subscribe', topic: 'lobby' })
say('bob', 'subscribed to "lobby"')
const lobby = bob.next((e) => e.type === 'message' && e.topic === 'lobby', 'lobby message')
// Subscriptions travel to alice over gossipsub: publish once she knows bob is on the topic.
let published
for (const deadline = Date.now() + WAIT_MS; published === undefined;) {
  published = await alice.request({ type: 'publish', topic: 'lobby', data: { text: 'welcome to the lobby' } }).catch((err) => {
    if (Date.now() > deadline) throw err
    return new Promise((resolve) => setTimeout(resolve, 100))
  })
}
say('alice', `→ "lobby": published to ${published.recipients} peer(s)`)
const message = await lobby
say('bob', `← "lobby" from alice: ${JSON.stringify(message.data)}`)

await Promise.all([alice, bob].map((node) => node.request({ type: 'shutdown' })))
const codes = await Promise.all([alice.exited, bob.exited])
say('both', `stopped, exit codes ${codes.join(' and ')}`)
process.exit(codes.every((code) => code === 0) ? 0 : 1)
