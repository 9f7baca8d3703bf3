# shellcheck shell=bash disable=SC2034  # P2P_* variables are for the scripts that source this file
# Helpers shared by the recipes (source it; needs bash >= 5 and jq).
#
# p2p-node stops at the end of its stdin, giving the commands in flight only 500 ms. A pipe such as
# `printf '{"type":"send",…}\n' | p2p-node` therefore loses any reply that takes longer. Here the node
# runs in the background with its stdin and stdout on two fifos that this shell keeps open, so a
# recipe can send a command, wait for its reply for as long as it needs, and only then end stdin.
#
#   p2p_start FLAGS...      start the node; sets P2P_PID, P2P_IN, P2P_OUT, P2P_READY, P2P_ADDR, P2P_PEER_ID
#   p2p_call JSON [SECS]    send a command with a fresh id and wait for its reply line, put into
#                           P2P_REPLY; status 0 for a result, 1 for an error, 2 if none within SECS
#   p2p_on_event LINE       called with every other line p2p_call reads; redefine it to use events
#   p2p_stop                end stdin, wait for the exit (bounded), return the node's exit code
#   p2p_stop_at_exit        run p2p_stop when the script exits, and fail if the node did not stop cleanly
#
# Call p2p_call directly, not inside $(…): a subshell would lose the id counter and the events.

P2P_NODE=${P2P_NODE_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/dist/p2p-node}
P2P_WAIT=${P2P_WAIT:-10}   # seconds: how long the recipes wait for the node, a reply or a subscriber
P2P_NEXT_ID=0 P2P_PID='' P2P_READY='' P2P_REPLY=''
trap '' PIPE               # writing to a node that died gives an error, not a silent exit

die () { printf '%s: %s\n' "${0##*/}" "$1" >&2; exit "${2:-1}"; }

command -v jq >/dev/null || die "jq is needed (apt-get install jq, brew install jq)"

# now_ms VAR: milliseconds since the epoch, into VAR.
now_ms () { local t=${EPOCHREALTIME/[.,]/}; printf -v "$1" '%d' $(( t / 1000 )); }

# p2p_read VAR DEADLINE_MS: read one line from the node into VAR; status 1 at EOF, > 128 at the deadline.
p2p_read () {
  local now left
  now_ms now
  left=$(( $2 - now ))
  (( left > 0 )) || return 142
  IFS= read -r -t "$(( left / 1000 )).$(printf '%03d' $(( left % 1000 )))" "$1" <&"$P2P_OUT"
}

p2p_start () {
  [[ -x $P2P_NODE ]] || die "$P2P_NODE is not executable: build it with 'pnpm build:exe' or set P2P_NODE_PATH"
  local dir deadline
  dir=$(mktemp -d)
  mkfifo "$dir/in" "$dir/out"
  "$P2P_NODE" "$@" <"$dir/in" >"$dir/out" &
  P2P_PID=$!
  exec {P2P_IN}>"$dir/in" {P2P_OUT}<"$dir/out"   # same order as the node opens them: no deadlock
  rm -r "$dir"                                   # open fifos work without their names
  now_ms deadline
  if ! p2p_read P2P_READY $(( deadline + P2P_WAIT * 1000 )); then
    p2p_stop || true
    die "the node exited, or was not ready within $P2P_WAIT s"
  fi
  if [[ $(jq -r .type <<<"$P2P_READY") != ready ]]; then   # PORT_IN_USE, …: it exits on its own
    p2p_stop || true
    die "the node could not start: $P2P_READY"
  fi
  P2P_PEER_ID=$(jq -r .peerId <<<"$P2P_READY")
  P2P_ADDR=$(jq -r '.addrs[0]' <<<"$P2P_READY")
}

p2p_on_event () { :; }

p2p_call () {
  local command=$1 wait=${2:-$P2P_WAIT} id line kind deadline
  id=$(( P2P_NEXT_ID += 1 ))
  line=$(jq -c --argjson id "$id" '. + {id: $id}' <<<"$command") || return 2
  if ! printf '%s\n' "$line" >&"$P2P_IN"; then
    P2P_REPLY='{"type":"error","code":"NODE_EXITED","message":"the node is gone"}'
    return 2
  fi
  now_ms deadline
  deadline=$(( deadline + wait * 1000 ))
  while p2p_read line "$deadline"; do
    kind=$(jq -r --argjson id "$id" 'if .id == $id then .type else "event" end' <<<"$line")
    case $kind in
      result) P2P_REPLY=$line; return 0 ;;
      error) P2P_REPLY=$line; return 1 ;;
      *) p2p_on_event "$line" ;;
    esac
  done
  P2P_REPLY=$(jq -cn --arg type "$(jq -r .type <<<"$command")" --arg wait "$wait" \
    '{type: "error", code: "NO_REPLY", message: "no reply to \($type) within \($wait) s"}')
  return 2
}

p2p_stop () {
  [[ -n ${P2P_PID:-} ]] || return 0
  local pid=$P2P_PID i status
  P2P_PID=''
  exec {P2P_IN}>&-   # end of stdin: the node stops (~0.5-2 s)
  for (( i = 0; i < P2P_WAIT * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "${0##*/}: the node did not stop within $P2P_WAIT s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" && status=0 || status=$?
  exec {P2P_OUT}<&-
  return "$status"
}

p2p_stop_at_exit () { trap 'p2p_stop || die "the node exited with status $?"' EXIT; }
