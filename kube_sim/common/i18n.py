"""The language a planner reads: gettext message catalogs, and Babel's rules for numbers and dates.

English is the default and the source language: every message is written in English in the code,
marked with :func:`_` (or :func:`N_` where it is declared before the language is known), and
translated through the catalog ``kube_sim/locale/<lang>/LC_MESSAGES/kube_sim.po``. The catalog is
compiled to ``.mo`` when a wheel is built; an editable install compiles it on first use (and keeps
the ``.mo`` beside the ``.po`` when it may). ``scripts/update_catalog.py`` brings the catalog up to date
with the code.

The language is chosen once per command (``--lang``, else the environment variable
``KUBE_SIM_LANG``, else English) with :func:`set_language`.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext as _gettext
import io
import os
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path

from kube_sim.common.errors import InputError

DOMAIN = "kube_sim"
"""The catalogs' gettext domain (the file name of every ``.po`` and ``.mo``)."""

LANGUAGES: dict[str, str] = {"en": "English", "id": "Bahasa Indonesia"}
"""Languages kube-sim speaks, by code."""

DEFAULT_LANGUAGE = "en"
ENV_LANGUAGE = "KUBE_SIM_LANG"
"""Environment variable naming the language when ``--lang`` is not given."""

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
"""Where the catalogs live: ``<lang>/LC_MESSAGES/kube_sim.po``."""

_current = DEFAULT_LANGUAGE
_speaking: contextvars.ContextVar[str | None] = contextvars.ContextVar("kube_sim_speaking", default=None)


def catalog_file(lang: str, suffix: str = ".po") -> Path:
    """The catalog of a language.

    Args:
        lang: Language code, e.g. ``id``.
        suffix: ``.po`` (the source) or ``.mo`` (compiled).

    Returns:
        Its path.
    """
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def compile_catalog(po: Path) -> bytes:
    """Compile a ``.po`` catalog to ``.mo`` bytes with Babel.

    Args:
        po: The catalog.

    Returns:
        The compiled catalog (fuzzy entries left out, as ``msgfmt`` does).
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _keep(mo: Path, data: bytes) -> None:
    """Keep a compiled catalog beside its source, when the folder may be written (else compile each time)."""
    tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, mo)
    except OSError:
        tmp.unlink(missing_ok=True)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The translations of a language, from its compiled catalog (compiled now when missing or older than the source).

    Args:
        lang: Language code.

    Returns:
        The translations (English passes messages through).
    """
    if lang == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    po, mo = catalog_file(lang), catalog_file(lang, ".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return _gettext.GNUTranslations(f)
    data = compile_catalog(po)
    _keep(mo, data)
    return _gettext.GNUTranslations(io.BytesIO(data))


def check_language(code: str, source: str = "--lang") -> str:
    """Check a language code.

    Args:
        code: The code given, e.g. ``id``.
        source: Where it came from (the option or the environment variable), for the error.

    Returns:
        The code, lower case.

    Raises:
        InputError: For a language kube-sim does not speak.
    """
    lang = code.strip().lower()
    if lang not in LANGUAGES:
        choices = ", ".join(f"{c} ({name})" for c, name in LANGUAGES.items())
        raise InputError(f"unknown language {code!r}; choose one of: {choices}", source=source)
    return lang


def language_from(option: str | None) -> str:
    """The language a command speaks: ``--lang``, else ``KUBE_SIM_LANG``, else English.

    Args:
        option: The value of ``--lang`` (None when not given).

    Returns:
        The language code.

    Raises:
        InputError: For an unknown language.
    """
    if option:
        return check_language(option)
    env = os.environ.get(ENV_LANGUAGE, "").strip()
    return check_language(env, source=ENV_LANGUAGE) if env else DEFAULT_LANGUAGE


def set_language(lang: str) -> None:
    """Speak a language from now on.

    Args:
        lang: A code of :data:`LANGUAGES`.
    """
    global _current
    _current = check_language(lang)


def language() -> str:
    """The language spoken now (a code of :data:`LANGUAGES`): :func:`speaking`'s, else :func:`set_language`'s."""
    return _speaking.get() or _current


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[str]:
    """Speak a language inside a ``with`` block, in this thread (and task) only.

    For a server that answers several people in their own languages (the teaching page): the
    process-wide language of :func:`set_language` is left as it is.

    Args:
        lang: A code of :data:`LANGUAGES`.

    Yields:
        The code.
    """
    token = _speaking.set(check_language(lang))
    try:
        yield token.var.get() or lang
    finally:
        _speaking.reset(token)


def _(message: str) -> str:
    """Translate a message into the language spoken now.

    Args:
        message: The English message (the catalog's msgid).

    Returns:
        The translation (the message itself in English, or when the catalog lacks it).
    """
    lang = language()
    if lang == DEFAULT_LANGUAGE or not message:
        return message
    return translations(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message that depends on a count.

    Args:
        singular: The English message for one.
        plural: The English message for several.
        n: The count.

    Returns:
        The translation for ``n``.
    """
    lang = language()
    if lang == DEFAULT_LANGUAGE:
        return singular if n == 1 else plural
    return translations(lang).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it yet (it is translated where it is shown).

    Args:
        message: The English message.

    Returns:
        The message unchanged.
    """
    return message


def localize(text: str) -> str:
    """Write a number already rounded in Python's notation (``1,234.5``, ``-0.0586``) in the language spoken.

    Args:
        text: Digits with ``,`` thousands separators and ``.`` as the decimal point, optionally signed.

    Returns:
        The same number with the locale's separators (unchanged in English).
    """
    if language() == DEFAULT_LANGUAGE:
        return text
    from babel.numbers import format_decimal

    plain = text.replace(",", "")
    decimals = len(plain.split(".", 1)[1]) if "." in plain else 0
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    try:
        number = Decimal(plain)
    except ArithmeticError:
        return text
    return format_decimal(number, format=pattern, locale=language())


def fmt_fixed(value: float, decimals: int = 0, grouped: bool = True) -> str:
    """A number to a fixed number of decimals, with thousands separators: ``1,234.5`` (``1.234,5`` in Indonesian).

    Args:
        value: The number.
        decimals: Digits after the decimal point.
        grouped: Separate thousands.

    Returns:
        The text.
    """
    return localize(f"{float(value):{',' if grouped else ''}.{decimals}f}")
