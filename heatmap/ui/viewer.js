// The map viewer (heatmap/ui/viewer.py builds the page around this script and its JSON config).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("config").textContent);
  const root = document.getElementById("viewer");
  const labels = config.labels;
  const layers = config.layers;
  for (const layer of layers) if (Number.isInteger(layer.srcOf)) layer.src = layers[layer.srcOf].src;  // sent once
  const PHONE = 600;  // CSS px: narrower frames get no minimap, and two maps open as a swipe
  // Where the maps open: a link's spot, else where this tab last left this frame (a new segment or date range
  // keeps the designer's place on the page), else the top. Depths are CSS px of the page, whatever the zoom.
  const remembered = config.start ? null : recall();
  const first = config.start || remembered || config.opening || {};  // opening: e.g. where the clicks are
  // On a phone two maps side by side would each be a sliver: they open as a swipe, one over the other.
  const narrow = window.innerWidth < PHONE && layers.length >= 2;
  const state = {
    zoom: ["fit", "actual"].includes(first.zoom) ? first.zoom : "fit",
    layout: ["side", "swipe"].includes(first.layout) ? first.layout : narrow ? "swipe" : config.layout,
    swipe: Number.isFinite(first.swipe) && first.swipe >= 0 && first.swipe <= 100 ? first.swipe : 50,
  };
  let target = Number.isFinite(first.at) && first.at >= 0 ? first.at : null;  // shown once the map has its size

  function recall() {
    try {
      const saved = JSON.parse(window.sessionStorage.getItem(config.memory) || "null");
      return saved && typeof saved === "object" ? saved : null;
    } catch (error) {
      return null;  // storage blocked or unreadable: open at the top
    }
  }
  let pending = 0;
  function remember() {
    window.clearTimeout(pending);
    pending = window.setTimeout(() => {
      if (target !== null || !firstImage || !firstImage.clientHeight) return;
      const spot = { at: Math.round(depthNow()), zoom: state.zoom, layout: state.layout, swipe: state.swipe };
      try { window.sessionStorage.setItem(config.memory, JSON.stringify(spot)); } catch (error) { /* not kept */ }
    }, 150);
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // d3-format's subset the templates use: [+][,][.N](f|g), and "p": the app's one p-value format
  // (heatmap/usecases/differences.py p_text): "< 0.001" or "= 0.012".
  function format(value, spec) {
    if (spec === "p") return value < 0.001 ? "< 0.001" : "= " + Number(value).toFixed(3);
    const m = /^(\+)?(,)?(?:\.(\d+))?([fg])?$/.exec(spec || "");
    if (!m) return String(value);
    const digits = m[3] === undefined ? 6 : Number(m[3]);
    let text;
    if (m[4] === "g") text = Number(value).toPrecision(Math.max(1, digits));
    else if (m[2]) text = Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    else text = Number(value).toFixed(digits);
    return m[1] && value >= 0 ? "+" + text : text;
  }

  function readout(layer, band, column) {
    const data = [];
    for (let i = 0; i < layer.rowWidth; i++) data.push(layer.rows[band * layer.rowWidth + i]);
    if (layer.columns > 0) {
      const start = (band * layer.columns + column) * layer.cellWidth;
      for (let i = 0; i < layer.cellWidth; i++) data.push(layer.cells[start + i]);
    }
    const text = layer.template.replace("<extra></extra>", "").replace(
      /%\{customdata\[(\d+)\](?::([^}]*))?\}/g,
      (_, index, spec) => (Number(index) < data.length ? format(data[Number(index)], spec) : "–")
    );
    return text.split("<br>");
  }

  // --- toolbar ---------------------------------------------------------------------------------------------
  const bar = el("div", { class: "bar", role: "toolbar", "aria-label": labels.toolbar || "Map" });
  const buttons = {};
  // Each label stays on one line with its buttons when the toolbar wraps (a phone, a longer language).
  function group(label) {
    if (bar.children.length) bar.appendChild(el("span", { class: "sep" }));
    const box = el("span", { class: "group" });
    if (label) box.appendChild(el("label", {}, label));
    bar.appendChild(box);
    return box;
  }
  function toggle(box, name, value, text, onPick) {
    const button = el("button", { type: "button", "data-group": name, "data-value": value }, text);
    button.addEventListener("click", () => onPick(value));
    (buttons[name] = buttons[name] || []).push(button);
    box.appendChild(button);
  }
  function pressed() {
    for (const [name, list] of Object.entries(buttons)) {
      for (const b of list) b.setAttribute("aria-pressed", String(state[name] === b.dataset.value));
    }
  }
  function rebuild(name, value) {
    target = depthNow();  // the same place on the page after the maps change size
    state[name] = value;
    build();
  }
  const zoom = group(labels.zoom || "Zoom");
  toggle(zoom, "zoom", "fit", labels.fit || "Fit width", (v) => rebuild("zoom", v));
  toggle(zoom, "zoom", "actual", labels.actual || "100 %", (v) => rebuild("zoom", v));
  if (layers.length >= 2) {
    const layout = group("");
    toggle(layout, "layout", "side", labels.side || "Side by side", (v) => rebuild("layout", v));
    toggle(layout, "layout", "swipe", labels.swipe || "Swipe", (v) => rebuild("layout", v));
  }
  if (config.marks.length) {
    const jumps = group(labels.jump || "Jump to");
    const top = el("button", { type: "button", "data-jump": "top" }, labels.top || "Top");
    top.addEventListener("click", () => { scroller.scrollTop = 0; });
    jumps.appendChild(top);
    for (const mark of config.marks) {
      const b = el("button", { type: "button", "data-jump": String(mark.depth) }, mark.label);
      b.addEventListener("click", () => jump(mark.depth));
      jumps.appendChild(b);
    }
  }
  const divider = group(labels.divider || "A | B");
  const slider = el("input", { type: "range", min: "0", max: "100", value: String(state.swipe), "aria-label": labels.divider || "A | B" });
  slider.addEventListener("input", () => { state.swipe = Number(slider.value); placeSwipe(); remember(); });
  divider.appendChild(slider);
  const dividerSep = divider.previousSibling;

  // --- link to this spot -----------------------------------------------------------------------------------
  const linkBox = el("div", { class: "linkbox", role: "dialog", "data-testid": "map-linkbox" });
  const linkStatus = el("span", { role: "status" });
  const linkField = el("input", { type: "text", readonly: "", "aria-label": labels.link || "Link to this spot" });
  const linkClose = el("button", { type: "button", "aria-label": labels.close || "Close" }, "×");
  linkClose.addEventListener("click", () => { linkBox.style.display = "none"; });
  linkBox.addEventListener("keydown", (event) => { if (event.key === "Escape") linkBox.style.display = "none"; });
  linkBox.append(linkStatus, linkField, linkClose);
  if (config.link) {
    const share = el("button", { type: "button", "data-testid": "map-link" }, labels.link || "Link to this spot");
    share.addEventListener("click", copyLink);
    group("").appendChild(share);
  }

  function spotLink() {
    // The view's own link (it never holds a spot) plus where this frame is now.
    const link = linkWith(config.link);
    let text = link + (link.includes("?") ? "&" : "?") + "at=" + Math.round(depthNow());
    if (state.zoom !== "fit") text += "&zoom=" + state.zoom;
    if (layers.length >= 2 && state.layout !== "side") text += "&layout=" + state.layout;
    if (layers.length >= 2 && state.layout === "swipe" && state.swipe !== 50) text += "&swipe=" + Math.round(state.swipe);
    return text;
  }

  async function copyLink() {
    const text = spotLink();
    linkField.value = text;
    linkStatus.textContent = labels.copy || "Copy this link:";
    linkBox.style.display = "flex";
    linkField.focus();
    linkField.select();
    try {
      await navigator.clipboard.writeText(text);
      linkStatus.textContent = labels.copied || "Copied:";
    } catch (error) {
      /* no clipboard here (an insecure origin, a denied permission): the selected field is there to copy */
    }
  }


  // --- maps painted here -----------------------------------------------------------------------------------
  // A live layer (heatmap/drawing/live.py) carries the numbers of every map type: the map type, ramp, opacity,
  // scale and smoothing are read from the page's own widgets (heatmap/ui/widgets.py, which do not rerun the
  // app for them) and painted here, with the server's integer arithmetic and tables, so a band's colour is the
  // colour the saved PNG gives it. The server hears of the settings with its next run (Save, a new segment).
  const controls = config.controls;
  const settings = Object.assign({}, (controls && controls.defaults) || {});
  const TILE = 4096;  // rows per canvas: a tall page is a stack of them (a browser caps a canvas's size)

  function bytes(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }
  function rint(x) { const r = Math.round(x); return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r; }  // numpy's
  function clip01(x) { return Math.min(Math.max(x, 0), 1); }

  // Python's format() for the specs the legend uses: ".3g" and ".0%".
  function pyFormat(value, spec) {
    const m = /^\.(\d+)([g%])$/.exec(spec);
    if (!m || !Number.isFinite(value)) return String(value);
    const p = Number(m[1]);
    if (m[2] === "%") return (value * 100).toFixed(p) + "%";
    if (value === 0) return "0";
    const [mant, e] = value.toExponential(Math.max(0, p - 1)).split("e");
    const exp = Number(e);
    const strip = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text);
    if (exp < -4 || exp >= Math.max(1, p)) return strip(mant) + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
    return strip(value.toFixed(Math.max(0, p - 1 - exp)));
  }
  function fill(text, values) {
    return text.replace(/\{(\w+):([^}]*)\}/g, (whole, name, spec) => (name in values ? pyFormat(values[name], spec) : whole));
  }

  function readControls() {
    // The widgets' values as the browser shows them (committed or not): their keyed containers are Streamlit's
    // documented .st-key-<key> classes.
    if (!controls) return null;
    let doc;
    try { doc = window.parent.document; } catch (error) { return null; }
    const box = (name) => doc.querySelector(".st-key-" + controls.prefix + name);
    const found = {};
    const kind = controls.kind ? null : box("kind");  // controls.kind: the type is the server's (a rerun sets it)
    if (controls.kind) found.kind = controls.kind;
    else if (kind) {
      const index = [...kind.querySelectorAll("input[type=radio]")].findIndex((r) => r.checked);
      if (index >= 0 && index < controls.kinds.length) found.kind = controls.kinds[index];
    }
    for (const [name, table] of [["ramp", controls.ramps], ["scale", controls.scales]]) {
      const input = box(name) && box(name).querySelector("input[role=combobox]");
      if (input && Object.prototype.hasOwnProperty.call(table, input.value)) found[name] = table[input.value];
    }
    const range = box("opacity") && box("opacity").querySelector("input[type=range]");
    if (range && range.value !== "" && Number.isFinite(Number(range.value))) found.opacity = Math.round(Number(range.value) * 100) / 100;
    const check = box("smooth") && box("smooth").querySelector("input[type=checkbox]");
    if (check) found.smooth = check.checked;
    const number = box("ceiling") && box("ceiling").querySelector("input[type=number]");
    if (number) found.ceiling = number.value !== "" && Number(number.value) > 0 ? Number(number.value) : null;
    return found;
  }

  function ceilingOf(live, kind) {
    if (kind === "reach") return 1.0;
    const known = kind === "clicks" ? live.densityCeilings : live.attentionCeilings;
    if (settings.scale === "fixed" && settings.ceiling > 0) return settings.ceiling;
    return known[settings.scale === "p99" ? "p99" : "max"];
  }
  function scaleOf(kind) {
    if (kind === "reach") return "max";
    return settings.scale === "fixed" && !(settings.ceiling > 0) ? "max" : settings.scale;
  }

  // The server's blend, round((base·(255 − α) + colour·α) / 255) per channel, tabulated for one colour and α:
  // the 768 results (256 a channel), so a pixel costs three lookups instead of the arithmetic (a tall page's
  // map paints in about a third of the time, the same bytes).
  function blendTable(colour, alpha) {
    const keep = 255 - alpha, table = new Uint8Array(768);
    for (let c = 0; c < 3; c++) {
      for (let v = 0; v < 256; v++) table[256 * c + v] = Math.round((v * keep + colour[c] * alpha) / 255);
    }
    return table;
  }
  function blendTables(lut) {
    // Tables by (α, colour index), made when first asked for.
    const made = new Map();
    return (alpha, index) => {
      const key = alpha * 256 + index;
      let table = made.get(key);
      if (!table) made.set(key, (table = blendTable(colourAt(lut, index), alpha)));
      return table;
    };
  }
  function blendSpan(data, from, to, table) {
    // Pixels [from, to) of `data` (RGBA bytes) blended by `table`.
    for (let i = 4 * from, end = 4 * to; i < end; i += 4) {
      data[i] = table[data[i]];
      data[i + 1] = table[256 + data[i + 1]];
      data[i + 2] = table[512 + data[i + 2]];
    }
  }
  function colourAt(lut, index) { return [lut[3 * index], lut[3 * index + 1], lut[3 * index + 2]]; }

  // Per image row: [alpha, lut index] for band maps, painted across the whole width.
  function bandRows(live, kind, vmax) {
    const values = live[kind];
    const t = values.map((v) => (v === -1 || !(vmax > 0) ? -1 : clip01(v / vmax)));
    const rows = new Map();
    if (!settings.smooth) {
      t.forEach((value, band) => {
        const [r0, r1] = live.spans[band];
        if (value < 0 || r1 <= r0) return;
        const alpha = fadeAlpha(live, value);
        if (alpha === 0) return;
        for (let y = r0; y < r1; y++) rows.set(y, [alpha, rint(clip01(value) * 255)]);
      });
      return [rows, t];
    }
    const alive = live.spans.map((span, band) => band).filter((band) => live.spans[band][1] > live.spans[band][0]);
    if (!alive.length || !t.some((v) => v >= 0)) return [rows, t];
    const xs = alive.map((band) => (live.spans[band][0] + live.spans[band][1] - 1) / 2);
    const ys = alive.map((band) => Math.max(0, t[band]));
    const first = live.spans[alive[0]][0];
    const last = live.spans[alive[alive.length - 1]][1];
    let j = 0;
    for (let y = first; y < last; y++) {
      let value;
      if (y <= xs[0]) value = ys[0];
      else if (y >= xs[xs.length - 1]) value = ys[ys.length - 1];
      else {
        while (xs[j + 1] <= y) j++;
        value = xs[j] === y ? ys[j] : ((ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])) * (y - xs[j]) + ys[j];  // numpy.interp
      }
      const alpha = fadeAlpha(live, value);
      if (alpha) rows.set(y, [alpha, rint(clip01(value) * 255)]);
    }
    return [rows, t];
  }
  function fadeAlpha(live, t) { return rint(clip01(t / live.fadeIn) * (clip01(settings.opacity) * 255)); }

  // Pillow's bilinear resize (upscaling: two taps, weights normalised) of the padded click levels, as render does.
  function taps(center, inSize) {
    let lo = Math.trunc(center - 1 + 0.5);
    if (lo < 0) lo = 0;
    let hi = Math.trunc(center + 1 + 0.5);
    if (hi > inSize) hi = inSize;
    const weights = [];
    let sum = 0;
    for (let x = lo; x < hi; x++) {
      const d = Math.abs(x - center + 0.5);
      const w = d < 1 ? 1 - d : 0;
      weights.push(w);
      sum += w;
    }
    return [lo, sum ? weights.map((w) => w / sum) : weights];
  }
  function clickLevels(live, vmax) {
    // Level 0..255 per painted pixel (Uint8Array, width × height), null when nothing is painted.
    const rows = live.densityRows, cols = live.densityColumns, pad = 2;
    if (!rows || !cols || !(vmax > 0)) return null;
    const density = live.densityValues || (live.densityValues = new Float64Array(bytes(live.density).buffer));
    const width = live.width, height = live.height;
    const padRows = rows + 2 * pad, padCols = cols + 2 * pad;
    const levels = new Float32Array(padRows * padCols);
    let any = false, firstLive = -1, lastLive = -1;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const t = clip01(density[r * cols + c] / vmax);
        if (t > 0) { any = true; lastLive = r; if (firstLive < 0) firstLive = r; }
        levels[(r + pad) * padCols + c + pad] = Math.fround(t * 255 + 0.5);
      }
    }
    if (!any) return null;
    // horizontal pass, every padded row: box from pad to pad + cols over `width` pixels
    const xTaps = [];
    for (let x = 0; x < width; x++) xTaps.push(taps(pad + (x + 0.5) * (cols / width), padCols));
    const across = new Float32Array(padRows * width);
    for (let r = 0; r < padRows; r++) {
      for (let x = 0; x < width; x++) {
        const [lo, w] = xTaps[x];
        let sum = 0;
        for (let k = 0; k < w.length; k++) sum += levels[r * padCols + lo + k] * w[k];
        across[r * width + x] = sum;
      }
    }
    const out = new Uint8Array(width * height);
    const [a, b] = live.rowToGrid;
    const first = firstLive - 1, last = lastLive + 2;
    const STRIP = 2048;
    for (let s0 = 0; s0 < height; s0 += STRIP) {
      let y0 = s0, y1 = Math.min(height, s0 + STRIP);
      const g0 = a + b * y0, g1 = a + b * y1;
      if (g1 <= first || g0 >= last) continue;
      let top = g0 + pad, bottom = g1 + pad;
      if (top < 0 || bottom > padRows) {
        const lo = Math.max(y0, Math.ceil((-pad - a) / b));
        const hi = Math.min(y1, Math.floor((rows + pad - a) / b));
        if (hi <= lo) continue;
        y0 = lo; y1 = hi;
        top = a + b * y0 + pad; bottom = a + b * y1 + pad;
      }
      const step = (bottom - top) / (y1 - y0);
      for (let y = y0; y < y1; y++) {
        const [lo, w] = taps(top + (y - y0 + 0.5) * step, padRows);
        for (let x = 0; x < width; x++) {
          let sum = 0;
          for (let k = 0; k < w.length; k++) sum += across[(lo + k) * width + x] * w[k];
          const v = Math.fround(sum);
          out[y * width + x] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
        }
      }
    }
    return out;
  }

  function drawLine(ctx, live, line, offset) {
    // render._draw_line: a bar about 2 CSS px thick (the fold dashed) with its label in a box above it, at left.
    const scale = live.scale, width = live.width;
    const colour = line.fold ? live.foldColour : live.lineColour;
    const thick = Math.max(2, rint(2 * scale));
    const first = line.row - Math.floor(thick / 2);
    const y0 = Math.max(0, first), y1 = Math.min(live.height - 1, first + thick - 1);
    const css = (c) => "rgb(" + c.join(",") + ")";
    ctx.fillStyle = css(colour);
    ctx.fillRect(0, y0 - offset, width, y1 - y0 + 1);
    if (line.box && y0 > 2 * thick) {  // render._draw_line(box=True): the top edge and both sides down to the line, dark then light
      [[0, live.lineColour], [thick, live.foldColour]].forEach(([inset, fill]) => {
        ctx.fillStyle = css(fill);
        const right = width - 1 - inset;
        ctx.fillRect(inset, inset - offset, right - inset + 1, thick);
        ctx.fillRect(inset, inset - offset, thick, y0 - inset);
        ctx.fillRect(right - thick + 1, inset - offset, thick, y0 - inset);
      });
    }
    if (line.fold) {
      const dash = Math.max(4, rint(12 * scale));
      ctx.fillStyle = css(live.lineColour);
      for (let x = dash; x < width; x += 2 * dash) ctx.fillRect(x, y0 - offset, Math.min(width - 1, x + dash - 1) - x + 1, y1 - y0 + 1);
    }
    const size = Math.max(11, rint(13 * scale));
    const pad = Math.max(2, rint(3 * scale));
    ctx.font = size + "px 'DejaVu Sans', 'Source Sans Pro', sans-serif";
    const textWidth = ctx.measureText(line.label).width;
    const boxHeight = Math.round(size * 1.15) + 2 * pad;
    const boxTop = Math.max(0, first - boxHeight);
    ctx.fillStyle = css(colour);
    ctx.fillRect(pad, boxTop - offset, textWidth + 2 * pad + 1, boxHeight);
    ctx.fillStyle = line.fold ? css(live.lineColour) : "#fff";
    ctx.textBaseline = "top";
    ctx.fillText(line.label, 2 * pad, boxTop + pad - offset);
  }

  function paint(layer) {
    // The layer's tiles from its picture and the current settings; its legend and hover follow the map type.
    const live = layer.live;
    if (live.cellIndex) { paintCells(layer); return; }
    const kind = settings.kind in { attention: 1, reach: 1, clicks: 1 } ? settings.kind : "attention";
    const vmax = ceilingOf(live, kind);
    const lut = (live.lutBytes = live.lutBytes || {})[settings.ramp] ||
      (live.lutBytes[settings.ramp] = bytes(live.luts[settings.ramp] || live.luts.classic));
    let rows = null, levels = null, positions = [];
    if (kind === "clicks") levels = clickLevels(live, vmax);
    else {
      const [painted, t] = bandRows(live, kind, vmax);
      rows = painted;
      positions = t.map((v) => (v < 0 ? -1 : Math.round(v * 10000) / 10000));
    }
    const tableOf = blendTables(lut);
    const levelTables = kind === "clicks"
      ? Array.from({ length: 256 }, (_, level) => { const alpha = fadeAlpha(live, level / 255); return alpha ? tableOf(alpha, level) : null; })
      : null;
    const width = live.width;
    for (const tile of live.tiles) {
      const image = new ImageData(new Uint8ClampedArray(tile.base), width, tile.rows);
      const data = image.data;
      for (let y = 0; y < tile.rows; y++) {
        const row = tile.top + y;
        if (rows) {
          const paintRow = rows.get(row);
          if (paintRow) blendSpan(data, y * width, (y + 1) * width, tableOf(paintRow[0], paintRow[1]));
        } else if (levels) {
          for (let x = 0; x < width; x++) {
            const table = levelTables[levels[row * width + x]];
            if (table) blendSpan(data, y * width + x, y * width + x + 1, table);
          }
        }
      }
      const ctx = tile.canvas.getContext("2d");
      ctx.putImageData(image, 0, 0);
      const lines = kind === "clicks" && live.clickLines ? live.clickLines : live.lines;
      for (const line of lines) {
        const near = line.row >= tile.top - 64 && line.row < tile.top + tile.rows + 64;
        if (near || (line.box && tile.top <= line.row)) drawLine(ctx, live, line, tile.top);
      }
    }
    const words = live.legends[kind + "|" + scaleOf(kind) + "|" + (settings.smooth ? 1 : 0)];
    const values = { opacity: settings.opacity, vmax };
    layer.legend = {
      title: words.title, facts: words.facts.map((f) => fill(f, values)), low: fill(words.low, values),
      high: fill(words.high, values), colours: live.legendColours[settings.ramp] || live.legendColours.classic,
      columns: kind === "clicks" ? 0 : 1, positions: kind === "clicks" ? [] : positions,
    };
    layer.template = kind === "clicks" ? live.hover.clicks : live.hover.bands;
    layer.columns = kind === "clicks" ? layer.clickColumns : 0;
    layer.kind = kind;
    layer.painted = JSON.stringify(settings);
  }

  function paintCells(layer) {
    // A difference map (render.render_difference): its significant cells in their diverging colours at one
    // opacity, column c spanning x [round(c·W/cols), round((c+1)·W/cols)); only the opacity is a setting here.
    const live = layer.live;
    const lut = live.lutBytes || (live.lutBytes = bytes(live.lut));
    const alpha = rint(clip01(settings.opacity) * 255);
    const cols = live.cellColumns, width = live.width;
    const edges = Array.from({ length: cols + 1 }, (_, c) => rint((c * width) / cols));
    const tableOf = blendTables(lut);
    for (const tile of live.tiles) {
      const image = new ImageData(new Uint8ClampedArray(tile.base), width, tile.rows);
      const data = image.data;
      live.spans.forEach(([r0, r1], row) => {
        const y0 = Math.max(r0, tile.top), y1 = Math.min(r1, tile.top + tile.rows);
        if (!alpha || y1 <= y0) return;
        for (let c = 0; c < cols; c++) {
          const index = live.cellIndex[row * cols + c];
          if (index < 0 || edges[c + 1] <= edges[c]) continue;
          const table = tableOf(alpha, index);
          for (let y = y0 - tile.top; y < y1 - tile.top; y++) blendSpan(data, y * width + edges[c], y * width + edges[c + 1], table);
        }
      });
      tile.canvas.getContext("2d").putImageData(image, 0, 0);
    }
    const words = layer.legendWords || (layer.legendWords = layer.legend);
    if (words) layer.legend = Object.assign({}, words, { facts: words.facts.map((f) => fill(f, { opacity: settings.opacity })) });
    layer.kind = "difference";
    layer.painted = JSON.stringify(settings);
  }

  const pictures = new Map();  // src -> the decoded picture (Compare's three maps share one), or its waiters
  function loadPicture(src, done) {
    const known = pictures.get(src);
    if (known instanceof Array) { known.push(done); return; }
    if (known !== undefined) { done(known); return; }
    const waiting = [done];
    pictures.set(src, waiting);
    const picture = new Image();
    const settle = (found) => { pictures.set(src, found); for (const each of waiting) each(found); };
    picture.onload = () => settle(picture);
    picture.onerror = () => settle(null);
    picture.src = src;
  }

  function prepare(layer, done) {
    // The tiles' canvases and the picture under the map, decoded once.
    const live = layer.live;
    layer.clickColumns = layer.columns;
    live.tiles = [];
    for (let top = 0; top < live.height; top += TILE) {
      const rows = Math.min(TILE, live.height - top);
      const canvas = el("canvas", { width: String(live.width), height: String(rows), "data-top": String(top) });
      live.tiles.push({ top, rows, canvas, base: null });
    }
    const finish = (picture) => {
      for (const tile of live.tiles) {
        const ctx = tile.canvas.getContext("2d", { willReadFrequently: true });
        if (picture) ctx.drawImage(picture, 0, -tile.top, live.width, live.height);
        else {
          ctx.fillStyle = "rgb(" + (live.fill || [255, 255, 255]).join(",") + ")";
          ctx.fillRect(0, 0, live.width, tile.rows);
        }
        tile.base = ctx.getImageData(0, 0, live.width, tile.rows).data;
      }
      done();
    };
    if (!layer.src) { finish(null); return; }
    loadPicture(layer.src, finish);
  }

  function linkWith(link) {
    // The view's link (the server leaves the colour settings out) with the settings shown now.
    if (!controls) return link;
    const extra = new URLSearchParams();
    const base = controls.defaults;
    extra.set("type", settings.kind);
    if (settings.ramp !== base.ramp) extra.set("ramp", settings.ramp);
    if (settings.opacity !== base.opacity) extra.set("opacity", pyFormat(settings.opacity, ".6g"));
    if (settings.scale !== base.scale) extra.set("scale", settings.scale);
    if (settings.scale === "fixed" && settings.ceiling > 0) extra.set("ceiling", pyFormat(settings.ceiling, ".6g"));
    if (settings.smooth) extra.set("smooth", "1");
    const text = extra.toString();
    return text ? link + (link.includes("?") ? "&" : "?") + text : link;
  }

  function showAddress() {
    // The address bar is the view's link: the settings changed here go into it at once (a reload keeps them).
    try {
      const parent = window.parent;
      const params = new URLSearchParams(parent.location.search);
      for (const key of ["type", "ramp", "opacity", "scale", "ceiling", "smooth"]) params.delete(key);
      const wanted = new URLSearchParams(linkWith("").replace(/^\?/, ""));
      for (const [key, value] of wanted) params.set(key, value);
      const search = "?" + params.toString();
      if (search !== parent.location.search) parent.history.replaceState(parent.history.state, "", parent.location.pathname + search);
    } catch (error) { /* not the app's page (a test frame): nothing to keep in sync */ }
  }

  function shownSettings() {
    // heatmap/ui/widgets.py shown_settings: the page shows what is made from its view only while they match.
    const ceiling = settings.scale === "fixed" && settings.ceiling > 0 ? pyFormat(settings.ceiling, ".6g") : "";
    return [settings.kind, settings.ramp, pyFormat(settings.opacity, ".6g"), settings.scale, ceiling, settings.smooth ? 1 : 0].join("|");
  }
  function markPage() {
    try {
      const body = window.parent.document.body;
      body.dataset.heatmapSettings = shownSettings();
      body.dataset.heatmapFrame = config.name;
      body.dataset.heatmapKind = settings.kind;
    } catch (error) { /* not the app's page */ }
  }

  let watching = 0;
  function watchControls() {
    // Polled: a widget that does not rerun the app tells nobody it changed; reading six inputs costs nothing.
    const found = readControls();
    if (found) {
      const before = JSON.stringify(settings);
      Object.assign(settings, found);
      if (JSON.stringify(settings) !== before && layers.some((layer) => layer.live && layer.live.tiles)) {
        target = depthNow();
        for (const layer of layers) if (layer.live && layer.live.tiles) paint(layer);
        build();
        showAddress();
        markPage();
      }
    }
    watching = window.setTimeout(watchControls, 120);
  }
  Object.assign(settings, readControls() || {});
  if (controls) markPage();

  // A date typed into the sidebar applies on Enter, not only when the field loses focus (Streamlit's date
  // input commits when focus moves elsewhere): Enter moves it to the main area, which commits it. Removed with
  // this frame.
  function commitDate(event) {
    const field = event.target;
    if (event.key !== "Enter" || !field || !field.closest || !field.closest("[data-testid=stDateInput]")) return;
    const elsewhere = field.ownerDocument.querySelector("[data-testid=stMain]");
    if (elsewhere) elsewhere.focus({ preventScroll: true });
  }
  if (controls) {
    try {
      const doc = window.parent.document;
      doc.addEventListener("keydown", commitDate, true);
      window.addEventListener("pagehide", () => doc.removeEventListener("keydown", commitDate, true));
    } catch (error) { /* not the app's page */ }
  }

  // --- maps ------------------------------------------------------------------------------------------------
  const main = el("div", { class: "main" });
  const scroller = el("div", { class: "scroller", tabindex: "0", "data-testid": "map-scroller", "aria-label": labels.keys || "" });
  const panes = el("div", { class: "panes" });
  scroller.appendChild(panes);
  main.appendChild(scroller);
  const tip = el("div", { class: "tip", role: "status", "data-testid": "map-tip" });
  root.append(bar, main, tip, linkBox);

  function frameHeight() {
    // The frame as the app sized it (it fills the window's height), else the height asked for.
    return window.innerHeight > 0 ? window.innerHeight : config.height;
  }

  function fitHeight() {
    // The toolbar wraps onto more lines in a narrow frame or a longer language: the maps get what is left.
    scroller.style.height = Math.max(160, frameHeight() - bar.offsetHeight - 4) + "px";
    linkBox.style.top = bar.offsetHeight + 4 + "px";
  }
  fitHeight();

  let firstImage = null;
  let groups = [];  // what each pane shows: {box, img: the picture to measure, layers}
  let swipeOver = null;
  let swipeEdge = null;

  function pane(layer, width) {
    const box = el("div", { class: "pane" + (state.zoom === "actual" ? " actual" : ""), "data-layer": layer.title });
    if (state.zoom === "actual") box.style.width = width + "px";
    box.appendChild(head(layer.title, layer));
    const img = picture(layer);
    img.style.maxWidth = layer.cssWidth + "px";  // a phone's page at its own width, centred, never blown up
    hover(img, () => layer);
    box.appendChild(img);
    return [box, img];
  }

  function picture(layer, extra) {
    // The map: the server's JPEG, or the canvases the browser painted (a live layer).
    const name = layer.title || labels.map || "heatmap";
    const cls = extra ? " " + extra : "";
    if (!layer.live) return el("img", { class: extra || "", src: layer.src, alt: name, draggable: "false" });
    const box = el("div", { class: "live" + cls, role: "img", "aria-label": name, "data-kind": layer.kind || "" });
    for (const tile of layer.live.tiles) box.appendChild(tile.canvas);
    return box;
  }

  function head(title, layer) {
    // Pinned at the top of the pane: its title and legend, each one line high, so side-by-side maps stay level.
    const top = el("div", { class: "head" });
    if (title) top.appendChild(el("h4", { title }, title));
    legend(top, layer);
    return top;
  }

  // The map's legend, in view however far down the page is scrolled: what the colours mean, their ends, then
  // dates, segment and n on one line; a click shows every fact in full, over the map.
  let openKey = false;
  function legend(box, layer) {
    const facts = layer.legend;
    if (!facts) return;
    const key = el("div", { class: "key" + (openKey ? " open" : ""), "data-testid": "map-legend", title: labels.legend || "" });
    const scale = el("div", { class: "scale" });
    const ramp = el("div", { class: "ramp" });
    ramp.style.background = "linear-gradient(to right, " + facts.colours.join(", ") + ")";
    ramp.appendChild(el("div", { class: "mark", "data-testid": "map-legend-mark" }));
    scale.append(el("span", {}, facts.low), ramp, el("span", {}, facts.high), el("b", { class: "title" }, facts.title));
    key.appendChild(scale);
    key.appendChild(el("div", { class: "facts" }, facts.facts.join(" · ")));
    key.addEventListener("click", () => {
      openKey = !openKey;
      for (const each of panes.querySelectorAll(".key")) each.classList.toggle("open", openKey);
    });
    box.appendChild(key);
  }

  function markLegend(box, layer, band, column) {
    // Where the band under the mouse or the cursor sits on its legend's colour bar.
    const mark = box && box.querySelector(".key .mark");
    if (!mark) return;
    const facts = layer && layer.legend;
    let at = -1;
    if (facts && facts.positions.length && band >= 0) {
      const columns = Math.max(1, facts.columns);
      const col = facts.columns > 1 ? Math.min(columns - 1, Math.max(0, Math.floor(column * columns / Math.max(1, layer.columns || columns)))) : 0;
      const value = facts.positions[band * columns + col];
      at = value === undefined ? -1 : value;
    }
    mark.style.display = at >= 0 ? "block" : "none";
    mark.style.left = at * 100 + "%";
  }

  function build() {
    panes.replaceChildren();
    swipeOver = swipeEdge = null;
    const swiping = state.layout === "swipe" && layers.length >= 2;
    divider.style.display = dividerSep.style.display = swiping ? "" : "none";
    fitHeight();
    let shown = layers.map((layer) => [layer]);
    if (swiping) shown = [[layers[0], layers[1]], ...layers.slice(2).map((layer) => [layer])];
    firstImage = null;
    groups = [];
    for (const group of shown) {
      if (group.length === 1) {
        const [box, img] = pane(group[0], group[0].cssWidth);
        panes.appendChild(box);
        groups.push({ box, img, layers: group });
        firstImage = firstImage || img;
        continue;
      }
      const [a, b] = group;
      const box = el("div", { class: "pane" + (state.zoom === "actual" ? " actual" : ""), "data-layer": "swipe" });
      if (state.zoom === "actual") box.style.width = a.cssWidth + "px";
      box.appendChild(head(a.title + "  ◀ ▶  " + b.title, a));  // the two share one colour scale
      const stack = el("div", { class: "swipe" });
      stack.style.maxWidth = a.cssWidth + "px";
      const under = picture(a);
      swipeOver = picture(b, "over");
      swipeEdge = el("div", { class: "edge" });
      stack.append(under, swipeOver, swipeEdge);
      hover(stack, (x) => (x * 100 < state.swipe ? a : b));
      box.appendChild(stack);
      panes.appendChild(box);
      groups.push({ box, img: under, layers: group });
      firstImage = firstImage || under;
    }
    placeSwipe();
    pressed();
    minimap();
    for (const img of panes.querySelectorAll("img")) img.addEventListener("load", placeFrame);
    if (!firstImage) return;
    if (firstImage.tagName !== "IMG" || (firstImage.complete && firstImage.naturalHeight)) arrive();
    else firstImage.addEventListener("load", arrive, { once: true });
  }

  function arrive() {
    if (target !== null) {
      jump(target);
      target = null;
    }
    placeFrame();
    remember();
    showCursor();
  }

  function placeSwipe() {
    if (!swipeOver) return;
    swipeOver.style.clipPath = "inset(0 0 0 " + state.swipe + "%)";
    swipeEdge.style.left = state.swipe + "%";
  }

  function hover(target, layerAt) {
    target.addEventListener("mousemove", (event) => {
      if (cursor) { cursor = null; showCursor(); }  // the mouse takes over from the keyboard
      const rect = target.getBoundingClientRect();
      const fx = (event.clientX - rect.left) / rect.width;
      const layer = layerAt(fx);
      const y = ((event.clientY - rect.top) / rect.height) * layer.totalHeight;
      const band = Math.floor((y - layer.dataTop) / layer.bandHeight);
      const box = target.closest(".pane");
      if (y > layer.mapHeight || band < 0 || band >= layer.bands) {
        tip.style.display = "none";
        markLegend(box, layer, -1, 0);
        return;
      }
      const column = Math.min(layer.columns - 1, Math.max(0, Math.floor(fx * layer.columns)));
      markLegend(box, layer, band, column);
      tip.replaceChildren();
      if (layer.title) tip.appendChild(el("b", {}, layer.title));
      for (const line of readout(layer, band, column)) tip.appendChild(el("div", {}, line));
      tip.style.display = "block";
      const left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 4);
      const top = Math.min(event.clientY + 14, window.innerHeight - tip.offsetHeight - 4);
      tip.style.left = Math.max(4, left) + "px";
      tip.style.top = Math.max(4, top) + "px";
      tip.dataset.band = String(band);
      tip.dataset.layer = layer.title;
    });
    target.addEventListener("mouseleave", () => {
      tip.style.display = "none";
      markLegend(target.closest(".pane"), null, -1, 0);
    });
  }

  function imageTop(img) {
    return img.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
  }

  function depthNow() {
    // The inverse of jump(): the page depth a third of the way down the frame.
    if (!firstImage || !firstImage.clientHeight) return 0;
    const layer = layers[0];
    const scale = firstImage.clientHeight / layer.totalHeight;
    const depth = (scroller.scrollTop + scroller.clientHeight / 3 - imageTop(firstImage)) / scale - layer.dataTop;
    return Math.max(0, depth);
  }

  function jump(depth) {
    if (!firstImage) return;
    const layer = layers[0];
    const scale = firstImage.clientHeight / layer.totalHeight;
    scroller.scrollTop = imageTop(firstImage) + (layer.dataTop + depth) * scale - scroller.clientHeight / 3;
  }

  // --- keyboard read-out -----------------------------------------------------------------------------------
  // In the focused scroller the arrow keys move a band cursor over every map (left and right: the column, on
  // click maps) and the tip, a live region, reads the band out for each map as hovering does. Page Up/Down and
  // Space still scroll; Escape hides the cursor.
  let cursor = null;  // {band, column}

  function bandAt(depth) {
    const layer = layers[0];
    return Math.max(0, Math.min(layer.bands - 1, Math.floor(depth / layer.bandHeight)));
  }

  scroller.addEventListener("keydown", (event) => {
    const layer = layers[0];
    if (!layer || !firstImage) return;
    if (event.key === "Escape" && cursor) { cursor = null; showCursor(); return; }
    const moves = { ArrowDown: [1, 0], ArrowUp: [-1, 0], ArrowRight: [0, 1], ArrowLeft: [0, -1], Home: [-1e9, 0], End: [1e9, 0] };
    const move = moves[event.key];
    if (!move || (move[1] && !(layer.columns > 0))) return;  // left/right scroll sideways on maps without columns
    event.preventDefault();
    if (!cursor) cursor = { band: bandAt(depthNow()), column: Math.floor(layer.columns / 2) };
    else {
      cursor.band = Math.max(0, Math.min(layer.bands - 1, cursor.band + move[0]));
      cursor.column = Math.max(0, Math.min(Math.max(0, layer.columns - 1), cursor.column + move[1]));
    }
    showCursor();
    reveal();
  });
  scroller.addEventListener("blur", () => { cursor = null; showCursor(); });

  function showCursor() {
    for (const old of panes.querySelectorAll(".cursor")) old.remove();
    for (const group of groups) markLegend(group.box, null, -1, 0);
    if (!cursor || !firstImage) {
      if (tip.dataset.keyboard) { tip.style.display = "none"; delete tip.dataset.keyboard; }
      return;
    }
    tip.replaceChildren();
    let first = null;
    for (const group of groups) {
      const layer = group.layers[0];
      const scale = group.img.clientHeight / layer.totalHeight;
      const mark = el("div", { class: "cursor" });
      const picture = group.img.getBoundingClientRect();
      const frame = group.box.getBoundingClientRect();
      mark.style.top = picture.top - frame.top + (layer.dataTop + cursor.band * layer.bandHeight) * scale + "px";
      mark.style.height = Math.max(2, layer.bandHeight * scale) + "px";
      const columns = Math.max(1, layer.columns);
      const column = layer.columns > 0 ? cursor.column : 0;
      mark.style.left = picture.left - frame.left + (column / columns) * picture.width + "px";
      mark.style.width = picture.width / columns + "px";
      group.box.appendChild(mark);
      markLegend(group.box, layer, cursor.band, cursor.column);
      first = first || mark;
      for (const shown of group.layers) {
        if (shown.title) tip.appendChild(el("b", {}, shown.title));
        const inside = cursor.band < shown.bands && shown.dataTop + cursor.band * shown.bandHeight < shown.mapHeight;
        const column = Math.min(shown.columns - 1, Math.max(0, Math.round((cursor.column / Math.max(1, layer.columns)) * shown.columns)));
        for (const line of inside ? readout(shown, cursor.band, column) : ["–"]) tip.appendChild(el("div", {}, line));
      }
    }
    tip.dataset.band = String(cursor.band);
    tip.dataset.layer = layers[0].title;
    tip.dataset.keyboard = "true";
    tip.style.display = "block";
    placeTip(first);
  }

  function placeTip(mark) {
    if (!mark) return;
    const rect = mark.getBoundingClientRect();
    const left = Math.min(rect.left + 16, window.innerWidth - tip.offsetWidth - 4);
    const below = rect.bottom + 6;
    const top = below + tip.offsetHeight < window.innerHeight ? below : rect.top - tip.offsetHeight - 6;
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = Math.max(4, top) + "px";
  }

  function reveal() {
    const layer = layers[0];
    const scale = firstImage.clientHeight / layer.totalHeight;
    const top = imageTop(firstImage) + (layer.dataTop + cursor.band * layer.bandHeight) * scale;
    const bottom = top + layer.bandHeight * scale;
    if (top < scroller.scrollTop || bottom > scroller.scrollTop + scroller.clientHeight) {
      scroller.scrollTop = top - scroller.clientHeight / 3;
    }
    placeTip(panes.querySelector(".cursor"));
  }

  // --- minimap ---------------------------------------------------------------------------------------------
  let mini = null;
  let frame = null;
  function minimap() {
    if (mini) mini.remove();
    mini = frame = null;
    const layer = layers[config.minimap] || layers[0];  // on Compare with B − A: the differences, to find them
    if (!layer || window.innerWidth < PHONE) return;  // a phone's width is for the map
    const height = scroller.clientHeight || frameHeight() - bar.offsetHeight - 4;
    const width = Math.max(24, Math.min(120, Math.round((height * layer.cssWidth) / layer.totalHeight)));
    mini = el("div", { class: "mini", "data-testid": "map-minimap", title: labels.minimap || "" });
    mini.style.width = width + "px";
    mini.style.height = height + "px";
    if (layer.live) mini.appendChild(miniPicture(layer.live, width, height));
    else mini.appendChild(el("img", { src: layer.src, alt: "" }));
    frame = el("div", { class: "frame" });
    mini.appendChild(frame);
    mini.addEventListener("click", (event) => {
      const rect = mini.getBoundingClientRect();
      const share = (event.clientY - rect.top) / rect.height;
      scroller.scrollTop = share * scroller.scrollHeight - scroller.clientHeight / 2;
    });
    main.appendChild(mini);
    placeFrame();
  }
  function miniPicture(live, width, height) {
    const picture = el("canvas", { width: String(width * 2), height: String(height * 2) });
    const ctx = picture.getContext("2d");
    const scale = (height * 2) / live.height;
    for (const tile of live.tiles) ctx.drawImage(tile.canvas, 0, tile.top * scale, width * 2, tile.rows * scale);
    picture.style.width = "100%";
    picture.style.height = "100%";
    return picture;
  }
  function placeFrame() {
    if (!frame) return;
    const total = Math.max(1, scroller.scrollHeight);
    frame.style.top = (scroller.scrollTop / total) * 100 + "%";
    frame.style.height = Math.min(100, (scroller.clientHeight / total) * 100) + "%";
  }
  scroller.addEventListener("scroll", () => {
    placeFrame();
    if (cursor) placeTip(panes.querySelector(".cursor"));
    else tip.style.display = "none";
    remember();
  });
  window.addEventListener("resize", () => {
    // The app sizes the frame to the window after it loads: the same place on the page stays in view.
    const depth = firstImage && firstImage.clientHeight ? depthNow() : null;
    fitHeight();
    if (depth !== null) jump(depth);
    minimap();
  });
  const live = layers.filter((layer) => layer.live);
  if (!live.length) build();
  else {
    let left = live.length;
    for (const layer of live) {
      prepare(layer, () => {
        paint(layer);
        if (--left === 0) { build(); root.dataset.painted = "true"; watchControls(); }
      });
    }
  }
})();
