#!/usr/bin/env bash
# shellcheck disable=SC2016  # $names inside single quotes are jq variables
# Print every message published on a gossipsub topic, one per line, until Ctrl-C (or SIGTERM).
#
#   examples/shell/listen.sh TOPIC [p2p-node flags]
#   examples/shell/listen.sh chat --port 4001 | while IFS= read -r line; do …; done
#
# A string is printed as it is (unless it holds a newline); any other value, and a payload that is
# not JSON ({"dataBase64":…}), as one line of compact JSON. The node's addresses go to stderr, for
# the others' --bootstrap. Exit status 0 after Ctrl-C or SIGTERM, if the node stopped cleanly.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(( $# >= 1 )) || die "usage: listen.sh TOPIC [p2p-node flags, e.g. --port 4001 --bootstrap MULTIADDR]" 2
topic=$1
shift
filter='select(.type == "message" and .topic == $topic)
  | if (.data | type) == "string" and (.data | index("\n") | not) then .data
    else (if has("data") then .data else {dataBase64} end) | tojson end'

p2p_start "$@"
p2p_stop_at_exit
trap 'exit 0' INT TERM
jq -r '.addrs[] | "listening on \(.)"' <<<"$P2P_READY" >&2

# Messages can arrive before the subscribe reply; p2p_call hands them to p2p_on_event.
p2p_on_event () { jq -r --arg topic "$topic" "$filter" <<<"$1"; }
p2p_call "$(jq -cn --arg topic "$topic" '{type: "subscribe", topic: $topic}')" ||
  die "could not subscribe to '$topic': $P2P_REPLY"

# From now on one jq reads the node's stdout. It must not inherit the node's stdin ({P2P_IN}>&-),
# or the node would never see the end of its input. `wait` returns at once when a signal arrives.
jq --unbuffered -r --arg topic "$topic" "$filter" <&"$P2P_OUT" {P2P_IN}>&- &
wait $!
