#!/usr/bin/env python3
"""Build the tiny test guest: a Debian cloud kernel and a busybox initramfs.

    python3 tools/guest-image/build.py [--output DIR] [--force]

Only Debian packages, nothing installed into the host: ``apt-get download``
fetches ``linux-image-<version>-cloud-amd64`` and ``busybox-static``,
``dpkg-deb -x`` unpacks them, and the initramfs (newc cpio, gzip) gets
busybox, the virtio modules the guest needs (``/etc/guest-modules``, loaded
in that order by ``/init``) and the files under ``rootfs/``. The result,
``DIR/vmlinuz``, ``DIR/initrd.img`` and ``DIR/cmdline`` (its kernel command line; default
``${NOVA_TEST_CACHE:-.cache}/guest-image``), is reused while the inputs
(this directory's files) are unchanged: a second run takes well under a
second. Prints the output directory. The console protocol of the guest is
in README.md beside this file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import lzma
import os
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent

#: Loaded in this order by /init (dependencies first); insmod, no depmod.
MODULES = [
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "failover",
    "net_failover",
    "virtio_net",
    "virtio_blk",
    "cdrom",
    "isofs",
]

KERNEL_META = "linux-image-cloud-amd64"
BUSYBOX = "busybox-static"
#: The kernel command line the image is imported with (``os_command_line``), also
#: written to ``DIR/cmdline``. Beyond the console, it spares the kernel work that
#: costs seconds under TCG (each instruction emulated) and buys a test guest
#: nothing: the crypto self-tests (about a second of initcalls), the KDF
#: self-test, the boot-time kprobe events and the compiled-in certificates
#: (modules then load unverified; the kernel does not enforce signatures),
#: zeroing every page it allocates, the CPU-bug mitigations and 3 of 4 UARTs.
COMMAND_LINE = " ".join(
    [
        "console=ttyS0 quiet panic=-1",
        "cryptomgr.notests",
        "initcall_blacklist=crypto_kdf108_init,init_kprobe_trace,load_system_certificate_list",
        "init_on_alloc=0 mitigations=off 8250.nr_uarts=1",
    ]
)


def inputs_digest() -> str:
    """Return a digest of every file that shapes the image (the cache key)."""
    digest = hashlib.sha256()
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".md":
            digest.update(str(path.relative_to(HERE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def kernel_package() -> str | None:
    """Return the versioned kernel package the meta-package depends on (None: unknown)."""
    result = subprocess.run(
        ["apt-cache", "depends", KERNEL_META], check=False, capture_output=True, text=True
    )
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split(":", 1)[1].strip()
    return None


def apt_update() -> None:
    """Refresh apt's package lists (as root), once: they may be missing or stale."""
    if os.geteuid() != 0:
        raise SystemExit("build.py: apt's package lists are missing or stale: run apt-get update")
    print("build.py: running apt-get update", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)


def download(packages: list[str], directory: pathlib.Path) -> list[pathlib.Path]:
    """``apt-get download`` the packages into ``directory``; return the .deb files."""
    subprocess.run(
        ["apt-get", "download", "-q", *packages],
        check=True,
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return sorted(directory.glob("*.deb"))


class Cpio:
    """A newc cpio archive written in memory (what the kernel unpacks as initramfs)."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.inode = 1

    def _entry(self, name: str, mode: int, data: bytes = b"") -> None:
        encoded = name.encode() + b"\0"
        fields = [self.inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
        header = b"070701" + b"".join(b"%08X" % value for value in fields)
        self.inode += 1
        self.buffer.write(header + encoded)
        self.buffer.write(b"\0" * (-(len(header) + len(encoded)) % 4))
        self.buffer.write(data)
        self.buffer.write(b"\0" * (-len(data) % 4))

    def directory(self, name: str) -> None:
        self._entry(name, 0o040755)

    def file(self, name: str, data: bytes, executable: bool = False) -> None:
        self._entry(name, 0o100755 if executable else 0o100644, data)

    def node(self, name: str, major: int, minor: int) -> None:
        """A character device (the console the kernel opens before /init runs)."""
        encoded = name.encode() + b"\0"
        fields = [self.inode, 0o020600, 0, 0, 1, 0, 0, 0, 0, major, minor, len(encoded), 0]
        header = b"070701" + b"".join(b"%08X" % value for value in fields)
        self.inode += 1
        self.buffer.write(header + encoded)
        self.buffer.write(b"\0" * (-(len(header) + len(encoded)) % 4))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return self.buffer.getvalue()


def build_initramfs(busybox: pathlib.Path, module_dir: pathlib.Path) -> bytes:
    """Return the gzipped initramfs: busybox, the modules, rootfs/."""
    archive = Cpio()
    for directory in ("bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp", "run"):
        archive.directory(directory)
    archive.node("dev/console", 5, 1)
    archive.file("bin/busybox", busybox.read_bytes(), executable=True)
    found = {path.stem: path for path in module_dir.rglob("*.ko")}
    for module in MODULES:
        if module not in found:
            raise SystemExit(f"build.py: the kernel package has no module {module}")
        archive.file(f"lib/modules/{module}.ko", found[module].read_bytes())
    archive.file("etc/guest-modules", ("\n".join(MODULES) + "\n").encode())
    rootfs = HERE / "rootfs"
    for path in sorted(rootfs.rglob("*")):
        name = str(path.relative_to(rootfs))
        if path.is_dir():
            archive.directory(name)
        else:
            executable = name == "init" or name.endswith(".script")
            archive.file(name, path.read_bytes(), executable=executable)
    return gzip.compress(archive.finish(), compresslevel=6, mtime=0)


def build(output: pathlib.Path, force: bool = False) -> pathlib.Path:
    """Build the image into ``output`` unless it is there and current; return ``output``."""
    stamp = output / "stamp"
    digest = inputs_digest()
    kernel, initrd = output / "vmlinuz", output / "initrd.img"
    if not force and kernel.exists() and initrd.exists() and stamp.exists():
        if stamp.read_text().split("\n", 1)[0] == digest:
            return output
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="guest-image.", dir=output) as work:
        work_dir = pathlib.Path(work)
        # apt drops root to _apt for downloads: let it write here.
        os.chmod(work_dir, 0o777)
        kernel_name = kernel_package()
        try:
            if kernel_name is None:
                raise subprocess.CalledProcessError(1, "apt-cache depends")
            debs = download([kernel_name, BUSYBOX], work_dir)
        except subprocess.CalledProcessError:
            apt_update()
            kernel_name = kernel_package()
            if kernel_name is None:
                raise SystemExit(f"build.py: {KERNEL_META} names no kernel") from None
            debs = download([kernel_name, BUSYBOX], work_dir)
        tree = work_dir / "tree"
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
        vmlinuz = next((tree / "boot").glob("vmlinuz-*"))
        module_dirs = list((tree / "lib" / "modules").iterdir())
        if not module_dirs:  # usr-merged packages
            module_dirs = list((tree / "usr" / "lib" / "modules").iterdir())
        busybox = tree / "bin" / "busybox"
        if not busybox.exists():
            busybox = tree / "usr" / "bin" / "busybox"
        data = build_initramfs(busybox, module_dirs[0])
        shutil.copyfile(vmlinuz, work_dir / "vmlinuz")
        (work_dir / "initrd.img").write_bytes(data)
        os.replace(work_dir / "vmlinuz", kernel)
        os.replace(work_dir / "initrd.img", initrd)
        versions = " ".join(deb.name for deb in debs)
        (output / "cmdline").write_text(COMMAND_LINE + "\n")
        stamp.write_text(f"{digest}\n{versions}\n{COMMAND_LINE}\n")
    return output


#: An ELF note of type XEN_ELFNOTE_PHYS32_ENTRY (18): the kernel boots the PVH way.
_PVH_NOTE = re.compile(rb"\x04\x00\x00\x00[\x04\x08]\x00\x00\x00\x12\x00\x00\x00Xen\x00")


def uncompressed_kernel(output: pathlib.Path) -> pathlib.Path | None:
    """Write ``output/vmlinux``, the kernel of ``vmlinuz`` uncompressed; return it.

    Booted directly (QEMU's PVH entry, ``<kernel>`` of an ELF file), it skips
    the firmware's real-mode set-up and the decompressor, some 2 s per guest
    under TCG (the Debian kernel's payload is 14 MB of LZ4 for 53 MB). Needs
    ``unlz4`` (Debian package lz4) for an LZ4 payload; None when the payload
    cannot be unpacked or the kernel has no PVH entry (then boot ``vmlinuz``).
    """
    vmlinuz, vmlinux = output / "vmlinuz", output / "vmlinux"
    if vmlinux.exists() and vmlinux.stat().st_mtime >= vmlinuz.stat().st_mtime:
        return vmlinux
    data = vmlinuz.read_bytes()
    start = (data[0x1F1] + 1) * 512
    offset, length = struct.unpack_from("<II", data, 0x248)
    payload = data[start + offset : start + offset + length]
    if payload[:4] == b"\x02\x21\x4c\x18" and shutil.which("unlz4"):
        unpacked = subprocess.run(
            ["unlz4", "-c"], input=payload, capture_output=True, check=False
        ).stdout
    elif payload[:2] == b"\x1f\x8b":
        unpacked = gzip.decompress(payload)
    elif payload[:6] == b"\xfd7zXZ\x00":
        unpacked = lzma.decompress(payload)
    else:
        return None
    if unpacked[:4] != b"\x7fELF" or not _PVH_NOTE.search(unpacked):
        return None
    with tempfile.NamedTemporaryFile(dir=output, delete=False) as handle:
        handle.write(unpacked)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, vmlinux)
    return vmlinux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # One directory per version of the inputs: checkouts sharing the cache
    # (NOVA_TEST_CACHE) never overwrite the image another one is booting.
    cache = pathlib.Path(os.environ.get("NOVA_TEST_CACHE") or ROOT / ".cache") / "guest-image"
    default = cache / inputs_digest()[:12]
    parser.add_argument("--output", type=pathlib.Path, default=default)
    parser.add_argument("--force", action="store_true", help="rebuild even if current")
    parser.add_argument(
        "--uncompressed",
        action="store_true",
        help="also write DIR/vmlinux, the kernel uncompressed for a direct (PVH) boot",
    )
    args = parser.parse_args(argv)
    output = build(args.output.resolve(), args.force)
    if args.uncompressed:
        uncompressed_kernel(output)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
