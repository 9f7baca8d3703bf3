#!/usr/bin/env bash
# Send one direct message to a peer, print the result, and stop.
#
#   examples/shell/send-once.sh PEER_ID JSON [p2p-node flags]
#   examples/shell/send-once.sh 12D3KooW… '{"text":"hello"}' --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
#
# The node dials the peer (from its --bootstrap address, or through the DHT) and the command
# succeeds once the peer's node acknowledged the message. Prints the result line on stdout
# ({"type":"result","id":1,"command":"send","peerId":…}) and exits 0; on failure prints the error
# line ({"type":"error",…,"code":"PEER_NOT_FOUND",…}) on stderr and exits 1; bad arguments exit 2.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(( $# >= 2 )) || die "usage: send-once.sh PEER_ID JSON [p2p-node flags, e.g. --bootstrap MULTIADDR]" 2
peer=$1 data=$2
shift 2
command=$(jq -cn --arg peer "$peer" --argjson data "$data" '{type: "send", peerId: $peer, data: $data}' 2>/dev/null) ||
  die "not a JSON value: $data" 2

p2p_start "$@"
p2p_stop_at_exit
trap 'exit 130' INT
trap 'exit 143' TERM

# The node gives up after its own 10 s time limit; wait a little longer for its answer.
if p2p_call "$command" $(( P2P_WAIT + 5 )); then
  printf '%s\n' "$P2P_REPLY"
else
  printf '%s\n' "$P2P_REPLY" >&2
  exit 1
fi
