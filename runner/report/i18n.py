"""Translations of the reports: English, Spanish (Spain) and Catalan, with Babel (gettext).

Every sentence a report shows comes from a template (``{% trans %}`` / ``_()``) or a ``_()`` call in
``runner/report/**/*.py`` and goes through the message catalogues ``runner/report/locale/``:
``messages.pot`` (the extracted English msgids) and ``<lang>/LC_MESSAGES/maint.po``. The ``.po`` files are
compiled in memory when a language is first used, so no ``.mo`` is kept in Git. English is the msgids.

Control titles, rationales and remediations come from the catalogue itself (English) and
``runner/catalogue/data/i18n/<lang>.yml`` (``controls: {ID: {title, rationale, remediation}}``).

Numbers, percentages and dates are formatted with Babel in the language's locale (``en``, ``es_ES``,
``ca_ES``); an aware datetime is shown in the client's time zone.

Maintenance (``python -m runner.report.i18n``):

- ``extract`` re-extracts every message into ``messages.pot`` and merges it into each ``.po`` (keeping the
  translations; a changed message becomes fuzzy);
- ``check`` lists each message of the templates and code that has no (or only a fuzzy) translation in a
  language, and exits 1 if there is any;
- ``check --catalogue`` lists the controls whose title, rationale or remediation is missing in a language.
"""

from __future__ import annotations

import argparse
import functools
import gettext as _gettext
import io
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC
from datetime import date as _date
from datetime import datetime as _datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

__all__ = [
    "CATALOGUE_I18N_DIR",
    "DOMAIN",
    "LANGS",
    "LANG_NAMES",
    "LOCALES",
    "LOCALE_DIR",
    "N_",
    "TEMPLATES_DIR",
    "Translator",
    "catalan_vowel_sound",
    "check_catalogue",
    "check_messages",
    "extract",
    "install",
    "main",
    "read_control_texts",
    "translator",
    "write_catalogues",
]

LANGS = ("en", "es", "ca")
#: the Babel locale of each language (numbers, dates)
LOCALES = {"en": "en", "es": "es_ES", "ca": "ca_ES"}
#: the gettext domain: <lang>/LC_MESSAGES/maint.po
DOMAIN = "maint"


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (it is translated where it is shown)."""
    return message


#: the name of each language, translated where it is shown (Translator.language_name)
LANG_NAMES = {"en": N_("English"), "es": N_("Spanish"), "ca": N_("Catalan")}
#: the text fields of a control that the catalogue translations carry
FIELDS = ("title", "rationale", "remediation")
#: shown for a missing number or date
NONE = "\u2013"

_HERE = Path(__file__).resolve().parent
_REPO_ROOT = _HERE.parents[1]
LOCALE_DIR = _HERE / "locale"
TEMPLATES_DIR = _HERE / "templates"
CATALOGUE_I18N_DIR = _HERE.parent / "catalogue" / "data" / "i18n"

#: keywords the extractors look for (``ngettext(singular, plural, n)``)
KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
#: comments above a message that reach the translator
COMMENT_TAGS = ("Translators:",)
#: the Jinja2 extraction options; install() sets the same ``trimmed`` policy on the environment, so the
#: msgid of a multi-line ``{% trans %}`` block is its text with the whitespace collapsed, both ways
JINJA_OPTIONS = {"trimmed": "true"}
#: fixed header dates: re-extracting changes the files only when a message changes
_HEADER_DATE = _datetime(2026, 1, 1, tzinfo=UTC)
_CODE = re.compile(r"`[^`]+`")


# --------------------------------------------------------------------------------------------- runtime


def _zone(zone: str | None) -> ZoneInfo | None:
    if zone is None:
        return None
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"time zone {zone!r}: unknown (expected an IANA name such as Europe/Madrid)"
        ) from exc


def _parse_instant(value: _date | _datetime | str, what: str) -> _date | _datetime:
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            return _date.fromisoformat(text)
        return _datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{what} {value!r}: expected an ISO-8601 date or date-time") from exc


def _in_zone(value: _datetime, zone: str | None) -> _datetime:
    """An aware datetime (naive ones are UTC, as the ledger stores them) in ``zone`` (kept when None)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    tz = _zone(zone)
    return value.astimezone(tz) if tz is not None else value


def _po_translations(path: Path, locale: str) -> Translations:
    """The .po file compiled in memory (fuzzy entries are left out, so they show in English)."""
    try:
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=locale, domain=DOMAIN)
    except OSError as exc:
        raise ValueError(f"{_show(path)}: cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:  # babel raises PoFileError and others on a broken file
        raise ValueError(f"{_show(path)}: is not a valid .po file: {exc}") from exc
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(_REPO_ROOT))
    except ValueError:
        return str(path)


@functools.cache
def _control_texts(lang: str) -> Mapping[str, Mapping[str, str]]:
    return read_control_texts(CATALOGUE_I18N_DIR / f"{lang}.yml")


def read_control_texts(path: Path) -> dict[str, dict[str, str]]:
    """``{control id: {field: text}}`` of one language's catalogue translations (validated; a folded
    text on one line)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except OSError as exc:
        raise ValueError(f"{_show(path)}: cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{_show(path)}: is not valid YAML: {exc}") from exc
    if (
        not isinstance(data, Mapping)
        or set(data) != {"controls"}
        or not isinstance(data["controls"], Mapping)
    ):
        raise ValueError(f"{_show(path)}: (top level): expected one key, controls: {{ID: {{title, ...}}}}")
    out: dict[str, dict[str, str]] = {}
    for cid, entry in data["controls"].items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"{_show(path)}: controls.{cid}: expected a mapping of {', '.join(FIELDS)}")
        texts: dict[str, str] = {}
        for field, text in entry.items():
            if field not in FIELDS:
                raise ValueError(
                    f"{_show(path)}: controls.{cid}.{field}: expected one of {', '.join(FIELDS)}"
                )
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{_show(path)}: controls.{cid}.{field}: expected a non-empty text")
            texts[str(field)] = " ".join(text.split())
        out[str(cid)] = texts
    return out


#: Catalan words elided before a vowel sound, and what they become (``la`` is left alone: "la una",
#: "la intervenció" keep it before an unstressed i/u, and no message puts it before a placeholder)
_CA_ELIDED = {"de": "d'", "el": "l'", "del": "de l'", "al": "a l'"}
_CA_ELIDABLE = re.compile(r"(?<![\w'\u2019])(de|De|el|El|del|Del|al|Al) %\((\w+)\)s")
#: a vowel, or h and a vowel, starts a vowel sound ...
_CA_VOWEL = re.compile(r"h?[aeiouàèéíïòóúü]", re.IGNORECASE)
#: ... except i or u before a vowel, a consonant sound ("de iogurt", "de Huelva")
_CA_SEMIVOWEL = re.compile(r"h?[iu][aeiouàèéíòóú]", re.IGNORECASE)
#: a number as the report writes it (ca groups thousands with a dot) or bare digits
_CA_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+(?!\d)|\d+")


def catalan_vowel_sound(text: str) -> bool:
    """Whether ``text``, read aloud in Catalan, starts with a vowel sound (so ``de``/``el`` before it are
    elided). A number does when its name does: 1 ("u"), 11 ("onze"), 11.000 ("onze mil"), 1.000.000
    ("un milió"), not 1.000 ("mil") or 8 ("vuit"); a leading zero is read "zero"."""
    text = text.lstrip()
    number = _CA_NUMBER.match(text)
    if number is not None:
        digits = number.group(0).replace(".", "")
        if len(digits) > 1 and digits[0] == "0":
            return False
        groups = -(-len(digits) // 3)
        lead = int(digits[: len(digits) - 3 * (groups - 1)])
        return lead == 11 or (lead == 1 and groups in (1, 3))
    return bool(_CA_VOWEL.match(text)) and not _CA_SEMIVOWEL.match(text)


class Translator:
    """One language's messages, catalogue texts and number and date formats."""

    __slots__ = ("_locale", "_texts", "_tr", "lang", "locale")

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"--lang {lang}: expected one of {', '.join(LANGS)}")
        self.lang = lang
        self.locale = LOCALES[lang]
        self._locale = Locale.parse(self.locale)
        self._tr: _gettext.NullTranslations
        if lang == "en":
            self._tr = _gettext.NullTranslations()
            self._texts: Mapping[str, Mapping[str, str]] = {}
        else:
            self._tr = _po_translations(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", self.locale)
            self._texts = _control_texts(lang)

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    # -- messages

    def gettext(self, message: str) -> str:
        return self._tr.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._tr.ngettext(singular, plural, n)

    def language_name(self, lang: str | None = None) -> str:
        """The name of ``lang`` (default: this translator's language) in this language."""
        code = lang or self.lang
        if code not in LANG_NAMES:
            raise ValueError(f"--lang {code}: expected one of {', '.join(LANGS)}")
        return self.gettext(LANG_NAMES[code])

    def control(self, control_id: str, field: str, default: str) -> str:
        """The catalogue text ``field`` of a control in this language; ``default`` (English) when absent."""
        if field not in FIELDS:
            raise ValueError(f"field {field!r}: expected one of {', '.join(FIELDS)}")
        return self._texts.get(control_id, {}).get(field, default)

    def elide(self, message: str, variables: Mapping[str, Any]) -> str:
        """``message`` (translated, with ``%(name)s`` placeholders) with Catalan elision before each
        placeholder whose value starts with a vowel sound: ``de``/``el``/``del``/``al`` become
        ``d'``/``l'``/``de l'``/``a l'`` ("l'1 de nov.", "d'11", "hora d'Europe/Madrid"). Other languages:
        ``message`` unchanged."""
        if self.lang != "ca" or "%(" not in message:
            return message

        def fix(match: re.Match[str]) -> str:
            word, name = match.group(1), match.group(2)
            if name not in variables or not catalan_vowel_sound(str(variables[name])):
                return match.group(0)
            elided = _CA_ELIDED[word.lower()]
            if word[0].isupper():
                elided = elided[0].upper() + elided[1:]
            return f"{elided}%({name})s"

        return _CA_ELIDABLE.sub(fix, message)

    # -- formats

    def number(self, value: float | int | None, digits: int = 1) -> str:
        """``value`` rounded to at most ``digits`` decimals, grouped by the locale (1,234.5 / 1.234,5)."""
        if value is None:
            return NONE
        pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
        rounded = round(float(value), digits) or 0.0  # no "-0"
        return babel_numbers.format_decimal(rounded, format=pattern, locale=self._locale)

    def percent(self, value_pct: float | None) -> str:
        """A percentage given in percent (87.5 -> 87.5% / 87,5 %), at most one decimal."""
        if value_pct is None:
            return NONE
        pattern = self._locale.percent_formats[None].pattern.replace("#,##0", "#,##0.#", 1)
        rounded = round(float(value_pct), 1) or 0.0
        return babel_numbers.format_percent(rounded / 100, format=pattern, locale=self._locale)

    def date(self, value: _date | _datetime | str | None, zone: str | None = None) -> str:
        """A day in the locale's medium form; an aware datetime is first taken to ``zone``."""
        if value is None:
            return NONE
        day = _parse_instant(value, "date")
        if isinstance(day, _datetime):
            day = _in_zone(day, zone).date()
        return babel_dates.format_date(day, format="medium", locale=self._locale)

    def datetime(self, value: _datetime | str | None, zone: str | None = None) -> str:
        """A date and time (minutes) in the locale's medium form, in ``zone`` (the value's own when None)."""
        if value is None:
            return NONE
        instant = _parse_instant(value, "date-time")
        if not isinstance(instant, _datetime):
            instant = _datetime(instant.year, instant.month, instant.day, tzinfo=UTC)
        instant = _in_zone(instant, zone)
        loc = self._locale
        pattern = (
            str(loc.datetime_formats["medium"])
            .replace("{1}", loc.date_formats["medium"].pattern)
            .replace("{0}", loc.time_formats["short"].pattern)
        )
        return babel_dates.format_datetime(instant, format=pattern, tzinfo=instant.tzinfo, locale=loc)


def _eliding_callables(tr: Translator) -> dict[str, Callable[..., str]]:
    """Jinja2's new-style ``gettext`` and ``ngettext`` (format with the block's variables, escaped when
    autoescaping), with :meth:`Translator.elide` applied to the translated message first."""
    from jinja2 import pass_context
    from markupsafe import Markup

    def fill(context: Any, message: str, variables: dict[str, Any]) -> str:
        message = tr.elide(message, variables)
        # as Jinja2's own new-style gettext: the catalogue's message is markup, the values are escaped by %
        text: str = Markup(message) if context.eval_ctx.autoescape else message  # noqa: S704
        return text % variables

    @pass_context
    def gettext(__context: Any, __string: str, **variables: Any) -> str:
        return fill(__context, tr.gettext(__string), variables)

    @pass_context
    def ngettext(__context: Any, __singular: str, __plural: str, __num: int, **variables: Any) -> str:
        variables.setdefault("num", __num)
        return fill(__context, tr.ngettext(__singular, __plural, __num), variables)

    return {"gettext": gettext, "ngettext": ngettext}


@functools.cache
def translator(lang: str) -> Translator:
    """The (cached) translator of ``lang``; ValueError naming ``--lang`` for any other language."""
    return Translator(lang)


def install(env: Any, tr: Translator, *, zone: str | None = None) -> None:
    """Give a Jinja2 environment ``tr``'s gettext (``_``, ``gettext``, ``ngettext``, ``{% trans %}``) and
    the filters ``number``, ``percent``, ``date`` and ``datetime`` (dates in ``zone`` unless a filter
    names another)."""
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = JINJA_OPTIONS["trimmed"] == "true"
    env.install_gettext_callables(tr.gettext, tr.ngettext, newstyle=True)
    if tr.lang == "ca":  # the article or preposition before a placeholder depends on its value
        env.globals.update(_eliding_callables(tr))

    def date_filter(value: _date | _datetime | str | None, zone_: str | None = None) -> str:
        return tr.date(value, zone_ or zone)

    def datetime_filter(value: _datetime | str | None, zone_: str | None = None) -> str:
        return tr.datetime(value, zone_ or zone)

    filters: dict[str, Callable[..., str]] = {
        "number": tr.number,
        "percent": tr.percent,
        "date": date_filter,
        "datetime": datetime_filter,
    }
    env.filters.update(filters)


# ------------------------------------------------------------------------------------------ catalogues


#: gettext's usual plural rule for Spanish and Catalan (CLDR's third "many" form is not used)
_PLURALS = (2, "(n != 1)")


def _new_catalog(locale: str | None) -> Catalog:
    catalog = Catalog(
        locale=locale,
        domain=DOMAIN,
        project="maint",
        version="1",
        msgid_bugs_address="the maint issue tracker",
        copyright_holder="maint contributors",
        creation_date=_HEADER_DATE,
        revision_date=_HEADER_DATE,
        last_translator="maint contributors",
        language_team=f"{locale} <maint>" if locale else "LANGUAGE <maint>",
        header_comment=(
            "# Messages of the maint reports.\n"
            "# Re-extract with `python -m runner.report.i18n extract`; check with `... check`."
        ),
        fuzzy=False,
    )
    if locale is not None:
        catalog._num_plurals = _PLURALS[0]  # type: ignore[assignment]
        catalog._plural_expr = _PLURALS[1]  # type: ignore[assignment]
    return catalog


def _sources(templates: Path, code: Path) -> Iterable[tuple[str, Path, dict[str, str]]]:
    for path in sorted(templates.glob("*.j2")):
        yield "jinja2.ext:babel_extract", path, JINJA_OPTIONS
    for path in sorted(code.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield "python", path, {}


def _parse_template(path: Path) -> None:
    """Jinja2's extractor skips a template it cannot parse without a word: parse it first, so a syntax
    error stops the extraction (and the check) instead of leaving its messages out."""
    import jinja2

    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    env.policies["ext.i18n.trimmed"] = JINJA_OPTIONS["trimmed"] == "true"
    try:
        env.parse(path.read_text(encoding="utf-8"), path.name, str(path))
    except OSError as exc:
        raise ValueError(f"{_show(path)}: cannot be read: {exc.strerror or exc}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"{_show(path)}:{exc.lineno}: template syntax error: {exc.message}") from exc


def extract(templates: Path = TEMPLATES_DIR, code: Path = _HERE) -> Catalog:
    """Every message of the templates and the report code, as a template catalogue (in memory)."""
    catalog = _new_catalog(None)
    for method, path, options in _sources(templates, code):
        where = _show(path)
        if method != "python":
            _parse_template(path)
        for lineno, message, comments, context in extract_from_file(
            method,
            str(path),
            keywords=KEYWORDS,
            comment_tags=COMMENT_TAGS,
            options=options,
            strip_comment_tags=True,
        ):
            catalog.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> bool:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, include_lineno=False, ignore_obsolete=True, sort_by_file=True)
    data = buf.getvalue()
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def _read(path: Path, locale: str | None) -> Catalog:
    try:
        with path.open("rb") as fp:
            return read_po(fp, locale=locale, domain=DOMAIN)
    except OSError as exc:
        raise ValueError(f"{_show(path)}: cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:
        raise ValueError(f"{_show(path)}: is not a valid .po file: {exc}") from exc


def write_catalogues(locale_dir: Path = LOCALE_DIR, template: Catalog | None = None) -> list[Path]:
    """Write ``messages.pot`` and merge it into each language's ``.po`` under ``locale_dir`` (translations
    kept, new messages empty, changed ones fuzzy); the files that changed."""
    pot = template if template is not None else extract()
    changed: list[Path] = []
    if _write(pot, locale_dir / "messages.pot"):
        changed.append(locale_dir / "messages.pot")
    for lang in LANGS[1:]:
        path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        po = _read(path, lang) if path.is_file() else _new_catalog(lang)
        po.update(pot, update_header_comment=False)
        po.creation_date = _HEADER_DATE
        po.revision_date = _HEADER_DATE
        po.fuzzy = False
        if _write(po, path):
            changed.append(path)
    return changed


def _key(message: Message) -> tuple[str, str | None]:
    mid = message.id
    return (mid[0] if isinstance(mid, (list, tuple)) else mid, message.context)


def check_messages(locale_dir: Path = LOCALE_DIR, template: Catalog | None = None) -> list[str]:
    """One line per message of the templates and code with no usable translation in a language."""
    pot = template if template is not None else extract()
    problems: list[str] = []
    for lang in LANGS[1:]:
        path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        po = _read(path, lang) if path.is_file() else _new_catalog(lang)
        for message in pot:
            if not message.id:
                continue
            mid, ctx = _key(message)
            found = po.get(message.id, ctx)
            strings = found.string if found is not None else None
            values = list(strings) if isinstance(strings, (list, tuple)) else [strings]
            if found is None:
                problems.append(f"{lang}: missing (run extract): {mid!r}")
            elif found.fuzzy:
                problems.append(f"{lang}: fuzzy: {mid!r}")
            elif not all(values):
                problems.append(f"{lang}: untranslated: {mid!r}")
    return problems


def check_catalogue(directory: Path = CATALOGUE_I18N_DIR) -> list[str]:
    """One line per control text (title, rationale, remediation) missing in Spanish or Catalan, per
    unknown control, and per translation whose `code` spans differ from the English text's."""
    from runner.catalogue import load

    cat = load()
    problems: list[str] = []
    for lang in LANGS[1:]:
        texts = read_control_texts(directory / f"{lang}.yml")
        for cid in sorted(set(texts) - set(cat.controls)):
            problems.append(f"{lang}: {cid}: not a control of the catalogue")
        for cid, spec in cat.controls.items():
            entry = texts.get(cid, {})
            for field in FIELDS:
                text = entry.get(field)
                if text is None:
                    if spec.retired is None:
                        problems.append(f"{lang}: {cid}: {field} missing")
                    continue
                english = getattr(spec, field)
                if sorted(_CODE.findall(english)) != sorted(_CODE.findall(text)):
                    problems.append(f"{lang}: {cid}: {field}: `code` spans differ from the English text")
    return problems


# ------------------------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.report.i18n", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ext = sub.add_parser("extract", help="re-extract messages.pot and merge it into every .po")
    ext.add_argument("--output", type=Path, default=LOCALE_DIR, help="locale folder (default: the package's)")
    chk = sub.add_parser("check", help="list untranslated or fuzzy messages; exit 1 if any")
    chk.add_argument("--catalogue", action="store_true", help="check the control translations instead")
    args = parser.parse_args(argv)
    try:
        if args.command == "extract":
            pot = extract()
            changed = write_catalogues(args.output, pot)
            for path in changed:
                print(f"wrote {_show(path)}")
            if not changed:
                print("catalogues up to date")
            problems = check_messages(args.output, pot)
            if problems:
                print(f"{len(problems)} message(s) to translate: python -m runner.report.i18n check")
            return 0
        problems = check_catalogue() if args.catalogue else check_messages()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    what = "control texts" if args.catalogue else "messages"
    if problems:
        print(f"{len(problems)} problem(s) in the {what}", file=sys.stderr)
        return 1
    print(f"all {what} translated in {', '.join(LANGS[1:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
