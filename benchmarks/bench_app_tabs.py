"""Many students on one teaching app: N browser tabs stepping the model at once for M minutes.

Starts ``kube-sim app`` on a free local port, opens ``--tabs`` pages in one headless Chromium (each
page is its own Solara session, as each student's tab is), and lets every tab behave like a student:
press Step, wait until the month on the page has moved on, think for a random 0.5-3 s, and press Reset
after month 36. Every Step's time from the click to the new month on the page is recorded, and the
server's resident memory (the server and its children) is sampled every 5 s.

Prints, per minute and overall, the number of steps and their median, 95th percentile and largest
time, the share under 1 s, and the server's memory at the start, its peak and at the end; with
``--json FILE`` writes the same as JSON.

Usage::

    python benchmarks/bench_app_tabs.py                    # 30 tabs for 10 minutes
    python benchmarks/bench_app_tabs.py --tabs 5 --minutes 1

Needs Chromium (``apt-get install chromium``) and the playwright package (``pip install -e ".[all]"``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync", "--disable-renderer-backgrounding",
                 "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"]
RESET_AFTER = 36
"""A tab presses Reset once its month passes this (the guide's exercises run to month 36)."""
STEP_TIMEOUT_S = 60.0
CLICK_AND_WAIT_JS = """([button, month]) => new Promise((resolve) => {
  const shown = () => (document.querySelector('.kube-month') || {innerText: ''}).innerText.trim() === month;
  const watcher = new MutationObserver(() => { if (shown()) { watcher.disconnect(); resolve(true); } });
  watcher.observe(document.body, {subtree: true, childList: true, characterData: true});
  document.querySelector(button).click();
  if (shown()) { watcher.disconnect(); resolve(true); }
})"""
"""Click a button and resolve once the month shown is the one given. The page watches its own changes,
so a tab waiting for its step costs nothing; Playwright's own waits poll on animation frames, which
pause in the tabs not in front (30 tabs in one browser would then measure the browser, not the app)."""
LOAD_TIMEOUT_S = 300.0


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen[str]:
    """Start ``kube-sim app`` on ``port`` (its output to ``log``) and wait until it answers."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    with log.open("w", encoding="utf-8") as out:  # the child keeps its own copy of the file
        proc = subprocess.Popen([sys.executable, "-m", "kube_sim.cli.main", "app", "--port", str(port)], cwd=REPO,
                                env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("kube-sim app did not start") from None
            time.sleep(0.3)


def cpu_seconds(proc: psutil.Process) -> float:
    """CPU time (user + system) of a process and its children so far, s."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def rss_mib(proc: psutil.Process) -> float:
    """Resident memory of a process and its children, MiB."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


async def student(page, url: str, delay: float, end: float, steps: list[tuple[float, float]], loads: list[float],
                  seed: int, stuck: list[tuple[float, int, str]]) -> None:
    """One tab: open the page after ``delay`` s, then Step, wait for the new month, think, Reset after month 36.

    A Step (or Reset) that has not shown its month within :data:`STEP_TIMEOUT_S` is counted as a step of
    that length and recorded in ``stuck`` (when, which tab, which button); the tab then goes on from the
    month it shows.
    """
    rng = random.Random(seed)
    await asyncio.sleep(delay)
    opened = time.monotonic()
    await page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_S * 1000)
    await page.wait_for_selector(".kube-step", timeout=LOAD_TIMEOUT_S * 1000)
    loads.append(time.monotonic() - opened)
    while time.monotonic() < end:
        month = int((await page.inner_text(".kube-month")).strip())
        started = time.monotonic()
        if month >= RESET_AFTER:
            await click_or_count(page, ".kube-reset", 0, stuck, seed)
            continue
        await click_or_count(page, ".kube-step", month + 1, stuck, seed)
        steps.append((started, time.monotonic() - started))
        await asyncio.sleep(rng.uniform(0.5, 3.0))


async def click_or_count(page, button: str, month: int, stuck: list[tuple[float, int, str]], tab: int) -> None:
    """:func:`click_and_wait`; a click not answered in time is recorded in ``stuck``, and the tab goes on."""
    started = time.monotonic()
    try:
        await click_and_wait(page, button, month)
    except TimeoutError:
        stuck.append((started, tab, button))


async def click_and_wait(page, button: str, month: int) -> None:
    """Click ``button`` and return once the page shows ``month`` (watched by the page itself, not polled)."""
    await asyncio.wait_for(page.evaluate(CLICK_AND_WAIT_JS, [button, str(month)]), timeout=STEP_TIMEOUT_S)


async def watch_memory(server: psutil.Process, end: float, samples: list[tuple[float, float]]) -> None:
    """Sample the server's memory every 5 s until ``end``."""
    while time.monotonic() < end:
        samples.append((time.monotonic(), rss_mib(server)))
        await asyncio.sleep(5)
    samples.append((time.monotonic(), rss_mib(server)))


def summarise(times: list[float]) -> dict[str, float]:
    """Count, median, 95th percentile, largest and share under 1 s of step times (s)."""
    if not times:
        return {"steps": 0}
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {"steps": len(ordered), "median_s": statistics.median(ordered), "p95_s": p95, "max_s": ordered[-1],
            "share_under_1s": sum(t < 1.0 for t in ordered) / len(ordered)}


async def bench(tabs: int, minutes: float, stagger: float, server_nice: int = 0) -> dict[str, object]:
    """Run the benchmark and return its figures (the server at niceness ``server_nice``)."""
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"bench_app_tabs_server_{port}.log"
    proc = start_server(port, log)
    server = psutil.Process(proc.pid)
    if server_nice:  # Chromium sets its own processes' priorities, so the server's is the one to move
        server.nice(server_nice)
    url = f"http://127.0.0.1:{port}/"
    steps: list[tuple[float, float]] = []
    loads: list[float] = []
    memory: list[tuple[float, float]] = []
    stuck: list[tuple[float, int, str]] = []
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = await browser.new_context(viewport={"width": 1366, "height": 768})
            pages = [await context.new_page() for _ in range(tabs)]
            idle = rss_mib(server)
            server_cpu, browser_cpu = cpu_seconds(server), cpu_seconds(psutil.Process())
            opened = time.monotonic()
            end = opened + tabs * stagger + minutes * 60
            await asyncio.gather(watch_memory(server, end, memory),
                                 *(student(page, url, seed * stagger, end, steps, loads, seed, stuck)
                                   for seed, page in enumerate(pages)))
            server_cpu = cpu_seconds(server) - server_cpu
            browser_cpu = cpu_seconds(psutil.Process()) - browser_cpu
            await browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    all_open = opened + tabs * stagger
    per_minute = []
    for minute in range(int(minutes + 0.999)):
        low, high = all_open + 60 * minute, all_open + 60 * (minute + 1)
        per_minute.append({"minute": minute + 1, **summarise([t for s, t in steps if low <= s < high])})
    return {"tabs": tabs, "minutes": minutes, "stagger_s": stagger, "server_nice": server_nice,
            "overall": summarise([t for s, t in steps if s >= all_open]), "per_minute": per_minute,
            "while_opening": summarise([t for s, t in steps if s < all_open]),
            "page_load_s": {"median": statistics.median(loads), "max": max(loads)} if loads else None,
            "server_mib": {"idle": idle, "first_sample": memory[0][1] if memory else None,
                           "peak": max(m for _, m in memory), "end": memory[-1][1]},
            "timed_out": [{"at_s": round(at - opened, 1), "tab": tab, "button": button} for at, tab, button in stuck],
            "server_log": str(log), "cpu_count": os.cpu_count(), "server_cpu_s": server_cpu,
            "browser_cpu_s": browser_cpu,
            "server_cpu_per_step_s": server_cpu / max(1, len(steps))}


def show(result: dict[str, object]) -> None:
    """Print the figures as a table."""
    print(f"{result['tabs']} tabs for {result['minutes']} minutes on {result['cpu_count']} cores"
          + (f", the server at niceness {result['server_nice']}" if result["server_nice"] else ""))
    print(f"{'minute':>8} {'steps':>6} {'median s':>9} {'p95 s':>7} {'max s':>7} {'< 1 s':>7}")
    rows = [{"minute": "opening", **result["while_opening"]}, *result["per_minute"],  # type: ignore[list-item, dict-item]
            {"minute": "all", **result["overall"]}]  # type: ignore[dict-item]
    for row in rows:
        if not row.get("steps"):
            print(f"{row['minute']:>8} {0:>6}")
            continue
        print(f"{row['minute']:>8} {row['steps']:>6} {row['median_s']:>9.3f} {row['p95_s']:>7.3f} "
              f"{row['max_s']:>7.3f} {row['share_under_1s']:>7.1%}")
    load = result["page_load_s"]
    if load:
        print(f"page load: median {load['median']:.1f} s, slowest {load['max']:.1f} s "  # type: ignore[index]
              f"(one tab every {result['stagger_s']} s)")
    stuck = result["timed_out"]
    print(f"clicks not answered within {STEP_TIMEOUT_S:.0f} s: {len(stuck)}"  # type: ignore[arg-type]
          + (f" (server log: {result['server_log']})" if stuck else ""))
    mem = result["server_mib"]
    print(f"server memory: {mem['idle']:.0f} MiB before the tabs, peak {mem['peak']:.0f} MiB, "  # type: ignore[index]
          f"{mem['end']:.0f} MiB at the end")  # type: ignore[index]
    print(f"CPU time: server {result['server_cpu_s']:.0f} s ({result['server_cpu_per_step_s']:.3f} s a step), "
          f"browser and this driver {result['browser_cpu_s']:.0f} s, on the same machine")


def main() -> None:
    """Parse the options, run, print (and write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=30, help="browser tabs (students), default 30")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long they step, default 10")
    parser.add_argument("--stagger", type=float, default=3.0,
                        help="seconds between two tabs opening, as a class joins (default 3); the minutes count "
                             "from the last tab's opening, steps while tabs open are shown apart")
    parser.add_argument("--server-nice", type=int, default=0, metavar="N",
                        help="run the server at this niceness (e.g. -10, as root), so that it gets the CPU before "
                             "the browser, as when the students' browsers are on their own laptops (default 0)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    result = asyncio.run(bench(args.tabs, args.minutes, args.stagger, args.server_nice))
    show(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
