"""Server time of one Step in the teaching app, in process (no browser): where a tab's step spends its time.

Renders the page with Solara's test renderer, presses Step ``--months`` times one after the other
(each time waiting until the page has drawn the new month), and prints the median and largest time
from the click to the drawn month. Run it under ``py-spy record`` to see where the time goes.

Usage::

    python benchmarks/profile_app_step.py --months 36
    py-spy record -o step.svg -- python benchmarks/profile_app_step.py --months 36
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import ipyvuetify as v
import solara
import solara.widgets

from kube_sim.app import page


def run(months: int) -> list[float]:
    """Press Step ``months`` times, one after the other; the seconds from each click to the drawn month."""
    _box, rc = solara.render(page.Page(), handle_error=False)
    month_box = rc.find(solara.widgets.HTML, attributes={"class": "kube-month-box"}).widget
    step = rc.find(v.Btn, class_="kube-step").widget

    def month_shown() -> int:
        return int(re.search(r"kube-month'>(\d+)<", month_box.unsafe_innerHTML).group(1))

    times = []
    for month in range(1, months + 1):
        start = time.perf_counter()
        step.click()
        while month_shown() < month:
            time.sleep(0.001)
        times.append(time.perf_counter() - start)
    rc.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=36, help="steps to press, default 36")
    args = parser.parse_args()
    times = run(args.months)
    print(f"{len(times)} steps: median {statistics.median(times) * 1000:.0f} ms, "
          f"largest {max(times) * 1000:.0f} ms, total {sum(times):.2f} s")


if __name__ == "__main__":
    main()
