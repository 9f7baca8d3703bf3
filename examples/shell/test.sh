#!/usr/bin/env bash
# shellcheck disable=SC2016  # $names inside single quotes are jq variables
# Runs each shell recipe against real p2p-node processes on 127.0.0.1 and checks what it prints.
#
#   bash examples/shell/test.sh
#
# One line per check, then "N passed, M failed"; exit status 1 if a check failed. Every wait is
# bounded (WAIT seconds, or `timeout` around a recipe). Needs jq and a built dist/p2p-node
# (or P2P_NODE_PATH).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_bin=${P2P_NODE_PATH:-$(cd "$here/../.." && pwd)/dist/p2p-node}
LOCAL=(--host 127.0.0.1)
WAIT=15
passed=0 failed=0 pids=()

command -v jq >/dev/null || { echo "jq is needed (apt-get install -y jq)" >&2; echo "0 passed, 1 failed"; exit 1; }
[[ -x $node_bin ]] || { echo "$node_bin is not built (pnpm build:exe)" >&2; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)

cleanup () {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# check NAME COMMAND...: runs the command; passes if it succeeds.
check () {
  local name=$1
  shift
  if "$@"; then
    passed=$(( passed + 1 )); printf 'ok    %s\n' "$name"
  else
    failed=$(( failed + 1 )); printf 'FAIL  %s\n' "$name"
  fi
}

# wait_for FILE REGEX [SECS]: until a line of FILE matches the extended regex; says so if it never does.
wait_for () {
  local deadline=$(( SECONDS + ${3:-$WAIT} ))
  until grep -qE -- "$2" "$1" 2>/dev/null; do
    if (( SECONDS > deadline )); then
      printf '      no line matching %s in %s within %s s; it holds:\n' "$2" "${1##*/}" "${3:-$WAIT}"
      sed 's/^/      | /' "$1"
      return 1
    fi
    sleep 0.1
  done
}

# wait_exit PID [SECS]: until the background process PID exits; returns its status, or 124 at the bound.
wait_exit () {
  local deadline=$(( SECONDS + ${2:-$WAIT} ))
  while kill -0 "$1" 2>/dev/null; do
    (( SECONDS <= deadline )) || { printf '      process %s still running after %s s\n' "$1" "${2:-$WAIT}"; return 124; }
    sleep 0.1
  done
  wait "$1"
}

# json FILE FILTER [JQ ARGS...]: the filter is true for FILE's JSON lines, read as one array (jq -s).
json () { jq -se "${@:3}" "$2" "$1" >/dev/null; }

# is STATUS EXPECTED OUTPUT_FILE: the status is the one expected; if not, show the output.
is () {
  (( $1 == $2 )) && return 0
  printf '      exit status %s, expected %s; %s holds:\n' "$1" "$2" "${3##*/}"
  sed 's/^/      | /' "$3"
  return 1
}

echo "# listen.sh and publish.sh"
"$here/listen.sh" news "${LOCAL[@]}" >"$work/listen.out" 2>"$work/listen.err" &
listen_pid=$!
pids+=("$listen_pid")
check "listen.sh prints its address on stderr" \
  wait_for "$work/listen.err" '^listening on /ip4/127\.0\.0\.1/tcp/[0-9]+/p2p/'
listen_addr=$(sed -n 's/^listening on //p' "$work/listen.err" | head -n 1)
listen_node=$(pgrep -P "$listen_pid" -f "$node_bin")

printf 'hello\n{"json":"stays text"}\nlast line, no newline' |
  timeout 30 "$here/publish.sh" news "${LOCAL[@]}" --bootstrap "$listen_addr" >"$work/publish.out" 2>&1
check "publish.sh publishes every line and exits 0" is $? 0 "$work/publish.out"
check "listen.sh prints each message on its own line" wait_for "$work/listen.out" '^last line, no newline$'
check "listen.sh printed exactly the lines published, in order" \
  test "$(cat "$work/listen.out")" == $'hello\n{"json":"stays text"}\nlast line, no newline'

P2P_WAIT=2 timeout 30 "$here/publish.sh" nobody-listens "${LOCAL[@]}" --bootstrap "$listen_addr" \
  <<<"lost" >"$work/publish-none.out" 2>&1
check "publish.sh with no subscriber fails after P2P_WAIT" is $? 1 "$work/publish-none.out"
check "... and names NO_PEERS_SUBSCRIBED" grep -q NO_PEERS_SUBSCRIBED "$work/publish-none.out"

kill -TERM "$listen_pid"
wait_exit "$listen_pid"
check "listen.sh stops on SIGTERM with status 0" is $? 0 "$work/listen.err"
check "... and its node has exited" test -n "$listen_node" -a ! -d "/proc/${listen_node:-0}"

echo "# send-once.sh"
mkfifo "$work/recv.in"
"$node_bin" "${LOCAL[@]}" <"$work/recv.in" >"$work/recv.out" 2>"$work/recv.err" &
recv_pid=$!
pids+=("$recv_pid")
exec {recv_in}>"$work/recv.in"   # the receiving node runs while this stays open
check "a receiving node is ready" wait_for "$work/recv.out" '"type":"ready"'
recv_peer=$(head -n 1 "$work/recv.out" | jq -r .peerId)
recv_addr=$(head -n 1 "$work/recv.out" | jq -r '.addrs[0]')

timeout 30 "$here/send-once.sh" "$recv_peer" '{"text":"hi","n":[1,2]}' "${LOCAL[@]}" \
  --bootstrap "$recv_addr" >"$work/send.out" 2>"$work/send.err"
check "send-once.sh exits 0 once the message is acknowledged" is $? 0 "$work/send.err"
check "... and prints the send result" json "$work/send.out" \
  '. == [{type: "result", id: 1, command: "send", peerId: $peer}]' --arg peer "$recv_peer"
check "the receiver got the message" wait_for "$work/recv.out" '"type":"message"'
check "... with the data sent, as a direct message" json "$work/recv.out" \
  '[.[] | select(.type == "message") | del(.from)] == [{type: "message", data: {text: "hi", n: [1, 2]}}]'
check "send-once.sh's node has stopped (the receiver saw it leave)" wait_for "$work/recv.out" '"type":"peer_disconnected"'

timeout 30 "$here/send-once.sh" 'not a peer id!' '"x"' "${LOCAL[@]}" >"$work/bad-peer.out" 2>"$work/bad-peer.err"
check "send-once.sh to an invalid peer id exits 1" is $? 1 "$work/bad-peer.err"
check "... with the INVALID_PEER_ID error line on stderr" \
  json "$work/bad-peer.err" '.[0].type == "error" and .[0].code == "INVALID_PEER_ID"'
check "... and nothing on stdout" test ! -s "$work/bad-peer.out"

timeout 30 "$here/send-once.sh" "$recv_peer" '{"unfinished":' >"$work/bad-json.out" 2>&1
check "send-once.sh with data that is not JSON exits 2" is $? 2 "$work/bad-json.out"
timeout 30 "$here/publish.sh" </dev/null >"$work/usage.out" 2>&1
check "publish.sh without a topic prints usage and exits 2" is $? 2 "$work/usage.out"

exec {recv_in}>&-
wait_exit "$recv_pid"
check "the receiving node stops at the end of its stdin with status 0" is $? 0 "$work/recv.err"

printf '%d passed, %d failed\n' "$passed" "$failed"
(( failed == 0 ))
