"""The words burned into exported legends, in English and Japanese (the teams using this work in both)."""

from __future__ import annotations

LANGUAGES = ("en", "ja")

LEGEND: dict[str, dict[str, str]] = {
    "en": {
        "title.attention": "Attention: average seconds per page view each part of the page was on screen",
        "title.reach": "Scroll reach: share of page views that reached each depth",
        "title.clicks": "Clicks: smoothed clicks per 1,000 page views",
        "title.difference": "Reach difference B − A; only bands significant at a 5 % false discovery rate are coloured",
        "page": "Page: {page}",
        "dates": "Dates: {start} – {end}",
        "segment": "Segment: {segment}",
        "all_visitors": "all visitors",
        "page_views": "n = {n:,} page views",
        "clicks": ", {clicks:,} clicks",
        "scale": "Colour scale: {scale}, opacity {opacity:.0%}",
        "scale.max": "relative to the maximum",
        "scale.fixed": "fixed ceiling",
        "scale.p99": "clamped at the 99th percentile",
        "scale.reach": "fixed 0–100 %",
        "scale.difference": "±{limit:.1%}",
        "low.reach": "0 % of page views",
        "high.reach": "100 %",
        "low.attention": "0 s",
        "high.attention": "≥ {vmax:.3g} s per page view",
        "low.clicks": "0",
        "high.clicks": "≥ {vmax:.3g} clicks per 1,000 page views",
        "low.difference": "B lower by {limit:.1%}",
        "high.difference": "B higher by {limit:.1%}",
    },
    "ja": {
        "title.attention": "注目度：ページの各部分が画面に表示されていた、ページビューあたりの平均秒数",
        "title.reach": "スクロール到達率：各深さまで到達したページビューの割合",
        "title.clicks": "クリック：1,000 ページビューあたりのクリック数（平滑化）",
        "title.difference": "到達率の差 B − A：偽発見率 5 % で有意な帯のみ着色",
        "page": "ページ：{page}",
        "dates": "期間：{start} – {end}",
        "segment": "セグメント：{segment}",
        "all_visitors": "すべての訪問者",
        "page_views": "n = {n:,} ページビュー",
        "clicks": "、クリック {clicks:,} 回",
        "scale": "色の尺度：{scale}、不透明度 {opacity:.0%}",
        "scale.max": "最大値に対する相対値",
        "scale.fixed": "固定の上限",
        "scale.p99": "99 パーセンタイルで上限",
        "scale.reach": "0–100 % 固定",
        "scale.difference": "±{limit:.1%}",
        "low.reach": "ページビューの 0 %",
        "high.reach": "100 %",
        "low.attention": "0 秒",
        "high.attention": "ページビューあたり {vmax:.3g} 秒以上",
        "low.clicks": "0",
        "high.clicks": "1,000 ページビューあたり {vmax:.3g} 回以上",
        "low.difference": "B が {limit:.1%} 低い",
        "high.difference": "B が {limit:.1%} 高い",
    },
}


def legend_text(language: str, key: str, **values: object) -> str:
    """One legend phrase in `language` (English when the language is unknown)."""
    table = LEGEND.get(language, LEGEND["en"])
    return table[key].format(**values)
