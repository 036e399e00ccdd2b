"""Plots on lab pages: out of the HTML, as lossless WebP files that load when scrolled near.

nbconvert inlines every figure as a base64 PNG, so a page shows no text before all its plots have
arrived, and base64 adds a third to their size. Lossless WebP keeps every pixel at about 40 % of the
PNG's bytes; the conversion is cached by content, so a rebuild does not repeat it.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
from pathlib import Path

from PIL import Image

from .paths import CACHE

FOLDER = "assets/images/plots"
_INLINE_PNG = re.compile(r'<img ([^>]*?)src="data:image/png;base64,([^"]+)"([^>]*)>')


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


def extract(html: str, site_dir: str, base: str) -> str:
    """Replace each inline PNG with a WebP file under site/<FOLDER>/, with its size (no layout shift)."""
    target = Path(site_dir) / FOLDER

    def swap(m: re.Match) -> str:
        webp = _webp(base64.b64decode(m.group(2)))
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(webp, target / webp.name)
        width, height = webp.stem.rsplit("-", 1)[1].split("x")
        return (f'<img {m.group(1)}src="{base}{FOLDER}/{webp.name}" width="{width}" height="{height}" '
                f'loading="lazy" decoding="async"{m.group(3)}>')

    return _INLINE_PNG.sub(swap, html)
