"""A p2p-node client for Python, standard library only.

Spawns ``dist/p2p-node``, writes one JSON command per line to its stdin and reads one JSON event
per line from its stdout (the wire contract is docs/protocol.md)::

    with P2PNode(args=["--host", "127.0.0.1"]) as node:
        print(node.info["addrs"])                       # from the `ready` event
        node.on("message", lambda event: print(event["from"], event["data"]))
        node.subscribe("chat")
        node.send("12D3KooW…", {"text": "hi"})           # returns once the peer acknowledged it

Threads: one reads stdout (results resolve futures there), one delivers events to the callbacks
in order, one drains stderr. Callbacks may call any method, including blocking ones.
"""
from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import traceback
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

#: How long start() waits for `ready`, seconds.
DEFAULT_START_TIMEOUT = 10.0
#: How long a request waits for its reply when no timeout is given, seconds.
DEFAULT_REQUEST_TIMEOUT = 30.0
#: How long each step of stop() (shutdown, end of stdin, SIGTERM) waits for the exit, seconds.
DEFAULT_STOP_GRACE = 2.0
#: How many bytes of the child's stderr are kept for error messages.
STDERR_TAIL_BYTES = 8 * 1024
#: Event types that can be passed to on().
EVENT_TYPES = ("message", "peer_discovered", "peer_connected", "peer_disconnected", "log", "error")

Event = dict[str, Any]
Callback = Callable[[Event], None]


def default_binary_path() -> str:
    """env P2P_NODE_PATH, else the repository's dist/p2p-node (two levels above this file)."""
    return os.environ.get("P2P_NODE_PATH") or str(Path(__file__).resolve().parents[2] / "dist" / "p2p-node")


class P2PNodeError(Exception):
    """A failed command or a client-side failure.

    ``code`` is one of the node's error codes (``INVALID_PEER_ID``, ``NO_PEERS_SUBSCRIBED``, …, see
    docs/protocol.md) or one the client detects: ``NODE_EXITED`` (the process exited or could not be
    spawned), ``START_TIMEOUT`` (no `ready` in time), ``REQUEST_TIMEOUT`` (no reply in time),
    ``NOT_RUNNING`` (start() was not called, or the node stopped), ``INVALID_EVENT`` (a stdout line
    that is not a JSON object; delivered to 'error' callbacks only).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class P2PNode:
    """One p2p-node child process.

    :param binary_path: the executable; default env ``P2P_NODE_PATH``, else ``<repo>/dist/p2p-node``.
    :param args: extra command-line flags, e.g. ``["--host", "127.0.0.1", "--port", "4001"]``.
    :param env: environment variables added to this process's environment for the child.
    :param start_timeout: seconds start() waits for `ready`; default 10.
    """

    def __init__(self, binary_path: str | None = None, args: Sequence[str] = (),
                 env: Mapping[str, str] | None = None, start_timeout: float = DEFAULT_START_TIMEOUT) -> None:
        self.binary_path = binary_path or default_binary_path()
        self.args = list(args)
        self.env = dict(env or {})
        self.start_timeout = start_timeout
        #: The `ready` event's fields (peerId, addrs, protocolVersion, name) once started.
        self.info: Event = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[Event]] = {}
        self._lock = threading.Lock()  # guards _pending and the check that the child still runs
        self._write_lock = threading.Lock()  # one line at a time on stdin
        self._callbacks: dict[str, list[Callback]] = {t: [] for t in EVENT_TYPES}
        self._events: queue.Queue[Event | None] = queue.Queue()
        self._ready: Future[Event] = Future()
        self._stderr_tail = bytearray()
        self._threads: list[threading.Thread] = []
        self._exited = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Event:
        """Spawns the node and returns the `ready` fields once it listens.

        Raises P2PNodeError: the node's own code (e.g. ``PORT_IN_USE``) if it reported why it could
        not start, ``NODE_EXITED`` if it exited first, ``START_TIMEOUT`` if `ready` did not arrive
        within start_timeout (the child is then killed). The message ends with the stderr tail.
        """
        if self._proc is not None:
            raise P2PNodeError("NOT_RUNNING", "start() can be called only once per P2PNode")
        try:
            self._proc = subprocess.Popen(
                [self.binary_path, *self.args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env={**os.environ, **self.env},
                start_new_session=True)  # Ctrl-C in a terminal reaches us, and we stop the child in order
        except OSError as err:
            raise P2PNodeError("NODE_EXITED", f"could not spawn {self.binary_path}: {err}") from err
        self._threads = [threading.Thread(target=target, name=f"p2p-node-{target.__name__.strip('_')}", daemon=True)
                         for target in (self._read_stderr, self._read_stdout, self._deliver_events)]
        for thread in self._threads:
            thread.start()
        try:
            self.info = self._ready.result(self.start_timeout)
            return self.info
        except FutureTimeout:
            self._proc.kill()
            self._exited.wait()
            raise P2PNodeError("START_TIMEOUT", f"no `ready` within {self.start_timeout} s{self._tail()}") from None
        except P2PNodeError:  # it exited, or reported why it could not start and is exiting
            if not self._exited.wait(DEFAULT_STOP_GRACE):
                self._proc.kill()
                self._exited.wait()
            raise

    def stop(self, grace: float = DEFAULT_STOP_GRACE) -> int:
        """Stops the node and waits for it to exit; returns its exit code (0 after a clean stop).

        Escalates, each step after ``grace`` seconds: the shutdown command, closing stdin,
        SIGTERM, SIGKILL.
        """
        proc = self._proc
        if proc is None:
            return 0
        steps: list[Callable[[], Any]] = [
            lambda: self.request_async({"type": "shutdown"}),
            self._close_stdin, proc.terminate, proc.kill]
        for step in steps:
            if self._exited.is_set():
                break
            try:
                step()
            except (P2PNodeError, OSError):
                pass
            self._exited.wait(grace)
        self._exited.wait()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(grace)
        return proc.returncode

    @property
    def running(self) -> bool:
        """True between start() and the child's exit."""
        return self._proc is not None and not self._exited.is_set()

    @property
    def pid(self) -> int | None:
        """The child's process id once spawned."""
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        """The child's exit code once it has exited, else None."""
        return self._proc.returncode if self._exited.is_set() and self._proc else None

    def __enter__(self) -> P2PNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests --------------------------------------------------------------------------------

    def request_async(self, command: Mapping[str, Any]) -> Future[Event]:
        """Sends a command (``{"type": …, …}``) with a fresh integer id, without waiting.

        The Future resolves to the result's fields (without ``type``, ``id`` and ``command``) or
        fails with P2PNodeError. It never times out by itself: use ``future.result(timeout)``.
        """
        return self._send(command)[1]

    def _send(self, command: Mapping[str, Any]) -> tuple[int, Future[Event]]:
        future: Future[Event] = Future()
        request_id = next(self._ids)
        line = (json.dumps({**command, "id": request_id}, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if not self.running or not self._ready.done() or self._ready.exception() is not None:
                raise P2PNodeError("NOT_RUNNING", f"cannot {command.get('type')}: the node is not running")
            self._pending[request_id] = future
        try:
            with self._write_lock:
                assert self._proc is not None and self._proc.stdin is not None
                self._proc.stdin.write(line)
                self._proc.stdin.flush()
        except (OSError, ValueError) as err:  # a broken pipe, or stdin already closed
            with self._lock:
                self._pending.pop(request_id, None)
            future.set_exception(P2PNodeError("NODE_EXITED", f"could not write {command.get('type')}: {err}"))
        return request_id, future

    def request(self, command: Mapping[str, Any], timeout: float = DEFAULT_REQUEST_TIMEOUT) -> Event:
        """Sends a command and blocks for its reply; returns the result's fields.

        Raises P2PNodeError with the node's error code, or ``REQUEST_TIMEOUT`` after ``timeout``
        seconds, or ``NODE_EXITED`` if the process exits first.
        """
        request_id, future = self._send(command)
        try:
            return future.result(timeout)
        except FutureTimeout:
            with self._lock:
                self._pending.pop(request_id, None)
            raise P2PNodeError("REQUEST_TIMEOUT", f"{command.get('type')}: no reply within {timeout} s") from None

    def connect(self, bootstrap_peers: Sequence[str] = (), timeout_ms: int | None = None) -> Event:
        """Dials peers by multiaddr; returns ``peerId``, ``addrs``, ``connected``, ``failed``."""
        return self.request(_fields(type="connect", bootstrapPeers=list(bootstrap_peers), timeoutMs=timeout_ms),
                            _timeout_for(timeout_ms))

    def send(self, peer_id: str, data: Any, timeout_ms: int | None = None) -> Event:
        """Sends a direct message; returns once the receiving node acknowledged it."""
        return self.request(_fields(type="send", peerId=peer_id, data=data, timeoutMs=timeout_ms),
                            _timeout_for(timeout_ms))

    def subscribe(self, topic: str, history: bool | Mapping[str, int] | None = None) -> Event:
        """Joins a gossipsub topic; returns ``topic`` and ``advertised``.

        With ``history`` (True, or ``{"since": ms, "limit": n}``) it also catches up on the topic: missed
        messages arrive first with ``replayed: True``, and the result holds ``history``.
        """
        return self.request(_fields(type="subscribe", topic=topic, history=history))

    def history(self, topic: str, since: int | None = None, limit: int | None = None,
                timeout_ms: int | None = None) -> Event:
        """Catches up on a topic; returns ``replayed``, ``peers`` and ``answered`` after the replayed messages."""
        return self.request(_fields(type="history", topic=topic, since=since, limit=limit, timeoutMs=timeout_ms),
                            _timeout_for(timeout_ms))

    def unsubscribe(self, topic: str) -> Event:
        """Leaves a gossipsub topic."""
        return self.request({"type": "unsubscribe", "topic": topic})

    def publish(self, topic: str, data: Any) -> Event:
        """Publishes on a topic; returns ``recipients``. Fails with NO_PEERS_SUBSCRIBED if nobody listens."""
        return self.request({"type": "publish", "topic": topic, "data": data})

    def discover(self, topic: str, timeout_ms: int | None = None) -> list[str]:
        """Finds peers on a topic and connects to up to 8 of them; returns the ids of all found."""
        return self.request(_fields(type="discover", topic=topic, timeoutMs=timeout_ms),
                            2 * _timeout_for(timeout_ms))["peers"]

    def peers(self) -> list[Event]:
        """The connected peers: ``peerId``, ``addrs``, ``topics``, maybe ``latencyMs``."""
        return self.request({"type": "peers"})["peers"]

    # -- events ----------------------------------------------------------------------------------

    def on(self, event_type: str, callback: Callback) -> Callable[[], None]:
        """Calls ``callback(event)`` for each event of that type; returns a function that unregisters it.

        'error' receives the node's errors that answer no pending request and, as
        ``{"type": "error", "code": "INVALID_EVENT", "message": …, "line": …}``, stdout lines that
        are not JSON objects. Callbacks run one at a time, in order, on the delivery thread.
        """
        if event_type not in self._callbacks:
            raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")
        self._callbacks[event_type].append(callback)
        return lambda: self._callbacks[event_type].remove(callback)

    # -- threads ---------------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:  # buffered: a line split across reads is joined before it is yielded
            line = raw.rstrip(b"\n").removesuffix(b"\r")
            if not line.strip():
                continue
            try:
                event = json.loads(line.decode())  # strict UTF-8
                if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                    raise ValueError("not a JSON object with a string type")
            except ValueError as err:  # includes JSONDecodeError and UnicodeDecodeError
                text = line.decode(errors="replace")
                self._events.put({"type": "error", "code": "INVALID_EVENT", "line": text,
                                  "message": f"stdout line is not a protocol event ({err}): {text[:200]}"})
                continue
            self._route(event)
        self._proc.stdout.close()
        code = self._proc.wait()
        self._threads[0].join(1)  # the stderr reader, so that the tail includes the last words
        reason = P2PNodeError("NODE_EXITED", f"the node exited with code {code}{self._tail()}")
        if not self._ready.done():
            self._ready.set_exception(reason)
        with self._lock:
            self._exited.set()
            pending, self._pending = self._pending, {}
        self._close_stdin()
        for future in pending.values():
            future.set_exception(reason)
        self._events.put(None)

    def _route(self, event: Event) -> None:
        kind = event["type"]
        if not self._ready.done():
            if kind == "ready":
                self._ready.set_result({k: v for k, v in event.items() if k != "type"})
            elif kind == "error":  # why the node is about to exit (PORT_IN_USE, INTERNAL)
                self._ready.set_exception(P2PNodeError(event.get("code", "INTERNAL"), event.get("message", "")))
            return
        if kind in ("result", "error") and isinstance(event.get("id"), int):
            with self._lock:
                future = self._pending.pop(event["id"], None)
            if future is not None:
                if kind == "error":
                    future.set_exception(P2PNodeError(event.get("code", "INTERNAL"), event.get("message", "")))
                else:
                    future.set_result({k: v for k, v in event.items() if k not in ("type", "id", "command")})
                return
        if kind in self._callbacks:
            self._events.put(event)

    def _deliver_events(self) -> None:
        while (event := self._events.get()) is not None:
            for callback in list(self._callbacks[event["type"]]):
                try:
                    callback(event)
                except Exception:  # a failing callback must not stop the delivery of later events
                    traceback.print_exc(file=sys.stderr)

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while chunk := self._proc.stderr.read1(4096):
            with self._lock:
                self._stderr_tail += chunk
                del self._stderr_tail[:-STDERR_TAIL_BYTES]
        self._proc.stderr.close()

    def _tail(self) -> str:
        with self._lock:
            text = self._stderr_tail.decode(errors="replace").strip()
        return f"; stderr:\n{text}" if text else ""

    def _close_stdin(self) -> None:
        with self._write_lock:
            if self._proc is not None and self._proc.stdin is not None:
                try:
                    self._proc.stdin.close()
                except OSError:  # flushing into a pipe the child has closed
                    pass


def _fields(**fields: Any) -> Event:
    """The keyword arguments that are not None."""
    return {k: v for k, v in fields.items() if v is not None}


def _timeout_for(timeout_ms: int | None) -> float:
    """A client-side limit that lets the node's own TIMEOUT reply arrive first."""
    return DEFAULT_REQUEST_TIMEOUT if timeout_ms is None else max(DEFAULT_REQUEST_TIMEOUT, timeout_ms / 1000 + 1)
