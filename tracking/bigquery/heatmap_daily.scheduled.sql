-- heatmap_daily.scheduled.sql: the daily BigQuery scheduled query of the event route. Written by tracking/build.py:
-- its SELECT is heatmap_daily.sql with @from_date/@to_date as script variables (edit that file, or this text in
-- build.py, then run python -m tracking.build).
--
-- GA4 keeps updating a day's export table for up to 72 hours, so every run rewrites the last 3 GA dates
-- (the days before @run_date) of the date-partitioned table `heatmap.heatmap_daily`: DELETE, then INSERT, in one
-- transaction, so a reader (AppFlow) never sees a day half written. Running it twice is harmless.
-- Create the table once and schedule this script: tracking/README.md, "Event route".
DECLARE from_date STRING DEFAULT FORMAT_DATE('%Y%m%d', DATE_SUB(@run_date, INTERVAL 3 DAY));
DECLARE to_date STRING DEFAULT FORMAT_DATE('%Y%m%d', DATE_SUB(@run_date, INTERVAL 1 DAY));

BEGIN TRANSACTION;
DELETE FROM heatmap.heatmap_daily
WHERE date BETWEEN PARSE_DATE('%Y%m%d', from_date) AND PARSE_DATE('%Y%m%d', to_date);
INSERT INTO heatmap.heatmap_daily (
  date, pagePath, eventName, hm_band, hm_x, hm_y, deviceCategory, sessionDefaultChannelGroup, newVsReturning,
  hm_layout, hm_template, eventCount, hm_seconds, hm_seconds_sq, hm_route
)
WITH
-- One row per parameter of each hm_view event (event_params unnested once), with the value as an integer from
-- whichever value field GA chose (a number may arrive as int_value, double_value or a numeric string).
hm_params AS (
  SELECT
    e.event_date,
    e.event_timestamp,
    e.user_pseudo_id,
    e.device.category AS device_category,
    e.session_traffic_source_last_click.cross_channel_campaign.default_channel_group AS channel_group,
    e.event_params,
    p.key,
    p.value,
    COALESCE(p.value.int_value, SAFE_CAST(p.value.double_value AS INT64), SAFE_CAST(p.value.float_value AS INT64),
             SAFE_CAST(p.value.string_value AS INT64)) AS number
  FROM ga4_events AS e
  LEFT JOIN UNNEST(e.event_params) AS p
  WHERE e.event_name = 'hm_view'
    AND e.event_date BETWEEN FORMAT_DATE('%Y%m%d', DATE_SUB(PARSE_DATE('%Y%m%d', from_date), INTERVAL 1 DAY))
                         AND to_date
),
-- One row per event, grouped by all the query reads of it: only identical copies (a duplicate delivery) become
-- one row, which changes nothing, as `flushes` keeps one copy and rejected page views are counted distinct.
-- (The timestamp is no identity: events of one visitor can share an event_timestamp, e.g. a page view's spill-over.)
hm_flushes AS (
  SELECT
    event_date,
    event_timestamp,
    user_pseudo_id,
    device_category,
    channel_group,
    ANY_VALUE(event_params) AS event_params,
    MAX(IF(key = 'page_location', value.string_value, NULL)) AS page_location,
    MAX(IF(key = 'hm_pv', COALESCE(value.string_value, CAST(value.int_value AS STRING)), NULL)) AS page_view,
    MAX(IF(key = 'hm_v', number, NULL)) AS version,
    MAX(IF(key = 'hm_seq', number, NULL)) AS seq,
    MAX(IF(key = 'hm_w', number, NULL)) AS layout_width,
    MAX(IF(key = 'hm_tpl', value.string_value, NULL)) AS declared_template,
    MAX(IF(key = 'ga_session_number', number, NULL)) AS session_number
  FROM hm_params
  GROUP BY event_date, event_timestamp, user_pseudo_id, device_category, channel_group, TO_JSON_STRING(event_params)
),
-- GA can deliver an event twice: one row per (visitor, page view, flush).
flushes AS (
  SELECT *
  FROM hm_flushes
  WHERE page_view IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY user_pseudo_id, page_view, seq ORDER BY event_timestamp) = 1
),
-- What a page view is: the date, page and segment of its first flush.
views AS (
  SELECT
    user_pseudo_id,
    page_view,
    event_date,
    COALESCE(NULLIF(REGEXP_EXTRACT(page_location, r'^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)'), ''), '/') AS page,
    COALESCE(device_category, '(not set)') AS device_category,
    COALESCE(channel_group, '(not set)') AS channel_group,
    CASE WHEN session_number = 1 THEN 'new' WHEN session_number > 1 THEN 'returning' ELSE '(not set)' END AS visitor,
    -- The template the page declared (the tag's hm_tpl: data-hm-page, <meta name="hm:page"> or the URL rules built
    -- into the tag); it wins over the dashboard's URL rules. Trimmed, at most GA's 100 characters; none: '(not set)'.
    COALESCE(NULLIF(TRIM(SUBSTR(declared_template, 1, 100)), ''), '(not set)') AS template,
    -- BEGIN LAYOUTS: written by tracking/build.py from heatmap.contract.LAYOUT_BREAKPOINTS
    CASE
      WHEN layout_width IS NULL OR layout_width <= 0 THEN '(not set)'
      WHEN layout_width < 360 THEN '0-359'
      WHEN layout_width < 768 THEN '360-767'
      WHEN layout_width < 1024 THEN '768-1023'
      WHEN layout_width < 1280 THEN '1024-1279'
      WHEN layout_width < 1440 THEN '1280-1439'
      WHEN layout_width < 1920 THEN '1440-1919'
      ELSE '1920+'
    END AS layout
    -- END LAYOUTS
  FROM flushes
  QUALIFY ROW_NUMBER() OVER (PARTITION BY user_pseudo_id, page_view ORDER BY seq, event_timestamp) = 1
),
packs AS (
  SELECT f.user_pseudo_id, f.page_view, f.seq, f.version, p.key AS name, p.value.string_value AS pack
  FROM flushes AS f, UNNEST(f.event_params) AS p
  WHERE REGEXP_CONTAINS(p.key, r'^hm_p[0-9]+$')
),
dwell_runs AS (
  SELECT user_pseudo_id, page_view, run
  FROM packs, UNNEST(SPLIT(SUBSTR(pack, 2), ';')) AS run
  WHERE STARTS_WITH(pack, 'd')
),
dwell_items AS (
  SELECT
    user_pseudo_id,
    page_view,
    SAFE_CAST(SPLIT(run, ':')[SAFE_ORDINAL(1)] AS INT64) + k - 1 AS band,
    SAFE_CAST(SPLIT(SPLIT(run, ':')[SAFE_ORDINAL(2)], ',')[SAFE_ORDINAL(k)] AS INT64) AS tenths
  FROM dwell_runs, UNNEST(GENERATE_ARRAY(1, ARRAY_LENGTH(SPLIT(SPLIT(run, ':')[SAFE_ORDINAL(2)], ',')))) AS k
  WHERE REGEXP_CONTAINS(run, r'^[0-9]{1,6}:[0-9]{1,7}(,[0-9]{1,7})*$')
),
click_items AS (
  SELECT
    user_pseudo_id,
    page_view,
    SAFE_CAST(SPLIT(item, '.')[SAFE_ORDINAL(1)] AS INT64) AS x,
    SAFE_CAST(REGEXP_EXTRACT(item, r'^[0-9]+\.([0-9]+)') AS INT64) AS y,
    REGEXP_EXTRACT(item, r'[a-z]*$') AS flags
  FROM packs, UNNEST(SPLIT(SUBSTR(pack, 2), ',')) AS item
  WHERE STARTS_WITH(pack, 'c') AND REGEXP_CONTAINS(item, r'^[0-9]{1,2}\.[0-9]{1,6}[a-z]{0,4}$')
),
-- Everything that makes a page view unbelievable. Bounds: BEGIN BOUNDS
--   band 0-999 (pages up to 100,000 px), click y 0-4999, tenths of a second per flush up to 864000 (a day)
-- END BOUNDS
bad_views AS (
  SELECT DISTINCT user_pseudo_id, page_view FROM (
    SELECT user_pseudo_id, page_view FROM flushes
    WHERE version IS NULL OR version <> 2 OR seq IS NULL OR seq < 0 OR seq > 9999 OR page_location IS NULL
       OR LENGTH(page_view) > 64
    UNION ALL
    SELECT user_pseudo_id, page_view FROM packs
    WHERE pack IS NULL OR LENGTH(pack) > 100 OR NOT REGEXP_CONTAINS(pack, r'^[dc]')
    UNION ALL
    SELECT user_pseudo_id, page_view FROM dwell_runs
    WHERE NOT REGEXP_CONTAINS(run, r'^[0-9]{1,6}:[0-9]{1,7}(,[0-9]{1,7})*$')
    UNION ALL
    SELECT user_pseudo_id, page_view FROM dwell_items
    WHERE band IS NULL OR band > 999 OR tenths IS NULL OR tenths > 864000
    UNION ALL
    SELECT user_pseudo_id, page_view FROM packs, UNNEST(SPLIT(SUBSTR(pack, 2), ',')) AS item
    WHERE STARTS_WITH(pack, 'c') AND NOT REGEXP_CONTAINS(item, r'^[0-9]{1,2}\.[0-9]{1,6}[a-z]{0,4}$')
    UNION ALL
    SELECT user_pseudo_id, page_view FROM click_items WHERE y > 4999
    UNION ALL
    SELECT user_pseudo_id, page_view FROM views WHERE LENGTH(page) > 2048
  )
),
good_views AS (
  SELECT v.*
  FROM views AS v
  LEFT JOIN bad_views AS b ON b.user_pseudo_id = v.user_pseudo_id AND b.page_view = v.page_view
  WHERE b.page_view IS NULL AND v.event_date BETWEEN from_date AND to_date
),
-- Seconds per page view and band, over all its flushes: squared only now, so seconds^2 is exact.
view_bands AS (
  SELECT user_pseudo_id, page_view, band, SUM(tenths) AS tenths
  FROM dwell_items
  GROUP BY user_pseudo_id, page_view, band
  HAVING SUM(tenths) > 0
),
dwell_rows AS (
  SELECT
    v.event_date, v.page, 'hm_dwell' AS event_name, b.band, CAST(NULL AS INT64) AS x, CAST(NULL AS INT64) AS y,
    v.device_category, v.channel_group, v.visitor, v.layout, v.template,
    COUNT(*) AS event_count,
    SUM(b.tenths) / 10 AS seconds,
    SUM(b.tenths * b.tenths) / 100 AS seconds_sq
  FROM view_bands AS b
  JOIN good_views AS v ON v.user_pseudo_id = b.user_pseudo_id AND v.page_view = b.page_view
  GROUP BY v.event_date, v.page, b.band, v.device_category, v.channel_group, v.visitor, v.layout, v.template
),
-- Every click is an hm_click; a click flagged rage (r) or dead (d) is also a row of hm_rage / hm_dead at its cell.
-- A click on a fixed or sticky element (f) has viewport coordinates: it is hm_fixed instead, never rage or dead.
-- Other letters are reserved and ignored.
click_rows AS (
  SELECT
    v.event_date, v.page, c.event_name, CAST(NULL AS INT64) AS band, c.x, c.y,
    v.device_category, v.channel_group, v.visitor, v.layout, v.template,
    COUNT(*) AS event_count,
    CAST(0 AS FLOAT64) AS seconds,
    CAST(0 AS FLOAT64) AS seconds_sq
  FROM (
    SELECT user_pseudo_id, page_view, x, y, IF(STRPOS(flags, 'f') > 0, 'hm_fixed', 'hm_click') AS event_name
    FROM click_items
    UNION ALL
    SELECT user_pseudo_id, page_view, x, y, 'hm_rage' AS event_name FROM click_items
    WHERE STRPOS(flags, 'r') > 0 AND STRPOS(flags, 'f') = 0
    UNION ALL
    SELECT user_pseudo_id, page_view, x, y, 'hm_dead' AS event_name FROM click_items
    WHERE STRPOS(flags, 'd') > 0 AND STRPOS(flags, 'f') = 0
  ) AS c
  JOIN good_views AS v ON v.user_pseudo_id = c.user_pseudo_id AND v.page_view = c.page_view
  GROUP BY v.event_date, v.page, c.event_name, c.x, c.y, v.device_category, v.channel_group, v.visitor, v.layout,
    v.template
),
rejected_rows AS (
  SELECT
    f.event_date, '(not set)' AS page, 'hm_view_rejected' AS event_name, CAST(NULL AS INT64) AS band,
    CAST(NULL AS INT64) AS x, CAST(NULL AS INT64) AS y, '(not set)' AS device_category,
    '(not set)' AS channel_group, '(not set)' AS visitor, '(not set)' AS layout,
    '(not set)' AS template,
    COUNT(DISTINCT CONCAT(f.user_pseudo_id, '/', COALESCE(f.page_view, CAST(f.event_timestamp AS STRING))))
      AS event_count,
    CAST(0 AS FLOAT64) AS seconds,
    CAST(0 AS FLOAT64) AS seconds_sq
  FROM hm_flushes AS f
  LEFT JOIN bad_views AS b ON b.user_pseudo_id = f.user_pseudo_id AND b.page_view = f.page_view
  WHERE (f.page_view IS NULL OR b.page_view IS NOT NULL) AND f.event_date BETWEEN from_date AND to_date
  GROUP BY f.event_date
)
SELECT
  PARSE_DATE('%Y%m%d', event_date) AS date,
  page AS pagePath,
  event_name AS eventName,
  band AS hm_band,
  x AS hm_x,
  y AS hm_y,
  device_category AS deviceCategory,
  channel_group AS sessionDefaultChannelGroup,
  visitor AS newVsReturning,
  layout AS hm_layout,
  template AS hm_template,
  event_count AS eventCount,
  seconds AS hm_seconds,
  seconds_sq AS hm_seconds_sq,
  'event' AS hm_route
FROM (
  SELECT * FROM dwell_rows
  UNION ALL SELECT * FROM click_rows
  UNION ALL SELECT * FROM rejected_rows
);
COMMIT TRANSACTION;
