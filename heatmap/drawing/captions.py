"""The words burned into exported legends, in English and Japanese (the teams using this work in both)."""

from __future__ import annotations

LANGUAGES = ("en", "ja")

LEGEND: dict[str, dict[str, str]] = {
    "en": {
        "title.attention": "Attention: average seconds per page view each part of the page was on screen",
        "title.reach": "Scroll reach: share of page views that reached each depth",
        "title.clicks": "Clicks: smoothed clicks per 1,000 page views",
        "title.difference.reach": "Scroll reach difference B − A; only bands significant at a {fdr:.0%} false discovery "
        "rate are coloured",
        "title.difference.attention": "Attention difference B − A (seconds per page view); only bands significant at a "
        "{fdr:.0%} false discovery rate are coloured",
        "title.difference.clicks": "Click difference B − A (clicks per 1,000 page views, regions of 10 % × 100 px); only "
        "regions significant at a {fdr:.0%} false discovery rate are coloured",
        "test.reach": "Two-proportion z-test per band",
        "test.attention": "Welch's t-test per band",
        "test.clicks": "Exact Poisson rate test per region",
        "test.line": "{test}, Benjamini–Hochberg over {m} tested {units}; n = A {a:,} · B {b:,} page views",
        "units.band": "bands",
        "units.region": "regions",
        "untested.no_seconds_sq": "Not tested: these exports carry no seconds² (hm_seconds_sq, sent by the tag since "
        "it measures spread), so attention differences are descriptive",
        "untested.few_views": "Not tested: fewer than {min:,} page views saw each band on both sides",
        "untested.no_variance": "Not tested: no variation in seconds on either side",
        "page": "Page: {page}",
        "dates": "Dates: {start} – {end}",
        "segment": "Segment: {segment}",
        "all_visitors": "all visitors",
        "page_views": "n = {n:,} page views",
        "ga_folded": "GA folded {share} of these heatmap events into (other): less-visited pages and cells undercounted",
        "clicks": ", {clicks:,} clicks",
        "scale": "Colour scale: {scale}, opacity {opacity:.0%}",
        "smooth": ", smoothed between band centres",
        "exact": ", one colour per band",
        "scale.max": "relative to the maximum",
        "scale.fixed": "fixed ceiling",
        "scale.p99": "clamped at the 99th percentile",
        "scale.reach": "fixed 0–100 %",
        "scale.difference.reach": "±{limit:.1%}",
        "scale.difference.attention": "±{limit:.3g} s per page view",
        "scale.difference.clicks": "±{limit:.3g} clicks per 1,000 page views",
        "low.reach": "0 % of page views",
        "high.reach": "100 %",
        "low.attention": "0 s",
        "high.attention": "≥ {vmax:.3g} s per page view",
        "low.clicks": "0",
        "high.clicks": "≥ {vmax:.3g} clicks per 1,000 page views",
        "low.difference.reach": "B lower by {limit:.1%}",
        "high.difference.reach": "B higher by {limit:.1%}",
        "low.difference.attention": "B lower by {limit:.3g} s",
        "high.difference.attention": "B higher by {limit:.3g} s",
        "low.difference.clicks": "B lower by {limit:.3g}",
        "high.difference.clicks": "B higher by {limit:.3g} per 1,000 views",
        "line.reached": "{level:.0%} reached",
        "line.fold": "fold",
        "warning.off": "The shift moves the data entirely off the screenshot; reduce the shift.",
        "warning.deeper": "The data reaches {data_px:,} px down the page but the screenshot covers {covered:,.0f} px: "
        "the deeper data is not shown. Check the device-pixel ratio, the CSS width and the shift.",
        "warning.shorter": "The data reaches only {data_px:,} px down the page but the screenshot covers {covered:,.0f} "
        "px. Check the device-pixel ratio, the CSS width and the shift (or the page is longer in the screenshot than "
        "for visitors).",
    },
    "ja": {
        "title.attention": "注目度：ページの各部分が画面に表示されていた、ページビューあたりの平均秒数",
        "title.reach": "スクロール到達率：各深さまで到達したページビューの割合",
        "title.clicks": "クリック：1,000 ページビューあたりのクリック数（平滑化）",
        "title.difference.reach": "スクロール到達率の差 B − A：偽発見率 {fdr:.0%} で有意な帯のみ着色",
        "title.difference.attention": "注目度の差 B − A（ページビューあたり秒数）：偽発見率 {fdr:.0%} で有意な帯のみ着色",
        "title.difference.clicks": "クリックの差 B − A（1,000 ページビューあたり、10 % × 100 px の領域）：偽発見率 {fdr:.0%} "
        "で有意な領域のみ着色",
        "test.reach": "帯ごとの 2 標本比率の z 検定",
        "test.attention": "帯ごとの Welch の t 検定",
        "test.clicks": "領域ごとのポアソン率の正確検定",
        "test.line": "{test}、検定した {m} {units}に Benjamini–Hochberg；n = A {a:,} · B {b:,} ページビュー",
        "units.band": "帯",
        "units.region": "領域",
        "untested.no_seconds_sq": "検定なし：このエクスポートには秒数の二乗（hm_seconds_sq）がないため、注目度の差は参考値です",
        "untested.few_views": "検定なし：両側で各帯を見たページビューが {min:,} 件未満です",
        "untested.no_variance": "検定なし：どちらの側にも秒数のばらつきがありません",
        "page": "ページ：{page}",
        "dates": "期間：{start} – {end}",
        "segment": "セグメント：{segment}",
        "all_visitors": "すべての訪問者",
        "page_views": "n = {n:,} ページビュー",
        "ga_folded": "GA がこのヒートマップ イベントの {share} を (other) にまとめました（閲覧の少ないページ・セルは過少）",
        "clicks": "、クリック {clicks:,} 回",
        "scale": "色の尺度：{scale}、不透明度 {opacity:.0%}",
        "smooth": "、帯の中心の間をなめらかに補間",
        "exact": "、帯ごとに一色",
        "scale.max": "最大値に対する相対値",
        "scale.fixed": "固定の上限",
        "scale.p99": "99 パーセンタイルで上限",
        "scale.reach": "0–100 % 固定",
        "scale.difference.reach": "±{limit:.1%}",
        "scale.difference.attention": "±{limit:.3g} 秒/ページビュー",
        "scale.difference.clicks": "1,000 ページビューあたり ±{limit:.3g} 回",
        "low.reach": "ページビューの 0 %",
        "high.reach": "100 %",
        "low.attention": "0 秒",
        "high.attention": "ページビューあたり {vmax:.3g} 秒以上",
        "low.clicks": "0",
        "high.clicks": "1,000 ページビューあたり {vmax:.3g} 回以上",
        "low.difference.reach": "B が {limit:.1%} 低い",
        "high.difference.reach": "B が {limit:.1%} 高い",
        "low.difference.attention": "B が {limit:.3g} 秒短い",
        "high.difference.attention": "B が {limit:.3g} 秒長い",
        "low.difference.clicks": "B が {limit:.3g} 少ない",
        "high.difference.clicks": "B が {limit:.3g} 多い（1,000 ビューあたり）",
        "line.reached": "{level:.0%} 到達",
        "line.fold": "ファーストビュー",
        "warning.off": "シフトでデータがスクリーンショットの外に出ています。シフトを小さくしてください。",
        "warning.deeper": "データはページの {data_px:,} px まで届いていますが、スクリーンショットは {covered:,.0f} px までです。"
        "深い部分のデータは表示されません。デバイスピクセル比、CSS 幅、シフトを確認してください。",
        "warning.shorter": "データはページの {data_px:,} px までしか届いていませんが、スクリーンショットは {covered:,.0f} px "
        "あります。デバイスピクセル比、CSS 幅、シフトを確認してください（または、スクリーンショットのページが訪問者の見たページより長い）。",
    },
}


def folded_percent(share: float) -> str:
    """GA's folded share as shown: a trace of folding still shows, never as 0.0 %."""
    return "< 0.1 %" if share < 0.001 else f"{share:.1%}".replace("%", " %")


def legend_text(language: str, key: str, **values: object) -> str:
    """One legend phrase in `language` (English when the language is unknown)."""
    table = LEGEND.get(language, LEGEND["en"])
    return table[key].format(**values)
