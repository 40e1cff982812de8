"""Key pairs: a user's SSH public keys, imported or generated (the private key given once).

As Nova 2.1: names of 1 to 255 letters, digits, spaces, ``_`` and ``-``;
the fingerprint is the MD5 of the key's wire form, colon-separated; a
generated pair is RSA 2048 whose public key ends in "Generated-by-Nova";
its private key (PEM) is in the create's answer and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import string
from typing import NamedTuple

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oslo_db import exception as db_exc

from nova import context as nova_context
from nova import exception
from nova import quota
from nova.db import key_pairs as key_pair_db
from nova.db import quotas as quota_db
from nova.db import records

NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_- ")
NAME_MAX_LENGTH = 255
GENERATED_KEY_BITS = 2048


class CreatedKeyPair(NamedTuple):
    """A key pair as created: its row, and the private key when it was generated."""

    key_pair: records.KeyPair
    private_key: str | None


def check_name(name: str) -> None:
    """Refuse a name Nova 2.1 refuses.

    :raises nova.exception.InvalidKeypair: empty, too long or with other characters (400).
    """
    if not 1 <= len(name) <= NAME_MAX_LENGTH:
        raise exception.InvalidKeypair(
            reason="Keypair name must be string and between 1 and 255 characters long"
        )
    if not set(name) <= NAME_CHARACTERS:
        raise exception.InvalidKeypair(reason="Keypair name contains unsafe characters")


def fingerprint(public_key: str) -> str:
    """Return the MD5 fingerprint (``aa:bb:...``) of an OpenSSH public key.

    :raises nova.exception.InvalidKeypair: not a public key ``cryptography`` can read (400).
    """
    try:
        serialization.load_ssh_public_key(public_key.strip().encode("utf-8"))
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (ValueError, IndexError, UnsupportedAlgorithm, binascii.Error, UnicodeError) as exc:
        raise exception.InvalidKeypair(reason="failed to generate fingerprint") from exc
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def generate() -> tuple[str, str]:
    """Return a new RSA key pair: (private key in PEM, OpenSSH public key)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=GENERATED_KEY_BITS)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private_pem, public.decode("ascii") + " Generated-by-Nova"


class KeypairAPI:
    """The caller's own key pairs (every call is scoped to the context's user)."""

    def create(
        self, context: nova_context.RequestContext, name: str, public_key: str | None = None
    ) -> CreatedKeyPair:
        """Import ``public_key`` as ``name``, or generate a pair when it is None.

        :raises nova.exception.InvalidKeypair: bad name or key (400).
        :raises nova.exception.KeypairLimitExceeded: the user has ``key_pairs`` already (403).
        :raises nova.exception.KeyPairExists: the user has a key pair of that name (409).
        """
        check_name(name)
        private_key = None
        if public_key is None:
            private_key, public_key = generate()
        values = {
            "name": name,
            "user_id": context.user_id,
            "fingerprint": fingerprint(public_key),
            "public_key": public_key,
            "type": "ssh",
        }

        def decide(own_limits: dict[str, int], used: int) -> None:
            quota.check_key_pairs(quota.merged(own_limits), used)

        try:
            created = quota_db.key_pair_create_checked(context, context.project_id, values, decide)
        except db_exc.DBDuplicateEntry as exc:
            raise exception.KeyPairExists(key_name=name) from exc
        return CreatedKeyPair(created, private_key)

    def get_all(self, context: nova_context.RequestContext) -> list[records.KeyPair]:
        """Return the caller's key pairs, by name."""
        return key_pair_db.key_pair_get_all(context, context.user_id)

    def get(self, context: nova_context.RequestContext, name: str) -> records.KeyPair:
        """Return the caller's key pair ``name``.

        :raises nova.exception.KeypairNotFound: none of that name (404).
        """
        return key_pair_db.key_pair_get(context, context.user_id, name)

    def delete(self, context: nova_context.RequestContext, name: str) -> None:
        """Delete the caller's key pair ``name``.

        :raises nova.exception.KeypairNotFound: none of that name (404).
        """
        key_pair_db.key_pair_destroy(context, context.user_id, name)
