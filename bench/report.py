#!/usr/bin/env python3
"""Turn ``bench/results.json`` into the README's table and the launch plot.

    bench/report.py [--results bench/results.json] [--readme README.md]
                    [--plot bench/launch_throughput.png]
    bench/report.py --scale bench/scale.json [--readme README.md]
                    [--scale-plot bench/scale.png]

The table replaces whatever stands between ``<!-- bench:start -->`` and
``<!-- bench:end -->`` in the README (printed to stdout as well); the plot
shows ``nova-all``'s launch throughput against the number of servers (the
``launch_scaling`` runs), with the direct baseline and the goal. With
``--scale``, the report of ``bench/scale.py`` (its ``before`` key: the same
benchmark's figures on the code before the fixes) becomes the README's
"Scale" section, between ``<!-- scale:start -->`` and ``<!-- scale:end -->``,
and ``--scale-plot`` draws listing latency against instances and placements
per second against hosts. Every figure comes from the report: nothing here
is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
SCALE_START = "<!-- scale:start -->"
SCALE_END = "<!-- scale:end -->"
LISTINGS = ("index", "detail", "index_marker", "detail_marker")


def _mark(met: bool) -> str:
    return "✓" if met else "✗"


def _rate(value: float) -> str:
    return f"{value / 1000:.1f}k/s" if value >= 10000 else f"{value:,.0f}/s"


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.1f} ms"


def machine_line(results: dict) -> str:
    """Return one line naming the machine the figures came from."""
    machine = next(iter(results.values()))["machine"]
    details = ", ".join(
        f"{key} {value}" for key, value in machine.items() if key not in ("platform", "cpus")
    )
    return f"{machine['cpus']} CPUs, {machine['platform']}, {details}"


def table_rows(results: dict) -> list[tuple[str, str, str, str, str]]:
    """Return ``(benchmark, Nova, baseline, ratio, goal)`` rows of every benchmark run."""
    rows = []
    migrate = results.get("db_migrate")
    if migrate:
        limit = migrate["goal"]["max_ratio"]
        by_hand = {"sqlite": "create-copy-swap", "postgresql": "`DROP NOT NULL`"}
        for backend, run in migrate["nullable_upgrade"].items():
            rows.append(
                (
                    f"nullable upgrade 3 → 4, {run['rows']:,} VIFs, {backend}",
                    _seconds(run["nova_s"]),
                    f"{_seconds(run['baseline_s'])} ({by_hand.get(backend, 'by hand')})",
                    f"**{run['ratio']:.2f}**",
                    f"≤ {limit} {_mark(run['ratio'] <= limit)}",
                )
            )
        sync = ", ".join(
            f"{_seconds(run['median_s'])} ({backend})"
            for backend, run in migrate["sync_from_empty"].items()
        )
        rows.append(("`db sync` from empty", sync, "", "", ""))
    vif_xml = results.get("vif_xml")
    if vif_xml:
        limit = vif_xml["goal"]["min_ratio"]
        labels = {"interfaces": "VIF `<interface>` elements", "domains_8_nics": "domains, 8 NICs"}
        for key, label in labels.items():
            run = vif_xml[key]
            rows.append(
                (
                    label,
                    _rate(run["nova_per_s"]),
                    f"{_rate(run['baseline_per_s'])} (lxml by hand)",
                    f"**{run['ratio']:.2f}**",
                    f"≥ {limit} {_mark(run['ratio'] >= limit)}",
                )
            )
    api = results.get("api")
    if api:
        limit = api["goal"]["min_ratio"]
        labels = {
            "show": "`GET /servers/{id}`",
            "detail": f"`GET /servers/detail`, {api['detail'].get('servers', 50)} servers",
            "virtual_interfaces": (
                f"`GET …/os-virtual-interfaces`, {api['virtual_interfaces'].get('vifs', 8)} VIFs"
            ),
        }
        for key, label in labels.items():
            run = api[key]
            rows.append(
                (
                    label,
                    _rate(run["nova_rps"]),
                    f"{_rate(run['baseline_rps'])} (WebOb, one SQL query)",
                    f"**{run['ratio']:.2f}**",
                    f"≥ {limit} {_mark(run['ratio'] >= limit)}",
                )
            )
    launch = results.get("launch")
    if launch:
        goal = launch["goal"]
        runs = launch.get("nova_all", {}).get("runs_servers_per_s", [])
        spread = f"; runs {', '.join(str(rate) for rate in runs)}" if len(runs) > 1 else ""
        rows.append(
            (
                f"`nova-all`, {launch['active']} servers × 2 VIFs, define → ACTIVE",
                f"{launch['servers_per_s']} servers/s (p50 {launch['p50_s']:.2f} s, "
                f"p95 {launch['p95_s']:.2f} s{spread})",
                f"{launch['baseline_per_s']} servers/s (DB writes + libvirt defines)",
                f"{launch['ratio']:.2f}",
                f"≥ {goal['min_servers_per_s']:.0f}/s {_mark(goal['met'])}",
            )
        )
    return rows


def table(results: dict) -> str:
    """Return the Markdown table and the machine line."""
    lines = [
        f"Figures of the last `bench/run_all.sh` ({machine_line(results)}):",
        "",
        "| benchmark | Nova | baseline (same run) | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    if results.get("launch_scaling"):
        lines += ["", "![launch throughput](bench/launch_throughput.png)"]
    return "\n".join(lines)


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _before_runs(before: dict, part: str, backend: str, key: str) -> dict:
    """Return ``{size: run}`` of the same part and backend in the figures before the fixes."""
    runs = before.get(part, {}).get(backend, {}).get("runs", [])
    return {run[key]: run for run in runs}


def scale_table(scale: dict) -> str:
    """Return the README's "Scale" tables (listing, scheduling, cluster) from bench/scale.json."""
    before = scale.get("before", {})
    machine = scale["machine"]
    lines = [
        f"Figures of the last `bench/scale.py` ({machine['cpus']} CPUs, {machine['platform']}, "
        f"python {machine['python']}, sqlite {machine['sqlite']}); p50 (p95) in ms over "
        f"{scale.get('listing', {}).get('requests', '?')} requests of one page of "
        f"{scale.get('page', 100)}; *before*: the same benchmark on "
        f"{before.get('code', 'the code before the fixes')}.",
        "",
        "| instances | database | `GET /servers` | `/servers/detail` | `/servers` after a marker "
        "| `/servers/detail` after a marker | before: `/servers`, `/detail` (p50) | plan |",
        "|---|---|---|---|---|---|---|---|",
    ]
    listing = scale.get("listing", {})
    for backend in ("sqlite", "postgresql"):
        if backend not in listing:
            continue
        old = _before_runs(before, "listing", backend, "instances")
        for run in listing[backend]["runs"]:
            cells = [f"{run['instances']:,}", backend]
            for name in LISTINGS:
                cells.append(f"{_ms(run[name]['p50_ms'])} ({_ms(run[name]['p95_ms'])})")
            previous = old.get(run["instances"])
            cells.append(
                f"{_ms(previous['index']['p50_ms'])}, {_ms(previous['detail']['p50_ms'])}"
                if previous
                else ""
            )
            scans = any(run[name]["full_scan"] or run[name]["sort"] for name in LISTINGS)
            cells.append("scan or sort" if scans else "index, no sort")
            lines.append("| " + " | ".join(cells) + " |")
        goal = listing[backend]["goal"]
        ratios = listing[backend]["ratio_largest_to_smallest_p50"]
        lines.append(
            f"| largest / smallest | {backend} | "
            + " | ".join(f"**{ratios[name]:.2f}**" for name in LISTINGS)
            + f" | goal ≤ {goal['max_ratio']} | {_mark(goal['met'])} |"
        )
    scheduling = scale.get("scheduling", {})
    if any(backend in scheduling for backend in ("sqlite", "postgresql")):
        lines += [
            "",
            "| hosts | database | placements/s (2 schedulers) | claim conflicts | "
            "before: placements/s | goal |",
            "|---|---|---|---|---|---|",
        ]
    for backend in ("sqlite", "postgresql"):
        if backend not in scheduling:
            continue
        old = _before_runs(before, "scheduling", backend, "hosts")
        goal = scheduling[backend]["goal"]
        for run in scheduling[backend]["runs"]:
            previous = old.get(run["hosts"])
            was = f"{previous['placements_per_s']:,.0f}" if previous else ""
            verdict = ""
            if run["hosts"] == goal["hosts"]:
                verdict = f"≥ {goal['min_placements_per_s']:.0f}/s {_mark(goal['met'])}"
            lines.append(
                f"| {run['hosts']:,} | {backend} | {run['placements_per_s']:,.0f} "
                f"({run['placed']:,} placed) | {run['claim_conflicts']} | "
                f"{was} | {verdict} |"
            )
    cluster = scale.get("cluster")
    if cluster:
        lines += [
            "",
            "| computes | servers → ACTIVE | servers/s | machine busy | CPU ms per server: "
            "nova-api, nova-scheduler, nova-compute (all), quantum-server |",
            "|---|---|---|---|---|",
        ]
        for run in cluster["runs"]:
            spent = run.get("cpu_s", {})

            def per_server(prefix: str, spent=spent, run=run) -> str:
                total = sum(v for k, v in spent.items() if k.split("/")[0].startswith(prefix))
                return f"{1000 * total / max(run['active'], 1):.0f}"

            lines.append(
                f"| {run['computes']} | {run['active']}/{run['servers']} "
                f"in {run['seconds']} s | {run['servers_per_s']} | "
                f"{run.get('machine_busy', 0):.0%} | "
                + ", ".join(
                    per_server(name)
                    for name in ("nova-api", "nova-scheduler", "nova-compute", "quantum-server")
                )
                + " |"
            )
        if "goal" in cluster:
            goal = cluster["goal"]
            lines.append(
                f"\n2 computes / 1: **{goal['speedup']:.2f}** "
                f"(goal ≥ {goal['min_speedup_2_over_1']}) {_mark(goal['met'])}"
            )
        largest = cluster["runs"][-1] if cluster["runs"] else {}
        idle, after = largest.get("rss_idle_kib", {}), largest.get("rss_after_kib", {})
        if idle:
            total = largest["servers"] + largest.get("memory_run", {}).get("active", 0)
            lines += [
                "",
                f"| process ({largest['computes']} computes) | RSS idle (MiB) "
                f"| RSS after {total:,} servers (MiB) |",
                "|---|---|---|",
            ]
            for name in sorted(idle):
                was = f"{after[name] / 1024:.0f}" if name in after else "–"
                lines.append(f"| {name} | {idle[name] / 1024:.0f} | {was} |")
    lines += ["", "![scale](bench/scale.png)"]
    return "\n".join(lines)


def plot_scale(scale: dict, path: str) -> None:
    """Draw listing p50 against instances and placements/s against hosts into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    before = scale.get("before", {})
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    colours = {"sqlite": "tab:blue", "postgresql": "tab:orange"}
    for backend, colour in colours.items():
        runs = scale.get("listing", {}).get(backend, {}).get("runs", [])
        if runs:
            sizes = [run["instances"] for run in runs]
            for name, style in (("index", "o-"), ("detail", "s-"), ("detail_marker", "^--")):
                left.plot(
                    sizes,
                    [run[name]["p50_ms"] for run in runs],
                    style,
                    color=colour,
                    label=f"{backend} {name}",
                )
        old = before.get("listing", {}).get(backend, {}).get("runs", [])
        if old:
            left.plot(
                [run["instances"] for run in old],
                [run["detail"]["p50_ms"] for run in old],
                "s:",
                color=colour,
                alpha=0.5,
                label=f"{backend} detail, before",
            )
        runs = scale.get("scheduling", {}).get(backend, {}).get("runs", [])
        if runs:
            right.plot(
                [run["hosts"] for run in runs],
                [run["placements_per_s"] for run in runs],
                "o-",
                color=colour,
                label=backend,
            )
        old = before.get("scheduling", {}).get(backend, {}).get("runs", [])
        if old:
            right.plot(
                [run["hosts"] for run in old],
                [run["placements_per_s"] for run in old],
                "o:",
                color=colour,
                alpha=0.5,
                label=f"{backend}, before",
            )
    right.axhline(200, color="grey", linestyle=":", label="goal at 1,000 hosts")
    for axes in (left, right):
        axes.set_xscale("log")
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize="x-small")
    left.set_yscale("log")
    left.set_xlabel("instances in the database")
    left.set_ylabel("p50 ms, one page of 100")
    left.set_title("Server listings")
    right.set_yscale("log")
    right.set_xlabel("compute hosts")
    right.set_ylabel("placements per second, 2 schedulers")
    right.set_title("Scheduling")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def update_readme(path: str, text: str, start: str = START, end: str = END) -> None:
    """Replace the text between the markers (``start``, ``end``) in ``path``.

    :raises SystemExit: the markers are missing.
    """
    with open(path, encoding="utf-8") as handle:
        readme = handle.read()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(readme):
        raise SystemExit(f"{path} has no {start} … {end} section")
    readme = pattern.sub(lambda _: f"{start}\n{text}\n{end}", readme)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(readme)


def plot(results: dict, path: str) -> None:
    """Draw launch throughput against the number of servers into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    runs = sorted(results["launch_scaling"], key=lambda run: run["servers"])
    servers = [run["servers"] for run in runs]
    figure, axes = pyplot.subplots(figsize=(7, 4.2), dpi=110)
    axes.plot(
        servers, [run["servers_per_s"] for run in runs], "o-", label="nova-all, define → ACTIVE"
    )
    axes.plot(
        servers,
        [run["baseline_per_s"] for run in runs],
        "s--",
        label="baseline: DB writes + libvirt defines directly",
    )
    goal = results["launch"]["goal"]["min_servers_per_s"] if "launch" in results else None
    if goal:
        axes.axhline(goal, color="grey", linestyle=":", label=f"goal ({goal:.0f}/s)")
    axes.set_xlabel("servers launched (2 VIFs each)")
    axes.set_ylabel("servers per second")
    axes.set_xticks(servers)
    axes.set_ylim(bottom=0)
    axes.set_title(f"Launch throughput ({machine_line(results).split(',')[0]})")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="bench/results.json")
    parser.add_argument("--readme", help="update this README's benchmark section")
    parser.add_argument("--plot", help="write the launch throughput plot (PNG) here")
    parser.add_argument("--scale", help="bench/scale.py's report: its section and plot instead")
    parser.add_argument("--scale-plot", help="write the scale plot (PNG) here")
    args = parser.parse_args(argv)
    if args.scale:
        with open(args.scale, encoding="utf-8") as handle:
            scale = json.load(handle)
        text = scale_table(scale)
        print(text)
        if args.readme:
            update_readme(args.readme, text, SCALE_START, SCALE_END)
        if args.scale_plot:
            plot_scale(scale, args.scale_plot)
        return 0
    with open(args.results, encoding="utf-8") as handle:
        results = json.load(handle)
    text = table(results)
    print(text)
    if args.readme:
        update_readme(args.readme, text)
    if args.plot and results.get("launch_scaling"):
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
