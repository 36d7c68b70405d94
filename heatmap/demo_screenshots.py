"""Synthetic full-page screenshots for the demo pages, drawn from the same layout as the demo data."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from heatmap.demo import DEVICES, PAGES, DemoPage, page_height


def screenshot_name(path: str, device: str) -> str:
    slug = path.strip("/").replace("/", "_") or "home"
    return f"{slug}__{device}.png"


def draw_page(page: DemoPage, device: str) -> Image.Image:
    css_width, dpr, _share = DEVICES[device]
    width, height = css_width * dpr, page_height(page, device) * dpr
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=28 * dpr if css_width > 500 else 20 * dpr)
    text_font = ImageFont.load_default(size=14 * dpr)
    margin = int(width * 0.06)
    for section in page.sections:
        top, bottom = int(section.top * height), int(section.bottom * height)
        draw.rectangle((0, top, width, bottom), fill=section.colour)
        draw.line((0, top, width, top), fill=(200, 200, 210), width=dpr)
        draw.text((margin, top + 24 * dpr), section.name, fill=(40, 40, 60), font=title_font)
        line_y = top + 80 * dpr
        while line_y < bottom - 30 * dpr:
            length = width - 2 * margin - ((line_y // (7 * dpr)) % 5) * margin
            draw.rounded_rectangle(
                (margin, line_y, margin + length, line_y + 10 * dpr), radius=4 * dpr, fill=(205, 208, 215)
            )
            line_y += 28 * dpr
    for button in page.buttons:
        cx, cy = int(button.x * width), int(button.y * height)
        half_w, half_h = int(min(width * 0.18, 150 * dpr)), 22 * dpr
        draw.rounded_rectangle(
            (cx - half_w, cy - half_h, cx + half_w, cy + half_h), radius=10 * dpr, fill=(37, 99, 235)
        )
        draw.text((cx, cy), button.label, fill=(255, 255, 255), font=text_font, anchor="mm")
    return image


def write_screenshots(folder: str | os.PathLike[str]) -> list[Path]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in PAGES:
        for device in DEVICES:
            path = out / screenshot_name(page.path, device)
            draw_page(page, device).save(path, format="PNG", optimize=False, compress_level=6)
            written.append(path)
    return written
