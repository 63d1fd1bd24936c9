"""Report translations (runner/report/i18n.py): English, Spanish and Catalan.

The message catalogues (runner/report/locale/) cover every sentence of the templates and the report code,
the catalogue translations (runner/catalogue/data/i18n/) every control's title, rationale and remediation;
numbers and dates come out in each locale's format, dates in the client's time zone.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import jinja2
import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

import runner.catalogue as catalogue
from runner.report import i18n
from tests.conftest import REPO

NBSP = "\xa0"


def _po(lang: str) -> Catalog:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "maint.po").open("rb") as fp:
        return read_po(fp, locale=lang)


# ------------------------------------------------------------------------------------------ languages


def test_unknown_language_is_refused_naming_the_option() -> None:
    with pytest.raises(ValueError) as err:
        i18n.translator("xx")
    assert str(err.value) == "--lang xx: expected one of en, es, ca"
    with pytest.raises(ValueError, match="--lang fr: expected one of en, es, ca"):
        i18n.Translator("fr")


def test_translator_is_cached_per_language() -> None:
    assert i18n.translator("es") is i18n.translator("es")
    assert i18n.translator("es") is not i18n.translator("ca")
    assert [i18n.translator(lang).lang for lang in i18n.LANGS] == ["en", "es", "ca"]


# ------------------------------------------------------------------------------------ numbers, dates


@pytest.mark.parametrize(
    ("lang", "grouped", "two", "pct", "whole_pct"),
    [
        ("en", "1,234.5", "1,234,567.89", "87.5%", "100%"),
        ("es", "1.234,5", "1.234.567,89", f"87,5{NBSP}%", f"100{NBSP}%"),
        ("ca", "1.234,5", "1.234.567,89", f"87,5{NBSP}%", f"100{NBSP}%"),
    ],
)
def test_numbers_and_percents_in_the_locale(
    lang: str, grouped: str, two: str, pct: str, whole_pct: str
) -> None:
    tr = i18n.translator(lang)
    assert tr.number(1234.5) == grouped
    assert tr.number(1234.54) == grouped  # at most one decimal by default
    assert tr.number(1234567.891, 2) == two
    assert tr.number(42) == "42"
    assert tr.number(7.96, 0) == "8"
    assert tr.number(-0.04) == "0"  # never "-0"
    assert tr.percent(87.5) == pct
    assert tr.percent(100.0) == whole_pct
    assert tr.number(None) == tr.percent(None) == "\u2013"


@pytest.mark.parametrize(
    ("lang", "madrid", "new_york", "plain"),
    [
        ("en", "Dec 1, 2026", "Nov 30, 2026", "Nov 7, 2026"),
        ("es", "1 dic 2026", "30 nov 2026", "7 nov 2026"),
        ("ca", "1 de des. 2026", "30 de nov. 2026", "7 de nov. 2026"),
    ],
)
def test_dates_are_taken_to_the_client_zone(lang: str, madrid: str, new_york: str, plain: str) -> None:
    tr = i18n.translator(lang)
    instant = "2026-11-30T23:30:00+00:00"  # 00:30 on 1 December in Madrid, 18:30 on 30 November in New York
    assert tr.date(instant, "Europe/Madrid") == madrid
    assert tr.date(instant, "America/New_York") == new_york
    assert tr.date("2026-11-07") == plain  # a plain date stays that day, whatever the zone
    assert tr.date("2026-11-07", "Pacific/Auckland") == plain
    assert tr.date(None) == "\u2013"


def test_datetimes_in_the_client_zone() -> None:
    instant = "2026-11-30T23:30:00+00:00"
    assert i18n.translator("es").datetime(instant, "Europe/Madrid") == "1 dic 2026, 0:30"
    assert i18n.translator("ca").datetime(instant, "Europe/Madrid") == "1 de des. 2026, 0:30"
    assert i18n.translator("es").datetime(instant) == "30 nov 2026, 23:30"  # no zone: as given (UTC)
    assert i18n.translator("en").datetime(instant, "Europe/Madrid").startswith("Dec 1, 2026, 12:30")


def test_bad_zone_and_bad_date_name_the_value() -> None:
    tr = i18n.translator("es")
    with pytest.raises(ValueError, match="time zone 'Mars/Olympus': unknown"):
        tr.date("2026-11-30T23:30:00+00:00", "Mars/Olympus")
    with pytest.raises(ValueError, match="date '30/11/2026': expected an ISO-8601"):
        tr.date("30/11/2026")


# ----------------------------------------------------------------------------------------- templates


def test_install_renders_template_strings_in_spanish() -> None:
    env = jinja2.Environment(autoescape=True)
    i18n.install(env, i18n.translator("es"), zone="Europe/Madrid")
    template = env.from_string(
        '{{ _("Spanish") }} | {{ gettext("Catalan") }} | {{ 1234.5 | number }} | {{ 87.5 | percent }}'
        ' | {{ "2026-11-30T23:30:00+00:00" | date }} | {{ "2026-11-30T23:30:00+00:00" | date("UTC") }}'
    )
    assert template.render() == f"español | catalán | 1.234,5 | 87,5{NBSP}% | 1 dic 2026 | 30 nov 2026"
    assert i18n.translator("ca").language_name("es") == "castellà"
    assert i18n.translator("en").language_name() == "English"


@pytest.mark.parametrize(
    ("text", "vowel"),
    [
        ("1", True),  # u
        ("11", True),  # onze
        ("1 de nov. 2026", True),
        ("11:00", True),
        ("11,5\xa0%", True),
        ("11.000", True),  # onze mil
        ("1.000.000", True),  # un milió
        ("1000000", True),
        ("1.000", False),  # mil
        ("1.234,5", False),
        ("8", False),  # vuit
        ("12 de nov. 2026", False),
        ("100", False),  # cent
        ("08:00", False),  # zero vuit
        ("2026-10", False),
        ("Europe/Madrid", True),
        ("America/New_York", True),
        ("UTC", True),
        ("hora", True),
        ("Pacific/Auckland", False),
        ("iogurt", False),  # i before a vowel: a consonant sound
        ("Huelva", False),
        ("\u2013", False),
        ("", False),
    ],
)
def test_catalan_vowel_sound_of_numbers_dates_and_names(text: str, vowel: bool) -> None:
    assert i18n.catalan_vowel_sound(text) is vowel


def test_catalan_elides_de_and_el_before_a_value_that_starts_with_a_vowel_sound() -> None:
    """The catalogue's "de %(zone)s" and "el %(when)s" become "d'" and "l'" when the value asks for it:
    the report's own messages, through gettext and ngettext, escaped as before; Spanish never."""
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    i18n.install(env, i18n.translator("ca"))
    cover = env.from_string("{% trans when=w, zone=z %}{{ when }} ({{ zone }} time){% endtrans %}")
    assert cover.render(w="1 de des. 2026, 0:30", z="Europe/Madrid") == (
        "1 de des. 2026, 0:30 (hora d'Europe/Madrid)"
    )
    assert cover.render(w="x", z="Pacific/Auckland") == "x (hora de Pacific/Auckland)"
    assert cover.render(w="x", z="<b>Asia</b>") == "x (hora de &lt;b&gt;Asia&lt;/b&gt;)"
    seen = env.from_string("{% trans when=w %}first seen {{ when }}{% endtrans %}")
    assert seen.render(w="11 de nov. 2026") == "vist per primera vegada l'11 de nov. 2026"
    assert seen.render(w="12 de nov. 2026") == "vist per primera vegada el 12 de nov. 2026"
    facts = env.from_string('{{ _("facts of %(when)s", when=w) }}')
    assert facts.render(w="1 de des. 2026") == "dades de l'1 de des. 2026"
    hosts = env.from_string(
        "{% trans count=n, checked=c %}{{ checked }} of the one host in scope was checked in this period."
        "{% pluralize %}{{ checked }} of the {{ count }} hosts in scope were checked in this period."
        "{% endtrans %}"
    )
    assert hosts.render(n=11, c=8) == "Equips comprovats en aquest període: 8 d'11."
    assert hosts.render(n=12, c=11) == "Equips comprovats en aquest període: 11 de 12."
    spanish = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    i18n.install(spanish, i18n.translator("es"))
    es_hosts = spanish.from_string(
        "{% trans count=n, checked=c %}{{ checked }} of the one host in scope was checked in this period."
        "{% pluralize %}{{ checked }} of the {{ count }} hosts in scope were checked in this period."
        "{% endtrans %}"
    )
    assert "de 11" in es_hosts.render(n=11, c=8)
    assert i18n.translator("es").elide("de %(n)s", {"n": 11}) == "de %(n)s"


def test_no_catalan_message_puts_de_or_el_before_a_number_that_needs_elision() -> None:
    """Elision in the catalogue's own text: "d'1", never "de 1" (a placeholder is elided when rendered)."""
    bad = re.compile(r"\b(?:[Dd]e|[Ee]l|[Dd]el|[Aa]l) (?:1|11)(?![\d.,:])")
    found = [m.id for m in _po("ca") if m.id and any(bad.search(s) for s in _strings(m.string))]
    assert found == []


def _strings(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("lang", ["es", "ca"])
def test_every_simple_message_renders_translated_through_install(lang: str) -> None:
    """Every catalogue message without placeholders, rendered with ``_()``, is its translation."""
    env = jinja2.Environment(autoescape=False)
    i18n.install(env, i18n.translator(lang))
    template = env.from_string("{{ _(m) }}")
    checked = 0
    for message in _po(lang):
        if not message.id or message.pluralizable or "%" in message.id:
            continue
        assert template.render(m=message.id) == message.string, message.id
        checked += 1
    assert checked >= 3


def test_trimmed_trans_block_matches_its_extracted_msgid(tmp_path: Path) -> None:
    """A multi-line ``{% trans %}`` is extracted and looked up with the same collapsed whitespace."""
    templates = tmp_path / "templates"
    templates.mkdir()
    source = (
        "{% trans n=hosts %}\n    One host\n    is late.\n{% pluralize %}\n  {{ n }} hosts\n  are late.\n"
        "{% endtrans %}"
    )
    (templates / "t.html.j2").write_text(source)
    pot = i18n.extract(templates, tmp_path / "no-code")
    assert [m.id for m in pot if m.id] == [("One host is late.", "%(n)s hosts are late.")]
    po = i18n._new_catalog("es")  # two plural forms, as the project's .po files say
    po.add(
        ("One host is late.", "%(n)s hosts are late."),
        ("Un equipo va con retraso.", "%(n)s equipos van con retraso."),
    )
    buf = io.BytesIO()
    write_mo(buf, po)
    buf.seek(0)
    tr = i18n.Translator("es")
    tr._tr = Translations(buf)
    env = jinja2.Environment(autoescape=True)
    i18n.install(env, tr)
    template = env.from_string(source)
    assert template.render(hosts=1) == "Un equipo va con retraso."
    assert template.render(hosts=3) == "3 equipos van con retraso."


def test_a_template_that_does_not_parse_stops_the_extraction(tmp_path: Path) -> None:
    (tmp_path / "bad.html.j2").write_text("ok\n{% trans %}unclosed")
    with pytest.raises(ValueError, match=r"bad\.html\.j2:2: template syntax error"):
        i18n.extract(tmp_path, tmp_path / "no-code")


# ------------------------------------------------------------------------------------ completeness


def test_check_passes_every_message_translated(capsys: pytest.CaptureFixture[str]) -> None:
    """The test that fails on a missing translation: every message of the templates and code, as
    extracted now, has a non-fuzzy translation in Spanish and Catalan."""
    assert i18n.check_messages() == []
    assert i18n.main(["check"]) == 0
    assert "all messages translated in es, ca" in capsys.readouterr().out


def test_check_passes_every_control_translated(capsys: pytest.CaptureFixture[str]) -> None:
    assert i18n.check_catalogue() == []
    assert i18n.main(["check", "--catalogue"]) == 0
    assert "all control texts translated in es, ca" in capsys.readouterr().out
    cat = catalogue.load()
    assert len(cat.controls) >= 85
    for lang in ("es", "ca"):
        tr = i18n.translator(lang)
        same = [
            (cid, field)
            for cid, spec in cat.controls.items()
            for field in i18n.FIELDS
            if tr.control(cid, field, getattr(spec, field)) == getattr(spec, field)
        ]
        # only texts that are a command with the one word "Configure" (the same in Spanish) stay as in English
        assert all(field == "remediation" for _, field in same), same
        assert all(cat.controls[cid].remediation.startswith("Configure ") for cid, _ in same), same


def test_control_text_falls_back_to_english() -> None:
    cat = catalogue.load()
    spec = cat.controls["AV-LNX-01"]
    assert i18n.translator("en").control("AV-LNX-01", "title", spec.title) == spec.title
    assert (
        i18n.translator("es").control("AV-LNX-01", "title", spec.title)
        == "El motor antivirus ClamAV está instalado"
    )
    assert i18n.translator("ca").control("NOPE-01", "title", "default") == "default"
    with pytest.raises(ValueError, match="field 'summary'"):
        i18n.translator("es").control("AV-LNX-01", "summary", "x")


def test_check_lists_a_missing_or_fuzzy_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "r.html.j2").write_text('{{ _("Backups") }} {{ _("Patching") }} {{ _("Disks") }}')
    pot = i18n.extract(templates, tmp_path / "no-code")
    locale = tmp_path / "locale"
    i18n.write_catalogues(locale, pot)
    es = locale / "es" / "LC_MESSAGES" / "maint.po"
    text = es.read_text().replace('msgid "Backups"\nmsgstr ""', 'msgid "Backups"\nmsgstr "Copias"')
    text = text.replace('msgid "Patching"\nmsgstr ""', '#, fuzzy\nmsgid "Patching"\nmsgstr "Parches"')
    es.write_text(text)
    problems = i18n.check_messages(locale, pot)
    assert "es: fuzzy: 'Patching'" in problems
    assert "es: untranslated: 'Disks'" in problems
    assert not [p for p in problems if "Backups" in p and p.startswith("es")]
    assert "ca: untranslated: 'Backups'" in problems
    # a message the .po does not have yet (extract not run since the template changed)
    (templates / "r.html.j2").write_text('{{ _("Backups") }} {{ _("Firewalls") }}')
    assert "es: missing (run extract): 'Firewalls'" in i18n.check_messages(
        locale, i18n.extract(templates, tmp_path)
    )


def test_check_catalogue_lists_missing_unknown_and_changed_code(tmp_path: Path) -> None:
    shutil.copytree(i18n.CATALOGUE_I18N_DIR, tmp_path, dirs_exist_ok=True)
    data = yaml.safe_load((tmp_path / "es.yml").read_text())
    del data["controls"]["AV-LNX-02"]["remediation"]
    data["controls"]["AV-LNX-03"]["remediation"] = "Ejecute `systemctl enable clamav-freshclam`."
    data["controls"]["XX-NOPE-01"] = {"title": "x"}
    (tmp_path / "es.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    problems = i18n.check_catalogue(tmp_path)
    assert "es: AV-LNX-02: remediation missing" in problems
    assert "es: AV-LNX-03: remediation: `code` spans differ from the English text" in problems
    assert "es: XX-NOPE-01: not a control of the catalogue" in problems
    assert not [p for p in problems if p.startswith("ca")]


def test_a_broken_translation_file_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "es.yml"
    bad.write_text("controls:\n  AV-LNX-01:\n    titel: Hola\n")
    with pytest.raises(ValueError, match=r"es\.yml: controls\.AV-LNX-01\.titel: expected one of title"):
        i18n.read_control_texts(bad)
    bad.write_text("controls: [a, b]\n")
    with pytest.raises(ValueError, match=r"es\.yml: \(top level\)"):
        i18n.read_control_texts(bad)


def test_catalogue_translations_are_yamllint_clean_folded_text() -> None:
    for lang in ("es", "ca"):
        path = i18n.CATALOGUE_I18N_DIR / f"{lang}.yml"
        assert max(len(line) for line in path.read_text().splitlines()) <= 140
        texts = i18n.read_control_texts(path)
        assert all("\n" not in t for entry in texts.values() for t in entry.values())


# ----------------------------------------------------------------------------------- extraction


def test_pot_is_up_to_date_with_the_templates(tmp_path: Path) -> None:
    """Extracting now gives the committed messages.pot's msgids, and each .po has exactly them."""
    changed = i18n.write_catalogues(tmp_path)
    assert {p.name for p in changed} == {"messages.pot", "maint.po"}

    def ids(path: Path) -> set[object]:
        with path.open("rb") as fp:
            return {(m.id, m.context) for m in read_po(fp) if m.id}

    fresh = ids(tmp_path / "messages.pot")
    assert fresh == ids(i18n.LOCALE_DIR / "messages.pot"), "run: python -m runner.report.i18n extract"
    for lang in ("es", "ca"):
        assert ids(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "maint.po") == fresh, lang


def test_extract_is_deterministic_and_keeps_translations(tmp_path: Path) -> None:
    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale")
    assert i18n.main(["extract", "--output", str(tmp_path / "locale")]) == 0
    pot = i18n.extract()  # once: the templates may be edited meanwhile
    i18n.write_catalogues(tmp_path / "locale", pot)
    assert i18n.write_catalogues(tmp_path / "locale", pot) == []  # a second run changes nothing
    for lang in ("es", "ca"):
        path = tmp_path / "locale" / lang / "LC_MESSAGES" / "maint.po"
        before = {m.id: m.string for m in _po(lang) if m.id}
        with path.open("rb") as fp:
            after = {m.id: m.string for m in read_po(fp, locale=lang) if m.id}
        kept = set(after) & set(before)  # a template edited meanwhile may have dropped or added messages
        assert kept and {k: after[k] for k in kept} == {k: before[k] for k in kept}
    pot = (tmp_path / "locale" / "messages.pot").read_text()
    assert "POT-Creation-Date: 2026-01-01 00:00+0000" in pot
    assert not re.search(r"^#: .*:\d+$", pot, re.MULTILINE)  # no line numbers: moving a line is no churn


def test_no_compiled_catalogue_in_the_tree_and_the_wheel_carries_the_sources() -> None:
    assert not list(i18n.LOCALE_DIR.rglob("*.mo"))
    pyproject = (REPO / "pyproject.toml").read_text()
    for pattern in ("report/locale/*.pot", "report/locale/*/LC_MESSAGES/*.po", "catalogue/data/i18n/*.yml"):
        assert f'"{pattern}"' in pyproject
    assert re.search(r'^\s*"babel>=', pyproject, re.MULTILINE)
