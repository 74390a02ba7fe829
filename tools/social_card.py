"""Draw docs/_static/social-card.png, the image a shared link shows (og:image).

One static card for the whole site (docs/conf.py: ``ogp_image``), drawn once with
matplotlib and committed, so a build draws nothing and fetches nothing. Run it again after
changing the title or the monogram (docs/_static/favicon.svg draws the same one)::

    .venv/bin/python tools/social_card.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "_static" / "social-card.png"
BLUE, INK, MUTED = "#1f5fa8", "#1a2330", "#48566b"


def draw(out: Path = OUT) -> None:
    fig = plt.figure(figsize=(12, 6.3), dpi=100)  # 1200 x 630 px, the usual card size
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1200)
    ax.set_ylim(0, 630)
    ax.axis("off")
    ax.add_patch(Rectangle((0, 0), 1200, 630, color="#f4f6f9"))
    ax.add_patch(Rectangle((0, 0), 1200, 18, color=BLUE))
    # the monogram of favicon.svg (a 32-unit square), 5 px a unit, y flipped
    s, x0, y0 = 5, 90, 390
    line = 3.4 * s * 0.75  # stroke width in points
    ax.add_patch(FancyBboxPatch((x0, y0), 32 * s, 32 * s,
                                boxstyle=f"round,pad=0,rounding_size={6 * s}", color=BLUE))
    ax.add_patch(Rectangle((x0 + 6 * s, y0 + 8 * s), 4 * s, 16 * s, color="white"))
    ax.add_patch(Circle((x0 + 19.5 * s, y0 + 16.5 * s), 6.2 * s, fill=False, ec="white",
                        lw=line))
    ax.plot([x0 + 22.5 * s, x0 + 26.5 * s], [y0 + 12.5 * s, y0 + 7.5 * s], color="white",
            lw=line, solid_capstyle="round")
    font = {"family": "DejaVu Sans"}
    ax.text(90, 300, "US Forces in Iraq", fontsize=64, fontweight="bold", color=INK, **font)
    ax.text(90, 215, "A Reference Handbook", fontsize=40, color=INK, **font)
    ax.text(90, 110, "The US military presence in Iraq, 2003 to today:\nmissions, troop "
            "levels, sources and a fact register", fontsize=24, color=MUTED, linespacing=1.4,
            **font)
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)


if __name__ == "__main__":
    draw()
