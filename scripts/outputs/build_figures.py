"""The figures: data/*.csv (via datapackage.json) -> figures/timeline.png.

A timeline of the days around the bulletin drawn from the tables events,
threat_assessments, threat_levels and personnel: every event in its lane,
drawn as precisely as the data dates it (a point for a stated minute, a
hatched day for an inferred day, that part of the day for a part of day such
as "night of 23 May", a dashed 'on or before' bound for an event whose date
the bulletin does not state), nothing after the publication time of the
bulletin that states it, the threat level set, and the officer and troop
figures with their bounds, each status in its own panel on its own scale (a
count freed up and a capacity that can be mobilised are not comparable).

The PNG is byte-reproducible: matplotlib's default style (no user matplotlibrc),
its bundled DejaVu fonts, the Agg backend, fixed size and dpi, and no software
name or time in the file's metadata.

    python -m scripts.outputs.build_figures [--root DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import textwrap
from datetime import date, datetime, time, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .build_dictionary import read_rows, tables  # noqa: E402
from ..common import load_descriptor  # noqa: E402
from ..common import PAST_MODALITIES, ROOT, BuildError, atomic_write_bytes, fail  # noqa: E402

FIGURE = Path("figures") / "timeline.png"
DPI = 150
SIZE = (14, 6.6)  # inches
COLOURS = {"stated": "#1f4e79", "inferred": "#2e86c1", "bound": "#6c757d", "critical": "#b03a2e",
           "police": "#1f4e79", "military": "#4d7c0f", "day": "#f2f4f7", "text": "#1d1d1f"}


def load_tables(root: Path) -> dict[str, list[dict]]:
    descriptor = load_descriptor(root)
    return {res["name"]: read_rows(root, res) for res in tables(descriptor)}, descriptor


def day(value: str) -> date:
    return date.fromisoformat(value)


def at(d: date, t: time = time(0)) -> datetime:
    return datetime.combine(d, t)


def thousands(value: str) -> str:
    return f"{int(value):,}"


def count_text(personnel: dict) -> str:
    """A personnel count with its bounds as the data gives them."""
    qualifier = personnel["qualifier"]
    if qualifier == "exact":
        return thousands(personnel["count_min"])
    if qualifier == "up_to":
        return f"up to {thousands(personnel['count_max'])}"
    if qualifier == "at_least":
        return f"at least {thousands(personnel['count_min'])}"
    return f"{thousands(personnel['count_min'])}–{thousands(personnel['count_max'])}"


def window_text(personnel: dict) -> str:
    if personnel["window_min_hours"] or personnel["window_max_hours"]:
        return f"within {personnel['window_min_hours']}–{personnel['window_max_hours']} h of an incident"
    return ""


def figure_text(personnel: dict) -> str:
    """A personnel row in words."""
    text = f"{count_text(personnel)} {personnel['role']} {personnel['status'].replace('_', ' ')}"
    return f"{text}, {window_text(personnel)}" if window_text(personnel) else text


# The hours a part of the day is drawn over (the bulletin gives none: "Tuesday night" is drawn
# as the evening and night of that date, up to midnight, and labelled "night of").
PART_OF_DAY_HOURS = {"morning": (6, 12), "afternoon": (12, 18), "evening": (18, 22), "night": (18, 24)}


def drawn_span(event: dict, published: datetime | None) -> tuple[datetime, datetime]:
    """The stretch of time a day or part-of-day event is drawn over: the part of the day it
    states (else the whole day), never past the publication time of the source that states it."""
    d = day(event["date"])
    start, end = at(d), at(d + timedelta(days=1))
    if event["date_precision"] == "period" and event.get("date_end"):
        end = at(day(event["date_end"]) + timedelta(days=1))
    if event["date_precision"] == "part_of_day":
        low, high = PART_OF_DAY_HOURS[event["part_of_day"]]
        start, end = at(d) + timedelta(hours=low), at(d) + timedelta(hours=high)
    if published is not None and event.get("modality") in PAST_MODALITIES:
        end = min(end, published)  # a future event may run past the bulletin
    return start, end


def publication_times(sources: list[dict]) -> dict[str, datetime]:
    """Each bulletin's publication time as local clock time (the axis is local time); a bulletin known
    only to the day is drawn at the end of that day."""
    return {s["source_id"]: datetime.fromisoformat(s["published"]).replace(tzinfo=None) if s["published"]
            else at(day(s["published_date"]) + timedelta(days=1))
            for s in sources if s["published"] or s.get("published_date")}


def date_label(event: dict) -> str:
    if event["date_precision"] == "unknown":
        bound = day(event["date_latest"])
        if event.get("date_earliest"):
            start = day(event["date_earliest"])
            return f"date not stated: between {start.day} {start:%B} and {bound.day} {bound:%B}"
        return f"date not stated: on or before {bound.day} {bound:%B}"
    d = day(event["date"])
    when = f"{d.day} {d:%B}"
    if event["date_precision"] == "minute":
        when += f", {event['time'][:5]} (UTC{event['utc_offset']})"
    elif event["date_precision"] == "part_of_day":
        when = f"{event['part_of_day']} of {when}"
    elif event["date_precision"] == "period":
        last = day(event["date_end"]) if event.get("date_end") else None
        when = f"{when} to {last.day} {last:%B}" if last else f"from {when} (open)"
    return f"{when}: {event['date_basis']}"


def draw_timeline(ax, data: dict) -> None:
    events = sorted(data["events"], key=lambda e: int(e["timeline"]))  # the one timeline of every bulletin
    dated = [day(e[k]) for e in events for k in ("date", "date_end", "date_latest") if e.get(k)]
    if not dated:
        raise BuildError("data/events.csv", "no event has a date or a latest date: nothing to draw")
    first, last = min(dated) - timedelta(days=1), max(dated) + timedelta(days=1)
    ax.set_xlim(at(first), at(last))
    lanes = {e["event_id"]: len(events) - i for i, e in enumerate(events)}  # earliest at the top
    ax.set_ylim(0.35, len(events) + 0.85)

    days = (last - first).days
    d = first if days <= 10 else last  # many days apart (several bulletins): no shading per day
    while d < last:  # alternate day shading with the day's name
        if (d - first).days % 2 == 1:
            ax.axvspan(at(d), at(d + timedelta(days=1)), color=COLOURS["day"], zorder=0)
        ax.text(at(d, time(12)), len(events) + 0.68, f"{d:%A} {d.day} {d:%B} {d.year}", ha="center",
                va="center", fontsize=10.5, fontweight="bold", color=COLOURS["text"])
        d += timedelta(days=1)

    published = publication_times(data["sources"])
    for source_id, when in published.items():  # nothing can be drawn after this
        ax.axvline(when, color=COLOURS["stated"], lw=1, linestyle=":", zorder=2)
        known = next(s for s in data["sources"] if s["source_id"] == source_id)["published"]
        ax.text(when + timedelta(hours=1), 0.5, "published\n" + (when.strftime("%H:%M") if known else "that day"),
                fontsize=8,
                color=COLOURS["stated"], va="bottom", ha="left")
    assessments = {a["event_id"]: a for a in data["threat_assessments"]}
    quotes = {r["evidence_id"]: r["quote"] for r in data["evidence"]}
    ranks = {lvl["level_id"]: int(lvl["rank"]) for lvl in data["threat_levels"]}
    personnel = {}
    for row in data["personnel"]:
        personnel.setdefault(row["event_id"], []).append(row)

    for event in events:
        y = lanes[event["event_id"]]
        basis = event["date_basis"]
        colour = COLOURS["critical"] if event["event_id"] in assessments else COLOURS.get(basis, COLOURS["bound"])
        if event["date_precision"] == "unknown":
            end = at(day(event["date_latest"]) + timedelta(days=1))
            begin = at(day(event["date_earliest"])) if event.get("date_earliest") else at(first)
            ax.annotate("", xy=(begin, y), xytext=(end, y), zorder=3,
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=2.2, linestyle=(0, (4, 2)),
                                        shrinkA=0, shrinkB=0, mutation_scale=16))
            ax.plot([end, end], [y - 0.14, y + 0.14], color=colour, lw=2.5, zorder=3)
            anchor = end
            ax.text(end + timedelta(hours=1.5), y, date_label(event), ha="left", va="center", fontsize=9,
                    color=colour, zorder=5)
        elif event["date_precision"] == "minute":
            anchor = at(day(event["date"]), time.fromisoformat(event["time"]))
            ax.plot([anchor], [y], marker="D", markersize=10, color=colour, zorder=4)
        else:  # a day or a part of a day, as that part, hatched when inferred, cut at publication
            start, end = drawn_span(event, published.get(event["source_id"]))
            ax.barh(y, end - start, left=start, height=0.28, color="white", edgecolor=colour,
                    hatch="///" if basis == "inferred" else None, linewidth=1.5, zorder=3)
            anchor = start
        label_x = anchor - timedelta(hours=1.5)
        ax.text(label_x, y + 0.2, event["description"], ha="right", va="bottom", fontsize=10,
                fontweight="bold", color=COLOURS["text"], zorder=5)
        if event["date_precision"] != "unknown":
            ax.text(label_x, y, date_label(event), ha="right", va="center", fontsize=9, color=colour,
                    zorder=5)

        notes = []
        if event["event_id"] in assessments:
            a = assessments[event["event_id"]]
            notes.append(f"to {a['level_id'].upper()}, level {ranks[a['level_id']]} of {len(ranks)}"
                         + f": “{quotes[a['evidence_id']]}”")
        notes += [figure_text(p) for p in personnel.get(event["event_id"], [])]
        if notes:
            ax.text(label_x, y - 0.17, "\n".join(textwrap.fill(n, 92) for n in notes), ha="right", va="top",
                    fontsize=8.5, color="#333333", zorder=5, linespacing=1.25)

    ax.set_yticks([])
    if days <= 10:
        ax.xaxis.set_major_locator(mdates.HourLocator(byhour=[0, 6, 12, 18]))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelsize=8, colors="#555555")
    ax.grid(axis="x", color="#d0d4da", linewidth=0.6, zorder=1)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("local time (BST, UTC+01:00)", fontsize=8.5, color="#555555")


PERSONNEL_KIND = {"freed_up": "a count", "deployed": "a count", "mobilisable": "a capacity"}


def personnel_panels(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """Officer and troop figures grouped by status, one panel (with its own axis) each: a count of
    people freed up and a capacity that can be mobilised are never drawn on one axis."""
    panels: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["status"], r["personnel_id"])):
        panels.setdefault(row["status"], []).append(row)
    return list(panels.items())


def draw_personnel(fig, spec, rows: list[dict]) -> list:
    """One small panel per status, each on its own scale."""
    panels = personnel_panels(rows)
    cells = spec.subgridspec(len(panels), 1)
    axes = []
    for n, (status, members) in enumerate(panels):
        ax = fig.add_subplot(cells[n])
        axes.append(ax)
        for i, row in enumerate(members):
            colour = COLOURS[row["force"]]
            top = int(row["count_max"] or row["count_min"])
            if row["qualifier"] == "exact":
                ax.barh(i, top, color=colour, height=0.5, zorder=3)
            else:  # bounded: the known part solid, the rest open up to the bound
                low = int(row["count_min"] or 0)
                ax.barh(i, low, color=colour, height=0.5, zorder=3)
                ax.barh(i, top - low, left=low, color="white", edgecolor=colour, hatch="///", height=0.5,
                        linewidth=1.5, zorder=3)
            label = f"{count_text(row)} {row['role']}"
            if window_text(row):
                label += f"\n{window_text(row)}"
            ax.text(top * 1.04, i, label, va="center", ha="left", fontsize=8.5, color=COLOURS["text"])
        ax.set_yticks([])
        ax.set_xlim(0, max(int(r["count_max"] or r["count_min"]) for r in members) * 2.4)
        ax.set_ylim(-0.6, len(members) - 0.4)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{int(v):,}"))
        ax.tick_params(axis="x", labelsize=8, colors="#555555")
        ax.grid(axis="x", color="#d0d4da", linewidth=0.6, zorder=1)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        kind = PERSONNEL_KIND.get(status, "a figure")
        ax.set_title(f"{status.replace('_', ' ')}: {kind} (own scale)", fontsize=10, fontweight="bold",
                     loc="left", color=COLOURS["text"])
    axes[-1].set_xlabel("people; each panel has its own scale:\na count and a capacity are not comparable",
                        fontsize=8, color="#555555")
    return axes


def draw_legend(ax) -> None:
    ax.axis("off")
    handles = [
        Line2D([], [], marker="D", color=COLOURS["stated"], linestyle="none", markersize=8,
               label="date and time stated\nin the bulletin"),
        Patch(facecolor="white", edgecolor=COLOURS["inferred"], hatch="///",
              label="day inferred from the bulletin's\nwords; a part of day such as\nnight drawn as 18:00–24:00;\ncut at publication time"),
        Line2D([], [], color=COLOURS["bound"], linestyle=(0, (4, 2)), lw=2,
               label="date not stated: only the latest\ndate it can have (it precedes\na dated event)"),
        Patch(facecolor="white", edgecolor=COLOURS["military"], hatch="///",
              label="a count given only as a ceiling\n(“up to”)"),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=8.5, frameon=False, labelspacing=1.0,
              handlelength=2.4)


def render(root: Path) -> bytes:
    data, descriptor = load_tables(root)
    bulletins = [s for s in data["sources"] if s["source_kind"] == "bulletin"]
    matplotlib.rcdefaults()  # the default style, whatever matplotlibrc the machine has
    plt.rcParams.update({"font.family": "DejaVu Sans", "hatch.linewidth": 0.8})
    fig = plt.figure(figsize=SIZE, dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[3.3, 1], height_ratios=[1, 1.15])
    try:
        draw_timeline(fig.add_subplot(grid[:, 0]), data)
        draw_personnel(fig, grid[0, 1], data["personnel"])
        draw_legend(fig.add_subplot(grid[1, 1]))
        sources = "; ".join(f"{s['publisher']}, “{s['title']}”, {s['published_date']}" for s in bulletins)
        fig.suptitle("Operation Temperer: what the bulletin says happened, and how precisely it dates it",
                     fontsize=13, fontweight="bold", x=0.01, ha="left", color=COLOURS["text"])
        fig.supxlabel(f"Source: {sources}. Drawn from the tables events, threat_assessments, threat_levels "
                      f"and personnel of {descriptor['name']}, version {descriptor['version']}.",
                      fontsize=8, x=0.01, ha="left", color="#555555")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buffer.getvalue()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (holds datapackage.json)")
    parser.add_argument("--out", type=Path, default=None, help="folder to write figures/ into (default: root)")
    args = parser.parse_args(argv)
    try:
        png = render(args.root)
    except BuildError as error:
        fail(error)
    path = (args.out or args.root) / FIGURE
    atomic_write_bytes(path, png)
    print(f"build_figures: wrote {path} ({len(png):,} bytes)")


if __name__ == "__main__":
    main()
