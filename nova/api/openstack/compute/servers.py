"""``/servers``: create (define and launch), list, show, rename, delete, actions."""

from __future__ import annotations

import urllib.parse

from oslo_utils import strutils

import nova.conf
from nova import exception
from nova import utils
from nova.api.openstack import policy
from nova.api.openstack import wsgi
from nova.api.openstack.compute import admin_actions
from nova.api.openstack.compute import console_output
from nova.api.openstack.compute import views
from nova.api.openstack.schemas import servers as schema
from nova.compute import vm_states

CONF = nova.conf.CONF

#: The filters of a server listing open to every user (Nova 2.1's); admins may use all.
_USER_OPTIONS = frozenset(
    {"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since",
     "all_tenants", "limit", "marker", "sort_key", "sort_dir"}
)  # fmt: skip
#: Nova's server statuses (any case) and the vm_states that show as each; those
#: no server here can be in list nothing.
_STATUS_STATES = {
    **{status: [] for status in (
        "REBOOT", "HARD_REBOOT", "PASSWORD", "REBUILD", "MIGRATING", "RESIZE",
        "VERIFY_RESIZE", "REVERT_RESIZE", "PAUSED", "SUSPENDED", "RESCUE",
        "SOFT_DELETED", "SHELVED", "SHELVED_OFFLOADED", "UNKNOWN",
    )},
    **{status: [vm_state] for vm_state, status in vm_states.STATUS.items()},
}  # fmt: skip
# Sort keys and the columns they sort by (the others of Nova's list are dropped).
_SORT_COLUMNS = {
    **{key: key for key in (
        "access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone",
        "config_drive", "created_at", "display_name", "host", "image_ref", "key_name",
        "launch_index", "launched_at", "project_id", "task_state", "terminated_at",
        "updated_at", "user_id", "uuid", "vm_state",
    )},
    "hostname": "display_name",
    "instance_type_id": "flavor_id",
    "node": "host",
}  # fmt: skip
_ADMIN_SORT_KEYS = frozenset({"host", "node"})
_KNOWN_SORT_KEYS = frozenset(schema.SORT_KEYS + schema.IGNORED_SORT_KEYS)
# The words oslo (and Nova) read as booleans.
_TRUE = frozenset(strutils.TRUE_STRINGS)
_FALSE = frozenset(strutils.FALSE_STRINGS)


def _true(value) -> bool:
    """Return a boolean of a request body (``types.boolean``) as a bool."""
    return value is True or (isinstance(value, str) and value.lower() in _TRUE)


def _is_all_tenants(query) -> bool:
    """Return whether ``all_tenants`` asks for every project (present and empty counts, as Nova).

    :raises nova.exception.Invalid: not a boolean.
    """
    if "all_tenants" not in query:
        return False
    value = query["all_tenants"].strip().lower()
    if not value or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise exception.ValidationError(
        reason=f"Invalid input for query all_tenants: {query['all_tenants']!r} is not a boolean"
    )


def _filters(request, query, compute_api) -> dict | None:
    """Return the database filters of a listing's checked query; None when it can list nothing."""
    filters: dict = {}
    name = query.get("name", query.get("display_name"))
    if name:
        filters["name"] = name
    if "status" in query:
        states: list[str] = []
        for status in request.GET.getall("status"):
            states.extend(_STATUS_STATES.get(status.upper(), ()))
        if not states:
            return None  # Nova 2.1 lists nothing (2.38 made it a 400)
        if states == [vm_states.DELETED]:  # deleted servers are listed only so (as Nova)
            if not request.context.is_admin:
                raise exception.PolicyNotAuthorized(
                    "Only administrators may list deleted instances"
                )
            filters["deleted"] = True
        filters["vm_state"] = states
    if "changes-since" in query:  # a valid time: the schema checked it
        filters["changes_since"] = utils.parse_isotime(query["changes-since"])
    if "deleted" in query and query["deleted"].strip().lower() in _TRUE:
        filters["deleted"] = True  # admins only (others' "deleted" was dropped)
    for option in ("ip", "ip6", "host", "user_id", "uuid", "task_state", "reservation_id"):
        if query.get(option):
            filters[option] = query[option]
    if query.get("vm_state"):
        filters["vm_state"] = [query["vm_state"]]
    if query.get("image"):
        # An id or a URL ending with it, as Nova.
        filters["image_ref"] = query["image"].rstrip("/").rsplit("/", 1)[-1]
    if query.get("flavor"):
        try:
            flavor = compute_api.get_flavor(request.context, query["flavor"])
        except exception.FlavorNotFound:
            return None  # an unknown flavor lists nothing (as Nova)
        filters["flavor_id"] = flavor.id
    return filters


def _sort(request, context) -> list[tuple[str, str]] | None:
    """Return the ``(column, direction)`` pairs of a listing; None: the default (newest first).

    :raises nova.exception.Invalid: more directions than keys, or not asc/desc.
    :raises nova.exception.PolicyNotAuthorized: a user sorting by host or node.
    """
    keys = [key.strip() for key in request.GET.getall("sort_key")]
    directions = [direction.strip() for direction in request.GET.getall("sort_dir")]
    if not keys and not directions:
        return None
    for key in keys:
        if key not in _KNOWN_SORT_KEYS:  # the schema saw the last one only
            raise exception.ValidationError(
                reason=f"Invalid input for query sort_key: {key!r} is not one of Nova's sort keys"
            )
    for direction in directions:
        if direction not in ("asc", "desc"):
            raise exception.ValidationError(
                reason=f"Invalid input for query sort_dir: {direction!r} is not one of "
                "['asc', 'desc']"
            )
    if len(directions) > len(keys) and keys:
        raise exception.Invalid(reason="Sort direction size exceeds sort key size")
    directions = directions or ["desc"]
    pairs: list[tuple[str, str]] = []
    for index, key in enumerate(keys or ["created_at"]):
        direction = directions[index] if index < len(directions) else directions[0]
        if key in _ADMIN_SORT_KEYS and not context.is_admin:
            raise exception.PolicyNotAuthorized(f"Only administrators can sort servers by {key}")
        column = _SORT_COLUMNS.get(key)
        if column is not None and column not in (name for name, _ in pairs):
            pairs.append((column, direction))
    default_direction = directions[0]
    for column in ("created_at", "id"):
        if column not in (name for name, _ in pairs):
            pairs.append((column, default_direction))
    return pairs


_BDM_NOT_SUPPORTED = (
    "Block device mapping is not supported beyond an image as the local root disk "
    '(one entry: "source_type": "image", "destination_type": "local", "boot_index": 0)'
)


def _image_ref(server) -> str:
    """Return the image a server boots from: ``imageRef``, or its image block device mapping.

    :raises nova.exception.Invalid: no image, images that differ, or a
        mapping of another shape (volumes, snapshots, blank disks: not supported).
    """
    if server.get("block_device_mapping"):
        raise exception.Invalid(reason=_BDM_NOT_SUPPORTED)
    image_ref = server.get("imageRef") or None
    mappings = server.get("block_device_mapping_v2") or []
    if mappings:
        (mapping,) = mappings if len(mappings) == 1 else (None,)
        if (
            mapping is None
            or mapping.get("source_type") != "image"
            or mapping.get("destination_type", "local") != "local"
            or str(mapping.get("boot_index", 0)) != "0"
            or not (mapping.get("uuid") or mapping.get("image_id"))
        ):
            raise exception.Invalid(reason=_BDM_NOT_SUPPORTED)
        mapped = mapping.get("uuid") or mapping.get("image_id")
        if image_ref is not None and image_ref != mapped:
            raise exception.Invalid(
                reason="Conflicting image: imageRef and the block device mapping's differ"
            )
        image_ref = mapped
    if image_ref is None:
        raise exception.Invalid(reason="Missing imageRef attribute")
    return image_ref


class ServersController:
    #: The query schema of each action (also read by the OpenAPI description).
    query_schemas = {"index": schema.index_query, "detail": schema.index_query}
    #: Answers of an action besides 202 (os-getConsoleOutput: 200 with the output).
    more_success = {"action": {200: True}}
    #: Faults beyond the usual ones (os-getConsoleOutput: the host's driver keeps no console).
    faults = {"action": (501,)}

    def __init__(
        self, compute_api, extension_manager, max_limit: int, max_server_count: int
    ) -> None:
        self.compute_api = compute_api
        self.extensions = extension_manager
        self.max_limit = max_limit
        self.max_server_count = max_server_count
        self.create_schema = schema.create(
            extension_manager.server_create_schema(), max_server_count
        )
        # Nova's own actions, then the extensions'.
        self.actions = {
            **console_output.actions(compute_api),
            **admin_actions.actions(compute_api),
            **extension_manager.server_actions(),
        }
        #: The body schema of each action (also read by the OpenAPI description).
        self.body_schemas = {
            "create": self.create_schema,
            "update": schema.update,
            "action": schema.actions(
                {
                    **console_output.SCHEMAS,
                    **admin_actions.SCHEMAS,
                    **extension_manager.server_action_schemas(),
                }
            ),
        }

    # --- reading -------------------------------------------------------------------

    def _list(self, request, detail: bool):
        context = request.context
        listing = "detail" if detail else "index"
        policy.authorize(context, f"os_compute_api:servers:{listing}")
        query = wsgi.validate_query(request, schema.index_query)
        if not policy.check(context, "os_compute_api:servers:allow_all_filters"):
            # Nova 2.1 drops the filters a user may not use, and ignores unknown ones.
            query = {k: v for k, v in query.items() if k in _USER_OPTIONS}
        for name in query:
            if name in schema.JOINED_TABLE_FILTERS or name.startswith("_"):
                raise exception.Invalid(reason=f"Invalid filter field: {name}.")
        filters = _filters(request, query, self.compute_api)
        if filters is None:  # a status no server can have
            return 200, {"servers": []}
        all_tenants = _is_all_tenants(query)
        if all_tenants:
            policy.authorize(context, f"os_compute_api:servers:{listing}:get_all_tenants")
            project = query.get("project_id") or query.get("tenant_id")
            if project is not None:
                filters["project_id"] = project
        else:
            filters["project_id"] = context.project_id
        sort = _sort(request, context)
        limit = min(int(query.get("limit", self.max_limit)), self.max_limit)
        data = self.compute_api.get_all_for_view(
            context, filters, limit=limit, marker=query.get("marker"), detail=detail, sort=sort
        )
        if detail:
            body = {"servers": views.server_details(request, data, self.extensions)}
        else:
            body = {"servers": views.server_summaries(request, data)}
        instances = data.instances
        if instances and len(instances) == limit:
            params = [(k, v) for k, v in request.GET.items() if k != "marker"]
            params.append(("marker", instances[-1].uuid))
            query_string = urllib.parse.urlencode(params)
            path = "servers/detail" if detail else "servers"
            body["servers_links"] = [
                {"rel": "next", "href": f"{views.collection_url(request, path)}?{query_string}"}
            ]
        return 200, body

    def index(self, request):
        return self._list(request, detail=False)

    def detail(self, request):
        return self._list(request, detail=True)

    def _show(self, request, server_id, extended: bool = True, rule: str | None = None):
        data = self.compute_api.get_for_view(request.context, server_id)
        if rule is not None:  # as Nova: the server is found (or 404) before the rule
            instance = data.instances[0]
            target = {"project_id": instance.project_id, "user_id": instance.user_id}
            policy.authorize(request.context, rule, target)
        view = views.server_details(request, data, self.extensions, extended=extended)[0]
        return {"server": view}

    def show(self, request, server_id):
        return 200, self._show(request, server_id, rule="os_compute_api:servers:show")

    # --- writing ------------------------------------------------------------------

    def create(self, request, body):
        context = request.context
        policy.authorize(context, "os_compute_api:servers:create")
        server = wsgi.validate(body, self.create_schema)["server"]
        image_ref = _image_ref(server)
        kwargs = {}
        for extension in self.extensions:
            kwargs.update(extension.get_server_create_kwargs(server))
        # JSON Schema counts 2.0 as an integer: hand the compute API Python ints.
        flavor_ref = server["flavorRef"]
        if isinstance(flavor_ref, float):
            flavor_ref = int(flavor_ref)
        min_count = self._count(server, "min_count", 1)
        max_count = self._count(server, "max_count", min_count)
        security_groups = [
            group["name"] for group in server.get("security_groups", ()) if "name" in group
        ]
        attributes = {
            "key_name": server.get("key_name"),
            "user_data": server.get("user_data"),
            "access_ip_v4": server.get("accessIPv4"),
            "access_ip_v6": server.get("accessIPv6"),
            # As Nova stores it: "True", or nothing.
            "config_drive": "True" if _true(server.get("config_drive", False)) else None,
            "auto_disk_config": server.get("OS-DCF:diskConfig") == "AUTO",
            "security_groups": "\n".join(dict.fromkeys(security_groups)) or None,
        }
        instances = self.compute_api.create(
            context,
            flavor_id=str(flavor_ref),
            image_ref=image_ref,
            name=server["name"],
            metadata=server.get("metadata"),
            min_count=min_count,
            max_count=max_count,
            availability_zone=server.get("availability_zone"),
            attributes={k: v for k, v in attributes.items() if v is not None},
            **kwargs,
        )
        if _true(server.get("return_reservation_id", False)):
            return 202, {"reservation_id": instances[0].reservation_id}
        first = instances[0]
        view = {
            "id": first.uuid,
            "links": views.links(request, "servers", first.uuid),
            "OS-DCF:diskConfig": "AUTO" if attributes["auto_disk_config"] else "MANUAL",
            "security_groups": views.security_groups(attributes["security_groups"]),
        }
        if CONF.api.enable_instance_password:
            # Never stored: the guest would get it at boot; this API has no way to hand it over.
            view["adminPass"] = server.get("adminPass") or utils.generate_password()
        return 202, {"server": view}

    def _count(self, server, key: str, default: int) -> int:
        """Return ``min_count`` or ``max_count``: the schema lets digit strings through unbounded.

        :raises nova.exception.ValidationError: below 1 or above ``[api] max_server_count``.
        """
        value = int(server.get(key, default))
        if not 1 <= value <= self.max_server_count:
            raise exception.ValidationError(
                reason=f"Invalid input for body server/{key}: {value} is not between 1 "
                f"and {self.max_server_count}"
            )
        return value

    def update(self, request, server_id, body):
        """Rename a server, set its access IPs or disk config (Nova 2.1's update).

        The answer has the shape of Nova's before 2.75 (no extended keys).
        """
        policy.authorize(request.context, "os_compute_api:servers:update")
        server = wsgi.validate(body, schema.update)["server"]
        values = {
            column: server[key]
            for key, column in (
                ("name", "display_name"),
                ("accessIPv4", "access_ip_v4"),
                ("accessIPv6", "access_ip_v6"),
            )
            if key in server
        }
        if "OS-DCF:diskConfig" in server:
            values["auto_disk_config"] = server["OS-DCF:diskConfig"] == "AUTO"
        self.compute_api.update(request.context, server_id, values)
        return 200, self._show(request, server_id, extended=False)

    def delete(self, request, server_id):
        policy.authorize(request.context, "os_compute_api:servers:delete")
        self.compute_api.delete(request.context, server_id)
        return 204, None

    def action(self, request, server_id, body):
        body = wsgi.validate(body, schema.action)
        ((name, argument),) = body.items()
        handler = self.actions.get(name)
        if handler is None:
            raise exception.Invalid(reason=f"There is no such action: {name}")
        return handler(request, server_id, argument)
