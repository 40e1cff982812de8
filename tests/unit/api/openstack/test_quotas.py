"""Quotas: os-quota-sets, /limits and the checks at server create (in-process API)."""

from __future__ import annotations

import threading

import nova.conf
from nova import quota
from tests.fixtures import api as api_fixtures

CONF = nova.conf.CONF
ADMIN = "admin:admin"
# Nova 2.1's os-quota-sets keys (its API samples), with this cloud's defaults.
DEFAULTS = {
    "cores": 20,
    "fixed_ips": -1,
    "floating_ips": -1,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "injected_files": 5,
    "instances": 10,
    "key_pairs": 100,
    "metadata_items": 128,
    "ram": 51200,
    "security_group_rules": -1,
    "security_groups": -1,
    "server_group_members": 10,
    "server_groups": 10,
}
# Nova 2.1's /limits absolute keys (tempest's schema, api-ref sample).
ABSOLUTE = {
    "maxImageMeta", "maxPersonality", "maxPersonalitySize", "maxSecurityGroupRules",
    "maxSecurityGroups", "maxServerMeta", "maxTotalCores", "maxTotalFloatingIps",
    "maxTotalInstances", "maxTotalKeypairs", "maxTotalRAMSize", "maxServerGroups",
    "maxServerGroupMembers", "totalCoresUsed", "totalInstancesUsed", "totalRAMUsed",
    "totalSecurityGroupsUsed", "totalFloatingIpsUsed", "totalServerGroupsUsed",
}  # fmt: skip


class QuotaTestCase(api_fixtures.APITestCase):
    def set_quota(self, project: str = "demo", expect: int = 200, **limits):
        response = self.request(
            "PUT", f"/v2.1/os-quota-sets/{project}", {"quota_set": limits}, token=ADMIN
        )
        self.assertEqual(response.status_int, expect, response.text)
        return response

    def create(self, expect: int = 202, token: str = "alice:demo", **values):
        return self.create_server(token=token, expect=expect, networks="none", **values)


class QuotaSetsTestCase(QuotaTestCase):
    def test_show_defaults_and_detail_in_novas_format(self):
        for path in ("/v2.1/os-quota-sets/demo", "/v2.1/os-quota-sets/demo/defaults"):
            response = self.request("GET", path)
            self.assertEqual(response.status_int, 200, response.text)
            self.assertEqual(response.json, {"quota_set": {"id": "demo", **DEFAULTS}})
        self.create(flavorRef="3")  # 2 vcpus, 4096 MiB
        detail = self.request("GET", "/v2.1/os-quota-sets/demo/detail").json["quota_set"]
        self.assertEqual(detail["id"], "demo")
        self.assertEqual(detail["instances"], {"in_use": 1, "limit": 10, "reserved": 0})
        self.assertEqual(detail["cores"], {"in_use": 2, "limit": 20, "reserved": 0})
        self.assertEqual(detail["ram"], {"in_use": 4096, "limit": 51200, "reserved": 0})
        self.assertEqual(set(detail) - {"id"}, set(DEFAULTS))

    def test_config_gives_the_defaults(self):
        CONF.set_override("instances", 3, group="quota")
        self.addCleanup(CONF.clear_override, "instances", group="quota")
        for path in ("/v2.1/os-quota-sets/demo", "/v2.1/os-quota-sets/x/defaults", "/v2.1/limits"):
            body = self.request("GET", path).json
            value = body["limits"]["absolute"]["maxTotalInstances"] if "limits" in body else (
                body["quota_set"]["instances"]
            )  # fmt: skip
            self.assertEqual(value, 3, path)

    def test_admin_sets_and_deletes_limits(self):
        response = self.set_quota(instances=2, cores="4", ram=-1, floating_ips=5, force=False)
        expected = {**DEFAULTS, "instances": 2, "cores": 4, "ram": -1}
        self.assertEqual(response.json, {"quota_set": expected})
        shown = self.request("GET", "/v2.1/os-quota-sets/demo").json["quota_set"]
        self.assertEqual(shown, {"id": "demo", **expected})
        # Another project keeps the defaults.
        other = self.request("GET", "/v2.1/os-quota-sets/other", token="bob:other").json
        self.assertEqual(other["quota_set"]["instances"], 10)
        response = self.request("DELETE", "/v2.1/os-quota-sets/demo", token=ADMIN)
        self.assertEqual(response.status_int, 202, response.text)
        self.assertEqual(
            self.request("GET", "/v2.1/os-quota-sets/demo").json["quota_set"]["instances"], 10
        )

    def test_non_admins_read_only_their_own_project(self):
        for method, path, body in (
            ("GET", "/v2.1/os-quota-sets/other", None),
            ("GET", "/v2.1/os-quota-sets/other/detail", None),
            ("PUT", "/v2.1/os-quota-sets/demo", {"quota_set": {"instances": 50}}),
            ("DELETE", "/v2.1/os-quota-sets/demo", None),
        ):
            with self.subTest(method=method, path=path):
                response = self.request(method, path, body)
                self.assertEqual(response.status_int, 403, response.text)
                self.assertEqual(response.json["forbidden"]["code"], 403)
        self.assertEqual(self.count("quotas", live=False), 0)
        # Defaults are anyone's to read; an admin reads any project.
        self.assertEqual(self.request("GET", "/v2.1/os-quota-sets/other/defaults").status_int, 200)
        self.assertEqual(
            self.request("GET", "/v2.1/os-quota-sets/other", token=ADMIN).status_int, 200
        )

    def test_bad_limits_are_400_and_write_nothing(self):
        for limits in (
            {"instances": -2},
            {"instances": "-2"},
            {"instances": 1.5},
            {"instances": "ten"},
            {"instances": 2**31},
            {"instances": str(2**31)},
            {"unknown": 1},
            {"force": "maybe"},
        ):
            with self.subTest(limits=limits):
                response = self.set_quota(expect=400, **limits)
                self.assertEqual(response.json["badRequest"]["code"], 400)
        self.assertEqual(self.count("quotas", live=False), 0)

    def test_concurrent_settings_of_one_limit_leave_one_row(self):
        statuses: list[int] = []

        def put(value: int) -> None:
            response = self.request(
                "PUT", "/v2.1/os-quota-sets/demo", {"quota_set": {"instances": value}}, token=ADMIN
            )
            statuses.append(response.status_int)

        threads = [threading.Thread(target=put, args=(value,)) for value in range(20, 30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(statuses, [200] * 10)
        self.assertEqual(self.count("quotas"), 1)
        shown = self.request("GET", "/v2.1/os-quota-sets/demo").json["quota_set"]["instances"]
        self.assertIn(shown, range(20, 30))

    def test_limit_below_usage_needs_force(self):
        self.create()
        self.create()
        response = self.set_quota(expect=400, instances=1)
        self.assertEqual(
            response.json["badRequest"]["message"],
            "Quota limit 1 for instances must be greater than or equal to already used "
            "and reserved 2.",
        )
        self.set_quota(instances=1, force=True)
        self.assertEqual(
            self.request("GET", "/v2.1/os-quota-sets/demo").json["quota_set"]["instances"], 1
        )


class LimitsTestCase(QuotaTestCase):
    def test_absolute_limits_with_usage(self):
        self.create(flavorRef="2")  # 1 vcpu, 2048 MiB
        self.create(flavorRef="3")  # 2 vcpus, 4096 MiB
        self.create(token="bob:other")
        response = self.request("GET", "/v2.1/limits?reserved=1&unknown=x")
        self.assertEqual(response.status_int, 200, response.text)
        limits = response.json["limits"]
        self.assertEqual(limits["rate"], [])
        absolute = limits["absolute"]
        self.assertEqual(set(absolute), ABSOLUTE)
        self.assertEqual(absolute["maxTotalInstances"], 10)
        self.assertEqual(absolute["maxTotalCores"], 20)
        self.assertEqual(absolute["maxTotalRAMSize"], 51200)
        self.assertEqual(absolute["maxServerMeta"], 128)
        self.assertEqual(absolute["maxTotalKeypairs"], 100)
        self.assertEqual(absolute["totalInstancesUsed"], 2)
        self.assertEqual(absolute["totalCoresUsed"], 3)
        self.assertEqual(absolute["totalRAMUsed"], 6144)

    def test_tenant_id_is_for_admins(self):
        self.create(token="bob:other")
        self.set_quota(project="other", instances=7)
        response = self.request("GET", "/v2.1/limits?tenant_id=other", token=ADMIN)
        absolute = response.json["limits"]["absolute"]
        self.assertEqual((absolute["maxTotalInstances"], absolute["totalInstancesUsed"]), (7, 1))
        response = self.request("GET", "/v2.1/limits?tenant_id=other")
        self.assertEqual(response.status_int, 403, response.text)
        # Their own project named: allowed.
        self.assertEqual(self.request("GET", "/v2.1/limits?tenant_id=demo").status_int, 200)


class CreateQuotaTestCase(QuotaTestCase):
    def test_over_the_instances_quota_is_403_in_novas_words(self):
        self.set_quota(instances=2)
        self.create()
        self.create()
        response = self.create(expect=403)
        self.assertEqual(
            response.json,
            {
                "forbidden": {
                    "code": 403,
                    "message": "Quota exceeded for instances: Requested 1, but already used "
                    "2 of 2 instances",
                }
            },
        )
        self.assertEqual(self.count("instances"), 2)
        self.assertEqual(self.count("instances", live=False), 2)
        # Deleting one makes room again (usage is counted, not stored).
        server = self.request("GET", "/v2.1/servers").json["servers"][0]["id"]
        self.assertEqual(self.request("DELETE", f"/v2.1/servers/{server}").status_int, 204)
        self.create()

    def test_cores_and_ram_are_checked(self):
        self.set_quota(cores=3, ram=-1)
        self.create(flavorRef="3")  # 2 vcpus
        response = self.create(flavorRef="3", expect=403)
        self.assertEqual(
            response.json["forbidden"]["message"],
            "Quota exceeded for cores: Requested 2, but already used 2 of 3 cores",
        )
        self.set_quota(cores=-1, ram=5000)
        response = self.create(flavorRef="2", expect=403)  # 2048 MiB more than 4096 of 5000
        self.assertEqual(
            response.json["forbidden"]["message"],
            "Quota exceeded for ram: Requested 2048, but already used 4096 of 5000 ram",
        )
        self.create(flavorRef="1")  # 512 MiB fits
        self.assertEqual(self.count("instances"), 2)

    def test_min_and_max_count_get_what_fits(self):
        self.set_quota(instances=3)
        response = self.request(
            "POST",
            "/v2.1/servers",
            {"server": {"name": "m", "imageRef": "c", "flavorRef": "1", "networks": "none",
                        "min_count": 2, "max_count": 5, "return_reservation_id": True}},
        )  # fmt: skip
        self.assertEqual(response.status_int, 202, response.text)
        self.assertEqual(self.count("instances"), 3)
        response = self.create(expect=403)
        self.assertIn("already used 3 of 3 instances", response.json["forbidden"]["message"])
        self.set_quota(instances=5)
        response = self.create(expect=403, min_count=3, max_count=4)
        self.assertEqual(
            response.json["forbidden"]["message"],
            "Quota exceeded for instances: Requested 3-4, but already used 3 of 5 instances",
        )
        self.assertEqual(self.count("instances"), 3)

    def test_metadata_items_quota(self):
        self.set_quota(metadata_items=2)
        response = self.create(expect=403, metadata={"a": "1", "b": "2", "c": "3"})
        self.assertEqual(
            response.json["forbidden"]["message"], "Maximum number of metadata items exceeds 2"
        )
        self.create(metadata={"a": "1", "b": "2"})
        self.assertEqual(self.count("instances"), 1)

    def test_unlimited(self):
        self.set_quota(instances=-1, cores=-1, ram=-1)
        for _ in range(12):
            self.create()
        self.assertEqual(self.count("instances"), 12)

    def test_concurrent_creates_never_exceed_the_quota(self):
        """50 creates at once against a quota of 10: exactly 10 succeed (each its own thread)."""
        self.set_quota(instances=10)
        statuses: list[int] = []
        lock = threading.Lock()

        def create() -> None:
            response = self.request(
                "POST",
                "/v2.1/servers",
                {"server": {"name": "r", "imageRef": "c", "flavorRef": "1", "networks": "none"}},
            )
            with lock:
                statuses.append(response.status_int)

        threads = [threading.Thread(target=create) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(statuses), [202] * 10 + [403] * 40)
        self.assertEqual(self.count("instances"), 10)
        self.assertEqual(self.count("instances", live=False), 10)


class AllowedInstancesTestCase(QuotaTestCase):
    """``nova.quota.allowed_instances`` alone."""

    def test_several_limits_over_are_named_together(self):
        limits = quota.merged({"cores": 2, "ram": 1000})
        usage = {"instances": 0, "cores": 2, "ram": 900}
        with self.assertRaises(Exception) as caught:
            quota.allowed_instances(limits, usage, 1, 512, 1, 1)
        self.assertEqual(
            str(caught.exception),
            "Quota exceeded for cores, ram: Requested 1, 512, but already used 2, 900 "
            "of 2, 1000 cores, ram",
        )
        self.assertEqual(quota.allowed_instances(limits, {**usage, "cores": 0}, 1, 50, 1, 9), 2)
