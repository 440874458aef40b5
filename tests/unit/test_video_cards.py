"""The title-card cache key (pure): the same settings give the same key, and everything
that changes a card's pixels changes it."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import CardSpec
from pipeline.video.cards import build_card_key, card_frames

BASE = CardSpec(lines=["Riverside Clinic", "Level 2"], duration_s=3.0)


def key(spec: CardSpec = BASE, size_px: tuple[int, int] = (1920, 1080), fps: float = 30.0, **extra: object) -> str:
    options = {"font": None, "image_digest": None, **extra}
    return build_card_key(spec, size_px, fps, **options)  # type: ignore[arg-type]


def test_same_settings_same_key() -> None:
    assert key() == key(CardSpec(lines=["Riverside Clinic", "Level 2"], duration_s=3.0))
    # Colour spellings that mean the same colour are the same card.
    assert key(BASE.model_copy(update={"text_color": "white"})) == key(BASE.model_copy(update={"text_color": "#ffffff"}))


def test_every_visible_setting_changes_the_key() -> None:
    variants = [
        key(BASE.model_copy(update={"lines": ["Riverside Clinic"]})),
        key(BASE.model_copy(update={"duration_s": 4.0})),
        key(BASE.model_copy(update={"background": "navy"})),
        key(BASE.model_copy(update={"text_color": "yellow"})),
        key(BASE.model_copy(update={"font_size_px": 60})),
        key(size_px=(1280, 720)),
        key(fps=25.0),
        key(font="/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
        key(image_digest="ab" * 32),
    ]
    assert len(set(variants + [key()])) == len(variants) + 1
    # The image's bytes count, not its name: a path alone does not change the key.
    assert key(BASE.model_copy(update={"background_image": Path("/a.png")})) == key()


def test_card_length_is_whole_frames() -> None:
    assert card_frames(3.0, 30.0) == 90
    assert card_frames(2.0, 29.97) == 60
    assert card_frames(0.01, 25.0) == 1
