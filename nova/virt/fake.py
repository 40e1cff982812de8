"""A compute driver that keeps guests in memory: for unit tests only."""

from __future__ import annotations

import json
import threading

from nova import exception
from nova.network import model
from nova.virt import driver


class FakeDriver(driver.ComputeDriver):
    """Records spawned guests and their network info; ``fail_spawn`` injects an error."""

    def __init__(self, **_kwargs) -> None:
        self.guests: dict[str, model.NetworkInfo] = {}
        self.fail_spawn: Exception | None = None
        self._lock = threading.Lock()

    def spawn(self, instance, network_info, context=None, metadata=None):
        if self.fail_spawn is not None:
            raise self.fail_spawn
        with self._lock:
            if instance.uuid in self.guests:
                raise exception.Conflict(reason=f"guest {instance.uuid} exists")
            self.guests[instance.uuid] = list(network_info)

    def get_console_output(self, instance):
        """Three lines for a guest it has, as Nova's fake driver."""
        with self._lock:
            if instance.uuid not in self.guests:
                raise exception.InstanceNotFound(instance_id=instance.uuid)
        return "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE"

    def destroy(self, instance, network_info):
        with self._lock:
            self.guests.pop(instance.uuid, None)

    def attach_interface(self, instance, vif):
        with self._lock:
            if instance.uuid not in self.guests:
                raise exception.InstanceNotFound(instance_id=instance.uuid)
            self.guests[instance.uuid].append(vif)

    def detach_interface(self, instance, vif):
        with self._lock:
            vifs = self.guests.get(instance.uuid, [])
            self.guests[instance.uuid] = [v for v in vifs if v.id != vif.id]

    def list_instance_uuids(self):
        with self._lock:
            return list(self.guests)

    def get_available_resource(self):
        return driver.HostResources(
            vcpus=16,
            memory_mb=32768,
            local_gb=1000,
            hypervisor_type="fake",
            hypervisor_version=1000,
            cpu_info=json.dumps(
                {"arch": "x86_64", "topology": {"sockets": 1, "cores": 16, "threads": 1}}
            ),
        )
