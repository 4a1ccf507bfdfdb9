"""The report's drawing script (inline, no network): picks the theme, draws every figure, and builds the heavy parts
of the matrix and word-focus charts in the browser from the report's one copy of the numbers (:mod:`._payload`).

The hover strings it builds match the Python views' (:func:`._format.value_text`: ``"+0.1235 (exact
0.12345678901234)"``, the exact part written as Python's ``repr``, the short part rounded half to even as
Python's ``format``). Labels arrive escaped (:func:`._escape.plotly_text`) and are only concatenated.

Figures are ``{element id: {"figure": merged figure, "view": null | "matrix" | "word-focus"}}`` (themes merged
by :func:`._payload.merge_themes`; views: the matrix's cells, the focus chart's bars and the arcs' word markers
are written here; ``null``: drawn as built)."""

from __future__ import annotations

__all__ = ["RENDER_JS", "render_script"]

RENDER_JS = r"""(function () {
  "use strict";
  var reportId = %(report_id)s;
  var figures = %(figures)s;
  var data = %(data)s;
  var config = %(config)s;
  var THEME_KEY = "__ihTheme";
  var root = document.getElementById(reportId);
  if (!root) { return; }
  function loadPlotly() {
    if (window.Plotly) { return; }
    var source = document.getElementById(reportId + "-plotlyjs");
    if (!source) { return; }
    var script = document.createElement("script");
    script.text = source.textContent;
    document.head.appendChild(script);
  }
  function isDark() {
    var body = document.body;
    var jp = body && body.getAttribute("data-jp-theme-light");
    if (jp === "false") { return true; }
    if (jp === "true") { return false; }
    if (body && body.classList) {
      if (body.classList.contains("vscode-dark") || body.classList.contains("vscode-high-contrast")) { return true; }
      if (body.classList.contains("vscode-light")) { return false; }
    }
    return !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  // ------------------------------------------------------------------ numbers, as the Python views write them
  function bytesOf(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }
  function floatsOf(b64) {
    var bytes = bytesOf(b64), view = new DataView(bytes.buffer), out = new Float64Array(bytes.length / 8);
    for (var i = 0; i < out.length; i++) { out[i] = view.getFloat64(8 * i, true); }
    return out;
  }
  function zeros(count) { return count > 0 ? new Array(count + 1).join("0") : ""; }
  function exact(v) {  // Python's repr(float)
    if (v !== v) { return "nan"; }
    if (v === Infinity) { return "inf"; }
    if (v === -Infinity) { return "-inf"; }
    if (v === 0) { return 1 / v < 0 ? "-0.0" : "0.0"; }
    var parts = v.toExponential().split("e"), exp = parseInt(parts[1], 10);
    var sign = v < 0 ? "-" : "", digits = parts[0].replace("-", "").replace(".", "");
    if (exp < -4 || exp >= 16) {
      var mantissa = digits.length > 1 ? digits.charAt(0) + "." + digits.slice(1) : digits, e = Math.abs(exp);
      return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
    }
    if (exp < 0) { return sign + "0." + zeros(-exp - 1) + digits; }
    if (digits.length <= exp + 1) { return sign + digits + zeros(exp + 1 - digits.length) + ".0"; }
    return sign + digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  }
  function short(v) {  // Python's format(v, "+.4f")
    var a = Math.abs(v), t = a * 32;
    var text = a < 1e21 ? a.toFixed(4) : (typeof BigInt === "function" ? BigInt(a).toString() + ".0000" : a.toFixed(4));
    if (t === Math.floor(t) && t %% 2 === 1 && a < 1e12) {  // an exact tie at the 5th decimal: half to even
      var n = Math.round(a * 10000 - 0.5);
      text = ((n %% 2 === 1 ? n + 1 : n) / 10000).toFixed(4);
    }
    return (v < 0 || (v === 0 && 1 / v < 0) ? "-" : "+") + text;
  }
  function valueText(v) { return short(v) + " (exact " + exact(v) + ")"; }

  var numbers = null;  // decoded once, on first use
  function decoded() {
    if (numbers) { return numbers; }
    var spec = data.matrix, n = spec.n, m = new Float64Array(n * n), values = floatsOf(spec.values), k = 0;
    var known = spec.known ? bytesOf(spec.known) : null;
    for (var c = 0; c < n * n; c++) { m[c] = NaN; }
    for (var i = 0; i < n; i++) {
      for (var j = spec.symmetric ? i : 0; j < n; j++) {
        var cell = i * n + j;
        if (known && !((known[cell >> 3] >> (7 - (cell & 7))) & 1)) { continue; }
        m[cell] = values[k++];
        if (spec.symmetric) { m[j * n + i] = m[cell]; }
      }
    }
    numbers = {n: n, m: m, attributions: floatsOf(data.attributions)};
    return numbers;
  }

  // ------------------------------------------------------------------ views drawn from the numbers
  var states = {};
  function menuNamed(layout, name) {
    var menus = layout.updatemenus || [];
    for (var i = 0; i < menus.length; i++) { if (menus[i].name === name) { return menus[i]; } }
    return null;
  }
  function cellText(i, j, v, vt) {
    var labels = data.labels;
    if (i === j) { return "<b>" + labels[i] + "</b><br>main effect: " + (v !== v ? data.notComputed : valueText(v)); }
    var head = "<b>" + labels[i] + " × " + labels[j] + "</b><br>interaction[" + i + ", " + j + "]: ";
    if (v !== v) { return head + data.notComputed; }
    return head + valueText(v) + (vt !== vt ? "" : "<br>pair total (both halves): " + valueText(v + vt));
  }
  function matrixView(id, fig) {
    var num = decoded(), n = num.n, m = num.m;
    var diagonalMenu = menuNamed(fig.layout, "ih-diagonal"), orderMenu = menuNamed(fig.layout, "ih-order");
    var st = states[id] || (states[id] = {
      diagonal: diagonalMenu ? diagonalMenu.active === 1 : false, order: orderMenu ? orderMenu.active : 0, grids: {}
    });
    var grid = st.grids[st.order];
    if (!grid) {
      var order = [], r, c;
      if (st.order === 1) { order = data.orders.strength; } else { for (r = 0; r < n; r++) { order.push(r); } }
      var ticks = order.map(function (i) { return data.ticks[i]; }), text = [], unknown = [];
      for (r = 0; r < n; r++) {
        var i = order[r], textRow = new Array(n), unknownRow = new Array(n);
        for (c = 0; c < n; c++) {
          var j = order[c], v = m[i * n + j];
          textRow[c] = cellText(i, j, v, m[j * n + i]);
          unknownRow[c] = v !== v ? 1 : null;
        }
        text.push(textRow);
        unknown.push(unknownRow);
      }
      grid = st.grids[st.order] = {order: order, ticks: ticks, text: text, unknown: unknown, z: {}};
    }
    var key = st.diagonal ? "shown" : "hidden", z = grid.z[key];
    if (!z) {
      var vmax = 0;
      z = [];
      for (var row = 0; row < n; row++) {
        var zi = grid.order[row], zRow = new Array(n);
        for (var col = 0; col < n; col++) {
          var zj = grid.order[col], value = m[zi * n + zj];
          if (value !== value || (zi === zj && !st.diagonal)) { zRow[col] = null; continue; }
          zRow[col] = value;
          if (Math.abs(value) > vmax) { vmax = Math.abs(value); }
        }
        z.push(zRow);
      }
      z = grid.z[key] = {z: z, vmax: vmax || 1.0};
    }
    var main = fig.data[0];
    main.x = grid.ticks; main.y = grid.ticks; main.text = grid.text;
    main.z = z.z; main.zmin = -z.vmax; main.zmax = z.vmax;
    if (fig.data[1]) {
      var unknownTrace = fig.data[1];
      unknownTrace.x = grid.ticks; unknownTrace.y = grid.ticks; unknownTrace.text = grid.text;
      unknownTrace.z = grid.unknown;
    }
    if (diagonalMenu) { diagonalMenu.active = st.diagonal ? 1 : 0; }
    if (orderMenu) { orderMenu.active = st.order; }
  }
  function focusView(id, fig, theme) {
    var menu = menuNamed(fig.layout, "ih-focus"), rows = data.focusRows;
    if (!menu || !rows.length) { return; }
    var st = states[id] || (states[id] = {word: rows[menu.active || 0]});
    var num = decoded(), n = num.n, i = st.word, p = data.palettes[theme], labels = data.labels;
    var row = Array.prototype.slice.call(num.m, i * n, (i + 1) * n), bars = [], j, k;
    if (n <= data.focusBars) {
      for (j = 0; j < n; j++) { bars.push([j, row[j]]); }
    } else {
      var others = [];
      for (j = 0; j < n; j++) { if (j !== i) { others.push(j); } }
      others.sort(function (a, b) { return (Math.abs(row[b]) - Math.abs(row[a])) || (a - b); });
      var kept = others.slice(0, data.focusBars - 2).concat([i]).sort(function (a, b) { return a - b; });
      var rest = 0, restCount = others.length - (data.focusBars - 2);
      for (k = data.focusBars - 2; k < others.length; k++) { rest += row[others[k]]; }
      kept.forEach(function (q) { bars.push([q, row[q]]); });
      bars.push([null, rest, restCount]);
    }
    var x = [], y = [], hover = [], colors = [], widths = [];
    bars.forEach(function (bar) {
      var q = bar[0], v = bar[1];
      y.push(v);
      colors.push(v >= 0 ? p.positive : p.negative);
      widths.push(q === i ? 3 : 0);
      if (q === null) {
        var what = bar[2] + " other " + data.nouns;
        x.push(what);
        hover.push("<b>" + what + "</b><br>sum of their interactions with " + labels[i] + ": " + valueText(v));
      } else if (q === i) {
        x.push("main effect: " + data.ticks[i]);
        hover.push("<b>main effect of " + labels[i] + "</b><br>" + valueText(v));
      } else {
        x.push(data.ticks[q]);
        hover.push("<b>" + labels[i] + " × " + labels[q] + "</b><br>interaction[" + i + ", " + q + "]: " + valueText(v));
      }
    });
    var trace = fig.data[0];
    trace.x = x; trace.y = y; trace.hovertext = hover;
    trace.marker = {color: colors, line: {width: widths, color: p.foreground}};
    var sum = 0;
    for (j = 0; j < n; j++) { sum += row[j]; }
    fig.layout.title = fig.layout.title || {};
    fig.layout.title.text = "“" + data.names[i] + "” [" + i + "]: attribution " + short(num.attributions[i]) +
      "<br><sup>= main effect " + short(row[i]) + " + interactions with other " + data.nouns + " " +
      short(sum - row[i]) + " (" + data.output + " units)</sup>";
    menu.active = rows.indexOf(i);
  }
  function arcsView(id, fig) {
    var num = decoded();
    fig.data.forEach(function (trace) {
      if (trace.name !== "words") { return; }
      trace.hovertext = data.labels.map(function (label, i) {
        return "<b>" + label + "</b><br>attribution: " + valueText(num.attributions[i]);
      });
    });
  }
  var views = {"matrix": matrixView, "word-focus": focusView, "arcs": arcsView};
  function clicked(id, event) {
    var st = states[id], name = event && event.menu && event.menu.name;
    if (!st || event.active === undefined || event.active < 0) { return; }
    if (name === "ih-diagonal") { st.diagonal = event.active === 1; }
    else if (name === "ih-order") { st.order = event.active; }
    else if (name === "ih-focus") { st.word = data.focusRows[event.active]; }
    else { return; }
    drawFigure(id);
  }

  // ------------------------------------------------------------------ drawing
  function resolve(node, theme) {
    if (Array.isArray(node)) { return node.map(function (item) { return resolve(item, theme); }); }
    if (node && typeof node === "object") {
      if (Object.prototype.hasOwnProperty.call(node, THEME_KEY)) { return resolve(node[THEME_KEY][theme], theme); }
      var out = {};
      Object.keys(node).forEach(function (key) { out[key] = resolve(node[key], theme); });
      return out;
    }
    return node;
  }
  var theme = "light";
  function showError(message) {
    var error = root.querySelector(".ih-error");
    if (error) { error.textContent = message; }
  }
  function drawFigure(id) {
    var element = document.getElementById(id), entry = figures[id];
    if (!element) { return; }
    var figure = resolve(entry.figure, theme);
    if (entry.view && data && views[entry.view]) { views[entry.view](id, figure, theme); }
    window.Plotly.react(element, figure.data, figure.layout, config);
    if (entry.view && !element.__ihListening && element.on) {
      element.__ihListening = true;
      element.on("plotly_buttonclicked", function (event) { clicked(id, event); });
    }
  }
  function draw() {
    theme = isDark() ? "dark" : "light";
    root.setAttribute("data-ih-theme", theme);
    Object.keys(figures).forEach(function (id) {
      try { drawFigure(id); } catch (err) {
        showError("A chart could not be drawn: " + err);
        if (window.console) { window.console.error(err); }
      }
    });
  }
  loadPlotly();
  if (!window.Plotly) {
    showError("plotly.js did not load, so the charts cannot be drawn.");
    return;
  }
  draw();
  if (window.matchMedia) {
    var query = window.matchMedia("(prefers-color-scheme: dark)");
    if (query.addEventListener) { query.addEventListener("change", draw); } else if (query.addListener) { query.addListener(draw); }
  }
})();"""


def render_script(report_id_json: str, figures_json: str, config_json: str, data_json: str = "null") -> str:
    """The body of the report's drawing ``<script>``; arguments are JSON already made safe for a script element
    (:func:`._escape.json_for_script`). ``figures_json``: see the module docstring; ``data_json``: the report's
    numbers (:func:`._payload.report_data`) or ``null``. Loads plotly.js from the report's ``<script
    type="text/plain">`` copy when ``window.Plotly`` is missing (notebook fragments), then draws every figure for
    the current theme and redraws on change."""
    return RENDER_JS % {"report_id": report_id_json, "figures": figures_json, "config": config_json,
                        "data": data_json}
