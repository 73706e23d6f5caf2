"""Bring the message catalogs (kube_sim/locale/<lang>/LC_MESSAGES/kube_sim.po) in step with the code.

Run it after changing a message: new messages are added with an empty translation (the catalog test
fails until they are translated), messages gone from the code are dropped.

    .venv/bin/python scripts/update_catalog.py
"""

from __future__ import annotations

import sys

from kube_sim.common.catalog import update_catalog
from kube_sim.common.i18n import DEFAULT_LANGUAGE, LANGUAGES
from kube_sim.model.parameter_words import parameter_messages


def main() -> int:
    """Update every language's catalog and say how many messages still lack a translation."""
    missing = 0
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        path, total, untranslated = update_catalog(lang, parameter_messages())
        missing += untranslated
        print(f"{path}: {total} messages, {untranslated} untranslated")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
