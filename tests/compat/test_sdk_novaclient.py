"""openstacksdk's compute proxy and python-novaclient, unmodified, against nova-all.

Each runs in the clients' virtualenv as a subprocess script (python-novaclient
as a library: its deprecated ``nova`` CLI insists on a Keystone auth URL).
The VIF list is read with python-novaclient 9.1.3, the last release with
``virtual_interfaces`` (kept beside the current one).
"""

from __future__ import annotations

from tests.compat import base

SDK_PROXY = """
import json, sys, openstack
conn = openstack.connect(cloud="nova-l2")
port = sys.argv[1]
server = conn.compute.create_server(
    name="sdk1", image_id="cirros", flavor_id="1", networks=[{"port": port}])
server = conn.compute.wait_for_server(server, status="ACTIVE", wait=120)
out = {
    "id": server.id,
    "status": server.status,
    "listed": [s.name for s in conn.compute.servers()],
    "detailed": [s.status for s in conn.compute.servers(details=True)],
    "found": conn.compute.find_server("sdk1").id,
    "renamed": conn.compute.update_server(server, name="sdk2").name,
    "flavor": conn.compute.get_flavor("1").name,
}
conn.compute.delete_server(server)
conn.compute.wait_for_delete(server, wait=120)
out["after"] = conn.compute.find_server(server.id)
print(json.dumps(out))
"""

NOVACLIENT = """
import json, os, sys
import novaclient
from keystoneauth1 import session
from keystoneauth1.noauth import NoAuth
from novaclient import client
api = os.environ["NOVA_API"]
nova = client.Client("2.1", session=session.Session(auth=NoAuth()), endpoint_override=api)
server_id = sys.argv[1]
out = {"version": novaclient.__version__,
       "listed": [(s.id, s.name, s.status) for s in nova.servers.list()],
       "shown": nova.servers.get(server_id).to_dict()}
nova.servers.delete(server_id)
print(json.dumps(out))
"""


class SDKTestCase(base.ClientTestCase):
    def test_proxy_create_wait_list_find_update_delete(self):
        net, port = self.make_port()
        out = self.python(SDK_PROXY, port)
        self.assertEqual(out["status"], "ACTIVE")
        self.assertEqual((out["listed"], out["detailed"]), (["sdk1"], ["ACTIVE"]))
        self.assertEqual(
            (out["found"], out["renamed"], out["flavor"]), (out["id"], "sdk2", "m1.tiny")
        )
        self.assertIsNone(out["after"])
        self.assertEqual(self.call("GET", f"/servers/{out['id']}").status_code, 404)


class NovaClientTestCase(base.ClientTestCase):
    def test_list_show_vif_list_delete(self):
        net, port = self.make_port()
        server_id = self.server_on_port(port, "nc1")

        out = self.python(base.NOVACLIENT_VIFS, server_id, old_novaclient=True)
        self.assertEqual(out["version"], "9.1.3")
        (vif,) = out["vifs"]
        api_vifs = self.call("GET", f"/servers/{server_id}/os-virtual-interfaces").json()
        self.assertEqual(
            [(v["id"], v["mac_address"]) for v in api_vifs["virtual_interfaces"]],
            [(vif["id"], vif["mac_address"])],
        )

        out = self.python(NOVACLIENT, server_id)
        self.assertEqual(out["version"], "18.13.1")
        self.assertEqual(out["listed"], [[server_id, "nc1", "ACTIVE"]])
        self.assertEqual((out["shown"]["id"], out["shown"]["status"]), (server_id, "ACTIVE"))
        self.wait_gone(server_id)
