#!/usr/bin/env python3
"""Benchmark real guests through ``nova-all``; prints one JSON document.

As root (Debian: qemu-system-x86, qemu-utils, libvirt-daemon,
libvirt-daemon-driver-qemu). Uses the libvirtd of ``NOVA_TEST_LIBVIRT_URI``
(and its network namespace ``NOVA_TEST_NETNS``), or starts one itself with
``tools/services/libvirt.sh`` and stops it at the end. The test guest
(``tools/guest-image/build.py``, cached) is imported into the local image
store with ``nova-manage image import`` and booted by ``nova-all`` under
``[libvirt] virt_type`` (default qemu: TCG).

For each round (``--concurrency``, default 1 and 4) that many guests are
created at once on one network of the reference Quantum with a subnet
(Linux bridge plugin): ``nova-all`` runs the embedded Quantum's agent
(``[quantum] agent_config_file``, polling every ``--agent-interval`` s) in
the namespace, which wires the taps and serves the ports' fixed IPs with
dnsmasq, and compute makes the network's bridge there (``[libvirt]
plug_netns``), as ``./run_nova.sh --guests`` does. Each guest is told to
ping the next one. Per guest, from its create request: ``active``
(``launched_at``), ``qemu_started`` (its QEMU process's start), ``ready``
``kernel_started`` (about: when its console says ``GUEST BOOT``, less the
uptime it says), ``ready`` (its console says ``GUEST READY``: the console log in the instance
directory, read every ``--poll`` s, so that watching costs the machine
nothing; at the end the API's ``os-getConsoleOutput`` must show the same,
counted in ``console_via_api``),
``guest_boot``/``guest_net_up`` (the guest's uptime when its init
starts and when its NICs are configured, from its console), ``net_up``
(the first ``GUEST IP ... dhcp`` line: a real lease from the agent's
dnsmasq; a guest that fell back to its config drive's static address is
counted in ``static``) and ``peer_ok`` (the first ``PING <next guest>
ok``, for two guests or more); the QEMU process's resident memory once all are up; and the teardown
(DELETE to no QEMU process left). p50 and p95 of each.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import common  # bench/common.py, beside this script (puts the repository on sys.path)
import requests

from tests.fixtures import guests
from tests.fixtures import processes

USER = processes.USER
ADMIN = "admin:admin"


def process_start(pid: int) -> float:
    """Return when process ``pid`` started (seconds since the epoch)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime", encoding="ascii") as handle:
        uptime = float(handle.read().split()[0])
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """Return the CPU seconds process ``pid`` has used (user and system)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_libvirtd(directory: str) -> tuple[subprocess.Popen, str, str]:
    """Start libvirtd with the test library; return (its shell, URI, namespace)."""
    script = (
        'source tools/test-services.sh; trap stop_test_services EXIT; start_libvirtd "$1" >&2 '
        '|| exit 1; echo "$NOVA_TEST_LIBVIRT_URI $NOVA_TEST_NETNS"; read -r _'
    )
    shell = subprocess.Popen(
        ["bash", "-c", script, "bash", directory],
        cwd=common.REPOSITORY,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = shell.stdout.readline().split()
    if len(line) != 2:
        raise SystemExit("guests.py: could not start libvirtd")
    return shell, line[0], line[1]


class Bench:
    def __init__(self, args, uri: str, namespace: str, state: str) -> None:
        self.args = args
        self.uri = uri
        self.namespace = namespace
        self.state = state
        self.session = requests.Session()
        self.session.trust_env = False
        agent_config = os.path.join(state, "quantum-agent.conf")
        with open(agent_config, "w", encoding="utf-8") as handle:
            handle.write(
                processes.config_text(
                    {
                        "agent": {
                            "netns": namespace,
                            "plugins": "linuxbridge",
                            "polling_interval": args.agent_interval,
                        }
                    }
                )
            )
        extra = processes.config_text(
            {
                "libvirt": {
                    "connection_uri": uri,
                    "virt_type": args.virt_type,
                    "plug_vifs": "true",
                    "plug_netns": namespace,
                },
                "image": {"backend": "local"},
                "quantum": {"agent_config_file": agent_config},
            }
        )
        self.nova = processes.NovaAll(
            state,
            options={"DEFAULT": {"ram_allocation_ratio": 64, "report_interval": 1}},
            extra=extra,
        )
        self.api = self.nova.api

    def call(self, method, url, body=None, token=USER, expect=None):
        response = self.session.request(
            method, url, json=body, headers={"X-Auth-Token": token}, timeout=60
        )
        if expect is not None and response.status_code != expect:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:500]}")
        return response

    def nova_manage(self, *args: str) -> str:
        command = [processes.command("nova-manage"), "--config-file", self.nova.config, *args]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()

    def import_image(self) -> str:
        directory = guests.guest_image()
        if self.args.kernel == "vmlinux":
            subprocess.run(
                [sys.executable, "tools/guest-image/build.py", "--uncompressed",
                 "--output", str(directory)],
                check=True, cwd=common.REPOSITORY, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        kernel = self.nova_manage(
            "image", "import", "kernel", str(directory / self.args.kernel),
            "--disk-format", "aki", "--container-format", "aki",
        )  # fmt: skip
        ramdisk = self.nova_manage(
            "image", "import", "ramdisk", str(directory / "initrd.img"),
            "--disk-format", "ari", "--container-format", "ari",
        )  # fmt: skip
        machine = os.path.join(self.state, "machine.img")
        with open(machine, "wb") as handle:
            handle.truncate(1024 * 1024)
        return self.nova_manage(
            "image", "import", "guest", machine, "--disk-format", "ami",
            "--container-format", "ami", "--property", f"kernel_id={kernel}",
            "--property", f"ramdisk_id={ramdisk}",
            "--property",
            f"os_command_line={self.args.command_line or guests.command_line(directory)}",
        )  # fmt: skip

    def quantum(self, method, path, body=None, expect=200):
        url = f"{self.nova.quantum_url}/v1.1/tenants/demo{path}"
        response = self.call(method, url, body, token="admin:admin")
        if expect is None:
            return None
        return response.json()

    def stop_dhcp(self) -> None:
        """Stop the dnsmasq the agent left (it keeps them across its restarts)."""
        directory = os.path.join(self.state, "dhcp")
        for network_id in os.listdir(directory) if os.path.isdir(directory) else ():
            try:
                with open(os.path.join(directory, network_id, "pid"), encoding="ascii") as f:
                    os.kill(int(f.read().strip()), 15)
            except (OSError, ValueError):
                pass
            subprocess.run(["ip", "netns", "del", f"qdhcp-{network_id}"], check=False)

    def console(self, server_id: str) -> str:
        """Return what the guest has written to its serial console so far (its log file)."""
        path = os.path.join(self.state, "instances", server_id, "console.log")
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    @staticmethod
    def read_console(output, now, peer, marks, uptimes, static, server_id) -> None:
        """Record the first time each line of the console protocol is seen."""
        for key, needle in (
            ("booted", r"GUEST BOOT"),
            ("ready", r"GUEST READY"),
            ("net_up", r"GUEST IP eth0 \S+ \S+ dhcp"),
            ("peer_ok", rf"PING {re.escape(peer)} ok"),
        ):
            if key not in marks and re.search(needle, output):
                marks[key] = now
        if re.search(r"GUEST IP eth0 \S+ \S+ static", output):
            static.add(server_id)
        # The guest's own clock (seconds since its kernel started).
        for key, word in (("guest_boot", "BOOT"), ("guest_net_up", "NET-UP")):
            found = re.search(rf"GUEST {word} ([0-9.]+)", output)
            if found and key not in uptimes:
                uptimes[key] = float(found[1])

    def round(self, image: str, flavor: str, count: int, index: int) -> dict:
        subnet = {"cidr": f"10.88.{index}.0/24"}
        network = self.quantum(
            "POST",
            "/networks",
            {"network": {"name": f"bench{index}", "plugin": "linuxbridge", "subnet": subnet}},
        )["network"]["id"]
        addresses = [f"10.88.{index}.{10 + n}" for n in range(count)]
        ports = [
            self.quantum("POST", f"/networks/{network}/ports", {"port": {"fixed_ip": a}})["port"][
                "id"
            ]
            for a in addresses
        ]

        def create(n: int) -> tuple[str, float]:
            peer = addresses[(n + 1) % count] if count > 1 else "127.0.0.1"
            body = {
                "server": {
                    "name": f"g{index}-{n}",
                    "imageRef": image,
                    "flavorRef": flavor,
                    "networks": [{"port": ports[n]}],
                    "metadata": {"ping": peer},
                    "config_drive": True,
                }
            }
            started = time.time()
            server = self.call("POST", f"{self.api}/servers", body, expect=202)
            return server.json()["server"]["id"], started, peer

        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            created = list(pool.map(create, range(count)))
        marks: dict[str, dict[str, float]] = {sid: {} for sid, _s, _p in created}
        static: set[str] = set()
        uptimes: dict[str, dict[str, float]] = {sid: {} for sid, _s, _p in created}
        # One guest alone has no peer to reach (it pings 127.0.0.1 through eth0: no answer).
        wanted = {"ready", "net_up", "peer_ok"} if count > 1 else {"ready", "net_up"}
        net_up_cpu: dict[str, float] = {}  # QEMU's CPU seconds when the network is up
        deadline = time.time() + self.args.timeout
        while time.time() < deadline and any(wanted - set(m) for m in marks.values()):
            for sid, started, peer in created:
                if wanted - set(marks[sid]):
                    self.read_console(self.console(sid), time.time() - started, peer,
                                      marks[sid], uptimes[sid], static, sid)  # fmt: skip
                    if "net_up" in marks[sid] and sid not in net_up_cpu:
                        net_up_cpu[sid] = sum(map(process_cpu, guests.qemu_pids(sid)))
            time.sleep(self.args.poll)
        # The API shows what the bench read from the files.
        api_agrees = 0
        for sid, _started, _peer in created:
            response = self.call(
                "POST", f"{self.api}/servers/{sid}/action", {"os-getConsoleOutput": {}}
            )
            if response.status_code == 200 and "GUEST READY" in response.json()["output"]:
                api_agrees += 1
        for sid, _started, _peer in created:
            # When the guest's clock started (its kernel, about): seen booted less its uptime.
            if "booted" in marks[sid] and "guest_boot" in uptimes[sid]:
                marks[sid]["kernel_started"] = marks[sid]["booted"] - uptimes[sid]["guest_boot"]
        rss = []
        for sid, started, _p in created:
            for pid in guests.qemu_pids(sid):
                marks[sid]["qemu_started"] = process_start(pid) - started
                with open(f"/proc/{pid}/status", encoding="ascii") as handle:
                    match = re.search(r"VmRSS:\s+(\d+) kB", handle.read())
                    rss.append(int(match[1]) / 1024 if match else None)
        for sid, started, _peer in created:
            server = self.call("GET", f"{self.api}/servers/{sid}", token=ADMIN).json()["server"]
            launched = server.get("OS-SRV-USG:launched_at")
            if launched:
                at = datetime.datetime.fromisoformat(launched).replace(tzinfo=datetime.UTC)
                marks[sid]["active"] = at.timestamp() - started
        teardown = []
        for sid, _s, _p in created:
            pids = guests.qemu_pids(sid)
            begun = time.time()
            self.call("DELETE", f"{self.api}/servers/{sid}", expect=204)
            while pids and any(os.path.exists(f"/proc/{pid}") for pid in pids):
                if time.time() - begun > 60:
                    break
                time.sleep(0.05)
            teardown.append(time.time() - begun)
        self.quantum("DELETE", f"/networks/{network}", expect=None)

        def summary(values):
            values = [v for v in values if v is not None]
            return {
                "p50": common.percentile(values, 0.5),
                "p95": common.percentile(values, 0.95),
                "n": len(values),
            }

        return {
            "guests": count,
            **{
                f"{key}_s": summary([m.get(key) for m in marks.values()])
                for key in (
                    "active", "qemu_started", "kernel_started", "ready", "net_up", "peer_ok"
                )
            },
            **{
                f"{key}_s": summary([u.get(key) for u in uptimes.values()])
                for key in ("guest_boot", "guest_net_up")
            },
            "qemu_rss_mib": summary(rss),
            "qemu_cpu_at_net_up_s": summary(list(net_up_cpu.values())),
            "teardown_s": summary(teardown),
            "static": len(static),
            "console_via_api": api_agrees,
            "missing": {sid: sorted((wanted | {"active"}) - set(m))
                        for sid, m in marks.items() if (wanted | {"active"}) - set(m)},
        }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--virt-type", default="qemu", choices=["qemu", "kvm"])
    parser.add_argument("--memory", type=int, default=128, help="MiB per guest (a flavor)")
    parser.add_argument(
        "--poll", type=float, default=0.05, help="seconds between two reads of the console logs"
    )
    parser.add_argument(
        "--kernel",
        default="vmlinux",
        choices=["vmlinux", "vmlinuz"],
        help="boot the kernel uncompressed (PVH, build.py --uncompressed) or the bzImage",
    )
    parser.add_argument(
        "--agent-interval", type=float, default=1.0, help="the agent's polling_interval (s)"
    )
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument(
        "--command-line", help="the guest kernel's command line (default: the image's cmdline)"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("guests.py: run as root (libvirtd, network namespaces)")
    state = tempfile.mkdtemp(prefix="nova-bench-guests-")
    shell = None
    uri, namespace = os.environ.get("NOVA_TEST_LIBVIRT_URI"), os.environ.get("NOVA_TEST_NETNS")
    if not uri or not namespace:
        shell, uri, namespace = start_libvirtd(os.path.join(state, "services"))
    bench = Bench(args, uri, namespace, state)
    try:
        image = bench.import_image()
        bench.nova.start()
        bench.nova.wait_ready()
        flavor = bench.call(
            "POST", f"{bench.api}/flavors",
            {"flavor": {"name": "bench", "ram": args.memory, "vcpus": 1, "disk": 1}},
            token=ADMIN, expect=200,
        ).json()["flavor"]["id"]  # fmt: skip
        rounds = [
            bench.round(image, flavor, count, index) for index, count in enumerate(args.concurrency)
        ]
    finally:
        bench.nova.close()
        bench.stop_dhcp()
        if shell is not None:
            shell.stdin.close()
            shell.wait(timeout=120)
        shutil.rmtree(state, ignore_errors=True)
    print(
        json.dumps(
            {
                "machine": common.machine(
                    virt_type=args.virt_type,
                    memory_mib=args.memory,
                    kernel=args.kernel,
                    command_line=args.command_line or "the image's",
                ),
                "rounds": rounds,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
