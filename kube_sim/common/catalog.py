"""Keeping the message catalogs in step with the code (``scripts/update_catalog.py`` and the catalog test).

A message is either marked in the code (``_("...")``, ``N_("...")``, ``ngettext(...)``: Babel's
extractor finds it) or declared in a table that is translated where it is shown: the outcomes' labels
(:data:`kube_sim.common.outputs.OUTCOMES`) and the shipped scenarios' titles and descriptions.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kube_sim.common.i18n import DOMAIN, LOCALE_DIR, catalog_file

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

PACKAGE_DIR = LOCALE_DIR.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
"""The functions that mark a message (see :mod:`kube_sim.common.i18n`)."""


def shipped_scenarios() -> Path:
    """The shipped scenarios' folder: ``scenarios/`` in a checkout, ``kube_sim/shipped/scenarios`` in a wheel."""
    checkout = PACKAGE_DIR.parent / "scenarios"
    return checkout if checkout.is_dir() else PACKAGE_DIR / "shipped" / "scenarios"


def parameter_name(key: str) -> str:
    """A parameter's name in words, as the catalog holds it: its key's last part without a ``_rp`` suffix.

    Args:
        key: Dotted parameter key, e.g. ``grants.equipment_rp``.

    Returns:
        E.g. ``equipment``.
    """
    return key.rsplit(".", 1)[-1].removesuffix("_rp").replace("_", " ")


def declared_messages() -> list[str]:
    """Messages declared in tables and translated where shown.

    These are the outcomes' labels and the shipped scenarios' titles and descriptions (the parameters' words come from
    the model: :func:`kube_sim.model.parameter_words.parameter_messages`, given as ``extra``).

    Returns:
        The English messages, in declaration order.
    """
    from kube_sim.common.outputs import OUTCOMES

    out = []
    for outcome in OUTCOMES:
        out.append(outcome.label)
        if outcome.label.startswith("cost: "):
            out.append(outcome.label.removeprefix("cost: "))
    for path in sorted(shipped_scenarios().glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for key in ("title", "description"):
            text = data.get(key)
            if isinstance(text, str) and text.strip():
                out.append(text.strip())
    return list(dict.fromkeys(out))


def source_catalog(extra: Iterable[str]) -> Catalog:
    """The catalog the code asks for: every marked and declared message, with where it comes from.

    Args:
        extra: Messages declared elsewhere (the parameters' words, from the model).

    Returns:
        A :class:`babel.messages.catalog.Catalog` without translations.
    """
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(domain=DOMAIN, project="kube-sim", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE_DIR), method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("Translators:",), strip_comment_tags=True):
        catalog.add(message, None, [(f"kube_sim/{filename}", lineno)], auto_comments=comments, context=context)
    for message in [*declared_messages(), *extra]:
        if message not in catalog:
            catalog.add(message, None, [("kube_sim/common/outputs.py", 0)])
    return catalog


def read_catalog(lang: str) -> Catalog:
    """Read a language's catalog.

    Args:
        lang: Language code.

    Returns:
        The :class:`babel.messages.catalog.Catalog` (empty when the file does not exist yet).
    """
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    po = catalog_file(lang)
    if not po.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="kube-sim")
    with po.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def update_catalog(lang: str, extra: Iterable[str]) -> tuple[Path, int, int]:
    """Bring a language's catalog in step with the code: new messages added untranslated, gone ones dropped.

    Args:
        lang: Language code.
        extra: Messages declared elsewhere (see :func:`source_catalog`).

    Returns:
        ``(path, messages, untranslated)``.
    """
    from babel.messages.pofile import write_po

    catalog = read_catalog(lang)
    template = source_catalog(extra)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.project, catalog.copyright_holder = "kube-sim", "the kube-sim authors"
    catalog.last_translator = catalog.language_team = "kube-sim"
    po = catalog_file(lang)
    po.parent.mkdir(parents=True, exist_ok=True)
    tmp = po.with_name(f".{po.name}.tmp")
    with tmp.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=False, include_previous=False,
                  include_lineno=False)
    tmp.replace(po)
    messages = [m for m in catalog if m.id]
    return po, len(messages), sum(1 for m in messages if not m.string or m.fuzzy)
