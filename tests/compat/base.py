"""The compatibility suite's plumbing: the unmodified clients and tempest's schemas.

``tools/client-venv.sh`` (run by ``run_tests.sh``) installs the pinned
clients into a virtualenv of their own and exports its path as
``NOVA_TEST_CLIENT_VENV``; without it these tests skip, or fail when
``NOVA_TEST_REQUIRE_SERVICES`` names ``clients``. ``ClientTestCase`` starts a
real nova-all (``tests.functional.test_nova_all.NovaAllFixture``), writes the
``clouds.yaml`` a user without Keystone would write (auth type ``none``, the
compute endpoint given) and runs the ``openstack`` command and Python scripts
(openstacksdk, python-novaclient) of that virtualenv as subprocesses. ``validate`` checks
a response against tempest's published compute response schema.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import json
import os
import subprocess
import textwrap
import unittest
import uuid

import jsonschema
import requests

from tests.fixtures import databases
from tests.functional import test_nova_all

VENV_VARIABLE = "NOVA_TEST_CLIENT_VENV"
#: The last tempest with compute v2_1 ``list_virtual_interfaces``, and the current one.
OLD_TEMPEST = "35.0.0"
TEMPEST = "47.0.0"
#: The cloud's name in the clouds.yaml the tests write.
CLOUD = "nova-l2"
#: openstacksdk's token with auth type none: noauth2 reads it as user and project.
PROJECT = "notused"
CLI_TIMEOUT = 120

#: The VIF list of server ``argv[1]`` through python-novaclient 9.1.3 (the last with
#: ``virtual_interfaces``; run with ``python(..., old_novaclient=True)``).
NOVACLIENT_VIFS = """
import json, os, sys
import novaclient
from keystoneauth1 import session
from keystoneauth1.noauth import NoAuth
from novaclient import client
api = os.environ["NOVA_API"]
nova = client.Client("2.1", session=session.Session(auth=NoAuth()), endpoint_override=api)
vifs = nova.virtual_interfaces.list(sys.argv[1])
print(json.dumps({"version": novaclient.__version__,
                  "vifs": [{"id": v.id, "mac_address": v.mac_address} for v in vifs]}))
"""


def client_venv(test: unittest.TestCase) -> str:
    """Return the clients' virtualenv; skip ``test`` without one (fail if required)."""
    venv = os.environ.get(VENV_VARIABLE, "")
    if not venv or not os.path.isdir(venv):
        if "clients" in databases.required_services():
            test.fail(f"{VENV_VARIABLE} is not set but clients are required")
        test.skipTest(f"{VENV_VARIABLE} is not set; ./run_tests.sh installs the clients")
    return venv


@functools.cache
def schemas(release: str) -> dict:
    """Return tempest ``release``'s compute response schemas (tools/tempest_schemas.py)."""
    path = os.path.join(os.environ[VENV_VARIABLE], f"tempest-{release}.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def schema(name: str, release: str = TEMPEST) -> dict:
    """Return the schema ``"v2_1.servers:get_server"`` of tempest ``release``."""
    module, _, attribute = name.partition(":")
    return schemas(release)[module][attribute]


_checker = jsonschema.Draft4Validator.FORMAT_CHECKER


@_checker.checks("iso8601-date-time")
def _iso8601(instance: object) -> bool:
    # tempest reads these with oslo.utils' parse_isotime (ISO 8601, 'Z' allowed).
    if not isinstance(instance, str):
        return True
    try:
        datetime.datetime.fromisoformat(instance)
    except ValueError:
        return False
    return True


@_checker.checks("base64")
def _base64(instance: object) -> bool:
    if not isinstance(instance, str):
        return False
    try:
        base64.b64decode(instance.encode(), validate=False)
    except (binascii.Error, ValueError):
        return False
    return True


def validate(test: unittest.TestCase, name: str, response, release: str = TEMPEST) -> None:
    """Fail ``test`` unless ``response`` matches tempest's schema ``name`` (status and body).

    ``name`` may also be a schema dict (one derived from tempest's).
    """
    wanted = schema(name, release) if isinstance(name, str) else name
    label = name if isinstance(name, str) else "derived schema"
    test.assertIn(
        response.status_code,
        wanted["status_code"],
        f"{response.request.method} {response.url} ({label}): {response.text[:1000]}",
    )
    body_schema = wanted.get("response_body")
    if body_schema is None:
        return
    errors = sorted(
        jsonschema.Draft4Validator(body_schema, format_checker=_checker).iter_errors(
            response.json()
        ),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        test.fail(
            f"{response.request.method} {response.url} does not match tempest {release} "
            f"{label}:\n"
            + "\n".join(f"  at {list(e.absolute_path)}: {e.message}" for e in errors[:20])
        )


class ClientTestCase(test_nova_all.NovaAllFixture):
    """A real nova-all, the clients' virtualenv and a clouds.yaml for the ``openstack`` CLI.

    With ``uses_glance``, nova-all checks images against the Glance test
    server (``[glance] api_servers``), the clouds.yaml has Glance as the image
    endpoint, and ``self.image`` is a small active image made for the test
    (``self.image_ref`` its id; without Glance, the free-form ``"cirros"``).
    """

    #: Whether nova-all and the clients use the Glance test server (``start_glance``).
    uses_glance = False

    def setUp(self) -> None:
        self.venv = client_venv(self)
        self.image_ref = "cirros"
        if self.uses_glance:
            self.glance = databases.glance_url(self)
            self.extra_config = (
                f"{self.extra_config}\n[glance]\napi_servers = {self.glance}\nnum_retries = 0\n"
            )
        super().setUp()
        self.http = requests.Session()
        self.http.trust_env = False
        self.addCleanup(self.http.close)
        if self.uses_glance:
            self.image = self.glance_image()
            self.image_ref = self.image["id"]
        self.clouds_yaml = os.path.join(self.state, "clouds.yaml")
        with open(self.clouds_yaml, "w", encoding="utf-8") as handle:
            handle.write(self.clouds_text())
        self.quantum_project = self.quantum.replace("/tenants/demo", f"/tenants/{PROJECT}")

    def clouds_text(self) -> str:
        """Return the clouds.yaml (the README shows the same)."""
        # identity_api_version: `openstack server list` wants an identity v3 proxy
        # even when it never calls it (without the line: "Service requires API
        # version '3'"); nothing asks Keystone.
        image = f"    image_endpoint_override: {self.glance}/\n" if self.uses_glance else ""
        return (
            textwrap.dedent(
                f"""\
            clouds:
              {CLOUD}:
                auth_type: none
                auth:
                  endpoint: {self.api}
                compute_endpoint_override: {self.api}
                compute_api_version: "2.1"
                identity_api_version: "3"
            """
            )
            + image
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            OS_CLIENT_CONFIG_FILE=self.clouds_yaml,
            OS_CLOUD=CLOUD,
            no_proxy="127.0.0.1,localhost",
            NO_PROXY="127.0.0.1,localhost",
            HOME=self.state,  # no ~/.config/openstack of the machine's
        )
        env.pop("PYTHONPATH", None)
        return env

    def run_client(self, args: list[str], expect: int = 0, env=None) -> str:
        """Run ``args`` (a command of the virtualenv first); return its stdout."""
        program = os.path.join(self.venv, "bin", args[0])
        done = subprocess.run(
            [program, *args[1:]],
            capture_output=True,
            text=True,
            env=env or self.env(),
            timeout=CLI_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        #: What the last command wrote to stderr (a failure's message).
        self.last_stderr = done.stderr
        self.assertEqual(
            done.returncode,
            expect,
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-2000:]}\n"
            f"{done.stderr[-3000:]}",
        )
        return done.stdout

    def openstack(self, *args: str, expect: int = 0):
        """Run ``openstack ARGS -f json`` and return the parsed output."""
        out = self.run_client(["openstack", *args, "-f", "json"], expect=expect)
        return json.loads(out) if expect == 0 and out.strip() else out

    def openstack_plain(self, *args: str, expect: int = 0) -> str:
        """Run ``openstack ARGS`` (a command without output formats)."""
        return self.run_client(["openstack", *args], expect=expect)

    def python(self, script: str, *args: str, old_novaclient: bool = False):
        """Run ``script`` with the virtualenv's Python; return its stdout parsed as JSON.

        ``old_novaclient`` puts python-novaclient 9.1.3 first on the path.
        """
        env = self.env()
        env["NOVA_API"] = self.api
        if old_novaclient:
            env["PYTHONPATH"] = os.path.join(self.venv, "novaclient-9.1.3")
        out = self.run_client(["python", "-c", script, *args], env=env)
        return json.loads(out)

    # -- the cloud's own API, for set-up and checks -------------------------

    def call(self, method: str, path: str, body=None, token: str = PROJECT, **kwargs):
        """Send ``method path`` to the compute API as ``token``; return the response."""
        url = path if path.startswith("http") else f"{self.api}{path}"
        return self.http.request(
            method, url, json=body, headers={"X-Auth-Token": token}, timeout=60, **kwargs
        )

    def glance_image(self, name: str | None = None, data: bytes = b"tiny image") -> dict:
        """Upload a new active image to Glance (deleted after the test); return Glance's record."""
        name = name or f"cirros-{uuid.uuid4().hex[:8]}"
        body = {"name": name, "disk_format": "raw", "container_format": "bare"}
        made = self.http.post(f"{self.glance}/v2/images", json=body, timeout=60)
        self.assertEqual(made.status_code, 201, made.text)
        image_id = made.json()["id"]
        self.addCleanup(self.http.delete, f"{self.glance}/v2/images/{image_id}", timeout=60)
        uploaded = self.http.put(
            f"{self.glance}/v2/images/{image_id}/file",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=60,
        )
        self.assertEqual(uploaded.status_code, 204, uploaded.text)
        return self.http.get(f"{self.glance}/v2/images/{image_id}", timeout=60).json()

    def make_port(self, subnet: dict | None = None) -> tuple[str, str]:
        """Return ``(network id, port id)`` of a new Quantum port of project ``notused``.

        :param subnet: the network's subnet (the port gets a fixed IP of it).
        """
        q = self.quantum_project
        network = {"name": "web", "plugin": "openvswitch"}
        if subnet:
            network["subnet"] = subnet
        net = self.http.post(
            f"{q}/networks",
            json={"network": network},
            headers={"X-Auth-Token": f"admin:{PROJECT}"},
            timeout=30,
        ).json()["network"]["id"]
        port = self.http.post(
            f"{q}/networks/{net}/ports", headers={"X-Auth-Token": PROJECT}, timeout=30
        ).json()["port"]["id"]
        return net, port

    def server_on_port(self, port: str, name: str, wait: bool = True) -> str:
        """Create server ``name`` on Quantum ``port`` through the API; return its id.

        With ``wait``, once it is ACTIVE.
        """
        body = {
            "name": name,
            "imageRef": self.image_ref,
            "flavorRef": "1",
            "networks": [{"port": port}],
        }
        created = self.call("POST", "/servers", {"server": body})
        self.assertEqual(created.status_code, 202, created.text)
        server_id = created.json()["server"]["id"]
        if wait:
            self.wait_status(server_id, "ACTIVE")
        return server_id

    def wait_status(self, server_id: str, status: str, timeout: float = 60) -> dict:
        """Wait until the server shows ``status``; return its view."""
        self.wait_for(
            lambda: self.call("GET", f"/servers/{server_id}").json()["server"]["status"] == status,
            f"server {server_id} to be {status}",
            timeout,
        )
        return self.call("GET", f"/servers/{server_id}").json()["server"]

    def wait_gone(self, server_id: str, timeout: float = 60) -> None:
        """Wait until the server answers 404."""
        self.wait_for(
            lambda: self.call("GET", f"/servers/{server_id}").status_code == 404,
            f"server {server_id} to be deleted",
            timeout,
        )
