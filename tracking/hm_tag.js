/*
 * hm_tag.js: page heatmap tag for Google Tag Manager (Custom HTML). Plain ES5, no libraries.
 *
 * Per page view it measures how many seconds each band of the page (BAND_HEIGHT_PX of page y) is in the
 * viewport, counting only while the document is visible and the visitor was active in the last
 * IDLE_TIMEOUT_MS, and where the visitor clicks. What it sends depends on TAG_MODE:
 *
 * "view" (the event route, default): when the page is hidden or left, one VIEW_EVENT per flush with the page
 * view's id, sequence number, layout width, deepest height and the dwell and clicks since the last flush packed
 * into parameters (tracking/README.md); tracking/bigquery/heatmap_daily.sql sums them exactly.
 *
 * "band" (the report route, for GA4 reports through AppFlow): when the page is hidden or left it pushes one
 * DWELL_EVENT per band (one per band per page view, so eventCount counts page views; later reports of the band
 * in that page view are DWELL_MORE_EVENT) with SECONDS_SQ_PARAM = (before + new)^2 - before^2, so that GA4's
 * sums give each band's spread of seconds. Clicks are pushed as they happen.
 *
 * See tracking/README.md for settings, consent, SPAs.
 */
(function (window, document) {
  "use strict";

  /* BEGIN CONTRACT: written by tracking/build.py from heatmap/contract.py; edit the contract, not these lines. */
  var BAND_HEIGHT_PX = 100;
  var CLICK_Y_STEP_PX = 20;
  var DWELL_EVENT = "hm_dwell";
  var DWELL_MORE_EVENT = "hm_dwell_more";
  var CLICK_EVENT = "hm_click";
  var RAGE_EVENT = "hm_rage";
  var DEAD_EVENT = "hm_dead";
  var FIXED_EVENT = "hm_fixed";
  var BAND_PARAM = "hm_band";
  var SECONDS_PARAM = "hm_seconds";
  var SECONDS_SQ_PARAM = "hm_seconds_sq";
  var X_PARAM = "hm_x";
  var Y_PARAM = "hm_y";
  var VIEW_EVENT = "hm_view";
  var VIEW_VERSION = 2;
  var VERSION_PARAM = "hm_v";
  var PAGE_VIEW_PARAM = "hm_pv";
  var SEQUENCE_PARAM = "hm_seq";
  var LAYOUT_WIDTH_PARAM = "hm_w";
  var PAGE_HEIGHT_PARAM = "hm_h";
  var TEMPLATE_PARAM = "hm_tpl";
  var PACK_PARAM_PREFIX = "hm_p";
  var MAX_PACKS = 12;
  var MAX_PARAM_LENGTH = 100;
  /* END CONTRACT */

  /* ---- Settings ---- */
  var TAG_MODE = "view";            // "view": one hm_view per flush (event route); "band": per-band events
  var MAX_PENDING_CLICKS = 100;     // view mode: this many pending clicks are sent at once
  var BAND_PAD = 3;                 // hm_band is zero-padded to this many digits: band 7 -> "007"
  var IDLE_TIMEOUT_MS = 30000;      // time counts only within this long after the last activity
  var MIN_SECONDS = 0;              // a band is sent only with (rounded) seconds above this
  var SECONDS_DECIMALS = 1;         // hm_seconds is rounded to this many decimals
  var SQ_DECIMALS = 2;              // hm_seconds_sq: exact for seconds to 0.1 (0.1 * 0.1 = 0.01)
  var TICK_MS = 500;                // sampling period of the viewport position
  var PAGE_PARAM = "hm_page_location"; // the page view's URL (GA4's page_location)
  var CONSENT_KEY = "hmConsent";    // window.hmConsent / dataLayer.push({hmConsent: false}) switch the tag off
  var DATA_LAYER = "dataLayer";
  var PAGE_TEMPLATES = [];          // [[name, regexp], ...]: tracking.build --site
  var ACTIVITY_EVENTS = ["scroll", "mousemove", "keydown", "touchstart", "pointerdown", "wheel"];
  // Rage click: the RAGE_CLICKS-th click in a row, each within RAGE_MS and RAGE_PX (|dx| + |dy|) of the last.
  var RAGE_CLICKS = 3;
  var RAGE_MS = 1000;
  var RAGE_PX = 30;
  // Dead click: on nothing INTERACTIVE, then for DEAD_MS no DOM, URL, scroll, focus or selection change.
  var DEAD_MS = 1000;
  var INTERACTIVE = "a[href],button,input,select,textarea,label,summary,option,[role=button],[role=link]," +
    "[role=checkbox],[role=radio],[role=menuitem],[role=tab],[role=switch],[onclick],[contenteditable],[tabindex]";

  if (window.__hmTag) { return; }  // one instance per document, even if the tag fires twice

  var perf = window.performance;
  function now() { return perf && perf.now ? perf.now() : new Date().getTime(); }

  var acc = {};              // band index -> milliseconds counted since the last flush
  var sent = {};             // band -> seconds reported so far in this page view
  var lastT = now();         // time up to which dwell has been accounted
  var lastActive = lastT;    // the page view's start counts as activity
  var inView = [];           // bands counted as in the viewport since lastT
  var consentOk = consentGranted();
  var pageLocation = window.location.href;
  var pagePath = window.location.pathname;
  var pageViewId = newPageViewId();  // view mode: shared by the page view's flushes
  var sequence = 0;
  var clicks = [];           // view mode: packed clicks since the last flush ("x.y")
  var deepest = 0;           // view mode: the deepest document height seen in this page view, CSS px
  var burst = { n: 0, t: 0, x: 0, y: 0, counted: false };  // the clicks in a row so far (rage clicks)

  // A letter, then 15 random base-36 characters: never read as a number by GA.
  function newPageViewId() {
    var alphabet = "abcdefghijklmnopqrstuvwxyz0123456789", out = "v", bytes = null;
    try {
      if (window.crypto && window.crypto.getRandomValues) { bytes = window.crypto.getRandomValues(new Uint8Array(15)); }
    } catch (err) {
      bytes = null;
    }
    for (var i = 0; i < 15; i++) { out += alphabet.charAt((bytes ? bytes[i] : Math.floor(Math.random() * 256)) % 36); }
    return out;
  }

  function consentGranted() {
    try {
      var flag = window[CONSENT_KEY];
      if (flag === false || flag === true) { return flag; }
      if (typeof window.hmConsentGranted === "function") { return window.hmConsentGranted() !== false; }
      var dl = window[DATA_LAYER];
      if (dl && dl.length) {
        for (var i = dl.length - 1; i >= 0; i--) {
          var item = dl[i];
          if (item && typeof item === "object" && Object.prototype.hasOwnProperty.call(item, CONSENT_KEY)) {
            return item[CONSENT_KEY] !== false;
          }
        }
      }
      return true;
    } catch (err) {
      return false;  // a broken consent hook must not turn tracking on
    }
  }

  function isVisible() { return document.visibilityState !== "hidden"; }

  function scrollTop() {
    var y = window.pageYOffset;
    if (typeof y !== "number") {
      var de = document.documentElement;
      y = (de && de.scrollTop) || (document.body && document.body.scrollTop) || 0;
    }
    return y > 0 ? y : 0;  // rubber-band scrolling can report negative offsets
  }

  function docHeight() {
    var de = document.documentElement, body = document.body;
    return Math.max(de ? de.scrollHeight : 0, body ? body.scrollHeight : 0, de ? de.clientHeight : 0);
  }

  // Bands at least half inside the viewport (the last band of the page counts its real height).
  function bandsInView() {
    var top = scrollTop();
    var height = window.innerHeight || (document.documentElement && document.documentElement.clientHeight) || 0;
    var limit = docHeight();
    if (limit > deepest) { deepest = limit; }
    var bottom = Math.min(top + height, Math.max(limit, top));
    var out = [];
    if (!(bottom > top)) { return out; }
    for (var band = Math.floor(top / BAND_HEIGHT_PX); band * BAND_HEIGHT_PX < bottom; band++) {
      var start = band * BAND_HEIGHT_PX;
      var end = Math.min(start + BAND_HEIGHT_PX, limit);
      var seen = Math.min(end, bottom) - Math.max(start, top);
      if (seen * 2 >= end - start) { out.push(band); }
    }
    if (!out.length) { out.push(Math.floor((top + bottom) / 2 / BAND_HEIGHT_PX)); }  // viewport thinner than a band
    return out;
  }

  // Account the time since lastT to the bands that were in view, then look at the viewport again.
  function sample() {
    var t = now();
    if (consentOk && inView.length) {
      var dt = Math.min(t, lastActive + IDLE_TIMEOUT_MS) - lastT;
      if (dt > 0) {
        for (var i = 0; i < inView.length; i++) { acc[inView[i]] = (acc[inView[i]] || 0) + dt; }
      }
    }
    lastT = t;
    inView = isVisible() ? bandsInView() : [];
  }

  function push(data) {
    data[PAGE_PARAM] = pageLocation;
    var dl = window[DATA_LAYER] = window[DATA_LAYER] || [];
    dl.push(data);
  }

  function pad(band) {
    var s = String(band);
    while (s.length < BAND_PAD) { s = "0" + s; }
    return s;
  }

  function round(value, decimals) {
    var scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }

  // Send what was measured since the last flush, then start from zero.
  function flush() {
    sample();
    consentOk = consentGranted();
    var done = acc, clicked = clicks;
    acc = {};
    clicks = [];
    if (!consentOk) { return; }
    if (TAG_MODE === "band") {
      flushBands(done);
    } else {
      sendView(dwellPacks(done).concat(clickPacks(clicked)));
    }
  }

  // A band's first report is DWELL_EVENT, later ones DWELL_MORE_EVENT; SECONDS_SQ_PARAM = total^2 - before^2 (of
  // the rounded seconds), so a page view's values add up to the square of its total exactly.
  function flushBands(done) {
    var bands = [];
    for (var key in done) {
      if (Object.prototype.hasOwnProperty.call(done, key)) { bands.push(+key); }
    }
    bands.sort(function (a, b) { return a - b; });
    for (var i = 0; i < bands.length; i++) {
      var band = bands[i], seconds = round(done[band] / 1000, SECONDS_DECIMALS);
      if (seconds > MIN_SECONDS) {
        var before = sent[band] || 0, total = round(before + seconds, SECONDS_DECIMALS);
        var data = { event: sent[band] === undefined ? DWELL_EVENT : DWELL_MORE_EVENT };
        data[BAND_PARAM] = pad(band);
        data[SECONDS_PARAM] = seconds;
        data[SECONDS_SQ_PARAM] = round(total * total - before * before, SQ_DECIMALS);
        sent[band] = total;
        push(data);
      }
    }
  }

  // Dwell as packs: "d" + runs "<first band>:<tenths>,<tenths>,..." joined by ";" (tracking/README.md); a pack
  // never exceeds MAX_PARAM_LENGTH nor splits a run, so each decodes alone.
  function dwellPacks(done) {
    var bands = [], tenths = {};
    for (var key in done) {
      if (Object.prototype.hasOwnProperty.call(done, key)) {
        var t = Math.round(done[key] / 100);
        if (t / 10 > MIN_SECONDS) { bands.push(+key); tenths[key] = t; }
      }
    }
    bands.sort(function (a, b) { return a - b; });
    var packs = [], pack = "", previous = -2;
    for (var i = 0; i < bands.length; i++) {
      var band = bands[i], item = String(tenths[band]), run = band + ":" + item;
      if (pack && band === previous + 1 && pack.length + 1 + item.length <= MAX_PARAM_LENGTH) {
        pack += "," + item;
      } else if (pack && pack.length + 1 + run.length <= MAX_PARAM_LENGTH) {
        pack += ";" + run;
      } else {
        if (pack) { packs.push(pack); }
        pack = "d" + run;
      }
      previous = band;
    }
    if (pack) { packs.push(pack); }
    return packs;
  }

  // Clicks as packs: "c" + "x.y" items joined by ",".
  function clickPacks(items) {
    var packs = [], pack = "";
    for (var i = 0; i < items.length; i++) {
      if (pack && pack.length + 1 + items[i].length <= MAX_PARAM_LENGTH) {
        pack += "," + items[i];
      } else {
        if (pack) { packs.push(pack); }
        pack = "c" + items[i];
      }
    }
    if (pack) { packs.push(pack); }
    return packs;
  }

  // The declared template (data-hm-page on <html>/<body>, <meta name="hm:page">), else PAGE_TEMPLATES'.
  function templateKey() {
    try {
      var de = document.documentElement, body = document.body, meta = document.querySelector("meta[name='hm:page']");
      var key = (de && de.getAttribute("data-hm-page")) || (body && body.getAttribute("data-hm-page")) ||
        (meta && meta.getAttribute("content")) || "";
      key = String(key).replace(/^\s+|\s+$/g, "");
      if (key.length > MAX_PARAM_LENGTH) { key = ""; }  // GA would cut it
      for (var i = 0; !key && i < PAGE_TEMPLATES.length; i++) {
        if (new RegExp(PAGE_TEMPLATES[i][1]).test(pagePath)) { key = PAGE_TEMPLATES[i][0]; }
      }
      return key;
    } catch (err) {
      return "";
    }
  }

  function layoutWidth() {
    var de = document.documentElement;
    return (de && de.clientWidth) || window.innerWidth || 0;
  }

  // One VIEW_EVENT per MAX_PACKS packs, numbered on from the page view's last one: nothing is cut.
  function sendView(packs) {
    var template = packs.length ? templateKey() : "";
    for (var start = 0; start < packs.length; start += MAX_PACKS) {
      var data = { event: VIEW_EVENT };
      data[VERSION_PARAM] = VIEW_VERSION;
      data[PAGE_VIEW_PARAM] = pageViewId;
      data[SEQUENCE_PARAM] = sequence++;
      data[LAYOUT_WIDTH_PARAM] = layoutWidth();
      data[PAGE_HEIGHT_PARAM] = Math.round(deepest);
      if (template) { data[TEMPLATE_PARAM] = template; }
      for (var i = start; i < packs.length && i < start + MAX_PACKS; i++) {
        data[PACK_PARAM_PREFIX + (i - start + 1)] = packs[i];
      }
      push(data);
    }
  }

  function startView() {
    pageLocation = window.location.href;
    pagePath = window.location.pathname;
    pageViewId = newPageViewId();
    sequence = 0;
    clicks = [];
    deepest = 0;
    acc = {};
    sent = {};
    lastT = lastActive = now();
    inView = isVisible() ? bandsInView() : [];
  }

  function tick() {
    var granted = consentGranted();
    if (!granted) { acc = {}; clicks = []; }      // consent withdrawn: drop what was measured
    if (granted && !consentOk) { lastT = now(); }  // consent given: count from now, never before
    consentOk = granted;
    sample();
  }

  function onActivity(e) {
    var t = now();
    // Earlier time belongs to the old position; idle time is not counted.
    if (e.type === "scroll" || t - lastActive > IDLE_TIMEOUT_MS) { sample(); }
    lastActive = t;
  }

  function onVisibility() {
    if (isVisible()) {
      lastT = lastActive = now();  // hidden time is never counted; coming back counts as activity
      inView = bandsInView();
    } else {
      flush();
    }
  }

  function onClick(e) {
    if (!e || e.detail === 0 || !consentGranted()) { return; }  // keyboard or scripted: no position
    var de = document.documentElement, body = document.body;
    var pageX = typeof e.pageX === "number" ? e.pageX : e.clientX + (window.pageXOffset || 0);
    var pageY = typeof e.pageY === "number" ? e.pageY : e.clientY + scrollTop();
    var width = Math.max(de ? de.scrollWidth : 0, body ? body.scrollWidth : 0, 1);
    var fixed = pinned(e.target);  // at one place on every screen: viewport coordinates
    if (fixed) {
      pageX = e.clientX;
      pageY = e.clientY;
      width = (de && de.clientWidth) || window.innerWidth || 1;
    }
    var x = Math.min(99, Math.max(0, Math.floor(pageX / width * 100)));
    var y = Math.max(0, Math.floor(pageY / CLICK_Y_STEP_PX));
    var rage = !fixed && isRage(pageX, pageY), inert = !fixed && !interactive(e.target);
    if (TAG_MODE !== "band") {
      var list = clicks, index = clicks.push(x + "." + y + (fixed ? "f" : rage ? "r" : "")) - 1;
      if (inert) {  // flagged only while it waits to be sent (a flush: the page was left)
        whenDead(function () { if (clicks === list && list[index]) { list[index] += "d"; } });
      }
      if (clicks.length >= MAX_PENDING_CLICKS) {
        var pending = clicks;
        clicks = [];
        sendView(clickPacks(pending));
      }
      return;
    }
    pushClick(fixed ? { event: FIXED_EVENT } : { event: CLICK_EVENT }, x, y);
    if (rage) { pushClick({ event: RAGE_EVENT }, x, y); }
    if (inert) { whenDead(function () { pushClick({ event: DEAD_EVENT }, x, y); }); }
  }

  function pinned(el) {
    for (; el && el.nodeType === 1; el = el.parentElement) {
      var position = window.getComputedStyle(el).position;
      if (position === "fixed" || position === "sticky") { return true; }
    }
    return false;
  }

  function pushClick(data, x, y) {
    data[X_PARAM] = String(x);
    data[Y_PARAM] = String(y);
    push(data);
  }

  // True once per burst of clicks, when it reaches RAGE_CLICKS.
  function isRage(pageX, pageY) {
    var t = now();
    var near = burst.n > 0 && t - burst.t <= RAGE_MS && Math.abs(pageX - burst.x) + Math.abs(pageY - burst.y) <= RAGE_PX;
    burst = near ? { n: burst.n + 1, t: t, x: pageX, y: pageY, counted: burst.counted } :
      { n: 1, t: t, x: pageX, y: pageY, counted: false };
    if (burst.n >= RAGE_CLICKS && !burst.counted) {
      burst.counted = true;
      return true;
    }
    return false;
  }

  function interactive(target) {
    try {
      var element = target && target.nodeType === 1 ? target : target && target.parentElement;
      return !element || !element.closest || !!element.closest(INTERACTIVE);
    } catch (err) {
      return true;  // unknown: never called dead
    }
  }

  function selectionText() {
    try { return String(window.getSelection ? window.getSelection() : ""); } catch (err) { return ""; }
  }

  // Calls `dead` after DEAD_MS unless the page reacted; watches only while a click waits.
  function whenDead(dead) {
    if (typeof window.MutationObserver !== "function") { return; }
    var reacted = false, focus = document.activeElement, selection = selectionText(), view = pageViewId;
    // The selection is compared, not watched: the click itself queues a selectionchange.
    var events = [[window, "scroll"], [window, "pagehide"], [window, "hashchange"], [window, "popstate"]];
    function react() { reacted = true; }
    var observer = new window.MutationObserver(react);
    observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    for (var i = 0; i < events.length; i++) { events[i][0].addEventListener(events[i][1], react, true); }
    window.setTimeout(function () {
      observer.disconnect();
      for (var j = 0; j < events.length; j++) { events[j][0].removeEventListener(events[j][1], react, true); }
      if (!reacted && view === pageViewId && document.activeElement === focus && selectionText() === selection &&
          consentGranted()) {
        dead();
      }
    }, DEAD_MS);
  }

  function pathOf(url) {
    var a = document.createElement("a");
    a.href = String(url);
    var p = a.pathname;
    return p.charAt(0) === "/" ? p : "/" + p;
  }

  // pushState / replaceState: a new path ends this page view (flushed under the old URL) and starts the next.
  function wrapHistory(name) {
    var history = window.history, original = history && history[name];
    if (typeof original !== "function") { return; }
    history[name] = function (state, title, url) {
      var changes = false;
      if (url !== undefined && url !== null) {
        try { changes = pathOf(url) !== pagePath; } catch (err) { changes = false; }
      }
      if (changes) { flush(); }
      try {
        return original.apply(this, arguments);
      } finally {
        if (changes) { startView(); }
      }
    };
  }

  function onPageShow(e) {
    if (e && e.persisted) { startView(); }  // back from the back/forward cache: a new page view
  }

  function onPopState() {
    if (window.location.pathname !== pagePath) {
      flush();
      startView();
    }
  }

  var options = { capture: true, passive: true };
  for (var i = 0; i < ACTIVITY_EVENTS.length; i++) { window.addEventListener(ACTIVITY_EVENTS[i], onActivity, options); }
  window.addEventListener("resize", sample, options);
  document.addEventListener("visibilitychange", onVisibility, true);
  window.addEventListener("pagehide", flush, true);
  window.addEventListener("pageshow", onPageShow, true);
  window.addEventListener("popstate", onPopState, true);
  document.addEventListener("click", onClick, options);
  wrapHistory("pushState");
  wrapHistory("replaceState");

  inView = isVisible() ? bandsInView() : [];
  window.setInterval(tick, TICK_MS);
  window.__hmTag = { flush: flush, version: 3, mode: TAG_MODE };
})(window, document);
