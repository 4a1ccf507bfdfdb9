/* The drawing script of a transformers-ih report (inlined into every report by visualize/_assets.py, no network).
 *
 * drawReport(reportId, figures, data, config) picks the theme, draws every figure with plotly.js, and redraws on
 * a theme change or a click on the matrix's switches or the focus menu.
 *
 * figures: {element id: {figure: both themes merged ({"__ihTheme": {light, dark}} where they differ),
 *           view: null | "matrix" | "word-focus" | "arcs"}}; null: drawn as built.
 * data: null, or the report's data (visualize/_payload.py report_data). Every text and number in it was written
 *       by Python: the values come as their texts (short, exact) packed four bits a character; the hover wording
 *       as templates with {name} fields; the focus bars, their signs and titles as chosen in Python. This script
 *       only lays them out: it unpacks, fills templates, reads numbers back from their exact texts, and never
 *       formats a number. Labels arrive escaped for plotly and are only put into templates.
 * config: plotly's options for every chart.
 */
function drawReport(reportId, figures, data, config) {
  "use strict";
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

  // ------------------------------------------------------------------ the data, unpacked once on first use
  function bytesOf(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var k = 0; k < s.length; k++) { out[k] = s.charCodeAt(k); }
    return out;
  }
  function unpack(packed) {  // the texts of _numbers.encode_texts
    var bytes = bytesOf(packed), chars = new Array(2 * bytes.length), alphabet = data.alphabet;
    for (var k = 0; k < bytes.length; k++) {
      chars[2 * k] = alphabet.charAt(bytes[k] >> 4);
      chars[2 * k + 1] = alphabet.charAt(bytes[k] & 15);  // the padding code has no character
    }
    var joined = chars.join("");
    return joined ? joined.split(" ") : [];
  }
  function compile(template) {  // "{name}" fields, as Python's str.format fills them
    var parts = template.split(/\{(\w+)\}/);
    return function (fields) {
      var out = parts[0];
      for (var k = 1; k < parts.length; k += 2) { out += fields[parts[k]] + parts[k + 1]; }
      return out;
    };
  }
  var T = null, report = null;
  function valuesOf(packed) {  // _numbers.encode_values: the hover text and the number of each value
    var t = unpack(packed), count = t.length / 2, texts = new Array(count), numbers = new Float64Array(count);
    for (var k = 0; k < count; k++) {
      texts[k] = T.value({short: t[2 * k], exact: t[2 * k + 1]});
      numbers[k] = Number(t[2 * k + 1]);
    }
    return {texts: texts, numbers: numbers};
  }
  function decoded() {
    if (report) { return report; }
    T = {};
    Object.keys(data.templates).forEach(function (name) { T[name] = compile(data.templates[name]); });
    var spec = data.matrix, n = spec.n, known = spec.known ? bytesOf(spec.known) : null;
    var cell = new Int32Array(n * n), total = new Int32Array(n * n), i, j, c, k = 0;
    for (c = 0; c < n * n; c++) { cell[c] = -1; total[c] = -1; }
    for (i = 0; i < n; i++) {  // the sent cells, in _numbers.encode_matrix's order
      for (j = spec.symmetric ? i : 0; j < n; j++) {
        c = i * n + j;
        if (known && !((known[c >> 3] >> (7 - (c & 7))) & 1)) { continue; }
        cell[c] = k;
        if (spec.symmetric) { cell[j * n + i] = k; }
        k++;
      }
    }
    k = 0;
    for (i = 0; i < n; i++) {  // _numbers.total_pairs
      for (j = i + 1; j < n; j++) {
        if (cell[i * n + j] >= 0 && cell[j * n + i] >= 0) { total[i * n + j] = total[j * n + i] = k++; }
      }
    }
    report = {
      n: n, cell: cell, total: total, values: valuesOf(spec.values), totals: valuesOf(spec.totals),
      attributions: valuesOf(data.attributions), rest: valuesOf(data.focus.rest)
    };
    return report;
  }

  // ------------------------------------------------------------------ views laid out from the data
  var states = {};
  function menuNamed(layout, name) {
    var menus = layout.updatemenus || [];
    for (var k = 0; k < menus.length; k++) { if (menus[k].name === name) { return menus[k]; } }
    return null;
  }
  function cellText(i, j) {  // as _hover.cell_text
    var r = report, c = r.cell[i * r.n + j], t = r.total[i * r.n + j], labels = data.labels;
    var value = c < 0 ? data.notComputed : r.values.texts[c];
    if (i === j) { return T.mainEffect({a: labels[i], value: value}); }
    var text = T.pair({a: labels[i], b: labels[j], i: i, j: j, value: value});
    return t < 0 ? text : text + T.pairTotal({total: r.totals.texts[t]});
  }
  function matrixView(id, fig) {
    var r = decoded(), n = r.n;
    var diagonalMenu = menuNamed(fig.layout, "ih-diagonal"), orderMenu = menuNamed(fig.layout, "ih-order");
    var st = states[id] || (states[id] = {
      diagonal: diagonalMenu ? diagonalMenu.active === 1 : false, order: orderMenu ? orderMenu.active : 0, grids: {}
    });
    var grid = st.grids[st.order], row, col, i, j;
    if (!grid) {
      var order = [];
      if (st.order === 1) { order = data.orders.strength; } else { for (i = 0; i < n; i++) { order.push(i); } }
      var text = [], unknown = [];
      for (row = 0; row < n; row++) {
        var textRow = new Array(n), unknownRow = new Array(n);
        for (col = 0; col < n; col++) {
          textRow[col] = cellText(order[row], order[col]);
          unknownRow[col] = r.cell[order[row] * n + order[col]] < 0 ? 1 : null;
        }
        text.push(textRow);
        unknown.push(unknownRow);
      }
      var ticks = order.map(function (q) { return data.ticks[q]; });
      grid = st.grids[st.order] = {order: order, ticks: ticks, text: text, unknown: unknown, z: {}};
    }
    var key = st.diagonal ? "shown" : "hidden", z = grid.z[key];
    if (!z) {
      z = grid.z[key] = [];
      for (row = 0; row < n; row++) {
        var zRow = new Array(n);
        for (col = 0; col < n; col++) {
          i = grid.order[row]; j = grid.order[col];
          var c = r.cell[i * n + j];
          zRow[col] = c < 0 || (i === j && !st.diagonal) ? null : r.values.numbers[c];
        }
        z.push(zRow);
      }
    }
    var main = fig.data[0];
    main.x = grid.ticks; main.y = grid.ticks; main.text = grid.text;
    main.z = z; main.zmin = -data.vmax[key]; main.zmax = data.vmax[key];
    if (fig.data[1]) {
      var unknownTrace = fig.data[1];
      unknownTrace.x = grid.ticks; unknownTrace.y = grid.ticks; unknownTrace.text = grid.text;
      unknownTrace.z = grid.unknown;
    }
    if (diagonalMenu) { diagonalMenu.active = st.diagonal ? 1 : 0; }
    if (orderMenu) { orderMenu.active = st.order; }
  }
  function focusView(id, fig, theme) {
    var menu = menuNamed(fig.layout, "ih-focus"), f = data.focus;
    if (!menu || !f.rows.length) { return; }
    var st = states[id] || (states[id] = {row: menu.active || 0});
    var r = decoded(), k = st.row, i = f.rows[k], p = data.palettes[theme], labels = data.labels;
    var x = [], y = [], hover = [], colors = [], widths = [];
    f.bars[k].forEach(function (j, b) {
      if (j === null) {
        x.push(f.restLabel);
        y.push(r.rest.numbers[k]);
        hover.push(T.focusRest({what: f.restLabel, a: labels[i], value: r.rest.texts[k]}));
      } else {
        var c = r.cell[i * r.n + j];
        x.push(j === i ? f.ticks[k] : data.ticks[j]);
        y.push(r.values.numbers[c]);
        hover.push(j === i ? T.focusMain({a: labels[i], value: r.values.texts[c]})
          : T.pair({a: labels[i], b: labels[j], i: i, j: j, value: r.values.texts[c]}));
      }
      colors.push(f.signs[k].charAt(b) === "-" ? p.negative : p.positive);
      widths.push(j === i ? f.outline : 0);
    });
    var trace = fig.data[0];
    trace.x = x; trace.y = y; trace.hovertext = hover;
    trace.marker = {color: colors, line: {width: widths, color: p.foreground}};
    fig.layout.title = fig.layout.title || {};
    fig.layout.title.text = f.titles[k];
    menu.active = k;
  }
  function arcsView(id, fig) {
    var r = decoded();
    fig.data.forEach(function (trace) {
      if (trace.name !== "words") { return; }
      trace.hovertext = data.labels.map(function (label, i) {
        return T.attribution({a: label, value: r.attributions.texts[i]});
      });
    });
  }
  var views = {"matrix": matrixView, "word-focus": focusView, "arcs": arcsView};
  function clicked(id, event) {
    var st = states[id], name = event && event.menu && event.menu.name;
    if (!st || event.active === undefined || event.active < 0) { return; }
    if (name === "ih-diagonal") { st.diagonal = event.active === 1; }
    else if (name === "ih-order") { st.order = event.active; }
    else if (name === "ih-focus") { st.row = event.active; }
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
    if (query.addEventListener) { query.addEventListener("change", draw); }
    else if (query.addListener) { query.addListener(draw); }
  }
}
