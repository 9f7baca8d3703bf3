// Daemon host: the same libp2p stack run by daemon-server-main.ts in a child
// process behind @libp2p/daemon-server, and driven from here through its
// control socket with @libp2p/daemon-client, as a libp2p daemon user would.
// Only the pubsub workload is measured: the daemon's direct streams are not
// p2p-node's direct-message protocol.
import '../../../node-bin/src/polyfill.js'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createClient } from '@libp2p/daemon-client'
import type { DaemonClient, Subscription } from '@libp2p/daemon-client'
import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { Inbox, burst, payload, serveOps, untilSubscribers } from '../host-protocol.js'

const SERVER_MAIN = fileURLToPath(new URL('./daemon-server-main.ts', import.meta.url))
/** The bench package, from which `--import tsx` resolves. */
const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url))

interface DaemonInfo { control: string, peerId: string, addrs: string[] }

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const inbox = new Inbox()
const subscriptions: Subscription[] = []
let daemon: ChildProcess
let exited: Promise<void>
let client: DaemonClient
/** The daemon's peer id as a multihash, as PSMessage.from carries it. */
let self: Uint8Array
let stopping = false
/** Why a subscription ended, if it did before stop. */
let subscriptionError: Error | undefined

const encode = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
const notMeasured = async (): Promise<never> => { throw new Error('not measured for the daemon') }

/** Resolves with the daemon's first stdout line, parsed; rejects if it exits or takes over `timeoutMs` first. */
async function readInfo (child: ChildProcess, timeoutMs: number): Promise<DaemonInfo> {
  const lines = createInterface({ input: child.stdout! })
  let timer: NodeJS.Timeout | undefined
  try {
    return await new Promise<DaemonInfo>((resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`daemon did not start within ${timeoutMs} ms`)) }, timeoutMs)
      // Later lines, if any, are read and dropped so that stdout never fills.
      lines.once('line', (line) => { resolve(JSON.parse(line) as DaemonInfo) })
      child.once('exit', (code, signal) => { reject(new Error(`daemon exited (${code ?? signal}) before listening`)) })
    })
  } finally {
    clearTimeout(timer)
  }
}

/** Feeds the inbox from one subscription until it is cancelled or the daemon goes. */
async function consume (subscription: Subscription): Promise<void> {
  try {
    for await (const message of subscription.messages()) {
      // Its own messages come back too (emitSelf, see node-bin's libp2p.ts).
      if (message.from !== undefined && Buffer.compare(message.from, self) === 0) continue
      if (message.data === undefined) continue
      const data = JSON.parse(decoder.decode(message.data)) as { t: number }
      inbox.add(data.t)
    }
  } catch (err) {
    // messages() ends by throwing once its control connection closes: on stop,
    // or if either side's socket sat idle for 2 minutes (@libp2p/tcp's default).
    if (!stopping) subscriptionError ??= err as Error
  }
}

/**
 * daemon-client dials each control connection with AbortSignal.timeout(10_000),
 * which @libp2p/tcp passes on to net.connect, where it stays bound to the
 * socket: a connection still open 10 s later is destroyed, a subscription
 * included. This gives each dial a signal that can only cut the connect short.
 */
function withLastingConnections (client: DaemonClient): DaemonClient {
  const patched = client as DaemonClient & { connectDaemon?: (signal?: AbortSignal) => Promise<unknown> }
  const connectDaemon = patched.connectDaemon?.bind(client)
  if (connectDaemon === undefined) throw new Error('@libp2p/daemon-client no longer has connectDaemon: recheck how long its connections last')
  patched.connectDaemon = async () => {
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort() }, 10_000)
    try {
      return await connectDaemon(controller.signal)
    } finally {
      clearTimeout(timer)
    }
  }
  return client
}

serveOps({
  async start ({ host }) {
    daemon = spawn(process.execPath, ['--import', 'tsx', SERVER_MAIN, host], {
      cwd: PACKAGE_DIR,
      stdio: ['pipe', 'pipe', 'inherit']
    })
    exited = new Promise((resolve) => { daemon.once('exit', () => { resolve() }) })
    const info = await readInfo(daemon, 30_000)
    client = withLastingConnections(createClient(multiaddr(info.control)))
    // Checks the control socket answers, and for that node.
    const identity = await client.identify()
    if (identity.peerId.toString() !== info.peerId) throw new Error(`daemon identifies as ${identity.peerId.toString()}, not ${info.peerId}`)
    self = identity.peerId.toMultihash().bytes
    return { peerId: info.peerId, addrs: info.addrs, pid: daemon.pid as number }
  },
  async dial ({ addr }) {
    // The daemon's CONNECT takes the peer id and its addresses apart.
    const ma = multiaddr(addr)
    const peerId = ma.getComponents().findLast((component) => component.code === CODE_P2P)?.value
    if (peerId === undefined) throw new Error(`no /p2p/ peer id in ${addr}`)
    await client.connect(peerIdFromString(peerId), [ma.decapsulateCode(CODE_P2P)])
  },
  async subscribe ({ topic }) {
    // The daemon answers SUBSCRIBE once subscribed, then streams the topic's
    // messages on the same control connection for as long as it stays open.
    const subscription = await client.pubsub.subscribe(topic)
    subscriptions.push(subscription)
    void consume(subscription)
  },
  async waitSubscribers ({ topic, count, timeoutMs }) {
    if (typeof client.pubsub.getSubscribers !== 'function') throw new Error('this daemon client cannot list a topic\'s subscribers (pubsub.getSubscribers)')
    await untilSubscribers(async () => (await client.pubsub.getSubscribers(topic)).length, { topic, count, timeoutMs })
  },
  echo: notMeasured,
  sendBurst: notMeasured,
  rtt: notMeasured,
  async publishBurst ({ topic, count, size, window }) {
    // Each publish is one request on a control connection of its own, answered
    // once gossipsub has published.
    return await burst(count, window, async (i) => { await client.pubsub.publish(topic, encode(payload(i, size))) })
  },
  async waitReceived ({ count, timeoutMs }) {
    const result = await inbox.wait(subscriptionError === undefined ? count : 0, timeoutMs)
    // A dead subscription would otherwise pass for message loss.
    if (result.received < count && subscriptionError !== undefined) throw new Error(`subscription ended after ${result.received} messages: ${subscriptionError.message}`)
    return result
  },
  async resetReceived () {
    inbox.reset()
  },
  async stop () {
    stopping = true
    if (daemon === undefined) return
    // Closing its stdin stops the daemon; killed if it does not exit within 3 s.
    daemon.stdin?.end()
    const killer = setTimeout(() => { daemon.kill('SIGKILL') }, 3_000)
    await exited
    clearTimeout(killer)
    // The daemon's end closed the subscriptions' connections; this releases ours.
    await Promise.allSettled(subscriptions.map(async (subscription) => { await subscription.cancel() }))
  }
})
