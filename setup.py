"""Build hook: compile the message catalogs (``kube_sim/locale/*/LC_MESSAGES/*.po``) to ``.mo`` in a wheel.

Everything else about the package is in pyproject.toml. An editable install needs no hook: the
catalogs are compiled on first use (:mod:`kube_sim.common.i18n`).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    """``build_py`` that also writes each catalog's ``.mo`` beside its ``.po`` in the build folder."""

    def run(self) -> None:
        """Build the modules, then compile the catalogs."""
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in Path(self.build_lib, "kube_sim", "locale").glob("*/LC_MESSAGES/*.po"):
            with po.open("rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogs})
