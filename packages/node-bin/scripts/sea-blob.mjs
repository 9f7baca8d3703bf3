// Leaves Node's code cache for its own built-in modules out of the startup
// snapshot in a SEA preparation blob.
//
// `node --experimental-sea-config` with useSnapshot builds the snapshot with
// that code cache and offers no setting to leave it out. Every start of the
// executable copies the whole snapshot into memory, and the cache was 3.3 MiB
// of the 10.4 MiB blob. It only serves Node's modules compiled after the
// start, and the warm-up (src/warm-up.ts) already loaded the ones a node uses
// into the snapshot; one loaded later compiles from its source. Without the
// cache, measured on this 2-core machine: ready in 160-162 ms instead of
// 173-175 (medians of 30 interleaved starts, twice), an idle node's RSS 63.2
// MB instead of 69.8.
//
// The layouts are those of the Node version build-exe.mjs pins (22.23.3):
// - the blob (src/node_sea.cc, SeaSerializer): magic (u32), flags (u32), how
//   the executable takes NODE_OPTIONS (u8), the main script's path, the
//   snapshot, then the rest (execArgv), each string a u64 length and bytes;
// - the snapshot (src/node_snapshotable.cc, SnapshotData::ToBlob) ends with
//   the code cache: a u64 count, then per module its id and its cache, each
//   a u64 length and bytes. An empty cache is a count of 0.
// Anything else throws: a Node upgrade that changes them fails the build.

const SEA_MAGIC = 0x143da20
const USE_SNAPSHOT = 1 << 1
const HEADER_BYTES = 9
/** A built-in module's id, as in the cache: 'net', 'internal/bootstrap/realm'. */
const MODULE_ID = /^[\w./-]+$/

/** Returns the blob with an empty built-in code cache, and the bytes left out. */
export function withoutBuiltinCodeCache (blob, mainPath) {
  if (blob.length < HEADER_BYTES || blob.readUInt32LE(0) !== SEA_MAGIC) throw new Error('not a SEA preparation blob of the pinned Node version')
  if ((blob.readUInt32LE(4) & USE_SNAPSHOT) === 0) throw new Error('the SEA blob holds no startup snapshot')
  const path = readString(blob, HEADER_BYTES)
  if (path.bytes.toString() !== mainPath) throw new Error(`the SEA blob's main script is ${JSON.stringify(path.bytes.toString())}, not ${JSON.stringify(mainPath)}: its layout is not the one expected`)
  const snapshot = readString(blob, path.end)
  const cacheAt = codeCacheOffset(snapshot.bytes)
  const stripped = Buffer.concat([snapshot.bytes.subarray(0, cacheAt), u64(0)])
  return {
    blob: Buffer.concat([blob.subarray(0, path.end), u64(stripped.length), stripped, blob.subarray(snapshot.end)]),
    leftOut: snapshot.bytes.length - stripped.length
  }
}

/** Where the code cache starts in a snapshot: the first offset from which its entries run exactly to the end. */
export function codeCacheOffset (snapshot) {
  for (let at = 8; at + 16 <= snapshot.length; at++) {
    // The first entry's id length: a u64 under 128, one byte and seven zeros.
    if (snapshot[at] === 0 || snapshot[at] > 127 || !zeros(snapshot, at + 1, 7)) continue
    const count = readU64(snapshot, at - 8)
    if (count === 0 || count > 4096) continue
    if (entriesEnd(snapshot, at, count) === snapshot.length) return at - 8
  }
  throw new Error('no built-in code cache found at the end of the startup snapshot: its layout is not the one expected')
}

/** Where `count` code cache entries starting at `at` end, or -1 if they are not entries. */
function entriesEnd (snapshot, at, count) {
  for (let i = 0; i < count; i++) {
    if (at + 8 > snapshot.length) return -1
    const idLength = readU64(snapshot, at)
    if (idLength === 0 || idLength > 255 || at + 16 + idLength > snapshot.length) return -1
    if (!MODULE_ID.test(snapshot.toString('latin1', at + 8, at + 8 + idLength))) return -1
    at += 16 + idLength + readU64(snapshot, at + 8 + idLength)
  }
  return at
}

function readString (buffer, at) {
  const length = readU64(buffer, at)
  if (at + 8 + length > buffer.length) throw new Error('the SEA blob ends inside one of its fields: its layout is not the one expected')
  return { bytes: buffer.subarray(at + 8, at + 8 + length), end: at + 8 + length }
}

const readU64 = (buffer, at) => Number(buffer.readBigUInt64LE(at))

function zeros (buffer, at, count) {
  for (let i = at; i < at + count; i++) if (buffer[i] !== 0) return false
  return true
}

function u64 (value) {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64LE(BigInt(value))
  return bytes
}
