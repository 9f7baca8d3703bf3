"""Terminal chat between two (or more) p2p-node processes.

    python3 examples/python/chat.py --name alice --port 4001
    python3 examples/python/chat.py --name bob --connect /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…

Each line typed is published on the topic (default "chat"). Until the topic has reached the other
side (gossipsub exchanges subscriptions just after a connection opens), lines go as direct messages
to the connected peers instead. Messages are printed as ``name: text``; lines starting with ``*``
are notes. Ctrl-D or Ctrl-C quits.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from p2p_node import P2PNode, P2PNodeError


_print_lock = threading.Lock()


def say(text: str) -> None:
    """Prints one whole line (the event thread and the input loop both print)."""
    with _print_lock:
        print(text, flush=True)


def short(peer_id: str) -> str:
    return f"{peer_id[:8]}…{peer_id[-4:]}"


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and SIGTERM end the input loop, even if the parent started us with SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    parser = argparse.ArgumentParser(description="Chat over p2p-node: lines typed here appear on the other side.")
    parser.add_argument("--name", required=True, help="your name, shown to the others")
    parser.add_argument("--port", type=int, default=0, help="TCP port to listen on (default: any free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 to chat across machines)")
    parser.add_argument("--connect", metavar="MULTIADDR", action="append", default=[],
                        help="address of a peer to join, as printed by its chat.py (repeatable)")
    parser.add_argument("--topic", default="chat", help="gossipsub topic (default: chat)")
    parser.add_argument("--binary", help="path to p2p-node (default: env P2P_NODE_PATH, else dist/p2p-node)")
    opts = parser.parse_args()

    node = P2PNode(opts.binary, ["--host", opts.host, "--port", str(opts.port)])  # the name travels in each message
    names: dict[str, str] = {}  # peer id -> name, learnt from the messages

    def on_message(event: dict[str, Any]) -> None:
        if event.get("topic") not in (None, opts.topic):
            return
        data = event.get("data")
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            names[event["from"]] = str(data.get("name") or short(event["from"]))
            say(f"{names[event['from']]}: {data['text']}")
        else:  # e.g. a string from examples/shell/publish.sh
            say(f"{short(event['from'])}: {data if isinstance(data, str) else json.dumps(data)}")

    node.on("message", on_message)
    node.on("peer_connected", lambda e: say(f"* {short(e['peerId'])} connected"))
    node.on("peer_disconnected", lambda e: say(f"* {names.get(e['peerId'], short(e['peerId']))} left"))
    try:
        address = node.start()["addrs"][0]
        node.subscribe(opts.topic)
        say(f"* {opts.name} is listening on {address}")
        if opts.connect:
            result = node.connect(opts.connect)
            say(f"* connected to {', '.join(map(short, result['connected']))}")
        else:
            say(f"* others join with: python3 {sys.argv[0]} --name NAME --connect {address}")
        say(f"* type a line and press Enter to send it on #{opts.topic}; Ctrl-D or Ctrl-C quits")
        for line in sys.stdin:
            if text := line.rstrip("\r\n"):
                post(node, opts.topic, {"name": opts.name, "text": text})
    except P2PNodeError as err:
        print(f"* {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
    return 0


def post(node: P2PNode, topic: str, data: dict[str, Any]) -> None:
    """Publishes; if no peer has announced the topic yet, sends directly to the connected peers."""
    try:
        node.publish(topic, data)
        return
    except P2PNodeError as err:
        if err.code != "NO_PEERS_SUBSCRIBED":
            raise
    peers = [peer["peerId"] for peer in node.peers()]
    if not peers:
        say(f"* nobody is on #{topic} yet; message not sent")
        return
    for peer_id in peers:
        try:
            node.send(peer_id, data)
        except P2PNodeError as err:
            say(f"* could not reach {short(peer_id)}: {err.code}")
    say(f"* no peer on #{topic} yet: sent directly to {len(peers)} connected peer(s)")


if __name__ == "__main__":
    sys.exit(main())
