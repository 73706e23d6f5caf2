"""kube-sim: agent-based simulation of KUBE joint business groups (Kelompok Usaha Bersama)."""

from kube_sim.common.provenance import package_version

__version__ = package_version("kube-sim") or "0.0.0"

__all__ = ["__version__"]
