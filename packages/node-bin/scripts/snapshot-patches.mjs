// Source patches, applied while bundling, that let the whole node be evaluated
// (and run once) inside `node --build-snapshot`, which the SEA's startup
// snapshot is made with, that keep dead weight out of it, two that save
// syscalls (TCP writes: tcpCorkPatch; terminal checks), one that saves frames
// (yamux window updates), two that save peer store writes (a stream's
// protocol, recorded once per connection every 10 minutes; the node's own
// protocols, recorded together at start), one that keeps the KeyObjects
// Ed25519 signatures are made and checked with, one that saves an exception
// per TCP read (the length-prefixed decoder's end of buffer), one that saves
// moving a stream's queued chunks once per chunk sent (Uint8ArrayList's
// consume), and one that lets a dial's last address use the dial's whole
// time limit. Each patch
// names the dependency file it edits and must apply: a dependency upgrade
// that moves the code fails the build here instead of producing an
// executable that breaks at run time.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const kadPrefixes = JSON.stringify(fileURLToPath(new URL('../src/kad-prefixes.ts', import.meta.url)))

/** A plain code-unit comparison: as deterministic as localeCompare for these sorts, without ICU. */
const compare = (a, b) => `((x, y) => x < y ? -1 : x > y ? 1 : 0)(${a}, ${b})`

const patches = [
  // There is no WebAssembly while a snapshot is built: Noise's AssemblyScript
  // chacha20-poly1305 is instantiated on first use instead of at load time.
  // Its AssemblyScript SHA-256 (@chainsafe/as-sha256) leaves the bundle: only
  // asCrypto.hashSHA256 called it, which nothing calls (defaultCrypto hashes
  // with Node's crypto), yet it compiled and ran its WebAssembly at every start.
  {
    file: /@libp2p[\\/]noise[\\/]dist[\\/]src[\\/]crypto[\\/]index\.js$/,
    edits: [
      ["import { newInstance, ChaCha20Poly1305 } from '@chainsafe/as-chacha20poly1305';\n", ''],
      ["import { digest } from '@chainsafe/as-sha256';\n", ''],
      ['        return digest(data.subarray());\n', '        return nodeCrypto.hashSHA256(data);\n'],
      ['const ctx = newInstance();\nconst asImpl = new ChaCha20Poly1305(ctx);\n', `let p2pNodeAsImpl;
const asImplementation = () => {
  if (p2pNodeAsImpl === undefined) {
    const wasm = require('@chainsafe/as-chacha20poly1305');
    p2pNodeAsImpl = new wasm.ChaCha20Poly1305(wasm.newInstance());
  }
  return p2pNodeAsImpl;
};
`],
      ['return asImpl.seal(', 'return asImplementation().seal('],
      ['const plaintext = asImpl.open(', 'const plaintext = asImplementation().open('],
      // While the snapshot is built (its warm-up connects two nodes), small
      // frames go through Node's chacha20-poly1305 too.
      ['export const defaultCrypto = {', `import { startupSnapshot as p2pNodeSnapshot } from 'node:v8';
let p2pNodeWasm = !p2pNodeSnapshot.isBuildingSnapshot();
if (!p2pNodeWasm) p2pNodeSnapshot.addDeserializeCallback(() => { p2pNodeWasm = true; });
export const defaultCrypto = {`],
      ['if (plaintext.byteLength < 1200) {', 'if (plaintext.byteLength < 1200 && p2pNodeWasm) {'],
      ['if (ciphertext.byteLength < 1200) {', 'if (ciphertext.byteLength < 1200 && p2pNodeWasm) {']
    ]
  },
  // A MessagePort cannot be kept in a snapshot. mortice opens a BroadcastChannel
  // to share locks with worker threads; the node has none.
  {
    file: /mortice[\\/]dist[\\/]src[\\/]node\.js$/,
    edits: [['const channel = new BroadcastChannel(BROADCAST_CHANNEL_NAME);', 'const channel = { addEventListener () {}, unref () {} };']]
  },
  // Memory: kad-dht's 65 536-number array literal gives way to a typed array
  // filled while the snapshot is built (src/kad-prefixes.ts says why).
  {
    file: /@libp2p[\\/]kad-dht[\\/]dist[\\/]src[\\/]routing-table[\\/]generated-prefix-list\.js$/,
    edits: [[/^export default \[[\d,\s]+\];/, `export { keyPrefixFor as default } from ${kadPrefixes};`]]
  },
  {
    file: /@libp2p[\\/]kad-dht[\\/]dist[\\/]src[\\/]routing-table[\\/]refresh\.js$/,
    edits: [['GENERATED_PREFIXES[targetPrefix]', 'GENERATED_PREFIXES(targetPrefix)']]
  },
  // localeCompare loads ICU's collator on first use, 20-30 ms of every start,
  // for sorts that only need to be deterministic.
  {
    file: /@libp2p[\\/]peer-store[\\/]dist[\\/]src[\\/]utils[\\/](to-peer-pb|dedupe-addresses)\.js$/,
    edits: [[/(\S+)\.localeCompare\(([^)]*\)?)\)/g, (_, a, b) => compare(a, b)]]
  },
  {
    file: /@libp2p[\\/]peer-record[\\/]dist[\\/]src[\\/]peer-record[\\/]utils\.js$/,
    edits: [['a.toString().localeCompare(b.toString())', compare('a.toString()', 'b.toString()')]]
  }
]

/**
 * Speed: @libp2p/tcp writes each buffer of a Noise record (length prefix,
 * ciphertext parts, tag) with its own socket.write, so its own syscall: about
 * 3 writes per direct message, counted with strace. Corked, the buffers of
 * one send go out as one writev. Also applied to the benchmark's in-process
 * reference (packages/bench/src/hosts/stack-patches.mjs), which runs the same stack.
 */
export const tcpCorkPatch = {
  file: /@libp2p[\\/]tcp[\\/]dist[\\/]src[\\/]socket-to-conn\.js$/,
  edits: [
    ['        let canSendMore = true;\n        for (const buf of data) {', '        let canSendMore = true;\n        this.socket.cork();\n        for (const buf of data) {'],
    ['        return {\n            sentBytes,\n            canSendMore\n        };', '        this.socket.uncork();\n        return {\n            sentBytes,\n            canSendMore\n        };']
  ]
}
patches.push(tcpCorkPatch)

/**
 * Speed: libp2p makes a logger for every stream it opens or accepts, and
 * each asked the kernel whether stderr is a terminal (an ioctl, twice per
 * logger): about 1 % of a bootstrap node's CPU while 50 nodes join. The
 * answer is kept, and asked again once the snapshot is deserialized.
 */
export const loggerTtyPatch = {
  file: /weald[\\/]dist[\\/]src[\\/]node\.js$/,
  edits: [["        : tty.isatty(process.stderr.fd);\n}", `        : (p2pNodeStderrIsTty ??= tty.isatty(process.stderr.fd));
}
let p2pNodeStderrIsTty;
import { startupSnapshot as p2pNodeSnapshot } from 'node:v8';
if (p2pNodeSnapshot.isBuildingSnapshot()) p2pNodeSnapshot.addDeserializeCallback(() => { p2pNodeStderrIsTty = undefined; });`]]
}
patches.push(loggerTtyPatch)

/**
 * Joining: libp2p gives each address of a dial at most 6 s, so that one slow
 * address leaves time for the others. On the last (or only) address there is
 * nothing left to save time for, yet the limit still cut the dial short: a
 * bootstrap node that 50 nodes dial at once takes 10 to 25 s, now and then
 * over 30 s, to answer each on this machine (its handshakes wait for CPU),
 * and every dial it had half done was thrown away and tried again. The last
 * address now has the dial's own time limit.
 */
export const lastAddressPatch = {
  file: /libp2p[\\/]dist[\\/]src[\\/]connection-manager[\\/]dial-queue\.js$/,
  edits: [['const addressSignal = anySignal([signal, AbortSignal.timeout(this.addressDialTimeout)]);', 'const addressSignal = dialed === addrsToDial.length ? anySignal([signal]) : anySignal([signal, AbortSignal.timeout(this.addressDialTimeout)]);']]
}
patches.push(lastAddressPatch)

/**
 * Speed: yamux answered every data frame it received with a window update
 * frame, even one of a few bytes, so each small message cost a second frame,
 * with its own encryption, back the other way. As go-yamux and rust-yamux do,
 * an update now goes out once the data received since the last one reaches
 * half the receive window (or when the update carries a flag: the stream's
 * SYN or ACK). A sender runs out of window only when the receiver has taken a
 * whole window since its last update, which is past that half, so the update
 * still comes before any sender has to wait for it. Also applied to the
 * benchmark's in-process reference.
 */
export const yamuxWindowPatch = {
  file: /@libp2p[\\/]yamux[\\/]dist[\\/]src[\\/]stream\.js$/,
  edits: [['        // determine the flags if any\n        const flags = this.getSendFlags();\n', `        const flags = this.getSendFlags();
        if (flags === 0 && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) {
            return;
        }
`]]
}
patches.push(yamuxWindowPatch)

/**
 * Speed: libp2p records in the peer store, for every stream it opens or
 * accepts, that the peer speaks the stream's protocol: a merge into the peer
 * store (a write lock, a decode and an encode of the peer's record) per
 * stream, though after the first stream of a protocol on a connection there
 * is nothing new to record. A DHT lookup opens a stream to every peer it
 * asks, and a discover one per peer it asks. Now a connection records a
 * protocol with its first stream, and again only with a stream opened
 * RECORD_AGAIN_MS or more later: each write also renews the peer's record,
 * which the peer store drops 6 hours after its last write once no address
 * of the peer is under an hour old.
 */
const RECORD_AGAIN_MS = 600_000
const recordOncePerInterval = (merge) => `if (!(Date.now() - (this.p2pNodeRecordedProtocols?.get(muxedStream.protocol) ?? -Infinity) < ${RECORD_AGAIN_MS})) {
${merge}(this.p2pNodeRecordedProtocols ??= new Map()).set(muxedStream.protocol, Date.now());
}
`
const outboundMerge = '            await this.components.peerStore.merge(this.remotePeer, {\n                protocols: [muxedStream.protocol]\n            });\n'
const inboundMerge = '            await this.components.peerStore.merge(this.remotePeer, {\n                protocols: [muxedStream.protocol]\n            }, {\n                signal\n            });\n'
export const streamProtocolPatch = {
  file: /libp2p[\\/]dist[\\/]src[\\/]connection\.js$/,
  // One edit per site (newStream, onIncomingStream), so that each must apply.
  edits: [[outboundMerge, recordOncePerInterval(outboundMerge)], [inboundMerge, recordOncePerInterval(inboundMerge)]]
}
patches.push(streamProtocolPatch)

/**
 * Speed: @libp2p/crypto signs and verifies Ed25519 with Node's crypto, but
 * turns the raw key into a KeyObject (through JWK) for every call: for the
 * node's own key, a derivation of the public key each time. A gossipsub
 * publisher signs every message and each receiver verifies it with the
 * publisher's key, so a busy topic paid this per message at both ends, about
 * 25 µs to sign and 10 µs to verify, on this machine. KeyObjects are now kept
 * by key, KEY_OBJECTS_KEPT at most (the oldest goes first); the snapshot
 * keeps none, since a KeyObject holds a native handle.
 */
const KEY_OBJECTS_KEPT = 1024
export const ed25519KeyObjectPatch = {
  file: /@libp2p[\\/]crypto[\\/]dist[\\/]src[\\/]keys[\\/]ed25519[\\/]index\.js$/,
  edits: [
    ['    const obj = crypto.createPrivateKey({', '    const obj = p2pNodeKeyObject(crypto.createPrivateKey, {'],
    ['    const obj = crypto.createPublicKey({', '    const obj = p2pNodeKeyObject(crypto.createPublicKey, {'],
    ['\nexport function hashAndSign(', `
const p2pNodeKeyObjects = new Map();
function p2pNodeKeyObject(create, spec) {
    const id = spec.key.d === undefined ? spec.key.x : spec.key.d + '.' + spec.key.x;
    let obj = p2pNodeKeyObjects.get(id);
    if (obj === undefined) {
        obj = create(spec);
        if (p2pNodeKeyObjects.size >= ${KEY_OBJECTS_KEPT}) p2pNodeKeyObjects.delete(p2pNodeKeyObjects.keys().next().value);
        p2pNodeKeyObjects.set(id, obj);
    }
    return obj;
}
import { startupSnapshot as p2pNodeSnapshot } from 'node:v8';
if (p2pNodeSnapshot.isBuildingSnapshot()) p2pNodeSnapshot.addSerializeCallback(() => { p2pNodeKeyObjects.clear(); });
export function hashAndSign(`]
  ]
}
patches.push(ed25519KeyObjectPatch)

/**
 * Start: libp2p's registrar adds each protocol a node handles to the node's
 * own peer store record with a merge of its own (a write lock, a decode and
 * an encode of the record, a self:peer:update event): a dozen or more while a
 * node starts. Now a handle call starts a batch, the handle calls made
 * before the batch's queued microtask runs join it, and all of them await one
 * merge: services start side by side, so their first handle calls come
 * together (a service that awaits between two calls makes a second batch). A
 * protocol unhandled before the merge is left out of it: unhandle had already
 * written the record without it. The merge takes no abort signal: handle's
 * options are not passed on (none of the node's services gives one).
 */
export const selfProtocolsPatch = {
  file: /libp2p[\\/]dist[\\/]src[\\/]registrar\.js$/,
  edits: [
    ['        // Add new protocol to self protocols in the peer store\n        await this.components.peerStore.merge(this.components.peerId, {\n            protocols: [protocol]\n        }, opts);\n',
      '        await (this.p2pNodeSelfProtocols ??= p2pNodeProtocolBatch(this)).add(protocol);\n'],
    ['\nexport class Registrar {', `
function p2pNodeProtocolBatch(registrar) {
    let pending = [];
    let merged;
    return {
        add(protocol) {
            pending.push(protocol);
            merged ??= Promise.resolve().then(async () => {
                // One unhandled meanwhile stays out, as it would have with a merge of its own.
                const protocols = pending.filter((handled) => registrar.handlers.has(handled));
                pending = [];
                merged = undefined;
                if (protocols.length > 0) await registrar.components.peerStore.merge(registrar.components.peerId, { protocols });
            });
            return merged;
        }
    };
}
export class Registrar {`]
  ]
}
patches.push(selfProtocolsPatch)

/**
 * Speed: libp2p's length-prefixed decoder (in this bundle only Noise uses
 * it, to split its records) reads the next length prefix until it fails, and
 * failing is its length decoder throwing a RangeError: after every read that
 * ends on a whole record, that is after almost every TCP read, an Error was
 * made and its stack captured (in optimized code, by rebuilding the inlined
 * frames from deoptimization data): 6-8 % of the sidecars' CPU samples in
 * request/reply round trips (perf). An empty buffer holds no prefix,
 * whatever the length decoder: the loop now stops there without asking it. A
 * read that ends inside a prefix still throws, as before. Also applied to
 * the benchmark's in-process reference.
 */
export const lengthPrefixEmptyPatch = {
  file: /@libp2p[\\/]utils[\\/]dist[\\/]src[\\/]length-prefixed-decoder\.js$/,
  edits: [['        while (true) {\n            let dataLength;\n', `        while (true) {
            if (this.buffer.byteLength === 0) {
                break;
            }
            let dataLength;
`]]
}
patches.push(lengthPrefixEmptyPatch)

/**
 * Speed: a Uint8ArrayList drops the chunks a consume takes whole one shift()
 * at a time. A libp2p stream sends its write buffer in pieces of at most its
 * largest message (for yamux, the send window: 256 KiB to start), consuming
 * each piece from the front: a publisher that queues gossipsub messages
 * faster than TCP takes them holds thousands of chunks there, and each shift
 * moves the rest of the array, with a write barrier per element while the
 * garbage collector marks. The chunks taken whole now go in one splice. A
 * sidecar publishing 30 000 1 KiB messages, 50 at a time, spent 129-143 µs
 * of CPU per message instead of 161-205 (four interleaved pairs of scratch
 * runs). Also applied to the benchmark's in-process reference.
 */
export const listConsumePatch = {
  file: /uint8arraylist[\\/]dist[\\/]src[\\/]index\.js$/,
  edits: [[`        while (this.bufs.length > 0) {
            if (bytes >= this.bufs[0].byteLength) {
                bytes -= this.bufs[0].byteLength;
                this.length -= this.bufs[0].byteLength;
                this.bufs.shift();
            }
            else {
                this.bufs[0] = this.bufs[0].subarray(bytes);
                this.length -= bytes;
                break;
            }
        }
`, `        let whole = 0;
        while (whole < this.bufs.length && bytes >= this.bufs[whole].byteLength) {
            bytes -= this.bufs[whole].byteLength;
            this.length -= this.bufs[whole].byteLength;
            whole++;
        }
        if (whole > 0) {
            this.bufs.splice(0, whole);
        }
        if (bytes > 0 && this.bufs.length > 0) {
            this.bufs[0] = this.bufs[0].subarray(bytes);
            this.length -= bytes;
        }
`]]
}
patches.push(listConsumePatch)

/**
 * The patches the benchmark's in-process reference gets too, so that both
 * sides of the comparison run the same stack: the speed ones. lastAddressPatch
 * is left out: it changes dials only under load, and the reference dials once.
 */
export const referencePatches = [tcpCorkPatch, loggerTtyPatch, yamuxWindowPatch, streamProtocolPatch, ed25519KeyObjectPatch, lengthPrefixEmptyPatch, listConsumePatch]

/** Applies a patch's edits to a file's text; throws if one no longer applies. */
export function applyPatch (patch, text, path) {
  for (const [from, to] of patch.edits) {
    const before = text
    text = typeof from === 'string' ? text.split(from).join(to) : text.replace(from, to)
    if (text === before) throw new Error(`snapshot patch no longer applies to ${path}: ${String(from)}`)
  }
  return text
}

/** The esbuild plugin that applies the patches. */
export const snapshotPatches = {
  name: 'p2p-node-snapshot-patches',
  setup (build) {
    const applied = new Set()
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      const patch = patches.find(({ file }) => file.test(args.path))
      if (patch === undefined) return undefined
      applied.add(patch)
      return { contents: applyPatch(patch, await readFile(args.path, 'utf8'), args.path), loader: 'js' }
    })
    // A dependency upgrade that renames or drops a patched file fails the build too.
    build.onEnd((result) => {
      const unused = patches.filter((patch) => !applied.has(patch))
      if (unused.length === 0) return
      const text = `snapshot patches matched no bundled file: ${unused.map(({ file }) => String(file)).join(', ')}`
      // esbuild has printed its messages by now: say it here, and fail the build.
      process.stderr.write(`build:exe  error: ${text}\n`)
      result.errors.push({ text })
    })
  }
}
