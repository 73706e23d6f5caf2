"""``kube-sim app``: serve the teaching page (Solara) on this machine.

The page and everything it loads are served locally (``solara-assets``), so it works with no
network; telemetry is off. Solara is imported only when the command runs, since the ``app`` extra
may not be installed.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
import warnings
import webbrowser

from kube_sim.cli.common import add_command, add_district_option, whole_number
from kube_sim.common.errors import InputError

APP_MODULE = "kube_sim.app.page"
"""The module Solara serves (its ``Page`` component)."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _port(text: str) -> int:
    return whole_number(text, 1, 65535)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``app`` command.

    Args:
        subparsers: The ``kube-sim`` subcommand parsers.
    """
    parser = add_command(
        subparsers, "app", summary="open the teaching app in a browser (needs the 'app' extra)",
        description="Serve the teaching page: policy controls, the district and its groups, charts over time, "
                    "a group's story and two policies side by side. Install with: pip install 'kube-sim[app]'.",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="P",
                        help=f"port to listen on (default: {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST, metavar="H",
                        help=f"address to bind (default: {DEFAULT_HOST}, this machine only; 0.0.0.0 for a "
                             "classroom network)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")
    add_district_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve the page until interrupted.

    Args:
        args: Parsed arguments (``port``, ``host``, ``open``, ``district``).

    Returns:
        Exit status 0 after a clean stop.

    Raises:
        InputError: If the address cannot be listened on (in use, or not this machine's), the district file
            is bad, or the ``app`` extra is not installed.
    """
    if args.district:  # checked now, so that a bad file exits 2; the page reads it from the environment
        from kube_sim.app.state import DISTRICT_ENV
        from kube_sim.experiments.district_file import load_district

        os.environ[DISTRICT_ENV] = load_district(args.district).source
    _check_free(args.host, args.port)
    os.environ["SOLARA_APP"] = APP_MODULE
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"  # no framework badge over the page
    os.environ.setdefault("SOLARA_SESSION_HTTPS_ONLY", "False")  # a classroom server speaks plain http
    # Solara warns on each page load over http that its session cookie falls back to SameSite=lax: that
    # is the right cookie for a page opened directly (not embedded), so the warning only alarms teachers.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    os.environ["SERVER_NAME"] = args.host
    os.environ["SERVER_PORT"] = str(args.port)
    try:
        import solara.server.starlette  # noqa: F401  (checks that the extra is installed)
        import uvicorn
    except ImportError as exc:
        raise InputError(f"the app needs the 'app' extra ({exc.name} is missing): pip install 'kube-sim[app]'",
                         source="app") from None
    url = f"http://{args.host}:{args.port}/"
    server = uvicorn.Server(uvicorn.Config("solara.server.starlette:app", host=args.host, port=args.port,
                                           log_level="warning"))
    if args.open:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    print(f"kube-sim app: serving {url} (Ctrl-C to stop)", flush=True)
    server.run()
    return 0


def _check_free(host: str, port: int) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}", source="--host/--port") from None


def _open_when_started(server: object, url: str) -> None:
    while not getattr(server, "started", False):
        time.sleep(0.1)
    webbrowser.open(url)
