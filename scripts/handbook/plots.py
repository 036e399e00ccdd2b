"""Plots on lab pages: out of the HTML, as lossless WebP files that load when scrolled near.

nbconvert inlines every figure as a base64 PNG, so a page shows no text before all its plots have
arrived, and base64 adds a third to their size. Lossless WebP keeps every pixel at about 40 % of the
PNG's bytes; the conversion is cached by content, so a rebuild does not repeat it.
"""
from __future__ import annotations

import base64
import hashlib
import io
import shutil
from pathlib import Path

from PIL import Image

from .paths import CACHE

FOLDER = "assets/images/plots"
_INLINE_PNG = "data:image/png;base64,"


def _webp(png: bytes) -> Path:
    """The cached WebP for this PNG, named <hash>-<width>x<height>.webp."""
    digest = hashlib.sha256(png).hexdigest()[:16]
    cached = next((CACHE / "plots").glob(f"{digest}-*.webp"), None)
    if cached:
        return cached
    image = Image.open(io.BytesIO(png))
    out = io.BytesIO()
    image.save(out, "WEBP", lossless=True)
    cached = CACHE / "plots" / f"{digest}-{image.width}x{image.height}.webp"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(out.getvalue())
    return cached


def extract(soup, base: str) -> list[str]:
    """Replace each inline PNG of a parsed page with its WebP file, sized (no layout shift) and lazy; the
    names of the files, which `publish` copies into the site."""
    names = []
    for img in soup.find_all("img", src=lambda src: bool(src) and src.startswith(_INLINE_PNG)):
        webp = _webp(base64.b64decode(img["src"][len(_INLINE_PNG):]))
        width, height = webp.stem.rsplit("-", 1)[1].split("x")
        img["src"] = f"{base}{FOLDER}/{webp.name}"
        img.attrs.update(width=width, height=height, loading="lazy", decoding="async")
        names.append(webp.name)
    return names


def publish(names: list[str], site_dir: str) -> None:
    target = Path(site_dir) / FOLDER
    for name in names:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CACHE / "plots" / name, target / name)
