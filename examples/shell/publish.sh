#!/usr/bin/env bash
# Publish each line read from stdin on a gossipsub topic (as a JSON string).
#
#   echo hi | examples/shell/publish.sh TOPIC [p2p-node flags]
#   tail -f app.log | examples/shell/publish.sh logs --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
#
# publish fails with NO_PEERS_SUBSCRIBED until a subscriber's subscription has reached this node
# (gossipsub exchanges them just after a connection opens, and there is no event for it), so each
# line is retried for up to P2P_WAIT seconds (default 10). Exit status 0 once every line went out;
# 1, with the node's error on stderr, if one could not be published.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(( $# >= 1 )) || die "usage: publish.sh TOPIC [p2p-node flags, e.g. --bootstrap MULTIADDR]" 2
topic=$1
shift
p2p_start "$@"
p2p_stop_at_exit
trap 'exit 130' INT
trap 'exit 143' TERM

started=0 now=0
# `|| [[ -n $text ]]` also takes a last line that has no "\n".
while IFS= read -r text || [[ -n $text ]]; do
  command=$(jq -cn --arg topic "$topic" --arg text "$text" '{type: "publish", topic: $topic, data: $text}')
  now_ms started
  until p2p_call "$command"; do
    now_ms now
    if [[ $(jq -r .code <<<"$P2P_REPLY") != NO_PEERS_SUBSCRIBED ]] || (( now - started > P2P_WAIT * 1000 )); then
      die "could not publish on '$topic': $P2P_REPLY"
    fi
    sleep 0.2   # the subscription is on its way; no event announces it, so ask again shortly
  done
done
