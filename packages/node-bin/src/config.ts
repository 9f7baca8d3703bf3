import { readFileSync } from 'node:fs'
import { isIPv4 } from 'node:net'
import { parseEnv } from 'node:util'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { multiaddr } from '@multiformats/multiaddr'
import { LogLevelSchema, NameSchema } from '@p2p-node/protocol'
import type { LogLevel } from '@p2p-node/protocol'
import { BOOTSTRAP_NODE_MAX_CONNECTIONS, DEFAULT_DHT_MODE, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_MESSAGES_PER_SECOND, DEFAULT_STDOUT_BUFFER_BYTES, DEFAULT_HISTORY_SIZE, DEFAULT_HISTORY_TTL_SECONDS, DEFAULT_MAX_CONNECTIONS, DEFAULT_HOST, DEFAULT_LOG_LEVEL, DEFAULT_MAX_LINE_BYTES, DEFAULT_PORT, VERSION } from './constants.js'

/** Everything the node needs to start, merged from flags, environment and env file. */
export interface NodeConfig {
  /** IPv4 address to listen on. */
  host: string
  /** TCP port to listen on, 0 for any free port. */
  port: number
  /** Name announced in `ready`. */
  name?: string
  /** Multiaddrs dialled at start. */
  bootstrapPeers: string[]
  /** Lowest level sent as `log` events. */
  logLevel: LogLevel
  /** Longest stdin line kept, bytes. */
  maxLineBytes: number
  /** Listen multiaddrs; when set, they replace host/port. */
  listen?: string[]
  /** --key-file: where the node's key is kept. */
  keyFile?: string
  /** P2P_PRIVATE_KEY, from the environment or the -e file only. Never logged. */
  privateKeyHex?: string
  /** server: answer DHT queries; client: only ask; auto: server once reachable from outside. */
  dhtMode: DhtMode
  /** A well-known entry point: DHT server, more connections, circuit relay server. */
  bootstrapNode: boolean
  /** Most open connections before libp2p prunes. */
  maxConnections: number
  /** Dial through circuit relays (and listen through them when a listen address is /p2p-circuit). */
  relay: boolean
  /** Run AutoNAT (ask peers whether our addresses are dialable). */
  autonat: boolean
  /** Run DCUtR (upgrade relayed connections to direct ones). */
  dcutr: boolean
  /** Find peers on the LAN with multicast DNS. */
  mdns: boolean
  /** Largest direct message body, bytes. */
  maxMessageBytes: number
  /** Direct messages per second one peer may send. */
  maxMessagesPerSecond: number
  /** Bytes of gossipsub messages queued while stdout is full, before they are dropped. */
  stdoutBufferBytes: number
  /** Messages of history kept per topic; 0 keeps none. */
  historySize: number
  /** Age past which a message leaves the history, seconds. */
  historyTtlSeconds: number
  /** Where the history (and, without --key-file, the key) is kept across restarts. */
  dataDir?: string
}

export const DHT_MODES = ['server', 'client', 'auto'] as const
export type DhtMode = typeof DHT_MODES[number]

export type CliOutcome =
  | { kind: 'run', config: NodeConfig }
  | { kind: 'exit', code: number }

/** Where --help, --version and usage errors are written. */
export interface CliOutput {
  writeOut: (text: string) => void
  writeErr: (text: string) => void
}

const ENV = {
  host: 'P2P_HOST',
  port: 'P2P_PORT',
  name: 'P2P_NAME',
  bootstrap: 'P2P_BOOTSTRAP_PEERS',
  logLevel: 'P2P_LOG_LEVEL',
  maxLineBytes: 'P2P_MAX_LINE_BYTES',
  listen: 'P2P_LISTEN',
  keyFile: 'P2P_KEY_FILE',
  privateKey: 'P2P_PRIVATE_KEY',
  dhtMode: 'P2P_DHT_MODE',
  bootstrapNode: 'P2P_BOOTSTRAP_NODE',
  maxConnections: 'P2P_MAX_CONNECTIONS',
  relay: 'P2P_RELAY',
  autonat: 'P2P_AUTONAT',
  dcutr: 'P2P_DCUTR',
  mdns: 'P2P_MDNS',
  maxMessageBytes: 'P2P_MAX_MESSAGE_BYTES',
  maxMessagesPerSecond: 'P2P_MAX_MESSAGES_PER_SECOND',
  stdoutBufferBytes: 'P2P_STDOUT_BUFFER_BYTES',
  historySize: 'P2P_HISTORY_SIZE',
  historyTtl: 'P2P_HISTORY_TTL',
  dataDir: 'P2P_DATA_DIR'
} as const

/**
 * Parses the command line. Flags win over environment variables, which win over
 * the -e file. Bad input gives exit code 2 with usage on stderr; --help and
 * --version print to stdout (no protocol session starts) and exit 0.
 */
export function parseCli (argv: string[], env: NodeJS.ProcessEnv, output: CliOutput): CliOutcome {
  const program = new Command('p2p-node')
    .description('A libp2p node driven by JSON lines: commands on stdin, events on stdout.')
    .version(VERSION, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .addOption(new Option('-p, --port <n>', `TCP port to listen on, 0 for any free port (env ${ENV.port}, default ${DEFAULT_PORT})`).argParser(parsePort))
    .addOption(new Option('--host <ipv4>', `IPv4 address to listen on, 127.0.0.1 to stay on this machine (env ${ENV.host}, default ${DEFAULT_HOST})`).argParser(parseHost))
    .addOption(new Option('-n, --name <name>', `register this name in the DHT, so that lookup and send find the node by it (env ${ENV.name})`).argParser(parseName))
    .addOption(new Option('-e, --env-file <file>', 'read settings (P2P_* variables) from a dotenv file'))
    .addOption(new Option('--bootstrap <multiaddr...>', `peers to dial at start (env ${ENV.bootstrap}, comma or space separated)`).argParser(collectMultiaddrs))
    .addOption(new Option('--log-level <level>', `lowest level sent as log events: ${LogLevelSchema.options.join(', ')} (env ${ENV.logLevel}, default ${DEFAULT_LOG_LEVEL})`).argParser(parseLogLevel))
    .addOption(new Option('--max-line-bytes <n>', `longest stdin line accepted, in bytes (env ${ENV.maxLineBytes}, default ${DEFAULT_MAX_LINE_BYTES})`).argParser(parsePositiveInt))
    .addOption(new Option('--listen <multiaddr...>', `listen on these multiaddrs instead of --host/--port; /p2p-circuit listens through relays (env ${ENV.listen})`).argParser(collectMultiaddrs))
    .addOption(new Option('--key-file <path>', `keep the node's private key in this file (created, mode 0600, when missing) so its peer id survives restarts (env ${ENV.keyFile}); or set ${ENV.privateKey} in the environment or -e file`))
    .addOption(new Option('--dht-mode <mode>', `server, client or auto (env ${ENV.dhtMode}, default ${DEFAULT_DHT_MODE})`).argParser(parseDhtMode))
    .addOption(new Option('--bootstrap-node', `run as a well-known entry point: DHT server, up to ${BOOTSTRAP_NODE_MAX_CONNECTIONS} connections, circuit relay server (env ${ENV.bootstrapNode}=true)`))
    .addOption(new Option('--max-connections <n>', `most open connections (env ${ENV.maxConnections}, default ${DEFAULT_MAX_CONNECTIONS}, ${BOOTSTRAP_NODE_MAX_CONNECTIONS} with --bootstrap-node)`).argParser(parsePositiveInt))
    .addOption(new Option('--mdns', `find peers on the local network with multicast DNS (env ${ENV.mdns}=true)`))
    .addOption(new Option('--no-relay', `do not dial or listen through circuit relays (env ${ENV.relay}=false)`))
    .addOption(new Option('--no-autonat', `do not ask peers whether this node is dialable (env ${ENV.autonat}=false)`))
    .addOption(new Option('--no-dcutr', `do not upgrade relayed connections to direct ones (env ${ENV.dcutr}=false)`))
    .addOption(new Option('--max-message-bytes <n>', `largest direct message, in bytes, sent or accepted; a peer sending more has its stream reset (env ${ENV.maxMessageBytes}, default ${DEFAULT_MAX_MESSAGE_BYTES})`).argParser(parsePositiveInt))
    .addOption(new Option('--max-messages-per-second <n>', `direct messages per second one peer may send before its stream is reset (env ${ENV.maxMessagesPerSecond}, default ${DEFAULT_MAX_MESSAGES_PER_SECOND})`).argParser(parsePositiveInt))
    .addOption(new Option('--stdout-buffer-bytes <n>', `gossipsub messages queued while stdout is not read, before they are dropped (env ${ENV.stdoutBufferBytes}, default ${DEFAULT_STDOUT_BUFFER_BYTES})`).argParser(parsePositiveInt))
    .addOption(new Option('--history-size <n>', `messages of each subscribed topic kept to serve peers that catch up, 0 for none (env ${ENV.historySize}, default ${DEFAULT_HISTORY_SIZE})`).argParser(parseCount))
    .addOption(new Option('--history-ttl <seconds>', `how long a message stays in the history (env ${ENV.historyTtl}, default ${DEFAULT_HISTORY_TTL_SECONDS})`).argParser(parsePositiveInt))
    .addOption(new Option('--data-dir <dir>', `keep the history under this directory so it survives restarts, and the key in <dir>/key unless --key-file is given (env ${ENV.dataDir})`))
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: output.writeOut,
      writeErr: output.writeErr,
      outputError: (text, write) => { write(text) }
    })
    .showHelpAfterError(true)

  try {
    program.parse(argv, { from: 'user' })
    const flags = program.opts<{
      host?: string, port?: number, name?: string, envFile?: string, bootstrap?: string[], logLevel?: LogLevel, maxLineBytes?: number,
      listen?: string[], keyFile?: string, dhtMode?: DhtMode, bootstrapNode?: boolean, maxConnections?: number, mdns?: boolean,
      relay: boolean, autonat: boolean, dcutr: boolean, maxMessageBytes?: number, maxMessagesPerSecond?: number, stdoutBufferBytes?: number,
      historySize?: number, historyTtl?: number, dataDir?: string
    }>()
    const fileEnv = flags.envFile === undefined ? {} : readEnvFile(flags.envFile)
    const setting = (key: string): string | undefined => nonEmpty(env[key]) ?? nonEmpty(fileEnv[key])

    const config: NodeConfig = {
      host: flags.host ?? fromEnv(ENV.host, setting(ENV.host), parseHost) ?? DEFAULT_HOST,
      port: flags.port ?? fromEnv(ENV.port, setting(ENV.port), parsePort) ?? DEFAULT_PORT,
      bootstrapPeers: flags.bootstrap ?? fromEnv(ENV.bootstrap, setting(ENV.bootstrap), (value) => splitList(value).reduce<string[]>((all, item) => collectMultiaddrs(item, all), [])) ?? [],
      logLevel: flags.logLevel ?? fromEnv(ENV.logLevel, setting(ENV.logLevel), parseLogLevel) ?? DEFAULT_LOG_LEVEL,
      maxLineBytes: flags.maxLineBytes ?? fromEnv(ENV.maxLineBytes, setting(ENV.maxLineBytes), parsePositiveInt) ?? DEFAULT_MAX_LINE_BYTES,
      dhtMode: DEFAULT_DHT_MODE,
      bootstrapNode: flags.bootstrapNode ?? fromEnv(ENV.bootstrapNode, setting(ENV.bootstrapNode), parseBoolean) ?? false,
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      mdns: flags.mdns ?? fromEnv(ENV.mdns, setting(ENV.mdns), parseBoolean) ?? false,
      // Negatable flags default to true: only `false` says the flag was given.
      relay: flags.relay && (fromEnv(ENV.relay, setting(ENV.relay), parseBoolean) ?? true),
      autonat: flags.autonat && (fromEnv(ENV.autonat, setting(ENV.autonat), parseBoolean) ?? true),
      dcutr: flags.dcutr && (fromEnv(ENV.dcutr, setting(ENV.dcutr), parseBoolean) ?? true),
      maxMessageBytes: flags.maxMessageBytes ?? fromEnv(ENV.maxMessageBytes, setting(ENV.maxMessageBytes), parsePositiveInt) ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxMessagesPerSecond: flags.maxMessagesPerSecond ?? fromEnv(ENV.maxMessagesPerSecond, setting(ENV.maxMessagesPerSecond), parsePositiveInt) ?? DEFAULT_MAX_MESSAGES_PER_SECOND,
      stdoutBufferBytes: flags.stdoutBufferBytes ?? fromEnv(ENV.stdoutBufferBytes, setting(ENV.stdoutBufferBytes), parsePositiveInt) ?? DEFAULT_STDOUT_BUFFER_BYTES,
      historySize: flags.historySize ?? fromEnv(ENV.historySize, setting(ENV.historySize), parseCount) ?? DEFAULT_HISTORY_SIZE,
      historyTtlSeconds: flags.historyTtl ?? fromEnv(ENV.historyTtl, setting(ENV.historyTtl), parsePositiveInt) ?? DEFAULT_HISTORY_TTL_SECONDS
    }
    config.dhtMode = flags.dhtMode ?? fromEnv(ENV.dhtMode, setting(ENV.dhtMode), parseDhtMode) ?? DEFAULT_DHT_MODE
    if (config.bootstrapNode && config.dhtMode !== 'server') throw new Error('--bootstrap-node runs the DHT in server mode; drop --dht-mode or set it to server')
    config.maxConnections = flags.maxConnections ?? fromEnv(ENV.maxConnections, setting(ENV.maxConnections), parsePositiveInt) ??
      (config.bootstrapNode ? BOOTSTRAP_NODE_MAX_CONNECTIONS : DEFAULT_MAX_CONNECTIONS)
    const name = flags.name ?? fromEnv(ENV.name, setting(ENV.name), parseName)
    if (name !== undefined) config.name = name
    const listen = flags.listen ?? fromEnv(ENV.listen, setting(ENV.listen), (value) => splitList(value).reduce<string[]>((all, item) => collectMultiaddrs(item, all), []))
    if (listen !== undefined) config.listen = listen
    const dataDir = flags.dataDir ?? setting(ENV.dataDir)
    if (dataDir !== undefined) config.dataDir = dataDir
    const keyFile = flags.keyFile ?? setting(ENV.keyFile)
    if (keyFile !== undefined) config.keyFile = keyFile
    const privateKeyHex = setting(ENV.privateKey)
    if (privateKeyHex !== undefined) config.privateKeyHex = privateKeyHex
    return { kind: 'run', config }
  } catch (err) {
    if (err instanceof CommanderError) return { kind: 'exit', code: err.exitCode === 0 ? 0 : 2 }
    output.writeErr(`error: ${(err as Error).message}\n\n${program.helpInformation()}`)
    return { kind: 'exit', code: 2 }
  }
}

function readEnvFile (path: string): Record<string, string | undefined> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read env file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return parseEnv(text) as Record<string, string | undefined>
}

function fromEnv<T> (key: string, value: string | undefined, parse: (value: string) => T): T | undefined {
  if (value === undefined) return undefined
  try {
    return parse(value)
  } catch (err) {
    throw new Error(`${key}: ${(err as Error).message}`)
  }
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function splitList (value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item !== '')
}

function parsePort (value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535) throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got "${value}"`)
  return port
}

function parseHost (value: string): string {
  if (!isIPv4(value)) throw new InvalidArgumentError(`host must be an IPv4 address such as 0.0.0.0 or 127.0.0.1, got "${value}"`)
  return value
}

function parseName (value: string): string {
  const parsed = NameSchema.safeParse(value)
  if (!parsed.success) throw new InvalidArgumentError(`name must be 1 to 64 letters, digits, ".", "_" or "-", got "${value}"`)
  return parsed.data
}

function parseDhtMode (value: string): DhtMode {
  if (!(DHT_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError(`DHT mode must be one of ${DHT_MODES.join(', ')}, got "${value}"`)
  return value as DhtMode
}

function parseBoolean (value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true
  if (/^(0|false|no|off)$/i.test(value)) return false
  throw new InvalidArgumentError(`expected true or false, got "${value}"`)
}

function parsePositiveInt (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`)
  return n
}

function parseCount (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer, 0 or more, got "${value}"`)
  return n
}

function parseLogLevel (value: string): LogLevel {
  const parsed = LogLevelSchema.safeParse(value)
  if (!parsed.success) throw new InvalidArgumentError(`log level must be one of ${LogLevelSchema.options.join(', ')}, got "${value}"`)
  return parsed.data
}

function collectMultiaddrs (value: string, previous: string[] = []): string[] {
  for (const item of splitList(value)) {
    try {
      if (multiaddr(item).getComponents().length === 0) throw new Error('empty')
    } catch {
      throw new InvalidArgumentError(`not a multiaddr: "${item}"`)
    }
    previous.push(item)
  }
  return previous
}
