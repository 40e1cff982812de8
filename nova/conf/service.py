"""Options of the services: heartbeats, scheduling and resource accounting."""

from __future__ import annotations

from oslo_config import cfg

scheduler_group = cfg.OptGroup("scheduler", title="Scheduler", help="The filter scheduler.")
filter_scheduler_group = cfg.OptGroup(
    "filter_scheduler", title="Filter scheduler", help="Which hosts can take an instance."
)

service_opts = [
    cfg.IntOpt("report_interval", default=10, min=1, help="Seconds between service heartbeats."),
    cfg.IntOpt(
        "service_down_time",
        default=60,
        min=1,
        help="A service whose last heartbeat is older than this many seconds is down.",
    ),
    cfg.IntOpt(
        "update_resources_interval",
        default=60,
        min=0,
        help="Seconds between two audits of a compute host's resource usage: "
        "nova-compute recomputes the memory, vCPUs, disk and instance count "
        "used on its host from the live instances placed there, writes them "
        "in one transaction and logs a WARNING for every correction. The "
        "audit runs at start and then at the first heartbeat (report_interval) "
        "after this many seconds. 0: only at start.",
    ),
    cfg.StrOpt(
        "compute_driver",
        default="libvirt",
        help="Hypervisor driver of nova-compute: an alias of the nova.virt.drivers "
        "entry points (libvirt, fake) or an import path (package.module:Class).",
    ),
    cfg.StrOpt(
        "default_availability_zone",
        default="nova",
        help="Availability zone of compute services and of servers that name none.",
    ),
    cfg.StrOpt(
        "internal_service_availability_zone",
        default="internal",
        help="Availability zone the services other than nova-compute (scheduler, "
        "API) are shown in by GET /os-availability-zone/detail; the zone list of "
        "non-admins leaves it out, as Nova does.",
    ),
    cfg.FloatOpt(
        "ram_allocation_ratio",
        default=1.5,
        min=0.1,
        help="Virtual RAM a host may promise per MiB it has. libvirt's test driver "
        "(connection_uri = test:///default) reports 3072 MiB per host, whose guests use "
        "no memory: at 1.5 a host takes 9 m1.tiny (512 MiB); run_nova.sh sets 16. A "
        "server refused for want of RAM has the fault \"No valid host was found. ... "
        "RamFilter removed N (needs X MB, Y MB free of Z MB * ram_allocation_ratio R)\".",
    ),
    cfg.FloatOpt(
        "cpu_allocation_ratio", default=16.0, min=0.1, help="Virtual CPUs per physical CPU."
    ),
    cfg.FloatOpt(
        "disk_allocation_ratio", default=1.0, min=0.1, help="Virtual disk per GiB of disk."
    ),
]

scheduler_opts = [
    cfg.IntOpt(
        "max_attempts",
        default=3,
        min=1,
        help="Hosts tried for one server before it goes to ERROR (a failed spawn "
        "is rescheduled to another host, the failed one excluded).",
    ),
    cfg.IntOpt(
        "unscheduled_timeout",
        default=600,
        min=0,
        help="Seconds a launched server may wait for a host; after that the "
        "scheduler's sweep puts it in ERROR with a fault. The last resort: the "
        "sweep schedules it again after recast_after seconds. 0: never.",
    ),
    cfg.IntOpt(
        "sweep_interval",
        default=5,
        min=0,
        help="Seconds between two sweeps of the scheduler (the first runs when it "
        "starts). A sweep schedules again the launches waiting for a host for "
        "longer than recast_after, casts again to its compute a build placed "
        "there that has not started for as long, and reschedules the builds of "
        "compute services that are down (no heartbeat for service_down_time). "
        "0: only the sweep at start.",
    ),
    cfg.IntOpt(
        "recast_after",
        default=10,
        min=1,
        help="Seconds a launch may wait for a host, or a placed build for its "
        "compute to start it, before the sweep assumes its message was lost and "
        "sends it again (doing it twice is harmless: only one placement and one "
        "build can win).",
    ),
]

filter_scheduler_opts = [
    cfg.ListOpt(
        "enabled_filters",
        default=[
            "ComputeFilter",
            "RamFilter",
            "CoreFilter",
            "DiskFilter",
            "AvailabilityZoneFilter",
        ],
        help="Host filters the scheduler applies, in order: aliases of the "
        "nova.scheduler.filters entry points (ComputeFilter: service up and "
        "enabled; RamFilter, CoreFilter, DiskFilter: room for the flavor, over-"
        "committed by the allocation ratios; AvailabilityZoneFilter: the zone "
        "asked for) or import paths of functions (host_state, request_spec) -> bool. "
        "An unknown name stops nova-scheduler at start.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the service and scheduler options on ``conf``."""
    conf.register_opts(service_opts)
    conf.register_group(scheduler_group)
    conf.register_opts(scheduler_opts, group=scheduler_group)
    conf.register_group(filter_scheduler_group)
    conf.register_opts(filter_scheduler_opts, group=filter_scheduler_group)


def list_opts() -> dict:
    """Return the options of this module by group, for the sample generator."""
    return {
        "DEFAULT": service_opts,
        scheduler_group: scheduler_opts,
        filter_scheduler_group: filter_scheduler_opts,
    }
