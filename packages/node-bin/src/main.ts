import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PROTOCOL_VERSION, ProtocolError } from '@p2p-node/protocol'
import type { Command } from '@p2p-node/protocol'
import { parseCli } from './config.js'
import { BOOTSTRAP_DIAL_TIMEOUT_MS, DHT_TIMEOUT_MS, DIAL_TIMEOUT_MS, FINAL_FLUSH_MS, HISTORY_MAX_BYTES_PER_TOPIC, PUBLISH_CONCURRENCY, MDNS_DIAL_BELOW, EOF_SETTLE_MS, PROVIDE_ATTEMPT_MS, PROVIDE_REPLY_MS, PROVIDER_LOOKUP_WINDOW_MS, STOP_GRACE_MS, RECLAIM_CHECK_MS, RECLAIM_IDLE_BELOW, RECLAIM_IDLE_CHECKS, RECLAIM_MIN_GROWTH_BYTES } from './constants.js'
import { IdentityError, loadIdentity } from './identity.js'
import { Names } from './names.js'
import { createLibp2pNode } from './libp2p.js'
import { DirectMessaging } from './messaging.js'
import { LineWriter, Logger, errorEvent } from './output.js'
import { encodeMessage } from './payload.js'
import { runStdioLoop } from './stdio-loop.js'
import { startReclaiming } from './reclaim.js'
import { TopicAdvertiser, TopicDirectory } from './topics.js'
import { isAddressInUse } from './errors.js'
import { BanList } from './bans.js'
import { handlers } from './handlers/index.js'
import { BootstrapKeeper } from './bootstrap.js'
import { HistoryStore } from './history/store.js'
import { HistoryService } from './history/service.js'
import { peerIdString } from './history/message.js'
import { TopicPeerExchange } from './topic-peers.js'
import { ProviderLookups } from './provider-lookups.js'
import { Limiter } from './limiter.js'
import type { NodeContext } from './context.js'
import type { Handler } from './handlers/index.js'

export interface MainInit {
  argv: string[]
  env: NodeJS.ProcessEnv
  stdin: NodeJS.ReadableStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/**
 * Runs the node until shutdown (command, stdin EOF, SIGTERM or SIGINT) and
 * resolves with the exit code: 0 after a clean stop, 1 when it could not
 * start, 2 for bad flags.
 */
export async function main (init: MainInit): Promise<number> {
  const cli = parseCli(init.argv, init.env, {
    writeOut: (text) => { init.stdout.write(text) },
    writeErr: (text) => { init.stderr.write(text) }
  })
  if (cli.kind === 'exit') return cli.code
  const { config } = cli

  let identity
  let store
  const writer = new LineWriter(init.stdout, { maxBufferedBytes: config.stdoutBufferBytes })
  const log = new Logger(writer, config.logLevel)
  try {
    if (config.dataDir !== undefined) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    const keyFile = config.keyFile ?? (config.dataDir === undefined ? undefined : join(config.dataDir, 'key'))
    identity = await loadIdentity({ privateKeyHex: config.privateKeyHex, keyFile })
    const limits = { size: config.historySize, ttlMs: config.historyTtlSeconds * 1000, maxBytes: HISTORY_MAX_BYTES_PER_TOPIC }
    store = new HistoryStore(limits, config.dataDir === undefined ? undefined : join(config.dataDir, 'history'), (message) => { log.child('history').warn(message) })
  } catch (err) {
    const known = err instanceof IdentityError || typeof (err as NodeJS.ErrnoException).code === 'string'
    if (!known) throw err
    init.stderr.write(`error: ${err instanceof IdentityError ? err.message : `cannot use --data-dir ${config.dataDir}: ${(err as Error).message}`}\n`)
    return 2
  }

  const listen = config.listen ?? [`/ip4/${config.host}/tcp/${config.port}`]
  const bans = new BanList()
  const node = await createLibp2pNode({
    privateKey: identity.privateKey,
    listen,
    bootstrapPeers: config.bootstrapPeers,
    dhtMode: config.dhtMode,
    relayServer: config.bootstrapNode,
    relay: config.relay,
    autonat: config.autonat,
    dcutr: config.dcutr,
    mdns: config.mdns,
    maxConnections: config.maxConnections,
    connectionGater: bans.gater()
  })
  const messaging = new DirectMessaging(node, {
    log: log.child('message'),
    maxMessageBytes: config.maxMessageBytes,
    maxMessagesPerSecond: config.maxMessagesPerSecond,
    onMessage: async (from, body) => {
      writer.emitLine(encodeMessage({ type: 'message', from: from.toString() }, body))
      await writer.drained()
    }
  })
  await messaging.start()
  const history = new HistoryService(node, node.services.pubsub, {
    store,
    log: log.child('history'),
    deliver: (message) => { writer.emitLine(encodeMessage({ type: 'message', from: message.from, topic: message.topic, replayed: true }, message.data)) },
    writable: async () => { await writer.writable() }
  })
  await history.start()
  const topicPeers = new TopicPeerExchange(node, log.child('topics'))
  await topicPeers.start()

  try {
    await node.start()
  } catch (err) {
    if (isAddressInUse(err)) {
      writer.emit(errorEvent('PORT_IN_USE', `cannot listen on ${listen.join(', ')}: the port is already in use by another process; pick another with -p/--port, or 0 for any free port`))
    } else {
      init.stderr.write(`p2p-node: could not start: ${(err as Error).stack ?? String(err)}\n`)
      writer.emit(errorEvent('INTERNAL', `could not start: ${(err as Error).message}`))
    }
    await writer.drained()
    return 1
  }

  const names = new Names(node, identity.privateKey, log.child('names'), DHT_TIMEOUT_MS)
  const bootstrap = new BootstrapKeeper(node, config.bootstrapPeers, log.child('bootstrap'), BOOTSTRAP_DIAL_TIMEOUT_MS)
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      names.stop()
      bootstrap.stop()
      advertiser.stop()
      messaging.stop()
      store.close()
      let graceTimer: NodeJS.Timeout | undefined
      const grace = new Promise<void>((resolve) => { graceTimer = setTimeout(resolve, STOP_GRACE_MS) })
      try {
        await Promise.race([Promise.resolve(node.stop()).catch((err: unknown) => { init.stderr.write(`p2p-node: error while stopping: ${String(err)}\n`) }), grace])
      } finally {
        // No timer outlives the stop (the startup snapshot is taken after one: see warm-up.ts).
        clearTimeout(graceTimer)
      }
    })()
    await stopping
  }

  const topics = new TopicDirectory(node, node.services.pubsub)
  const advertiser = new TopicAdvertiser(node, log.child('dht'), { replyMs: PROVIDE_REPLY_MS, attemptMs: PROVIDE_ATTEMPT_MS }, config.bootstrapPeers.length > 0)
  const providerLookups = new ProviderLookups(node, log.child('topics'), PROVIDER_LOOKUP_WINDOW_MS)
  const ctx: NodeContext = { node, privateKey: identity.privateKey, names, bans, messaging, history, topics, topicPeers, providerLookups, advertiser, publishing: new Limiter(PUBLISH_CONCURRENCY), config, events: writer, log, stop }

  node.addEventListener('peer:connect', (event) => { writer.emit({ type: 'peer_connected', peerId: event.detail.toString() }) })
  node.addEventListener('peer:disconnect', (event) => { writer.emit({ type: 'peer_disconnected', peerId: event.detail.toString() }) })
  node.services.pubsub.addEventListener('message', (event) => {
    const message = event.detail
    if (message.type !== 'signed') return
    // Kept for peers catching up; delivered unless a catch-up delivered it first.
    // The node's own messages come back here (emitSelf) only to be kept.
    if (!history.record(message) || message.from.equals(node.peerId)) return
    // A message dropped for a full stdout counts as unseen, so that a catch-up can bring it back.
    const queued = writer.emitLineDroppable(encodeMessage({ type: 'message', from: peerIdString(message.from), topic: message.topic }, message.data))
    if (!queued) history.unsee(message)
  })

  const ready = { type: 'ready' as const, peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String), protocolVersion: PROTOCOL_VERSION }
  writer.emit(config.name === undefined ? ready : { ...ready, name: config.name })
  if (identity.warning !== undefined) log.warn(identity.warning)

  const exited = Promise.withResolvers<void>()
  const shutdown = (): void => { void stop().then(() => { exited.resolve() }) }

  const execute = async (cmd: Command, line: string): Promise<object> => {
    if (stopping !== undefined && cmd.type !== 'shutdown') throw new ProtocolError('SHUTTING_DOWN', 'the node is shutting down and takes no new commands')
    try {
      return await (handlers[cmd.type] as Handler<typeof cmd.type>)(ctx, cmd as never, line)
    } catch (err) {
      if (stopping !== undefined && !(err instanceof ProtocolError)) throw new ProtocolError('SHUTTING_DOWN', `${cmd.type} was cut short: the node is shutting down`)
      throw err
    } finally {
      if (cmd.type === 'shutdown') exited.resolve()
    }
  }

  const loop = runStdioLoop({
    input: init.stdin,
    sink: writer,
    congested: () => writer.congested,
    writable: async () => { await writer.writable() },
    maxLineBytes: config.maxLineBytes,
    execute,
    onUnexpected: (err, cmd) => { init.stderr.write(`p2p-node: ${cmd.type} failed unexpectedly: ${(err as Error)?.stack ?? String(err)}\n`) },
    // A pipe like `printf '{"type":"send",…}\n' | p2p-node` ends stdin right after its
    // commands: give the ones in flight a moment to finish before stopping.
    onEnd: () => { void loop.settled(EOF_SETTLE_MS).then(shutdown) }
  })
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  if (config.name !== undefined) names.register(config.name)
  bootstrap.start()
  if (config.mdns) {
    // libp2p only records discovered peers; mDNS is for LANs without a bootstrap node, so dial them.
    node.addEventListener('peer:discovery', (event) => {
      const peerId = event.detail.id
      if (node.getConnections(peerId).length > 0 || node.getConnections().length >= MDNS_DIAL_BELOW) return
      node.dial(peerId, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch((err: Error) => { log.debug('could not dial a discovered peer', { peerId: peerId.toString(), reason: err.message }) })
    })
  }

  const stopReclaiming = startReclaiming({
    checkMs: RECLAIM_CHECK_MS,
    idleBelow: RECLAIM_IDLE_BELOW,
    activity: () => writer.eventsTold,
    idleChecks: RECLAIM_IDLE_CHECKS,
    minGrowthBytes: RECLAIM_MIN_GROWTH_BYTES,
    onReclaim: ({ ms, heapBefore, heapAfter }) => { log.debug('idle: gave memory back', { gcMs: Math.round(ms), heapBeforeBytes: heapBefore, heapAfterBytes: heapAfter }) }
  })

  await exited.promise
  stopReclaiming()
  // Let replies settled by the stop (queued in this same turn) reach the writer,
  // answer whatever is still running, then flush.
  await new Promise((resolve) => setImmediate(resolve))
  loop.abandonPending(new ProtocolError('SHUTTING_DOWN', 'the node stopped before this command finished'))
  // A parent that stopped reading stdout must not keep the node alive: flush for a moment, then go.
  await Promise.race([writer.drained(), new Promise((resolve) => setTimeout(resolve, FINAL_FLUSH_MS).unref())])
  return 0
}
