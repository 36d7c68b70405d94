// The map viewer (heatmap/ui/viewer.py builds the page around this script and its JSON config).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("config").textContent);
  const root = document.getElementById("viewer");
  const labels = config.labels;
  const layers = config.layers;
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
    let text = config.link + (config.link.includes("?") ? "&" : "?") + "at=" + Math.round(depthNow());
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
    const img = el("img", { src: layer.src, alt: layer.title || labels.map || "heatmap", draggable: "false" });
    img.style.maxWidth = layer.cssWidth + "px";  // a phone's page at its own width, centred, never blown up
    hover(img, () => layer);
    box.appendChild(img);
    return [box, img];
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
      const under = el("img", { src: a.src, alt: a.title, draggable: "false" });
      swipeOver = el("img", { class: "over", src: b.src, alt: b.title, draggable: "false" });
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
    if (firstImage.complete && firstImage.naturalHeight) arrive();
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
    mini.appendChild(el("img", { src: layer.src, alt: "" }));
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
  build();
})();
