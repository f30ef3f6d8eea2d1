"""Network namespaces for fault tests: a hub's machine of its own (a namespace joined to the test's by a veth pair), a link to cut and heal, processes to freeze; skips where `ip netns` is not permitted.

Each `Namespace` stands for one machine: `ip netns add`, a veth pair whose one end stays in the root
namespace (where the test, its stations and its desk run) and whose other end is the namespace's only
way out. The project allows only 127.0.0.0/8 addresses, and the kernel takes them on a veth: each pair
gets a /30 of its own inside 127.64.0.0/10 (the root end .1, the namespace end .2), with
`route_localnet=1` on both ends, without which a 127.x packet on a non-loopback interface is a martian
and dropped. Linux keeps the local and main routing tables in one trie while no policy rule is added,
so the /30's connected route wins over the local 127.0.0.0/8 and the traffic really crosses the veth.
`cut()` takes the root end down (`ip link set … down`): both ends lose the carrier, and a blackhole
route (metric 1000, under the connected one) keeps the /30 from falling back to the local 127/8
route meanwhile, so a cut link loses packets as a pulled cable does instead of answering with resets.
`heal()` brings it up again.

Everything made is removed by the fixture's finalizer whatever the test did (its processes killed,
the namespaces and their veths deleted, the blackhole routes dropped); names carry the pid and a
counter, so `-n auto` workers never collide. For failover tests: `two_hub_machines` (two namespaces,
each with a plain hub on its own copy of the event folder), `NetnsHub(ns, folder, log, args=("--backup",))`
for a hub of a pair, `name_pair` to name both machines' hubs in each folder's event.toml, `cut(ns)` /
`heal(ns)` and `freeze(proc)` / `thaw(proc)`; `join(a, b)` lets two machines reach each other through the
test's namespace (as through a switch, so `cut(a)` cuts a hub off from its peer too) and `cut_between(a, b)` /
`heal_between(a, b)` cut only that path (tests/test_netns_failover.py; see the block at the end).
"""
from __future__ import annotations

import ipaddress
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from console.event.folder import EventFolder, set_endpoints
from tests.wire import set_hub_options, wait_for

POOL = ipaddress.ip_network("127.64.0.0/10")   # inside 127.0.0.0/8, away from 127.0.0.1 and the tests' own
HUB_PORTS = (7750, 7751)                        # a namespace has its own ports: the same two in every one
# Liveness 1.5 s: a move takes seconds, yet a loaded machine (2 cores, -n 2) makes none by mistake (0.2 s did).
QUICK = {"heartbeat_s": 0.5, "late_s": 2.0, "offline_s": 5.0}
_made = itertools.count(1)


def _ip(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["ip", "netns", "exec", ns, "ip", *args] if ns else ["ip", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=20)


def _sysctl(key: str, ns: str | None = None) -> None:
    cmd = ["sysctl", "-qw", f"{key}=1"]
    subprocess.run(["ip", "netns", "exec", ns, *cmd] if ns else cmd, check=True, capture_output=True, timeout=20)


def unavailable() -> str | None:
    """Why namespaces cannot be made here (a sentence for the skip), or None when they can."""
    if sys.platform != "linux":
        return "network namespaces are Linux only"
    if shutil.which("ip") is None or shutil.which("sysctl") is None:
        return "no `ip` or `sysctl` command (iproute2, procps)"
    probe = f"edprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=20, check=False)
    if made.returncode != 0:
        return f"`ip netns add` is not permitted here: {made.stderr.strip() or made.returncode}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=20, check=False)
    return None


def _free_subnet() -> ipaddress.IPv4Network:
    """A /30 of the pool no interface here holds (random: workers choosing at once rarely meet)."""
    used = _ip("-4", "-o", "addr", "show").stdout
    for _ in range(200):
        net = ipaddress.ip_network((int(POOL.network_address) + 4 * random.randrange(POOL.num_addresses // 4), 30))
        if f" {net[1]}/" not in used and f" {net[2]}/" not in used:
            return net
    raise RuntimeError("no free /30 in 127.64.0.0/10")


@dataclass
class Namespace:
    """One machine: its namespace, the veth to it, the address it is reached at (`ip`) and its processes."""

    name: str
    host_if: str
    ns_if: str
    subnet: ipaddress.IPv4Network
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def ip(self) -> str:
        """The namespace's address, as the root namespace reaches it."""
        return str(self.subnet[2])

    @property
    def host_ip(self) -> str:
        """The root namespace's end of the link, as the namespace sees it."""
        return str(self.subnet[1])

    def endpoint(self, port: int) -> str:
        return f"tcp://{self.ip}:{port}"

    @classmethod
    def make(cls) -> Namespace:
        n = next(_made)
        name, host_if, ns_if = f"edns-{os.getpid()}-{n}", f"edh{os.getpid()}x{n}", f"edn{os.getpid()}x{n}"
        ns = cls(name, host_if[:15], ns_if[:15], _free_subnet())
        try:
            ns._build()
        except BaseException:
            ns.remove()
            raise
        return ns

    def _build(self) -> None:
        net, plen = self.subnet, self.subnet.prefixlen
        _ip("netns", "add", self.name)
        _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        _ip("link", "set", self.ns_if, "netns", self.name)
        _sysctl(f"net.ipv4.conf.{self.host_if}.route_localnet")
        _sysctl(f"net.ipv4.conf.{self.ns_if}.route_localnet", self.name)
        _ip("addr", "add", f"{self.host_ip}/{plen}", "dev", self.host_if)
        _ip("addr", "add", f"{self.ip}/{plen}", "dev", self.ns_if, ns=self.name)
        for args, ns in ((("link", "set", self.host_if, "up"), None), (("link", "set", self.ns_if, "up"), self.name),
                         (("link", "set", "lo", "up"), self.name)):
            _ip(*args, ns=ns)
        for ns in (None, self.name):   # a cut link loses packets; never the local 127/8 route's quick resets
            _ip("route", "add", "blackhole", str(net), "metric", "1000", ns=ns)

    def run(self, cmd: list[str], **popen: object) -> subprocess.Popen:
        """`cmd` inside the namespace (`ip netns exec` execs it: the process is the command itself)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.name, *cmd], **popen)
        self.procs.append(proc)
        return proc

    def cut(self) -> None:
        """Pull the cable: the root end of the veth down; nothing passes either way."""
        _ip("link", "set", self.host_if, "down")

    def heal(self) -> None:
        _ip("link", "set", self.host_if, "up")

    def remove(self) -> None:
        """Kill its processes, delete the veth (both ends go), the namespace and the root's blackhole route."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)   # a frozen process dies only once it runs
                proc.kill()
                proc.wait(10)
        _ip("link", "del", self.host_if, check=False)
        _ip("route", "del", "blackhole", str(self.subnet), "metric", "1000", check=False)
        _ip("netns", "del", self.name, check=False)


def cut(ns: Namespace) -> None:
    """Cut the link to `ns`'s machine (see Namespace.cut)."""
    ns.cut()


def heal(ns: Namespace) -> None:
    ns.heal()


def freeze(proc: subprocess.Popen) -> None:
    """SIGSTOP: the process holds its sockets and answers nothing (a hung machine)."""
    proc.send_signal(signal.SIGSTOP)


def thaw(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGCONT)


@pytest.fixture
def netns() -> Iterator[Callable[[], Namespace]]:
    """A maker of namespaces (`netns()` → Namespace), each removed after the test; skips where it cannot."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    made: list[Namespace] = []

    def make() -> Namespace:
        made.append(Namespace.make())
        return made[-1]
    try:
        yield make
    finally:
        for ns in reversed(made):
            ns.remove()


# --- a hub on a machine of its own ------------------------------------------------------------------

@dataclass
class NetnsHub:
    """A plain hub (`eventdesk hub DIR`) run inside a namespace on the folder's [hub] endpoints there."""

    ns: Namespace
    folder: EventFolder
    log: Path
    args: tuple[str, ...] = ()      # more of `eventdesk hub`'s arguments (`--backup`, once it is built)
    proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return self.ns.endpoint(HUB_PORTS[0])

    @property
    def feed(self) -> str:
        return self.ns.endpoint(HUB_PORTS[1])

    @property
    def pair(self) -> tuple[str, str]:
        return self.endpoint, self.feed

    def start(self) -> NetnsHub:
        with self.log.open("ab") as out:
            self.proc = self.ns.run([sys.executable, "-m", "console.cli", "hub", str(self.folder.root), *self.args],
                                    stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: (self.proc.poll() is None or pytest.fail(self.log.read_text()))
                 and (info := self.folder.read_runtime()) and info["pid"] == self.proc.pid, 20, "the hub in its namespace")
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, as an operator stops it, and its log free of tracebacks."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(20)
        assert "Traceback" not in self.log.read_text()


def hub_folder(folder: EventFolder, ns: Namespace, root: Path | None = None) -> EventFolder:
    """`folder` for a hub in `ns`: itself (root None) or a copy at `root` (same event.toml and keys,
    no log, as a second machine has), its [hub] endpoints set to the namespace's address."""
    if root is not None:
        shutil.copytree(folder.root, root, ignore=shutil.ignore_patterns("*.db*", "hub*.json", "*.outbox*"))
        folder = EventFolder(root)
    set_endpoints(folder, ns.endpoint(HUB_PORTS[0]), ns.endpoint(HUB_PORTS[1]))
    return folder


def name_pair(folder: EventFolder, primary: Namespace, backup: Namespace) -> None:
    """Name the pair in `folder`'s event.toml (PROTOCOL.md 5.13): the primary's ROUTER and feed in `primary`,
    the backup's in `backup` (the same in both hubs' folders; for `eventdesk hub DIR --backup`)."""
    (router, feed), (backup_router, backup_feed) = (tuple(ns.endpoint(p) for p in HUB_PORTS) for ns in (primary, backup))
    set_endpoints(folder, router, feed)
    set_hub_options(folder, backup_endpoint=backup_router, backup_feed=backup_feed)


@dataclass
class TwoHubMachines:
    """Two namespaces (machines A and B), a plain hub in each on its own copy of the event folder."""

    a: NetnsHub
    b: NetnsHub

    def others(self, of: NetnsHub) -> tuple[tuple[str, str], ...]:
        return ((self.b if of is self.a else self.a).pair,)


@pytest.fixture
def two_hub_machines(netns, event_dir: EventFolder, tmp_path: Path) -> Iterator[TwoHubMachines]:
    """Hub A on `event_dir` in one namespace, hub B on a copy in another; a quick heartbeat (QUICK:
    liveness 1.5 s). Both stopped after the test, their logs checked for tracebacks."""
    set_hub_options(event_dir, **QUICK)
    ns_a, ns_b = netns(), netns()
    a = NetnsHub(ns_a, hub_folder(event_dir, ns_a), tmp_path / "hub-a.log")
    b = NetnsHub(ns_b, hub_folder(event_dir, ns_b, tmp_path / "machine-b"), tmp_path / "hub-b.log")
    a.start()
    b.start()
    try:
        yield TwoHubMachines(a, b)
    finally:
        try:
            a.stop()
        finally:
            b.stop()


# --- the hubs' own path: machine to machine through the test's namespace (failover tests) --------------
# Two machines on one switch: the root namespace is the switch. Each namespace gets a route to the other's
# /30 via its root end, with `src` its own address (a 127.x address has host scope, so without `src` the
# kernel would pick 127.0.0.1, whose answers never leave the other machine), and its root end forwards
# (`net.ipv4.conf.<veth>.forwarding`, those two interfaces only; the machine-wide ip_forward is left alone).
# So `cut(ns)` cuts the hub-to-hub path too, as pulling that machine's cable would, while `cut_between`
# cuts only the path between the two hubs: each namespace's route to the other is deleted, and a blackhole
# route (metric 1000, under it) drops what is sent meanwhile instead of letting the local 127/8 route
# answer it with resets. Everything goes with the namespaces (the routes live inside them).

def _route_to(here: Namespace, there: Namespace, verb: str) -> None:
    _ip("route", verb, str(there.subnet), "via", here.host_ip, "dev", here.ns_if, "src", here.ip, ns=here.name)


def join(a: Namespace, b: Namespace) -> None:
    """Let the machines `a` and `b` reach each other (through the root namespace, as through a switch)."""
    for here, there in ((a, b), (b, a)):
        _ip("route", "add", "blackhole", str(there.subnet), "metric", "1000", ns=here.name)
        _route_to(here, there, "add")
        _sysctl(f"net.ipv4.conf.{here.host_if}.forwarding")


def cut_between(a: Namespace, b: Namespace) -> None:
    """Cut only the path between `a` and `b`: each still reaches the root namespace (the clients)."""
    for here, there in ((a, b), (b, a)):
        _route_to(here, there, "del")


def heal_between(a: Namespace, b: Namespace) -> None:
    for here, there in ((a, b), (b, a)):
        _route_to(here, there, "add")
