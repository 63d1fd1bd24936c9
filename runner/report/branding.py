"""The MSP's branding on every report: name, logo, colours and contact details, from ``inventories/msp.yml``.

```yaml
name: Demo MSP
logo: msp-logo.svg          # relative to this file; SVG or PNG, at most 256 KiB
colours: {primary: "#1f4e79", accent: "#2e86c1", text: "#1b1b1b"}
email: support@demo-msp.example
phone: "+34 900 000 000"
website: demo-msp.example   # shown as text, without its scheme
```

Every key is optional; the file itself is optional (defaults: name ``maint``, no logo, a sober blue
palette). A bad file is one :class:`BrandingError` line naming the file and the key. The logo is embedded in
:meth:`Msp.as_dict` as a ``data:`` URI, so an HTML report stays one self-contained file.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runner import paths, safeyaml

FILE_NAME = "msp.yml"
#: largest logo embedded in a report
MAX_LOGO_BYTES = 256 * 1024
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class BrandingError(ValueError):
    """``inventories/msp.yml: colours.primary: expected #rrggbb, got 'blue'`` (one line)."""


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when below it (``inventories/msp.yml``)."""
    try:
        if path.resolve().is_relative_to(Path.cwd().resolve()):
            return os.path.relpath(path)
    except (OSError, ValueError):
        pass
    return str(path)


def _colour(value: Any) -> str:
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise ValueError(f"expected #rrggbb, got {value!r}")
    return value.lower()


class Colours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: str = "#1f4e79"
    accent: str = "#2e86c1"
    text: str = "#1b1b1b"

    @field_validator("primary", "accent", "text", mode="before")
    @classmethod
    def _check(cls, value: Any) -> str:
        return _colour(value)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    if not text:
        raise ValueError("expected a non-empty text")
    if len(text) > limit:
        raise ValueError(f"expected at most {limit} characters, got {len(text)}")
    return text


class Msp(BaseModel):
    """The MSP as reports show it. ``logo`` is an absolute path (checked to exist and be SVG or PNG)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "maint"
    logo: Path | None = None
    colours: Colours = Field(default_factory=Colours)
    email: str | None = None
    phone: str | None = None
    website: str | None = None

    @field_validator("name", "email", "phone", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str | int):
            raise ValueError(f"expected a text, got {type(value).__name__}")
        return _one_line(str(value))

    @field_validator("website", mode="before")
    @classmethod
    def _website(cls, value: Any) -> str | None:
        """Kept without its scheme: a report shows it as text and holds no URL."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"expected a text, got {type(value).__name__}")
        return _SCHEME.sub("", _one_line(value)).rstrip("/")

    def logo_uri(self) -> str | None:
        """The logo as a ``data:`` URI (base64), None without a logo."""
        if self.logo is None:
            return None
        data = self.logo.read_bytes()
        return f"data:{_LOGO_TYPES[self.logo.suffix.lower()]};base64,{base64.b64encode(data).decode()}"

    def as_dict(self) -> dict[str, Any]:
        """What a report's JSON form holds under ``msp`` (the logo embedded, never a path)."""
        return {
            "name": self.name,
            "logo": self.logo_uri(),
            "colours": self.colours.model_dump(),
            "email": self.email,
            "phone": self.phone,
            "website": self.website,
        }


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in ("model_type", "model_attributes_type"):
        return "expected a mapping"
    return str(error["msg"])


def _check_logo(value: Any, base: Path, shown: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise BrandingError(f"{shown}: logo: expected a file name, got {value!r}")
    path = (base / value).resolve()
    suffix = path.suffix.lower()
    if suffix not in _LOGO_TYPES:
        raise BrandingError(f"{shown}: logo: expected an .svg or .png file, got {value!r}")
    if not path.is_file():
        raise BrandingError(f"{shown}: logo: file {_shown(path)} not found")
    try:
        data = safeyaml.read_limited(path, MAX_LOGO_BYTES, "logo")
    except safeyaml.TooLargeError as exc:
        raise BrandingError(f"{shown}: logo: {_shown(path)}: {exc}") from None
    except OSError as exc:
        raise BrandingError(f"{shown}: logo: {_shown(path)}: {exc.strerror or exc}") from None
    looks_right = data.startswith(_PNG_MAGIC) if suffix == ".png" else b"<svg" in data[:4096]
    if not looks_right:
        raise BrandingError(f"{shown}: logo: {_shown(path)} is not a {suffix[1:].upper()} image")
    return path


def parse(raw: Any, path: Path) -> Msp:
    """``raw`` (the parsed YAML of ``path``) as an :class:`Msp`; :class:`BrandingError` when it is bad."""
    shown = _shown(path)
    if raw is None:
        return Msp()
    if not isinstance(raw, dict):
        raise BrandingError(f"{shown}: expected a mapping of name, logo, colours, email, phone, website")
    values = dict(raw)
    if values.get("logo") is not None:
        values["logo"] = _check_logo(values["logo"], path.parent, shown)
    try:
        return Msp.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BrandingError(f"{shown}: {_where(first['loc'])}: {_message(first)}") from None


def load_msp(inventories: Path | None = None) -> Msp:
    """``<inventories>/msp.yml`` (default :func:`runner.paths.inventories_dir`); defaults when absent."""
    path = (inventories if inventories is not None else paths.inventories_dir()) / FILE_NAME
    if not path.is_file():
        return Msp()
    try:
        raw = safeyaml.load_file(path)
    except safeyaml.YAMLInputError as exc:
        where = f"{exc.where}: " if exc.where else ""
        raise BrandingError(f"{_shown(path)}: {where}{exc.message}") from None
    except OSError as exc:
        raise BrandingError(f"{_shown(path)}: {exc.strerror or exc}") from None
    return parse(raw, path)
