"""Provenance for manifests: package, Mesa and Python versions, git commit, time."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None if it is not installed.

    Args:
        name: Distribution name.

    Returns:
        The version string, or None.
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def git_commit(path: Path | None = None) -> str | None:
    """The git commit of the source tree (with ``-dirty`` if it has changes), or None outside git.

    Args:
        path: A folder inside the repository (default: this package's folder).

    Returns:
        The commit hash, or None.
    """
    where = path or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def now_iso() -> str:
    """The current UTC time in ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def environment() -> dict[str, Any]:
    """Versions and commit to record in every manifest."""
    return {
        "kube_sim_version": package_version("kube-sim"),
        "mesa_version": package_version("mesa"),
        "numpy_version": package_version("numpy"),
        "python_version": platform.python_version(),
        "git_commit": git_commit(),
    }
