"""All UI text in English and Japanese. Pure: no Streamlit here.

Keys are dotted (`explore.title`). `Translator(lang)(key, **values)` formats with str.format; a key missing
in Japanese falls back to English, a key missing everywhere shows the key itself (tests keep both complete).
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES: dict[str, str] = {"en": "English", "ja": "日本語"}
DEFAULT_LANGUAGE = "en"

EN: dict[str, str] = {
    "app.name": "Page heatmaps",
    "app.caption": "Attention, scroll reach and clicks from your own Google Analytics exports.",
    "nav.explore": "Explore",
    "nav.compare": "Compare",
    "nav.runs": "Saved runs",
    "nav.health": "Data health",
    "lang.label": "Language",
    "source.demo": "Demo data (bundled sample)",
    "source.label": "Source: {uri}",
    "source.reload": "Reload data",
    "source.reload_help": "Read the export listing again (new AppFlow runs appear within 10 minutes anyway).",
    "load.progress": "Reading exports: {done} / {total} files",
    "load.demo": "Preparing the demo data (first start only)…",
    "load.failed": "The exports could not be read: {error}",
    "load.failed_hint": "Check the source location and the AWS credentials in the app's secrets, then reload.",
    "load.empty": "The source {uri} holds no usable export rows yet.",
    "load.empty_hint": "Check that the AppFlow flow has run and that the source points to its folder; "
    "Data health lists files that could not be read.",
    "settings.bad": "The app settings are not valid: {error}",
    "settings.bad_hint": "Fix the [heatmap] / [fields] sections of the secrets (see secrets.toml.example).",
    "error.unexpected": "Something went wrong (reference {ref}). Try again; if it keeps happening, "
    "send the reference to whoever runs the app.",
    "error.heatmap": "{error}",
    # --- link handling ---
    "link.ignored": "Some settings in the link could not be used and were replaced by defaults: {items}",
    "link.unknown_page": "page not in the data",
    "link.bad_date": "not a date",
    "link.reversed_dates": "start after end",
    "link.dates_outside": "no data in that period",
    "link.dates_clamped": "trimmed to the days with data",
    "link.unknown_value": "unknown value",
    "link.bad_number": "not a valid number",
    "link.ceiling_missing": "fixed ceiling without a value",
    "link.bad_sha": "not a screenshot reference",
    "link.shot_missing": "screenshot not found in the output store",
    "link.unknown_key": "unknown setting",
    "link.run_missing": "saved run not found",
    "link.run_bad": "saved run could not be read",
    "link.bad_mode": "unknown comparison mode",
    # --- explore ---
    "explore.title": "Explore",
    "filters.header": "View",
    "filters.page": "Page",
    "filters.page_help": "Busiest pages first. Type to search.",
    "filters.page_fmt": "{page}  ·  {views} views",
    "filters.dates": "Date range",
    "filters.dates_help": "Days with data: {first} – {last}. Defaults to the last 28 days with data.",
    "filters.segment": "Segment",
    "filters.segment_any": "All",
    "filters.type": "Heatmap",
    "kind.attention": "Attention",
    "kind.reach": "Scroll reach",
    "kind.clicks": "Clicks",
    "dim.deviceCategory": "Device",
    "dim.sessionDefaultChannelGroup": "Channel",
    "dim.newVsReturning": "New vs returning",
    "shot.header": "Screenshot",
    "shot.source": "Screenshot from",
    "shot.upload": "Upload",
    "shot.stored": "Stored before",
    "shot.demo": "Demo screenshot",
    "shot.none": "None (data only)",
    "shot.uploader": "Full-page screenshot (PNG, JPEG or WebP, up to 50 MB)",
    "shot.stored_pick": "Screenshot used before for this page",
    "shot.stored_none": "No screenshot has been saved for this page yet: upload one.",
    "shot.stored_fmt": "{when} · {size} · {sha}",
    "shot.stored_as": "Stored as {key}, so links can reopen it.",
    "shot.not_stored": "The screenshot could not be stored ({error}); the view works, but a link will not "
    "include the picture.",
    "shot.bad": "This file cannot be used as a screenshot: {error}",
    "shot.bad_hint": "Upload a PNG, JPEG or WebP image of the whole page.",
    "shot.info": "{width} × {height} px screenshot · {css_width} CSS px wide at {dpr}× · page {css_height} CSS px",
    "shot.missing": "The screenshot in the link ({sha}) is not in the output store any more; showing the data "
    "without it.",
    "align.header": "Alignment and display",
    "align.dpr": "Device pixel ratio of the screenshot",
    "align.dpr_help": "Screenshot pixels per CSS pixel (a retina capture is 2). The CSS width is the screenshot "
    "width divided by this.",
    "align.shift": "Shift data down (CSS px)",
    "align.shift_help": "Moves the heatmap down (or up, negative) against the screenshot, e.g. for a sticky header.",
    "align.crop_top": "Crop top (screenshot px)",
    "align.crop_bottom": "Crop bottom (screenshot px)",
    "align.crop_help": "Cut browser chrome, a cookie banner or an unrelated footer off the screenshot.",
    "align.ramp": "Colours",
    "ramp.classic": "Classic (blue → red)",
    "ramp.viridis": "Viridis (colour-blind safe)",
    "ramp.cividis": "Cividis (colour-blind safe)",
    "align.opacity": "Opacity",
    "align.scale": "Scale",
    "scale.max": "Relative to the maximum",
    "scale.p99": "Clamp at the 99th percentile",
    "scale.fixed": "Fixed ceiling",
    "align.ceiling": "Ceiling (value shown at full colour)",
    "align.height_mismatch": "The data reaches {data_px} CSS px but the screenshot covers {shot_px} CSS px: "
    "check the device pixel ratio, shift and crop.",
    "align.mixed_devices": "The data mixes devices whose pages have different lengths; choose one device under "
    "Segment to match the screenshot.",
    "n.page_views": "Page views",
    "n.clicks": "Clicks",
    "n.days": "Days",
    "n.fold": "Average fold",
    "n.reach50": "50 % reach at",
    "guard.low": "Only {n} page views match this selection; at least {min} are needed for a reliable map. "
    "Widen the date range or the segment.",
    "guard.none": "No data for this page, period and segment. Widen the date range or remove segment filters.",
    "guard.missing_days": "{count} day(s) in this period have no export ({days}); they are left out, not counted "
    "as zero. See Data health.",
    "map.rendering": "Rendering the heatmap…",
    "map.no_shot": "No screenshot: upload one (or pick one stored before) to see the map on the page.",
    "map.hover_band": "Band {band} ({top}–{bottom} CSS px)",
    "map.hover_reach": "Reach {reach} (95 % CI {low}–{high})",
    "map.hover_seconds": "{seconds} s per view",
    "map.hover_share": "{share} of attention",
    "map.hover_clicks": "{clicks} clicks",
    "map.legend": "Legend",
    "table.header": "Per band",
    "table.band": "Band",
    "table.top": "Top (CSS px)",
    "table.page_views": "Page views",
    "table.reach": "Reach",
    "table.reach_low": "Reach low",
    "table.reach_high": "Reach high",
    "table.seconds": "Seconds per view",
    "table.share": "Attention share",
    "table.clicks": "Clicks",
    "curve.header": "Scroll reach",
    "curve.x": "Depth (CSS px)",
    "curve.y": "Page views reaching it",
    "curve.interval": "95 % interval",
    "save.header": "Save and share",
    "save.button": "Save run",
    "save.saving": "Saving the run…",
    "save.done": "Saved run {run_id}. Written to {output}:",
    "save.blocked": "Nothing to save: the view has no map (too few page views or no data).",
    "save.need_shot": "Upload or pick a screenshot to save a run.",
    "share.header": "Share link",
    "share.help": "Opens exactly this view: page, dates, segment, type, screenshot and display settings.",
    "share.run_help": "Link to the saved run (reopens it exactly, even after the data changes):",
    "download.header": "Download this view (PNG with legend at full resolution, per-band CSV, JSON):",
    "download.png": "PNG",
    "download.csv": "CSV",
    "download.json": "JSON",
    "run.restored": "Opened saved run {run_id} (saved {when} UTC).",
    "run.data_changed": "The data changed since this run was saved: {then} page views then, {now} now. The saved "
    "PNG and CSV keep the numbers of that day (Saved runs).",
    "engine.missing": "This part of the app is not available in this build: {what}.",
    # --- compare ---
    "compare.title": "Compare",
    "compare.mode": "Compare",
    "compare.mode_segments": "Two segments",
    "compare.mode_periods": "Two periods",
    "compare.a": "A",
    "compare.b": "B",
    "compare.segment_a": "Segment A",
    "compare.segment_b": "Segment B",
    "compare.dates_a": "Period A",
    "compare.dates_b": "Period B",
    "compare.diff": "significant bands only (BH 5 %)",
    "compare.diff_none": "No band differs significantly between A and B (Benjamini–Hochberg at 5 %).",
    "compare.diff_attention": "Attention differences are descriptive only (the exports hold no per-view spread of "
    "seconds, so no test is possible); the difference map uses scroll reach.",
    "compare.same_scale": "A and B share one colour scale.",
    "compare.table": "Per band, A vs B",
    "compare.low": "Side {side} has only {n} page views (minimum {min}).",
    "compare.same": "A and B are the same selection: change one of them.",
    "compare.significant": "Bands that differ",
    "compare.significant_help": "Scroll reach, two-proportion test, Benjamini–Hochberg at 5 %.",
    "compare.overlap": "A and B share page views (overlapping segments or periods). The test assumes two separate "
    "groups, so treat the difference map as indicative; pick segments or periods that do not overlap.",
    "compare.overlap_short": "A and B overlap: indicative only.",
    "compare.hover_diff": "Band {band} ({top}–{bottom} CSS px)<br>Reach A {a} % · B {b} %<br>B − A {diff} points "
    "· adjusted p {p}",
    "compare.col_diff": "B − A reach (points)",
    "compare.col_p": "Adjusted p (BH)",
    "compare.col_sig": "Significant",
    "compare.col_attention_diff": "B − A seconds per view (descriptive)",
    # --- saved runs ---
    "runs.title": "Saved runs",
    "runs.filter_page": "Page",
    "runs.all_pages": "All pages",
    "runs.none": "No saved runs yet in {output}. Save one from Explore.",
    "runs.page_of": "Page {page} · {count} runs here · stored in {output}",
    "runs.prev": "Newer",
    "runs.next": "Older",
    "runs.open": "Open",
    "runs.when": "Saved",
    "runs.period": "Period",
    "runs.segment": "Segment",
    "runs.n": "Page views",
    "runs.failed": "The saved runs could not be listed: {error}",
    "runs.failed_hint": "Check the output location and that the credentials may read it.",
    # --- data health ---
    "health.title": "Data health",
    "health.calendar": "Days",
    "health.present": "Present",
    "health.missing": "Missing",
    "health.reexported": "Re-exported (newest execution used)",
    "health.summary": "{days} days with data from {first} to {last} · {missing} missing · {reexported} re-exported "
    "· {objects} export files",
    "health.missing_header": "Missing days",
    "health.missing_none": "No day is missing between the first and the last export.",
    "health.missing_what": "A missing day is left out of every view, never counted as zero. To fill it, run the "
    "AppFlow backfill flow for that date (tracking/README.md, *Backfilling chosen days*), wait for the run to "
    "finish, then press **Reload data** in the sidebar. For the days above:",
    "health.errors": "Files with errors",
    "health.errors_none": "Every export file was read without errors.",
    "health.file": "File",
    "health.line": "Line",
    "health.reason": "Reason",
    "health.excluded": "Rows excluded",
    "health.excluded_none": "No rows were excluded.",
    "health.excluded_what": "Rows whose page or coordinate is (other) or (not set), and rows with a value no real "
    "page sends (a band deeper than the maximum page height, negative or non-finite seconds, a huge count, an "
    "over-long path: GA4 records whatever any browser posts), are left out whole and counted here. "
    "Many (other) rows mean a dimension exceeds GA4's 500 values a day.",
    "health.samples": "Sample lines of excluded rows",
    "health.rows": "Rows",
    "health.executions": "Executions",
    "health.day": "Day",
    "health.per_day": "Every day",
    "health.status": "Status",
    "health.weekday": "Weekday",
    "health.week": "Week of",
}

JA: dict[str, str] = {
    "app.name": "ページヒートマップ",
    "app.caption": "自社の Google アナリティクスのエクスポートから、注目・スクロール到達・クリックを可視化します。",
    "nav.explore": "探索",
    "nav.compare": "比較",
    "nav.runs": "保存した実行",
    "nav.health": "データの状態",
    "lang.label": "言語",
    "source.demo": "デモデータ（同梱サンプル）",
    "source.label": "データソース: {uri}",
    "source.reload": "データを再読み込み",
    "source.reload_help": "エクスポートの一覧を読み直します（新しい AppFlow の実行は 10 分以内に自動で反映されます）。",
    "load.progress": "エクスポートを読み込み中: {done} / {total} ファイル",
    "load.demo": "デモデータを準備しています（初回のみ）…",
    "load.failed": "エクスポートを読み込めませんでした: {error}",
    "load.failed_hint": "アプリの secrets にあるデータソースの場所と AWS 認証情報を確認し、再読み込みしてください。",
    "load.empty": "データソース {uri} には、まだ使えるエクスポート行がありません。",
    "load.empty_hint": "AppFlow のフローが実行済みか、データソースがその保存先を指しているかを確認してください。"
    "読み込めなかったファイルは「データの状態」に表示されます。",
    "settings.bad": "アプリの設定が正しくありません: {error}",
    "settings.bad_hint": "secrets の [heatmap] / [fields] セクションを修正してください（secrets.toml.example 参照）。",
    "error.unexpected": "問題が発生しました（参照番号 {ref}）。もう一度お試しください。繰り返し起きる場合は、"
    "この参照番号をアプリの管理者に伝えてください。",
    "error.heatmap": "{error}",
    "link.ignored": "リンク内の一部の設定は使えなかったため、既定値に置き換えました: {items}",
    "link.unknown_page": "データにないページ",
    "link.bad_date": "日付ではありません",
    "link.reversed_dates": "開始日が終了日より後です",
    "link.dates_outside": "その期間のデータがありません",
    "link.dates_clamped": "データのある日に合わせて短縮しました",
    "link.unknown_value": "不明な値",
    "link.bad_number": "有効な数値ではありません",
    "link.ceiling_missing": "固定上限に値がありません",
    "link.bad_sha": "スクリーンショットの参照ではありません",
    "link.shot_missing": "出力先にスクリーンショットがありません",
    "link.unknown_key": "不明な設定",
    "link.run_missing": "保存した実行が見つかりません",
    "link.run_bad": "保存した実行を読み込めません",
    "link.bad_mode": "不明な比較方法",
    "explore.title": "探索",
    "filters.header": "表示条件",
    "filters.page": "ページ",
    "filters.page_help": "ページビューの多い順。入力して検索できます。",
    "filters.page_fmt": "{page}  ·  {views} ビュー",
    "filters.dates": "期間",
    "filters.dates_help": "データのある日: {first} – {last}。既定はデータのある直近 28 日です。",
    "filters.segment": "セグメント",
    "filters.segment_any": "すべて",
    "filters.type": "ヒートマップ",
    "kind.attention": "注目（滞在時間）",
    "kind.reach": "スクロール到達率",
    "kind.clicks": "クリック",
    "dim.deviceCategory": "デバイス",
    "dim.sessionDefaultChannelGroup": "チャネル",
    "dim.newVsReturning": "新規／リピーター",
    "shot.header": "スクリーンショット",
    "shot.source": "スクリーンショットの取得元",
    "shot.upload": "アップロード",
    "shot.stored": "保存済み",
    "shot.demo": "デモ用スクリーンショット",
    "shot.none": "なし（データのみ）",
    "shot.uploader": "ページ全体のスクリーンショット（PNG・JPEG・WebP、50 MB まで）",
    "shot.stored_pick": "このページで以前使ったスクリーンショット",
    "shot.stored_none": "このページのスクリーンショットはまだ保存されていません。アップロードしてください。",
    "shot.stored_fmt": "{when} · {size} · {sha}",
    "shot.stored_as": "{key} として保存しました。リンクから再表示できます。",
    "shot.not_stored": "スクリーンショットを保存できませんでした（{error}）。表示はできますが、リンクには画像が"
    "含まれません。",
    "shot.bad": "このファイルはスクリーンショットとして使えません: {error}",
    "shot.bad_hint": "ページ全体の PNG・JPEG・WebP 画像をアップロードしてください。",
    "shot.info": "{width} × {height} px のスクリーンショット · {dpr} 倍で CSS 幅 {css_width} px · ページの高さ "
    "{css_height} CSS px",
    "shot.missing": "リンクのスクリーンショット（{sha}）は出力先にもうありません。画像なしでデータを表示します。",
    "align.header": "位置合わせと表示",
    "align.dpr": "スクリーンショットのデバイスピクセル比",
    "align.dpr_help": "CSS 1 px あたりの画像ピクセル数（Retina で撮影した場合は 2）。CSS 幅は画像の幅をこの値で割った"
    "ものです。",
    "align.shift": "データを下にずらす（CSS px）",
    "align.shift_help": "ヒートマップをスクリーンショットに対して下（負の値なら上）に動かします。"
    "固定ヘッダーの調整などに。",
    "align.crop_top": "上端を切り取る（画像 px）",
    "align.crop_bottom": "下端を切り取る（画像 px）",
    "align.crop_help": "ブラウザーの枠、Cookie バナー、関係のないフッターなどをスクリーンショットから切り取ります。",
    "align.ramp": "配色",
    "ramp.classic": "クラシック（青 → 赤）",
    "ramp.viridis": "Viridis（色覚多様性に配慮）",
    "ramp.cividis": "Cividis（色覚多様性に配慮）",
    "align.opacity": "不透明度",
    "align.scale": "スケール",
    "scale.max": "最大値を基準",
    "scale.p99": "99 パーセンタイルで頭打ち",
    "scale.fixed": "固定の上限",
    "align.ceiling": "上限（この値で最も濃い色）",
    "align.height_mismatch": "データは {data_px} CSS px まで、スクリーンショットは {shot_px} CSS px までです。"
    "デバイスピクセル比・ずらし・切り取りを確認してください。",
    "align.mixed_devices": "データには長さの異なるページを持つ複数のデバイスが含まれています。スクリーンショットに合わせて、"
    "セグメントでデバイスを 1 つ選んでください。",
    "n.page_views": "ページビュー",
    "n.clicks": "クリック",
    "n.days": "日数",
    "n.fold": "平均ファーストビュー",
    "n.reach50": "到達率 50 % の位置",
    "guard.low": "この条件に合うページビューは {n} 件だけです。信頼できるマップには {min} 件以上必要です。"
    "期間を広げるか、セグメントを広げてください。",
    "guard.none": "このページ・期間・セグメントのデータはありません。期間を広げるか、セグメントの絞り込みを外して"
    "ください。",
    "guard.missing_days": "この期間のうち {count} 日分はエクスポートがありません（{days}）。0 としては数えず、"
    "除外しています。「データの状態」を参照してください。",
    "map.rendering": "ヒートマップを描画しています…",
    "map.no_shot": "スクリーンショットがありません。アップロードする（または保存済みのものを選ぶ）と、ページ上に"
    "マップを表示します。",
    "map.hover_band": "帯 {band}（{top}–{bottom} CSS px）",
    "map.hover_reach": "到達率 {reach}（95 % 信頼区間 {low}–{high}）",
    "map.hover_seconds": "1 ビューあたり {seconds} 秒",
    "map.hover_share": "注目の {share}",
    "map.hover_clicks": "{clicks} クリック",
    "map.legend": "凡例",
    "table.header": "帯ごとの値",
    "table.band": "帯",
    "table.top": "上端（CSS px）",
    "table.page_views": "ページビュー",
    "table.reach": "到達率",
    "table.reach_low": "到達率 下限",
    "table.reach_high": "到達率 上限",
    "table.seconds": "1 ビューあたり秒数",
    "table.share": "注目の割合",
    "table.clicks": "クリック",
    "curve.header": "スクロール到達率",
    "curve.x": "深さ（CSS px）",
    "curve.y": "到達したページビューの割合",
    "curve.interval": "95 % 区間",
    "save.header": "保存と共有",
    "save.button": "実行を保存",
    "save.saving": "実行を保存しています…",
    "save.done": "実行 {run_id} を保存しました。保存先 {output}:",
    "save.blocked": "保存できるマップがありません（ページビュー不足、またはデータなし）。",
    "save.need_shot": "実行を保存するには、スクリーンショットをアップロードするか選択してください。",
    "share.header": "共有リンク",
    "share.help": "この表示（ページ・期間・セグメント・種類・スクリーンショット・表示設定）をそのまま開きます。",
    "share.run_help": "保存した実行へのリンク（データが変わっても、保存時の内容をそのまま開きます）:",
    "download.header": "この表示をダウンロード（凡例付きのフル解像度 PNG、帯ごとの CSV、JSON）:",
    "download.png": "PNG",
    "download.csv": "CSV",
    "download.json": "JSON",
    "run.restored": "保存した実行 {run_id}（{when} UTC に保存）を開きました。",
    "run.data_changed": "保存後にデータが変わりました（保存時 {then} ページビュー、現在 {now}）。保存時の数値は"
    "「保存した実行」の PNG と CSV に残っています。",
    "engine.missing": "このビルドでは次の機能を利用できません: {what}。",
    "compare.title": "比較",
    "compare.mode": "比較する対象",
    "compare.mode_segments": "2 つのセグメント",
    "compare.mode_periods": "2 つの期間",
    "compare.a": "A",
    "compare.b": "B",
    "compare.segment_a": "セグメント A",
    "compare.segment_b": "セグメント B",
    "compare.dates_a": "期間 A",
    "compare.dates_b": "期間 B",
    "compare.diff": "有意な帯のみ（BH 5 %）",
    "compare.diff_none": "A と B で有意に異なる帯はありません（Benjamini–Hochberg 5 %）。",
    "compare.diff_attention": "注目（滞在時間）の差は記述的な参考値です（エクスポートにはビューごとの秒数のばらつきが"
    "ないため検定できません）。差分マップにはスクロール到達率を使います。",
    "compare.same_scale": "A と B は同じカラースケールで表示しています。",
    "compare.table": "帯ごとの A と B",
    "compare.low": "{side} のページビューは {n} 件だけです（最低 {min} 件）。",
    "compare.same": "A と B が同じ条件です。どちらかを変更してください。",
    "compare.significant": "差のある帯",
    "compare.significant_help": "スクロール到達率、2 標本の比率の検定、Benjamini–Hochberg 5 %。",
    "compare.overlap": "A と B には共通のページビューがあります（セグメントまたは期間が重なっています）。検定は 2 つの"
    "独立したグループを前提とするため、差分マップは目安として扱ってください。重ならないセグメントや期間を選ぶと確かです。",
    "compare.overlap_short": "A と B が重なっています。目安としてご覧ください。",
    "compare.hover_diff": "帯 {band}（{top}–{bottom} CSS px）<br>到達率 A {a} % · B {b} %<br>B − A {diff} ポイント"
    " · 調整済み p 値 {p}",
    "compare.col_diff": "B − A 到達率（ポイント）",
    "compare.col_p": "調整済み p 値（BH）",
    "compare.col_sig": "有意",
    "compare.col_attention_diff": "B − A 1 ビューあたり秒数（参考値）",
    "runs.title": "保存した実行",
    "runs.filter_page": "ページ",
    "runs.all_pages": "すべてのページ",
    "runs.none": "{output} に保存した実行はまだありません。「探索」から保存してください。",
    "runs.page_of": "{page} ページ目 · このページに {count} 件 · 保存先 {output}",
    "runs.prev": "新しい方へ",
    "runs.next": "古い方へ",
    "runs.open": "開く",
    "runs.when": "保存日時",
    "runs.period": "期間",
    "runs.segment": "セグメント",
    "runs.n": "ページビュー",
    "runs.failed": "保存した実行の一覧を取得できませんでした: {error}",
    "runs.failed_hint": "出力先の場所と、認証情報に読み取り権限があるかを確認してください。",
    "health.title": "データの状態",
    "health.calendar": "日ごとの状態",
    "health.present": "あり",
    "health.missing": "欠落",
    "health.reexported": "再エクスポート（最新の実行を使用）",
    "health.summary": "{first} から {last} までのうち {days} 日分のデータ · 欠落 {missing} 日 · 再エクスポート "
    "{reexported} 日 · エクスポートファイル {objects} 件",
    "health.missing_header": "欠落している日",
    "health.missing_none": "最初と最後のエクスポートの間に欠落している日はありません。",
    "health.missing_what": "欠落した日はどの表示からも除外され、0 としては数えません。補うには、その日付を指定して "
    "AppFlow のバックフィル用フローを実行し（tracking/README.md の *Backfilling chosen days*）、完了を待ってから"
    "サイドバーの **データを再読み込み** を押してください。上の日付の場合:",
    "health.errors": "エラーのあるファイル",
    "health.errors_none": "すべてのエクスポートファイルをエラーなく読み込めました。",
    "health.file": "ファイル",
    "health.line": "行",
    "health.reason": "理由",
    "health.excluded": "除外した行",
    "health.excluded_none": "除外した行はありません。",
    "health.excluded_what": "ページや座標が (other) や (not set) の行、および実際のページが送らない値"
    "(最大ページ高を超えるバンド、負や無限の秒数、巨大な件数、長すぎるパスなど。GA4 はどのブラウザーが送った値も記録します)"
    "を含む行は、行ごと除外し、ここで数えています。"
    "(other) が多い場合は、ディメンションの値が GA4 の 1 日 500 種類の上限を超えています。",
    "health.samples": "除外した行の例",
    "health.rows": "行数",
    "health.executions": "実行回数",
    "health.day": "日付",
    "health.per_day": "日ごとの一覧",
    "health.status": "状態",
    "health.weekday": "曜日",
    "health.week": "週の開始日",
}

STRINGS: dict[str, dict[str, str]] = {"en": EN, "ja": JA}


def normalise_language(value: str | None) -> str | None:
    """'ja', 'ja-JP', 'JA_jp' -> 'ja'; unknown or empty -> None."""
    if not value:
        return None
    base = value.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def pick_language(query: str | None, chosen: str | None, locale: str | None) -> str:
    """The language to use: the URL's ?lang=, else the user's choice this session, else the browser's locale."""
    for candidate in (query, chosen, locale):
        found = normalise_language(candidate)
        if found:
            return found
    return DEFAULT_LANGUAGE


class Translator:
    def __init__(self, lang: str, strings: Mapping[str, Mapping[str, str]] = STRINGS) -> None:
        self.lang = lang if lang in strings else DEFAULT_LANGUAGE
        self._own = strings[self.lang]
        self._fallback = strings[DEFAULT_LANGUAGE]

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._own.get(key) or self._fallback.get(key) or key
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback

    def dimension(self, name: str) -> str:
        """A segment dimension's friendly name (its export name when the product does not know it)."""
        key = f"dim.{name}"
        return self(key) if self.has(key) else name
