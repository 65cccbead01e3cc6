"""Every Chinese text of the console's templates and labels has its English."""

from __future__ import annotations

import re
from pathlib import Path

from dispatcher.adapters.http.console import i18n

TEMPLATES = Path(i18n.__file__).with_name("templates")


def _texts() -> set[str]:
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        found |= set(re.findall(r'_\("([^"]+)"\)', text))
        found |= set(re.findall(r'\("[a-z_]+", "([^"]+)"\)', text))  # (field, label) pairs
    tables = (i18n.STAGES, i18n.CLOCKS, i18n.CLOCK_STATUSES, i18n.LEVELS, i18n.EVENTS, i18n.KPIS)
    for table in (*tables, i18n.STEP_STATES, i18n.RATINGS):
        found |= set(table.values())
    return found


def test_every_text_has_its_english() -> None:
    texts = _texts()
    assert len(texts) > 100
    missing = sorted(texts - set(i18n.catalog("en")))
    assert not missing, missing


def test_chinese_is_the_templates_own_text_and_an_unknown_language_falls_back_to_it() -> None:
    assert i18n.Translations("zh").gettext("工作台") == "工作台"
    assert i18n.Translations("en").gettext("工作台") == "Work list"
    assert i18n.Translations("fr").language == "zh"
