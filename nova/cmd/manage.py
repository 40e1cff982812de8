"""``nova-manage``: operator commands (db, network, image, service, host, server).

A failure prints one line starting with ``ERROR:`` on stderr and exits
non-zero; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import datetime
import logging
import math
import sys
from collections.abc import Sequence

from oslo_config import cfg
from sqlalchemy import exc as sa_exc

import nova.conf
from nova import config
from nova import context as nova_context
from nova import exception
from nova.compute import host_api
from nova.compute import vm_states
from nova.db import migration
from nova.db import models
from nova.db import services as service_db
from nova.image import local as local_images
from nova.network.legacy import api as legacy_api

CONF = nova.conf.CONF
LOG = logging.getLogger("nova.manage")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_UNEXPECTED = 2


def db_sync() -> None:
    """Upgrade or downgrade the schema and print each step."""
    result = migration.db_sync(CONF.category.version)
    for line in result.notes + result.steps:
        print(line)
    if result.start == result.end:
        print(f"Database already at version {result.end}; nothing to do.")
    else:
        print(f"Database is at version {result.end} (was {result.start}).")


def db_version() -> None:
    """Print the schema version number."""
    print(migration.db_version())


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` under ``header``, in columns two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        )


def _vlan(text: str | None) -> int | None:
    # Parsed here, not by argparse, so a bad value is one ERROR line like
    # every other invalid input.
    if text is None:
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise exception.Invalid(
            f"Invalid VLAN {text!r}: an integer between 1 and {legacy_api.MAX_VLAN} is required."
        ) from exc


def network_create() -> None:
    """Create a legacy network and its fixed IPs; print its uuid."""
    args = CONF.category
    network = legacy_api.create_network(
        nova_context.get_admin_context(),
        label=args.label,
        cidr=args.fixed_range_v4,
        bridge=args.bridge,
        vlan=_vlan(args.vlan),
        bridge_interface=args.bridge_interface,
        project_id=args.project,
        gateway=args.gateway,
        dns1=args.dns1,
        dns2=args.dns2,
    )
    print(
        f"Created network {network.uuid} ({network.label}): {network.cidr}, "
        f"gateway {network.gateway}, bridge {network.bridge}"
        + (f", VLAN {network.vlan}" if network.vlan is not None else "")
    )


def network_list() -> None:
    """Print the live legacy networks as a table."""
    header = ("uuid", "label", "cidr", "bridge", "vlan", "project")
    rows = [
        tuple(
            "-" if value is None else str(value)
            for value in (n.uuid, n.label, n.cidr, n.bridge, n.vlan, n.project_id)
        )
        for n in legacy_api.list_networks(nova_context.get_admin_context())
    ]
    _print_table(header, rows)


def network_delete() -> None:
    """Delete a legacy network that no instance uses."""
    uuid = CONF.category.uuid
    legacy_api.delete_network(nova_context.get_admin_context(), uuid)
    print(f"Deleted network {uuid}")


def _image_store() -> local_images.LocalImageStore:
    return local_images.LocalImageStore(CONF.image.local_store_path)


def image_import() -> None:
    """Copy a file into the local image store as a new active image; print its id."""
    args = CONF.category
    properties: dict[str, str] = {}
    for item in args.property or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise exception.Invalid(f"Invalid property {item!r}: KEY=VALUE is required.")
        properties[key] = value
    try:
        image = _image_store().create(
            args.image_name,
            args.file,
            disk_format=args.disk_format,
            container_format=args.container_format,
            properties=properties,
        )
    except OSError as exc:
        raise exception.Invalid(f"Cannot read {args.file}: {exc.strerror}") from exc
    print(image["id"])


def image_list() -> None:
    """Print the images of the local image store as a table."""
    header = ("id", "name", "disk_format", "container_format", "size", "status")
    rows = [
        tuple(str(image.get(key)) for key in header)
        for image in _image_store().get_all(nova_context.get_admin_context())
    ]
    _print_table(header, rows)


def _category(subparsers, name: str, description: str):
    """Add the command category ``name`` (``db``, ``network`` ...); return its actions' parsers."""
    category = subparsers.add_parser(name, help=description)
    actions = category.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    return actions


def _add_image_parsers(subparsers) -> None:
    actions = _category(
        subparsers, "image", "the local image store ([image] local_store_path; backend local)"
    )
    create = actions.add_parser("import", help="import a file as an image; prints its id")
    create.add_argument("image_name", metavar="NAME", help="name of the image")
    create.add_argument("file", help="file holding the image's data")
    create.add_argument(
        "--disk-format",
        dest="disk_format",
        default="raw",
        choices=local_images.DISK_FORMATS,
        help="disk format (default raw)",
    )
    create.add_argument(
        "--container-format",
        dest="container_format",
        default="bare",
        choices=local_images.CONTAINER_FORMATS,
        help="container format (default bare)",
    )
    create.add_argument(
        "--property",
        action="append",
        metavar="KEY=VALUE",
        help="a property of the image (kernel_id, ramdisk_id, os_command_line, "
        "hw_*, min_ram, min_disk, ...); repeatable",
    )
    create.set_defaults(func=image_import)
    listing = actions.add_parser("list", help="list the images")
    listing.set_defaults(func=image_list)


def _add_network_parsers(subparsers) -> None:
    actions = _category(subparsers, "network", "legacy (nova-network) networks")
    create = actions.add_parser(
        "create",
        help="create a network and its fixed IPs (network, gateway and "
        "broadcast addresses reserved)",
    )
    create.add_argument("--label", required=True, help="name of the network")
    create.add_argument(
        "--fixed_range_v4", required=True, metavar="CIDR", help="IPv4 range, e.g. 10.0.0.0/24"
    )
    create.add_argument("--bridge", required=True, help="host bridge, e.g. br100")
    create.add_argument("--vlan", default=None, help="VLAN id (1-4094)")
    create.add_argument(
        "--bridge_interface", default=None, help="host interface bridged into it, e.g. eth0"
    )
    create.add_argument(
        "--project", default=None, help="project owning the network (default: none, shared)"
    )
    create.add_argument(
        "--gateway", default=None, help="gateway address (default: the first host address)"
    )
    create.add_argument("--dns1", default=None, help="first DNS server")
    create.add_argument("--dns2", default=None, help="second DNS server")
    create.set_defaults(func=network_create)
    listing = actions.add_parser("list", help="list the networks")
    listing.set_defaults(func=network_list)
    delete = actions.add_parser(
        "delete", help="delete a network none of whose fixed IPs is allocated"
    )
    delete.add_argument("uuid", help="uuid of the network")
    delete.set_defaults(func=network_delete)


# --- services, hosts, servers ---------------------------------------------------------


def _age(value: datetime.datetime | None) -> str:
    if value is None:
        return "-"
    return f"{max(0, int((models.utcnow() - value).total_seconds()))}s"


def service_list() -> None:
    """Print the live services as a table, as ``openstack compute service list`` shows them."""
    args = CONF.category
    header = (
        "id", "binary", "host", "zone", "status", "state", "updated_at", "age",
        "disabled_reason",
    )  # fmt: skip
    rows = []
    for state in host_api.get_services(
        nova_context.get_admin_context(), args.host_name, args.binary
    ):
        service = state.service
        heartbeat = service.updated_at or service.created_at
        rows.append(
            (
                str(service.id),
                service.binary,
                service.host,
                state.zone,
                "disabled" if service.disabled else "enabled",
                "up" if state.up else "down",
                heartbeat.isoformat(timespec="seconds") if heartbeat else "-",
                _age(heartbeat),
                service.disabled_reason or "-",
            )
        )
    _print_table(header, rows)


def _compute_only(binary: str, what: str) -> None:
    if binary != "nova-compute":
        raise exception.Invalid(
            f"Cannot {what} {binary}: only nova-compute services can be enabled or disabled."
        )


def service_enable() -> None:
    """Let the scheduler place new servers on a compute host again."""
    args = CONF.category
    _compute_only(args.binary, "enable")
    host_api.set_service_disabled(
        nova_context.get_admin_context(), args.host_name, args.binary, disabled=False
    )
    print(f"Enabled {args.binary} on {args.host_name}")


def service_disable() -> None:
    """Keep new servers off a compute host (its servers stay)."""
    args = CONF.category
    _compute_only(args.binary, "disable")
    if args.reason is not None and not 1 <= len(args.reason) <= 255:
        raise exception.Invalid("Invalid reason: 1 to 255 characters are required.")
    host_api.set_service_disabled(
        nova_context.get_admin_context(), args.host_name, args.binary, True, args.reason
    )
    reason = f" (reason: {args.reason})" if args.reason else ""
    print(f"Disabled {args.binary} on {args.host_name}{reason}")


def service_delete() -> None:
    """Delete a service; a compute service only without instances, with its compute node."""
    args = CONF.category
    context = nova_context.get_admin_context()
    service = service_db.service_get(context, args.host_name, args.binary)
    if service is None:
        raise exception.HostBinaryNotFound(host=args.host_name, binary=args.binary)
    try:
        host_api.delete_service(context, service.id)
    except exception.Conflict:
        count = service_db.instance_counts(context).get(args.host_name, 0)
        raise exception.Conflict(
            f"Cannot delete {args.binary} on {args.host_name}: {count} instance(s) are on that "
            "host; delete them first."
        ) from None
    node = " and its compute node" if args.binary == "nova-compute" else ""
    print(f"Deleted service {service.id} ({args.binary} on {args.host_name}){node}")
    if service_db.service_is_up(service, CONF.service_down_time):
        print(
            f"{args.binary} on {args.host_name} was up: stop it, or it registers again "
            "when restarted."
        )


def host_list() -> None:
    """Print each compute host's capacity and usage, allocation ratios applied."""
    context = nova_context.get_admin_context()
    ratios = {
        "vcpus": CONF.cpu_allocation_ratio,
        "memory_mb": CONF.ram_allocation_ratio,
        "disk_gb": CONF.disk_allocation_ratio,
    }
    print(
        "Allocation ratios (this configuration's): cpu {vcpus}, ram {memory_mb}, "
        "disk {disk_gb}; free = total x ratio - used".format(**ratios)
    )
    counts = service_db.instance_counts(context)
    header = ["host", "zone", "status", "state", "instances"]
    for resource in ratios:
        header += [f"{resource}", f"{resource}_used", f"{resource}_free"]
    rows = []
    for service, node in service_db.compute_hosts(context):
        up = service_db.service_is_up(service, CONF.service_down_time)
        row = [
            service.host,
            service.availability_zone or CONF.default_availability_zone,
            "disabled" if service.disabled else "enabled",
            "up" if up else "down",
            str(counts.get(service.host, 0)),
        ]
        if node is None:  # registered, capacity not reported yet
            row += ["-"] * (3 * len(ratios))
        else:
            for resource, total, used in (
                ("vcpus", node.vcpus, node.vcpus_used),
                ("memory_mb", node.memory_mb, node.memory_mb_used),
                ("disk_gb", node.local_gb, node.local_gb_used),
            ):
                # What the scheduler's filters compare a request with (floored).
                free = math.floor(total * ratios[resource] - used)
                row += [str(total), str(used), str(free)]
        rows.append(row)
    _print_table(header, rows)


def server_reset_state() -> None:
    """Set a server's state to error or active and clear its task (os-resetState)."""
    args = CONF.category
    if args.state not in service_db.RESET_STATES:
        raise exception.Invalid(
            f"Invalid state {args.state!r}: {' or '.join(service_db.RESET_STATES)} is required."
        )
    before, after = service_db.instance_reset_state(
        nova_context.get_admin_context(), args.uuid, args.state
    )
    print(
        f"Reset server {after.uuid}: {vm_states.status(before.vm_state)} "
        f"(task {before.task_state or 'none'}) -> {vm_states.status(after.vm_state)}"
    )


def _add_service_parsers(subparsers) -> None:
    actions = _category(subparsers, "service", "services: list, enable, disable, delete")
    listing = actions.add_parser(
        "list", help="list the services (state up: heartbeat younger than service_down_time)"
    )
    listing.add_argument(
        "--host", dest="host_name", default=None, help="only the services of this host"
    )
    listing.add_argument("--binary", default=None, help="only this binary, e.g. nova-compute")
    listing.set_defaults(func=service_list)
    for name, func, text in (
        ("enable", service_enable, "let the scheduler place new servers on the host again"),
        ("disable", service_disable, "keep new servers off the host (its servers stay)"),
        ("delete", service_delete, "delete a service (a compute one only without instances)"),
    ):
        command = actions.add_parser(name, help=text)
        command.add_argument("host_name", metavar="HOST", help="the service's host")
        command.add_argument("binary", metavar="BINARY", help="the service's binary: nova-compute")
        if name == "disable":
            command.add_argument("--reason", default=None, help="why (shown by service list)")
        command.set_defaults(func=func)


def _add_host_parsers(subparsers) -> None:
    actions = _category(subparsers, "host", "compute hosts")
    listing = actions.add_parser(
        "list", help="list each compute host's capacity, usage and free room"
    )
    listing.set_defaults(func=host_list)


def _add_server_parsers(subparsers) -> None:
    actions = _category(subparsers, "server", "servers")
    reset = actions.add_parser(
        "reset-state",
        help="set a server's state to error or active and clear its task, as the "
        "os-resetState admin action does",
    )
    reset.add_argument("uuid", metavar="UUID", help="the server's id")
    reset.add_argument("--state", required=True, help="error or active")
    reset.set_defaults(func=server_reset_state)


def _add_command_parsers(subparsers) -> None:
    actions = _category(subparsers, "db", "database schema commands")
    sync = actions.add_parser("sync", help="upgrade (or downgrade) the schema")
    sync.add_argument(
        "--version",
        type=int,
        default=None,
        help="target version number (default: the newest); lower than the "
        "current version downgrades",
    )
    sync.set_defaults(func=db_sync)
    version = actions.add_parser("version", help="print the schema version number")
    version.set_defaults(func=db_version)
    _add_network_parsers(subparsers)
    _add_image_parsers(subparsers)
    _add_service_parsers(subparsers)
    _add_host_parsers(subparsers)
    _add_server_parsers(subparsers)


category_opt = cfg.SubCommandOpt(
    "category", title="Command categories", handler=_add_command_parsers
)


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, exception.NovaException):
        return exc.format_message()
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        return f"database error: {str(exc.orig).strip().splitlines()[0]}"
    return f"unexpected {type(exc).__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``nova-manage`` command; return the exit status."""
    CONF.register_cli_opt(category_opt)
    # The output is on stdout: the log (warnings; everything with --debug) goes to stderr.
    CONF.set_default("use_stderr", True)
    try:
        try:
            config.parse_args(sys.argv[1:] if argv is None else argv, default_config_files=[])
        except cfg.Error as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if not CONF.debug:
            # The command prints what it did: its log says warnings only.
            CONF.set_default("default_log_levels", [*CONF.default_log_levels, "nova=WARN"])
        config.setup_logging()
        try:
            CONF.category.func()
        except (exception.NovaException, sa_exc.SQLAlchemyError) as exc:
            LOG.debug("Command failed", exc_info=True)
            print(f"ERROR: {_error_line(exc)}", file=sys.stderr)
            return EXIT_ERROR
        except Exception as exc:  # noqa: BLE001 - one line for the operator
            LOG.debug("Command failed unexpectedly", exc_info=True)
            print(f"ERROR: {_error_line(exc)}", file=sys.stderr)
            return EXIT_UNEXPECTED
        return EXIT_OK
    finally:
        CONF.reset()
        CONF.unregister_opt(category_opt)
        CONF.clear_default("use_stderr")
        CONF.clear_default("default_log_levels")


if __name__ == "__main__":
    sys.exit(main())
