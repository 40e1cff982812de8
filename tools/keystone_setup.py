"""Register the test identities in a fresh Keystone, through its v3 API.

    python tools/keystone_setup.py URL PASSWORD register|endpoints

Run by tools/services/keystone.sh once the server answers, as bootstrap's
``admin`` (PASSWORD). Points the identity endpoints at URL; ``register``
(once, for the template every test server copies) then makes what is
missing of the roles, projects, users, role assignments and services below
(every user's password is PASSWORD). Endpoints of the compute,
network and image services are left to the tests, which know the ports of
the servers they start. Standard library only.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

ROLES = ("admin", "member", "reader", "service")
PROJECTS = ("admin", "demo", "alt", "service")
#: user -> [(project, role)]
USERS = {
    "admin": [("admin", "admin"), ("demo", "admin"), ("alt", "admin")],
    "demo-member": [("demo", "member")],
    "demo-reader": [("demo", "reader")],
    "alt-member": [("alt", "member")],
    # Service users: Nova's and Quantum's keystonemiddleware and Nova's
    # calls to the network service (acting for any project) need both.
    "nova": [("service", "service"), ("service", "admin")],
    "quantum": [("service", "service"), ("service", "admin")],
    "glance": [("service", "service"), ("service", "admin")],
}
SERVICES = {
    "compute": "nova",
    "network": "quantum",
    "image": "glance",
}

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Keystone:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/v3"
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("X-Auth-Token", self.token)
        try:
            with OPENER.open(request, timeout=60) as response:
                content = response.read()
                headers = response.headers
        except urllib.error.HTTPError as exc:
            sys.exit(f"{method} {path}: {exc.code} {exc.read()[:500]!r}")
        return headers, (json.loads(content) if content else None)

    def login(self, password: str) -> None:
        headers, _ = self.call(
            "POST",
            "/auth/tokens",
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": "admin",
                                "domain": {"id": "default"},
                                "password": password,
                            }
                        },
                    },
                    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
                }
            },
        )
        self.token = headers["X-Subject-Token"]

    def ids(self, collection: str) -> dict[str, str]:
        _, body = self.call("GET", f"/{collection}")
        return {item["name"]: item["id"] for item in body[collection]}

    def ensure(self, collection: str, name: str, body: dict) -> str:
        existing = self.ids(collection)
        if name in existing:
            return existing[name]
        member = collection[:-1]
        _, created = self.call("POST", f"/{collection}", {member: {"name": name, **body}})
        return created[member]["id"]


def main() -> None:
    url, password = sys.argv[1].rstrip("/"), sys.argv[2]
    keystone = Keystone(url)
    keystone.login(password)

    _, endpoints = keystone.call("GET", "/endpoints")
    identity = keystone.ids("services").get("keystone")
    for endpoint in endpoints["endpoints"]:
        if endpoint["service_id"] == identity:
            keystone.call(
                "PATCH", f"/endpoints/{endpoint['id']}", {"endpoint": {"url": url + "/v3"}}
            )
    if sys.argv[3] != "register":
        return

    roles = {name: keystone.ensure("roles", name, {}) for name in ROLES}
    projects = {
        name: keystone.ensure("projects", name, {"domain_id": "default", "description": name})
        for name in PROJECTS
    }
    for user, assignments in USERS.items():
        user_id = keystone.ensure(
            "users",
            user,
            {
                "domain_id": "default",
                "password": password,
                "default_project_id": projects[assignments[0][0]],
            },
        )
        for project, role in assignments:
            keystone.call(
                "PUT", f"/projects/{projects[project]}/users/{user_id}/roles/{roles[role]}"
            )
    for service_type, name in SERVICES.items():
        if name not in keystone.ids("services"):
            keystone.call("POST", "/services", {"service": {"name": name, "type": service_type}})
    print(json.dumps({"roles": roles, "projects": projects}))


if __name__ == "__main__":
    main()
