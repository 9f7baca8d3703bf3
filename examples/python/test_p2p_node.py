"""Tests of the Python client and the chat example against the compiled dist/p2p-node.

Run from the repository root:  python3 -m unittest discover -s examples/python -v
Every node listens on 127.0.0.1 only. Every wait is bounded and says what it waited for.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from p2p_node import P2PNode, P2PNodeError, default_binary_path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LOCAL = ["--host", "127.0.0.1"]
WAIT = 10.0  # seconds, for anything that happens over the network

Event = dict[str, Any]


class Events:
    """Collects a node's events of some types, so a test can wait for one that matches."""

    def __init__(self, node: P2PNode, *types: str) -> None:
        self._events: list[Event] = []
        self._changed = threading.Condition()
        for event_type in types:
            node.on(event_type, self._add)

    def _add(self, event: Event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def wait_for(self, match: Callable[[Event], bool], what: str, timeout: float = WAIT) -> Event:
        with self._changed:
            if not self._changed.wait_for(lambda: any(map(match, self._events)), timeout):
                raise AssertionError(f"no {what} within {timeout} s; events so far: {self._events}")
            return next(e for e in self._events if match(e))

    def matching(self, match: Callable[[Event], bool]) -> list[Event]:
        with self._changed:
            return [e for e in self._events if match(e)]


def retry_publish(node: P2PNode, topic: str, data: Any, timeout: float = WAIT) -> Event:
    """publish, retried while the subscription has not reached this node yet (it has no event)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return node.publish(topic, data)
        except P2PNodeError as err:
            if err.code != "NO_PEERS_SUBSCRIBED" or time.monotonic() > deadline:
                raise AssertionError(f"publish on {topic!r} still failing after {timeout} s: {err}") from err
        time.sleep(0.1)


def gone(pid: int) -> bool:
    """True if no process (other than a zombie) has this id."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


@unittest.skipUnless(os.access(default_binary_path(), os.X_OK), f"{default_binary_path()} not built (pnpm build:exe)")
class TwoNodesTest(unittest.TestCase):
    """Two nodes, B connected to A."""

    def setUp(self) -> None:
        self.a = self.start_node("alice")
        self.b = self.start_node("bob")
        result = self.b.connect([self.a.info["addrs"][0]])
        self.assertEqual(result["connected"], [self.a.info["peerId"]])

    def start_node(self, name: str) -> P2PNode:
        node = P2PNode(args=[*LOCAL, "--name", name])
        self.addCleanup(node.stop)
        info = node.start()
        self.assertEqual(info["name"], name)
        self.assertEqual(info["protocolVersion"], 1)
        self.assertTrue(info["addrs"][0].startswith("/ip4/127.0.0.1/tcp/"), info["addrs"])
        return node

    def test_direct_message_is_acknowledged_and_delivered(self) -> None:
        inbox = Events(self.a, "message")
        data = {"text": "hi alice", "n": [1, 2.5, None, True], "unicode": "héllo ✓"}
        result = self.b.send(self.a.info["peerId"], data)
        self.assertEqual(result, {"peerId": self.a.info["peerId"]})
        message = inbox.wait_for(lambda e: e.get("data") == data, "direct message at alice")
        self.assertEqual(message["from"], self.b.info["peerId"])
        self.assertNotIn("topic", message)

    def test_pubsub_message_reaches_the_subscriber(self) -> None:
        inbox = Events(self.b, "message")
        self.assertEqual(self.b.subscribe("news")["topic"], "news")
        result = retry_publish(self.a, "news", "extra, extra")
        self.assertEqual(result["recipients"], 1)
        message = inbox.wait_for(lambda e: e.get("topic") == "news", "message on 'news' at bob")
        self.assertEqual(message["data"], "extra, extra")
        self.assertEqual(message["from"], self.a.info["peerId"])
        peers = self.a.peers()
        self.assertEqual([(p["peerId"], p["topics"]) for p in peers], [(self.b.info["peerId"], ["news"])])

    def test_a_third_node_catches_up_on_the_topic(self) -> None:
        self.b.subscribe("log")
        for n in range(3):
            retry_publish(self.a, "log", {"n": n})
        carol = P2PNode(args=LOCAL)
        self.addCleanup(carol.stop)
        carol.start()
        inbox = Events(carol, "message")
        carol.connect([self.b.info["addrs"][0]])
        result = carol.subscribe("log", history=True)
        inbox.wait_for(lambda e: e.get("data") == {"n": 2}, "the last message on 'log' at carol")
        messages = inbox.matching(lambda e: e.get("topic") == "log")
        self.assertEqual([m["data"] for m in messages], [{"n": 0}, {"n": 1}, {"n": 2}])
        # Gossipsub may hand messages this recent over live; each arrives once either way.
        self.assertEqual(result["history"]["replayed"], sum(1 for m in messages if m.get("replayed")))
        self.assertEqual(carol.history("log", limit=10)["replayed"], 0)

    def test_error_reply_raises_with_the_node_code(self) -> None:
        for bad in ("not a peer id!", self.a.info["peerId"]):  # malformed, and this node's own id
            with self.assertRaises(P2PNodeError) as caught:
                self.a.send(bad, {"text": "lost"})
            self.assertEqual(caught.exception.code, "INVALID_PEER_ID", bad)
        with self.assertRaises(P2PNodeError) as caught:
            self.a.publish("nobody-here", 1)
        self.assertEqual(caught.exception.code, "NO_PEERS_SUBSCRIBED")
        self.assertEqual(len(self.a.peers()), 1, "the node keeps working after errors")

    def test_concurrent_requests_resolve_their_own_futures(self) -> None:
        futures: list[Future[Event]] = [self.a.request_async({"type": "peers"}) for _ in range(5)]
        futures.append(self.a.request_async({"type": "unsubscribe", "topic": "never-joined"}))
        futures.append(self.a.request_async({"type": "no-such-command"}))
        for future in futures[:5]:
            self.assertEqual(len(future.result(WAIT)["peers"]), 1)
        self.assertEqual(futures[5].result(WAIT), {"topic": "never-joined"})
        self.assertEqual(futures[6].exception(WAIT).code, "UNKNOWN_COMMAND")  # type: ignore[union-attr]

    @unittest.skipUnless(shutil.which("node") and (REPO / "packages/sdk/dist/index.js").exists(),
                         "node or the TypeScript SDK build (packages/sdk/dist) is missing")
    def test_answers_a_typescript_sdk_request(self) -> None:
        """Request/reply interop: the TS SDK's request() is answered with the rpc envelope over send."""
        tag = "p2p-node/rpc/1"

        def answer(event: Event) -> None:
            data = event.get("data")
            if "topic" not in event and isinstance(data, dict) and data.get(tag) == "request":
                reply = {tag: "response", "rid": data["rid"], "body": {"pong": data["body"]}}
                self.a.send(event["from"], reply)

        self.a.on("message", answer)
        script = (
            "import { P2PNode } from './packages/sdk/dist/index.js';"
            "const [binaryPath, addr, peer] = process.argv.slice(1);"
            "const node = new P2PNode({ binaryPath, host: '127.0.0.1', bootstrapPeers: [addr] });"
            "await node.start();"
            "try { console.log(JSON.stringify(await node.request(peer, { ping: 42 }, { timeoutMs: 10000 }))) }"
            "finally { await node.stop() }")
        run = subprocess.run(["node", "--input-type=module", "-e", script, self.a.binary_path,
                              self.a.info["addrs"][0], self.a.info["peerId"]],
                             cwd=REPO, capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(json.loads(run.stdout), {"pong": {"ping": 42}})


@unittest.skipUnless(os.access(default_binary_path(), os.X_OK), f"{default_binary_path()} not built (pnpm build:exe)")
class LifecycleTest(unittest.TestCase):
    def test_clean_stop(self) -> None:
        node = P2PNode(args=LOCAL)
        node.start()
        pid = node.pid
        assert pid is not None
        started = time.monotonic()
        self.assertEqual(node.stop(), 0)
        self.assertLess(time.monotonic() - started, 2, "the shutdown command alone should stop the node")
        self.assertEqual(node.returncode, 0)
        self.assertTrue(gone(pid), f"process {pid} still exists after stop()")
        with self.assertRaises(P2PNodeError) as caught:
            node.peers()
        self.assertEqual(caught.exception.code, "NOT_RUNNING")
        self.assertEqual(node.stop(), 0, "stop() twice is harmless")

    def test_context_manager_stops_the_node(self) -> None:
        with P2PNode(args=LOCAL) as node:
            pid = node.pid
            self.assertEqual(node.peers(), [])
        self.assertEqual(node.returncode, 0)
        self.assertTrue(gone(pid or 0))

    def test_pending_requests_fail_when_the_node_dies(self) -> None:
        node = P2PNode(args=LOCAL)
        self.addCleanup(node.stop)
        node.start()
        # A peer nobody knows: send keeps looking it up until its time limit.
        unknown = "12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDQp3UhKNQTLmfZDk6M"
        future = node.request_async({"type": "send", "peerId": unknown, "data": 1, "timeoutMs": 60000})
        assert node.pid is not None
        os.kill(node.pid, 9)
        error = future.exception(WAIT)
        self.assertIsInstance(error, P2PNodeError)
        self.assertEqual(error.code, "NODE_EXITED")  # type: ignore[union-attr]
        self.assertFalse(node.running)

    def test_port_in_use_is_reported_by_start(self) -> None:
        with P2PNode(args=LOCAL) as first:
            port = first.info["addrs"][0].split("/")[4]
            second = P2PNode(args=[*LOCAL, "--port", port])
            with self.assertRaises(P2PNodeError) as caught:
                second.start()
            self.assertEqual(caught.exception.code, "PORT_IN_USE")
            self.assertEqual(second.returncode, 1)

    def test_bad_flags_give_node_exited_with_stderr(self) -> None:
        with self.assertRaises(P2PNodeError) as caught:
            P2PNode(args=["--no-such-flag"]).start()
        self.assertEqual(caught.exception.code, "NODE_EXITED")
        self.assertIn("--no-such-flag", caught.exception.message, "the stderr tail is in the message")

    def test_missing_binary(self) -> None:
        with self.assertRaises(P2PNodeError) as caught:
            P2PNode(binary_path="/nonexistent/p2p-node").start()
        self.assertEqual(caught.exception.code, "NODE_EXITED")


FAKE_NODE = r"""
import json, sys
# A scripted stand-in for faults the real node never produces: CRLF line ends, a line cut across
# writes, garbage on stdout, and an exit while a request is pending.
out = sys.stdout.buffer
out.write(b'{"type":"ready","peerId":"fake","addrs":[],"protocolVersion":1}\r\n'); out.flush()
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["type"] == "peers":
        out.write(b'{"type":"result","id":%d,' % cmd["id"]); out.flush()
        out.write(b'"command":"peers","peers":[]}\n'); out.flush()
    elif cmd["type"] == "garbage":
        out.write(b'this is not json\n\xff\xfe\n[1,2]\n{"type":"log","level":"warn","namespace":"fake","message":"after"}\n')
        out.write(b'{"type":"result","id":%d,"command":"garbage"}\n' % cmd["id"]); out.flush()
    elif cmd["type"] == "die":
        sys.stderr.write("fake node: dying on purpose\n"); sys.exit(3)
"""


class FakeNodeTest(unittest.TestCase):
    def setUp(self) -> None:
        script = Path(tempfile.mkdtemp()) / "fake_node.py"
        script.write_text(FAKE_NODE)
        self.addCleanup(shutil.rmtree, script.parent)
        self.node = P2PNode(binary_path=sys.executable, args=[str(script)])
        self.addCleanup(self.node.stop, 0.5)
        self.assertEqual(self.node.start()["peerId"], "fake")

    def test_lines_cut_across_writes_and_crlf(self) -> None:
        self.assertEqual(self.node.peers(), [])

    def test_invalid_lines_go_to_error_callbacks(self) -> None:
        errors, logs = Events(self.node, "error"), Events(self.node, "log")
        self.assertEqual(self.node.request({"type": "garbage"}), {})
        logs.wait_for(lambda e: e["message"] == "after", "log event after the garbage")
        for bad in ("this is not json", "[1,2]"):
            errors.wait_for(lambda e: e["code"] == "INVALID_EVENT" and e["line"] == bad, f"INVALID_EVENT for {bad!r}")
        errors.wait_for(lambda e: e["code"] == "INVALID_EVENT" and "\ufffd" in e["line"], "INVALID_EVENT for bad UTF-8")

    def test_exit_fails_pending_requests_with_stderr(self) -> None:
        with self.assertRaises(P2PNodeError) as caught:
            self.node.request({"type": "die"}, timeout=WAIT)
        self.assertEqual(caught.exception.code, "NODE_EXITED")
        self.assertIn("dying on purpose", caught.exception.message)
        self.assertEqual(self.node.stop(), 3)

    def test_request_timeout(self) -> None:
        with self.assertRaises(P2PNodeError) as caught:
            self.node.request({"type": "ignored"}, timeout=0.2)
        self.assertEqual(caught.exception.code, "REQUEST_TIMEOUT")

    def test_stop_escalates_when_shutdown_is_ignored(self) -> None:
        # The fake ignores `shutdown`; it exits at the end of stdin, the second step.
        started = time.monotonic()
        self.assertEqual(self.node.stop(grace=0.5), 0)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)


class Lines:
    """A child process's stdout, read line by line in a thread, with bounded waits."""

    def __init__(self, proc: subprocess.Popen[str], name: str) -> None:
        self.name, self.seen = name, []
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"{self.name}: no line matching {pattern!r} within {timeout} s; got {self.seen}")


@unittest.skipUnless(os.access(default_binary_path(), os.X_OK), f"{default_binary_path()} not built (pnpm build:exe)")
class ChatTest(unittest.TestCase):
    def chat(self, *args: str) -> tuple[subprocess.Popen[str], Lines]:
        proc = subprocess.Popen([sys.executable, str(HERE / "chat.py"), *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)  # stderr shows in the test output
        self.addCleanup(lambda: [pipe.close() for pipe in (proc.stdin, proc.stdout) if pipe])
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))  # runs first
        return proc, Lines(proc, args[1])

    def test_a_line_typed_by_bob_appears_at_alice(self) -> None:
        alice, alice_out = self.chat("--name", "alice")
        address = alice_out.wait_for(r"alice is listening on (/ip4/127\.0\.0\.1/\S+)").group(1)
        bob, bob_out = self.chat("--name", "bob", "--connect", address)
        bob_out.wait_for(r"^\* connected to ")
        assert bob.stdin is not None and alice.stdin is not None
        bob.stdin.write("hello from bob\n")
        bob.stdin.flush()
        alice_out.wait_for(r"^bob: hello from bob$")
        alice.stdin.write("hi bob\n")
        alice.stdin.flush()
        bob_out.wait_for(r"^alice: hi bob$")
        for proc, name in ((bob, "bob"), (alice, "alice")):
            assert proc.stdin is not None
            proc.stdin.close()  # EOF: chat.py stops its node and exits
            try:
                self.assertEqual(proc.wait(WAIT), 0, f"{name}'s chat.py exit code")
            except subprocess.TimeoutExpired:
                self.fail(f"{name}'s chat.py did not exit within {WAIT} s of EOF")

    def test_ctrl_c_stops_chat_and_its_node(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name):
                alice, alice_out = self.chat("--name", "alice")
                alice_out.wait_for(r"^\* type a line")
                nodes = Path(f"/proc/{alice.pid}/task/{alice.pid}/children").read_text().split()
                self.assertEqual(len(nodes), 1, "chat.py runs one p2p-node")
                alice.send_signal(sig)
                try:
                    self.assertEqual(alice.wait(WAIT), 0, "chat.py exit code")
                except subprocess.TimeoutExpired:
                    self.fail(f"chat.py did not exit within {WAIT} s of {sig.name}")
                self.assertTrue(gone(int(nodes[0])), f"p2p-node {nodes[0]} outlived chat.py")


if __name__ == "__main__":
    unittest.main()
