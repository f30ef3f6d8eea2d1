"""A QR code as text a terminal shows: half blocks, two rows of modules a line; pure (the qrcode package, no image)."""
from __future__ import annotations

import qrcode

# Keyed by (top dark, bottom dark): the light modules are drawn, for a terminal's dark background, so the
# code reads dark on light as every phone's scanner expects (an inverted code fails on some).
_GLYPH = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}


def qr_text(data: str) -> str:
    """`data` as a QR code, quiet zone included, for light text on a dark background."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    code.make(fit=True)
    m = code.get_matrix()
    if len(m) % 2:
        m.append([False] * len(m[0]))
    return "\n".join("".join(_GLYPH[(a, b)] for a, b in zip(top, bottom)) for top, bottom in zip(m[::2], m[1::2]))
