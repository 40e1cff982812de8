#!/usr/bin/env python3
"""Turn ``bench/results.json`` into the README's table and the launch plot.

    bench/report.py [--results bench/results.json] [--readme README.md]
                    [--plot bench/launch_throughput.png]

The table replaces whatever stands between ``<!-- bench:start -->`` and
``<!-- bench:end -->`` in the README (printed to stdout as well); the plot
shows ``nova-all``'s launch throughput against the number of servers (the
``launch_scaling`` runs), with the direct baseline and the goal. Every
figure comes from the report: nothing here is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"


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


def update_readme(path: str, text: str) -> None:
    """Replace the text between the markers in ``path``.

    :raises SystemExit: the markers are missing.
    """
    with open(path, encoding="utf-8") as handle:
        readme = handle.read()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(readme):
        raise SystemExit(f"{path} has no {START} … {END} section")
    readme = pattern.sub(lambda _: f"{START}\n{text}\n{END}", readme)
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
    args = parser.parse_args(argv)
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
