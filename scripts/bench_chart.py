#!/usr/bin/env python3
"""Draws the broker benchmark as one SVG (Python standard library only): produce throughput per
configuration and acknowledged latency percentiles per fixed rate, each target in its own colour,
bars at the median with a whisker over the min-max of the repetitions. Both axes are logarithmic,
since the targets differ by orders of magnitude.

    scripts/bench_chart.py RESULTS.json OUT.svg

RESULTS.json is what tests/bench/bench_broker.py writes to $BENCH_RESULTS.
"""
import json
import math
import statistics
import sys
from xml.sax.saxutils import escape

COLOURS = {"samsa": "#1b9e77", "kafka": "#d95f02", "kafka-flush1": "#7570b3", "mock": "#999999"}
W, PANEL_H, TOP, LEFT, RIGHT = 980, 300, 60, 70, 20


class Svg:
    def __init__(self):
        self.parts = []

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, size=12, anchor="start", weight="normal", rotate=None):
        tr = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                 f'font-weight="{weight}"{tr}>{escape(s)}</text>')

    def line(self, x1, y1, x2, y2, colour="#000", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                 f'stroke-width="{width}"{d}/>')

    def rect(self, x, y, w, h, colour):
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>')


def log_axis(lo, hi):
    """Returns (lo, hi) widened to powers of ten, with room below the smallest bar."""
    a = 10 ** math.floor(math.log10(lo))
    return (a / 10 if lo / a < 2 else a), 10 ** math.ceil(math.log10(hi))


def panel(svg, y0, title, ylabel, groups, targets, labels, fmt_tick):
    """groups: [(group label, {series key: [values]})]; series keys are (target, sub) pairs drawn
    side by side within a group."""
    values = [v for _, series in groups for vs in series.values() for v in vs if v and v > 0]
    if not values:
        return
    lo, hi = log_axis(min(values), max(values))
    x0, x1, yb, yt = LEFT, W - RIGHT, y0 + PANEL_H, y0 + 30
    svg.text(x0, y0 + 16, title, size=14, weight="bold")
    svg.text(18, (yt + yb) / 2, ylabel, size=11, anchor="middle", rotate=-90)

    def ypos(v):
        return yb - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (yb - yt)

    e = math.log10(lo)
    while e <= math.log10(hi) + 1e-9:
        y = ypos(10 ** e)
        svg.line(x0, y, x1, y, "#ddd", dash="3,3")
        svg.text(x0 - 6, y + 4, fmt_tick(10 ** e), size=10, anchor="end")
        e += 1
    svg.line(x0, yb, x1, yb)
    gw = (x1 - x0) / max(1, len(groups))
    for gi, (glabel, series) in enumerate(groups):
        keys = list(series)
        bw = min(22, (gw - 14) / max(1, len(keys)))
        gx = x0 + gi * gw + (gw - bw * len(keys)) / 2
        for ki, key in enumerate(keys):
            vs = [v for v in series[key] if v and v > 0]
            if not vs:
                continue
            target, sub = key
            x = gx + ki * bw
            m = statistics.median(vs)
            colour = COLOURS.get(target, "#444")
            svg.add(f'<rect x="{x + 1:.1f}" y="{ypos(m):.1f}" width="{bw - 2:.1f}" height="{yb - ypos(m):.1f}" '
                    f'fill="{colour}" fill-opacity="{1.0 if not sub or sub == "p50" else 0.75 if sub == "p99" else 0.5}">'
                    f'<title>{escape(labels.get(target, target))} {escape(sub or "")}: {m:g}</title></rect>')
            if len(vs) > 1:
                cx = x + bw / 2
                svg.line(cx, ypos(max(vs)), cx, ypos(min(vs)), "#000", 1)
            if sub:
                svg.text(x + bw / 2, yb + 11, sub.replace("p999", "p99.9"), size=8, anchor="middle")
        svg.text(x0 + gi * gw + gw / 2, yb + (24 if any(k[1] for k in keys) else 14), glabel, size=10, anchor="middle")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench_chart.py RESULTS.json OUT.svg")
    with open(sys.argv[1]) as f:
        res = json.load(f)
    targets, labels = res["targets"], res.get("labels", {})
    svg = Svg()
    svg.text(LEFT, 24, "samsa vs Apache Kafka vs librdkafka mock (make bench; median, whisker = min-max "
             f"of {res['reps']} runs)", size=15, weight="bold")
    lx = LEFT
    for t in targets:
        svg.rect(lx, 34, 12, 12, COLOURS.get(t, "#444"))
        svg.text(lx + 16, 44, labels.get(t, t), size=11)
        lx += 24 + 7 * len(labels.get(t, t))

    cfgs = []
    for r in res["produce"]:
        c = (r["size"], r["acks"], r["partitions"])
        if c not in cfgs:
            cfgs.append(c)
    groups = []
    for size, acks, parts in cfgs:
        series = {(t, ""): [r["msgs_per_s"] for r in res["produce"] if r["target"] == t and r["ok"] and
                            (r["size"], r["acks"], r["partitions"]) == (size, acks, parts)] for t in targets}
        groups.append((f"{size} B acks={acks} P={parts}", series))

    def fmt_rate(v):
        return f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}"

    panel(svg, 50, "Produce throughput (records/s, one producer)", "records/s", groups, targets, labels, fmt_rate)

    rates = []
    for r in res["latency"]:
        if r["rate"] not in rates:
            rates.append(r["rate"])
    lgroups = []
    for rate in rates:
        for t in targets:
            series = {(t, q): [r["ack_ms"][q] for r in res["latency"] if r["target"] == t and r["rate"] == rate]
                      for q in ("p50", "p99", "p999")}
            lgroups.append((f"{fmt_rate(rate)}/s", series))
    panel(svg, 60 + PANEL_H + 40, "Acknowledged latency at fixed rates (ms from the due time; 100 B, acks=all)",
          "ms", lgroups, targets, labels, lambda v: f"{v:g}")
    height = 60 + 2 * PANEL_H + 40 + 60
    with open(sys.argv[2], "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
                f'viewBox="0 0 {W} {height}" font-family="sans-serif">\n'
                f'<rect width="{W}" height="{height}" fill="#fff"/>\n')
        f.write("\n".join(svg.parts))
        f.write("\n</svg>\n")


if __name__ == "__main__":
    main()
