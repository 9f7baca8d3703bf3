// The libp2p daemon run by daemon-host.ts: the libp2p stack of p2p-node
// (createLibp2pNode, configured as in inproc-host.ts) behind the control API of
// @libp2p/daemon-server on a loopback TCP port. Usage: daemon-server-main.ts <host>.
// Once listening it prints one JSON line on stdout, { control, peerId, addrs };
// it stops when its stdin closes (or on SIGTERM/SIGINT).
import '../../../node-bin/src/polyfill.js'
import { createServer } from '@libp2p/daemon-server'
import { multiaddr } from '@multiformats/multiaddr'
import { createStack } from './stack.js'

const host = process.argv[2] ?? '127.0.0.1'

const node = await createStack(host)

// daemon-server is typed against gossipsub 15 while node-bin runs 17; the
// pubsub calls it makes (subscribe, publish, getTopics, getSubscribers and
// 'message' events) are the same in both.
const server = createServer(multiaddr('/ip4/127.0.0.1/tcp/0'), node as unknown as Parameters<typeof createServer>[1])
// Starts the libp2p node too, then listens on the control address.
await server.start()

let stopping: Promise<void> | undefined
function shutdown (): void {
  stopping ??= server.stop().catch((err: Error) => { process.stderr.write(`daemon: stop failed: ${err.stack ?? String(err)}\n`) })
    .finally(() => process.exit(0))
}
// The server installs SIGTERM/SIGINT handlers of its own that stop it without
// exiting; ours exit once it has stopped (a second stop is a no-op).
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
// The host closes stdin to stop the daemon; it also closes if the host dies.
process.stdin.on('end', shutdown)
process.stdin.resume()

process.stdout.write(JSON.stringify({
  control: server.getMultiaddr().toString(),
  peerId: node.peerId.toString(),
  addrs: node.getMultiaddrs().map(String)
}) + '\n')
