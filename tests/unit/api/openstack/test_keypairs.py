"""os-keypairs, and key_name on server create (in-process API)."""

from __future__ import annotations

import base64
import hashlib

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from nova.db import session as db_session
from tests.fixtures import api as api_fixtures

ADMIN = "admin:admin"


def openssh_public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def md5_fingerprint(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


class KeypairsTestCase(api_fixtures.APITestCase):
    def create_keypair(self, name: str, public_key=None, token="alice:demo", expect=200):
        keypair = {"name": name}
        if public_key is not None:
            keypair["public_key"] = public_key
        response = self.request("POST", "/v2.1/os-keypairs", {"keypair": keypair}, token=token)
        self.assertEqual(response.status_int, expect, response.text)
        return response

    def test_import_list_show_delete(self):
        public_key = openssh_public_key() + " alice@laptop"
        created = self.create_keypair("my key_1-a", public_key).json["keypair"]
        self.assertEqual(
            created,
            {
                "name": "my key_1-a",
                "public_key": public_key,
                "fingerprint": md5_fingerprint(public_key),
                "user_id": "alice",
            },
        )
        listed = self.request("GET", "/v2.1/os-keypairs").json
        self.assertEqual(
            listed,
            {
                "keypairs": [
                    {
                        "keypair": {
                            "name": "my key_1-a",
                            "public_key": public_key,
                            "fingerprint": created["fingerprint"],
                        }
                    }
                ]
            },
        )
        shown = self.request("GET", "/v2.1/os-keypairs/my%20key_1-a")
        self.assertEqual(shown.status_int, 200, shown.text)
        keypair = shown.json["keypair"]
        self.assertEqual(keypair["user_id"], "alice")
        self.assertIsInstance(keypair["id"], int)
        self.assertEqual((keypair["deleted"], keypair["deleted_at"]), (False, None))
        self.assertRegex(keypair["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        deleted = self.request("DELETE", "/v2.1/os-keypairs/my%20key_1-a")
        self.assertEqual(deleted.status_int, 202, deleted.text)
        self.assertEqual(self.request("GET", "/v2.1/os-keypairs").json, {"keypairs": []})
        gone = self.request("GET", "/v2.1/os-keypairs/my%20key_1-a")
        self.assertEqual(gone.status_int, 404)
        self.assertEqual(
            gone.json["itemNotFound"]["message"], "Keypair my key_1-a not found for user alice"
        )
        # The name is free again.
        self.create_keypair("my key_1-a", public_key)

    def test_generated_pair_private_key_returned_once_never_stored(self):
        created = self.create_keypair("gen").json["keypair"]
        private = serialization.load_pem_private_key(created["private_key"].encode(), None)
        public = private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        self.assertEqual(created["public_key"], public.decode() + " Generated-by-Nova")
        self.assertEqual(created["fingerprint"], md5_fingerprint(created["public_key"]))
        shown = self.request("GET", "/v2.1/os-keypairs/gen").json["keypair"]
        self.assertNotIn("private_key", shown)
        secret = created["private_key"].splitlines()[1]
        with db_session.get_engine().connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                rows = connection.execute(sa.text(f"SELECT * FROM {table}")).all()
                self.assertNotIn(secret, repr(rows), table)

    def test_per_user(self):
        self.create_keypair("k", openssh_public_key())
        # Another user, same project or not: their own list, 404 on alice's, same name allowed.
        for token in ("carol:demo", "mallory:other"):
            with self.subTest(token=token):
                self.assertEqual(
                    self.request("GET", "/v2.1/os-keypairs", token=token).json, {"keypairs": []}
                )
                for method in ("GET", "DELETE"):
                    response = self.request(method, "/v2.1/os-keypairs/k", token=token)
                    self.assertEqual(response.status_int, 404, response.text)
        self.create_keypair("k", openssh_public_key(), token="carol:demo")
        self.assertEqual(self.count("key_pairs"), 2)

    def test_bad_names_keys_and_duplicates(self):
        self.create_keypair("k", openssh_public_key())
        duplicate = self.create_keypair("k", openssh_public_key(), expect=409)
        self.assertEqual(
            duplicate.json,
            {"conflictingRequest": {"code": 409, "message": "Key pair 'k' already exists."}},
        )
        for name in ("", "a" * 256, "bad/name", "bad.name", "ünicode", " edge"):
            with self.subTest(name=name):
                response = self.create_keypair(name, openssh_public_key(), expect=400)
                self.assertEqual(response.json["badRequest"]["code"], 400)
        self.assertEqual(
            self.create_keypair("bad.name", openssh_public_key(), expect=400).json["badRequest"][
                "message"
            ],
            "Keypair data is invalid: Keypair name contains unsafe characters",
        )
        for public_key in (
            "",
            "ssh-rsa",
            "ssh-rsa !!!notbase64",
            "not a key at all",
            "ssh-rsa AAAA",
        ):
            with self.subTest(public_key=public_key):
                response = self.create_keypair("x", public_key, expect=400)
                self.assertEqual(
                    response.json["badRequest"]["message"],
                    "Keypair data is invalid: failed to generate fingerprint",
                )
        for body in ({"keypair": {"name": "x", "type": "ssh"}}, {"keypair": {}}, {"name": "x"}):
            with self.subTest(body=body):
                response = self.request("POST", "/v2.1/os-keypairs", body)
                self.assertEqual(response.status_int, 400, response.text)
        self.assertEqual(self.count("key_pairs", live=False), 1)

    def test_key_pairs_quota(self):
        response = self.request(
            "PUT", "/v2.1/os-quota-sets/demo", {"quota_set": {"key_pairs": 2}}, token=ADMIN
        )
        self.assertEqual(response.status_int, 200, response.text)
        self.create_keypair("a", openssh_public_key())
        self.create_keypair("b", openssh_public_key())
        over = self.create_keypair("c", openssh_public_key(), expect=403)
        self.assertEqual(
            over.json,
            {"forbidden": {"code": 403, "message": "Quota exceeded, too many key pairs."}},
        )
        # Per user: another user of the project has room of their own.
        self.create_keypair("c", openssh_public_key(), token="carol:demo")
        self.request("DELETE", "/v2.1/os-keypairs/a")
        self.create_keypair("c", openssh_public_key())
        self.assertEqual(self.count("key_pairs"), 3)


class KeyNameTestCase(api_fixtures.APITestCase):
    def test_key_name_must_be_the_users_and_its_key_is_stored(self):
        public_key = openssh_public_key()
        body = {"keypair": {"name": "mine", "public_key": public_key}}
        self.assertEqual(self.request("POST", "/v2.1/os-keypairs", body).status_int, 200)
        for token, name in (("alice:demo", "nope"), ("carol:demo", "mine")):
            with self.subTest(token=token, name=name):
                response = self.create_server(
                    token=token, expect=400, networks="none", key_name=name
                )
                self.assertEqual(
                    response.json,
                    {"badRequest": {"code": 400, "message": "Invalid key_name provided."}},
                )
        self.assertEqual(self.count("instances", live=False), 0)
        server_id = self.create_server(networks="none", key_name="mine")
        with db_session.get_engine().connect() as connection:
            row = connection.execute(
                sa.text("SELECT key_name, key_data FROM instances WHERE uuid = :u"),
                {"u": server_id},
            ).one()
        self.assertEqual(tuple(row), ("mine", public_key))
