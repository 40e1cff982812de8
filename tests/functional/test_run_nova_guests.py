"""``./run_nova.sh --guests``: the README's walkthrough, run as printed, then SIGTERM.

The script sets everything up on this machine (its own network namespace,
libvirtd with TCG, the tiny guest image, nova-all with the embedded
Quantum's Linux bridge agent and DHCP) and prints a walkthrough. The test
runs that walkthrough with bash exactly as printed: two guests on one
network, each pinging the other's fixed IP, read through
``os-getConsoleOutput``. Both must have their address from DHCP (the
agent's dnsmasq) and reach each other. SIGTERM must then leave no nova-all,
QEMU, dnsmasq, libvirtd or namespace behind.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import pytest

from tests.fixtures import guests
from tests.fixtures import processes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETUP_TIMEOUT = 180
WALK_TIMEOUT = 120


def _processes_mentioning(text: str) -> list[str]:
    """Return the command lines of live processes that mention ``text``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                line = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in line:
            found.append(f"{pid}: {line[:200]}")
    return found


@pytest.mark.guests
@pytest.mark.timeout(400)
class RunNovaGuestsTest(unittest.TestCase):
    def setUp(self) -> None:
        # Where ./run_tests.sh found that libvirtd can run (root, packages: it
        # started one); -n skips, CI (NOVA_TEST_REQUIRE_SERVICES) fails. The
        # script starts its own, in a namespace of its own.
        guests.libvirt_uri(self)
        self.state = tempfile.mkdtemp(prefix="nova-guests-mode-")
        self.addCleanup(shutil.rmtree, self.state, True)
        env = {
            key: value
            for key, value in os.environ.items()
            # Its own namespace and libvirtd, not those of run_tests.sh.
            if not key.startswith("NOVA_TEST_") or key == "NOVA_TEST_CACHE"
        }
        self.netns = f"nova-gm-{os.getpid()}"
        env.update(
            NOVA_STATE_PATH=self.state,
            NOVA_API_PORT=str(processes.free_port()),
            NOVA_QUANTUM_PORT=str(processes.free_port()),
            NOVA_TEST_NETNS=self.netns,
        )
        self.script = subprocess.Popen(
            [os.path.join(ROOT, "run_nova.sh"), "--guests"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=open(os.path.join(self.state, "run_nova.err"), "w"),  # noqa: SIM115
            text=True,
        )
        self.addCleanup(self.stop)
        self.lines: queue.Queue[str | None] = queue.Queue()

        def read():
            assert self.script.stdout is not None
            for line in self.script.stdout:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=read, daemon=True).start()

    def stop(self) -> None:
        if self.script.poll() is None:
            self.script.send_signal(signal.SIGTERM)
            try:
                self.script.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.script.kill()
                self.script.wait()

    def walkthrough(self) -> str:
        """Return the printed walkthrough (between its marker lines)."""
        printed: list[str] = []
        deadline = time.monotonic() + SETUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            printed.append(line)
            if line.startswith("# --- end ---"):
                text = "".join(printed)
                return text[text.index("# --- walkthrough ---") :]
        with open(os.path.join(self.state, "run_nova.err"), encoding="utf-8") as handle:
            errors = handle.read()[-3000:]
        self.fail(f"no walkthrough in {SETUP_TIMEOUT}s:\n{''.join(printed)}\n{errors}")

    def test_walkthrough_as_printed_then_nothing_left(self):
        steps = self.walkthrough()
        ran = subprocess.run(
            ["bash", "-c", steps],
            capture_output=True,
            text=True,
            timeout=WALK_TIMEOUT,
            check=False,
        )
        self.assertEqual(ran.returncode, 0, ran.stdout + ran.stderr)
        out = ran.stdout
        self.assertIn("PING 10.0.0.12 ok", out)
        self.assertIn("PING 10.0.0.11 ok", out)
        # Both addresses came from DHCP: the agent's dnsmasq, from Quantum's fixed IPs.
        self.assertRegex(out, r"GUEST IP eth0 \S+ 10\.0\.0\.11/24 dhcp")
        self.assertRegex(out, r"GUEST IP eth0 \S+ 10\.0\.0\.12/24 dhcp")
        self.assertTrue(_processes_mentioning(self.state), "nothing ran from the state path?")
        dhcp = os.listdir(os.path.join(self.state, "dhcp"))
        self.assertEqual(len(dhcp), 1, "one DHCP server: the network's")

        self.script.send_signal(signal.SIGTERM)
        self.assertEqual(self.script.wait(timeout=90), 143)
        self.assertEqual(_processes_mentioning(self.state), [])
        self.assertEqual(_processes_mentioning(self.netns), [])
        namespaces = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=True
        ).stdout
        self.assertNotIn(self.netns, namespaces)
        for network_id in dhcp:
            self.assertNotIn(f"qdhcp-{network_id}", namespaces)
