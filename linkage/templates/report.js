/* linkage report: draws the page from the embedded data. Record text only ever reaches the page as
   text nodes (textContent / append of strings), never as HTML. */
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // Basics
  // ---------------------------------------------------------------------------------------------
  var errorsBox = document.getElementById("report-errors");
  var errorCount = 0;
  function reportError(msg) {
    errorCount += 1;
    document.body.setAttribute("data-errors", String(errorCount));
    if (errorsBox) {
      errorsBox.hidden = false;
      var line = document.createElement("div");
      line.textContent = "The report hit a problem: " + String(msg);
      errorsBox.appendChild(line);
    }
  }
  window.addEventListener("error", function (e) { reportError(e.message || e); });
  window.addEventListener("unhandledrejection", function (e) {
    reportError((e.reason && e.reason.message) || e.reason);
  });

  var META = JSON.parse(document.getElementById("meta").textContent);
  var T = META.threshold, BAND = META.band, LO = T + BAND[0], HI = T + BAND[1];
  var COMPS = META.comparisons;
  var NC = COMPS.length;
  var RF = {};
  META.record_fields.forEach(function (f, i) { RF[f] = i; });
  var GAMMA_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz";

  function el(tag, props) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var kid = arguments[i];
      if (kid === null || kid === undefined || kid === false) continue;
      if (Array.isArray(kid)) { kid.forEach(function (k) { add(parent, k); }); continue; }
      parent.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function num(x, d) {
    if (x === null || x === undefined || (typeof x === "number" && isNaN(x))) return "–";
    if (typeof x !== "number") return String(x);
    if (d === undefined) return x.toLocaleString("en");
    return x.toLocaleString("en", { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  function sig(x) {
    if (x === null || x === undefined) return "–";
    if (x === 0) return "0";
    var a = Math.abs(x);
    return a >= 0.001 && a < 1e5 ? x.toPrecision(4).replace(/\.?0+$/, "") : x.toExponential(3);
  }
  function wtext(w) { return (w > 0 ? "+" : "") + w.toFixed(2); }
  function wclass(w) { return w > 0.005 ? "pos" : (w < -0.005 ? "neg" : "zero"); }
  function prob(w) { return 1 / (1 + Math.pow(2, -w)); }
  function decision(w) {
    if (w === null || w === undefined) return "not compared";
    if (w >= LO && w < HI) return "review";
    return w >= T ? "duplicate" : "not duplicate";
  }
  function badge(text) {
    var cls = text === "duplicate" ? "duplicate" : text === "review" ? "review" : text === "not duplicate" ? "not-duplicate" : "none";
    return el("span", { "class": "badge " + cls, text: text });
  }
  function kvTable(rows) {
    return el("table", { "class": "kv" }, el("tbody", null, rows.filter(Boolean).map(function (r) {
      return el("tr", null, el("th", { text: r[0] }), el("td", { "class": r[2] || "" }, r[1]));
    })));
  }
  function table(head, rows, numeric) {
    numeric = numeric || [];
    return el("table", null,
      el("thead", null, el("tr", null, head.map(function (h, i) {
        return el("th", { "class": numeric.indexOf(i) >= 0 ? "num" : "", text: h });
      }))),
      el("tbody", null, rows.map(function (r) {
        return el("tr", null, r.map(function (c, i) {
          return el("td", { "class": numeric.indexOf(i) >= 0 ? "num" : "wrap" }, c);
        }));
      })));
  }
  function section(parent, title, body) {
    var s = el("div", { "class": "block" }, el("h3", { text: title }), body);
    parent.appendChild(s);
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Tabs and the address (#tab=decisions&q=...&open=first)
  // ---------------------------------------------------------------------------------------------
  var tabButtons = Array.prototype.slice.call(document.querySelectorAll("#tabs button"));
  function showTab(name) {
    var found = false;
    tabButtons.forEach(function (b) {
      var on = b.getAttribute("data-tab") === name && !b.hidden;
      if (on) found = true;
      b.setAttribute("aria-selected", on ? "true" : "false");
    });
    if (!found) return showTab("overview");
    document.querySelectorAll("section.tab").forEach(function (s) { s.hidden = s.id !== "tab-" + name; });
  }
  tabButtons.forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); });
  });
  function hashParams() {
    var out = {};
    var h = window.location.hash.replace(/^#/, "");
    if (!h) return out;
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      var k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? "" : kv.slice(i + 1);
      try { out[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, " ")); } catch (e) { /* ignore */ }
    });
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Charts
  // ---------------------------------------------------------------------------------------------
  // Splink's own specs log harmless "Infinite extent" warnings for empty hover selections: errors only.
  var EMBED_OPTIONS = { mode: "vega-lite", renderer: "svg", logLevel: window.vega ? window.vega.Error : 1,
    actions: { "export": true, source: false, compiled: false, editor: false } };
  function embed(container, spec) {
    var s = JSON.parse(JSON.stringify(spec));
    delete s.$schema;
    if (typeof window.vegaEmbed !== "function") { reportError("the chart library did not load"); return Promise.resolve(); }
    return window.vegaEmbed(container, s, EMBED_OPTIONS).catch(function (err) {
      reportError("a chart could not be drawn (" + (err && err.message ? err.message : err) + ")");
    });
  }
  function drawCharts() {
    var jobs = [];
    Object.keys(META.charts || {}).forEach(function (name) {
      var box = document.getElementById("chart-" + name);
      if (!box) return;
      var c = META.charts[name];
      var holder = el("div");
      box.appendChild(holder);
      jobs.push(embed(holder, c.spec));
    });
    return Promise.all(jobs);
  }

  // ---------------------------------------------------------------------------------------------
  // Overview
  // ---------------------------------------------------------------------------------------------
  function card(value, label) {
    return el("div", { "class": "card" }, el("div", { "class": "v", text: value }), el("div", { "class": "k", text: label }));
  }
  function drawOverview() {
    var S = META.summary, C = S.counts || {}, th = S.threshold || {};
    document.getElementById("run-name").textContent = S.run_dir || "";
    var cards = document.getElementById("cards");
    add(cards, [
      card(num(C.records), "records"),
      card(num(S.scored_pairs), "pairs scored"),
      card(num(C.pairs_linked), "pairs linked (weight ≥ threshold)"),
      card(num(META.decisions.total), "decisions (linked + review band)"),
      card(num(C.clusters), "works (clusters)"),
      card(num(C.duplicate_clusters), "works with more than one record"),
      card(num((C.records || 0) - (C.clusters || 0)), "duplicate records found")
    ]);
    var tl = document.getElementById("threshold-line");
    add(tl, ["Threshold ", el("strong", { text: num(T, 2) + " bits" }), " (match probability " + num(prob(T), 4) + ")",
      th.mode ? ", chosen " + (th.mode === "auto" ? "automatically for an expected precision of " + num(th.target_precision, 3) : "by the settings") : "",
      th.expected_precision !== undefined ? "; the model expects the linked pairs' precision to be " + num(th.expected_precision, 3) : "",
      ". Review band: " + num(LO, 2) + " to " + num(HI, 2) + " bits (" + num(BAND[0], 1) + " / +" + num(BAND[1], 1) + " around the threshold)."]);

    var box = document.getElementById("summary-tables");
    var wrap = el("div", { "class": "tables" });
    box.appendChild(wrap);
    // inputs
    var inputs = (S.inputs || []).map(function (i) {
      var mapping = Object.keys(i.column_mapping || {}).map(function (k) { return k + "←" + i.column_mapping[k]; }).join(", ");
      return [i.source, i.format, i.encoding || "", num(i.rows), num(i.parse_errors || 0), i.path, mapping];
    });
    section(wrap, "Inputs", table(["source", "format", "encoding", "rows", "parse errors", "path", "columns"], inputs, [3, 4]));
    // clusters by size
    var sizes = Object.keys(S.cluster_sizes || {}).map(function (k) { return [k, num(S.cluster_sizes[k]), num(S.cluster_sizes[k] * Number(k))]; });
    var sizeBlock = el("div", null, table(["records in the work", "works", "records"], sizes, [0, 1, 2]),
      el("figure", { "class": "chart", id: "chart-cluster_sizes" }));
    section(wrap, "Works (clusters) by size", sizeBlock);
    // per source
    var ps = (S.per_source || []).map(function (p) {
      return [p.source, num(p.records), num(p.works), num(p.in_multi_record_works), num(p.works_with_1), num(p.works_with_2), num(p.works_with_3_plus)];
    });
    section(wrap, "Records per source per cluster", el("div", null,
      table(["source", "records", "works", "records in multi-record works", "multi-record works with 1 record of the source", "with 2", "with 3+"], ps, [1, 2, 3, 4, 5, 6]),
      el("h4", { text: "Most common make-up of multi-record works" }),
      table(["sources", "works"], (S.compositions || []).map(function (c) { return [c.sources, num(c.works)]; }), [1])));
    // timings, versions, settings
    var tm = S.timings || {};
    section(wrap, "Timings (seconds)", table(["stage", "seconds"], Object.keys(tm).map(function (k) { return [k, num(tm[k], 2)]; }), [1]));
    var vs = Object.assign({ linkage: S.linkage_version }, S.versions || {}, { python: (S.machine || {}).python });
    section(wrap, "Versions", table(["package", "version"], Object.keys(vs).map(function (k) { return [k, vs[k] === null || vs[k] === undefined ? "–" : String(vs[k])]; })));
    var st = S.settings || {};
    section(wrap, "Run", kvTable([
      ["settings file", st.path || "–"], ["settings SHA-256", st.sha256 || "–", "code"], ["settings name", st.name || "–"],
      ["link type", S.link_type || "–"], ["seed", S.seed === undefined ? "–" : String(S.seed)], ["backend", S.backend || "–"],
      ["model reused from", S.model_from || "– (trained in this run)"], ["run created", S.created || "–"],
      ["report built", S.report_created || "–"], ["run folder", S.run_dir || "–"],
      ["machine", (S.machine || {}).platform ? S.machine.platform + ", " + S.machine.cpus + " CPUs" : "–"]
    ]));
    var clu = S.clustering || {};
    if (Object.keys(clu).length) {
      section(wrap, "Clustering", kvTable(Object.keys(clu).map(function (k) {
        var v = clu[k];
        return [k, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)];
      })));
    }
    // clerical-review decisions applied by the run
    var RD = META.run_decisions || {};
    if (RD.file) {
      var conf = (RD.conflicts || []).map(function (c) {
        return [c.cannot_link[0] + " – " + c.cannot_link[1] + " (line " + c.line + ")",
          c.must_links_dropped.map(function (m) { return m.pair[0] + " – " + m.pair[1] + " (line " + m.line + ")"; }).join("; ")];
      });
      section(wrap, "Clerical-review decisions", el("div", null, kvTable([
        ["decisions file", RD.file],
        ["pairs decided", num(RD.pairs_decided)],
        ["applied", num(RD.applied) + " (" + num(RD.must_link) + " must-link, " + num(RD.cannot_link) + " cannot-link)"],
        ["unsure (no constraint)", num(RD.unsure)],
        ["replaced by a later row", num(RD.replaced)],
        ["ids not in this run (skipped)", num(RD.unknown)],
        ["conflicts", num(RD.conflicts_total || 0)]
      ]), conf.length ? el("div", null, el("p", { "class": "note", text: RD.policy || "" }),
        table(["cannot-link kept", "must-links dropped (they would join its pair)"], conf)) : null));
    }
    // warnings and data notes
    var warns = S.warnings || [];
    section(box, "Warnings", warns.length ? el("ul", { "class": "plain" }, warns.map(function (w) { return el("li", { "class": "warn", text: w }); }))
      : el("p", { "class": "muted", text: "none" }));
    var notes = META.notes || {};
    var mk = notes.markup || [];
    var nb = el("div");
    if (!mk.length) add(nb, el("p", { "class": "muted", text: "No record has markup or character entities in its title, authors or venue." }));
    else {
      add(nb, el("p", { "class": "intro", text: num(notes.markup_total) + " field value(s) contain HTML/XML markup or character entities " +
        "(e.g. <i>, &amp;). The report shows such text literally; consider cleaning it at the source. " +
        (mk.length < notes.markup_total ? "The first " + mk.length + " are listed." : "") }));
      add(nb, table(["record", "field", "text as read"], mk.map(function (m) { return [m.unique_id, m.field, m.text]; })));
    }
    section(box, "Data notes", nb);
  }

  // ---------------------------------------------------------------------------------------------
  // Model
  // ---------------------------------------------------------------------------------------------
  function drawModel() {
    var M = META.model, tr = M.training || {};
    var head = document.getElementById("model-head");
    add(head, kvTable([
      ["λ (probability two random records match)", sig(M.prior) + (tr.prior_source ? " (" + tr.prior_source + ")" : "")],
      ["prior match weight log2(λ / (1 − λ))", num(M.prior_weight, 3) + " bits"],
      ["u estimated from", tr.u_max_pairs ? num(tr.u_max_pairs) + " random pairs" : "–"],
      ["EM convergence tolerance / max iterations", sig(M.em_convergence) + " / " + (M.max_iterations || "–")],
      ["Splink link type", M.link_type || "–"]
    ]));
    var em = (tr.em_sessions || []).map(function (s) {
      return [s.blocking_rule, String(s.iterations === undefined ? "–" : s.iterations),
        s.converged ? "converged" : (s.error ? "failed: " + s.error : "stopped at max_iterations (not converged)")];
    });
    section(head, "EM sessions", em.length ? table(["blocking rule (fixes these columns)", "iterations", "status"], em, [1])
      : el("p", { "class": "muted", text: "no EM session (model reused or nothing to train)" }));
    if ((tr.m_floored || []).length) {
      section(head, "m raised to the floor", el("p", { "class": "intro", text: "EM left these levels' m below the floor; it was raised so no single field can veto a pair: " + tr.m_floored.join("; ") }));
    }
    if ((tr.warnings || []).length) section(head, "Training warnings", el("ul", { "class": "plain" }, tr.warnings.map(function (w) { return el("li", { "class": "warn", text: w }); })));

    var box = document.getElementById("model-tables");
    var rows = [];
    M.comparisons.forEach(function (c) {
      c.levels.forEach(function (lv, i) {
        rows.push([i === 0 ? c.name : "", lv.label, lv.gamma === -1 ? "–" : sig(lv.m), lv.gamma === -1 ? "–" : sig(lv.u),
          lv.weight === null ? "0 (missing)" : el("span", { "class": wclass(lv.weight), text: wtext(lv.weight) }),
          lv.tf ? "on " + lv.tf : "", lv.sql]);
      });
    });
    var t = table(["comparison", "level", "m", "u", "match weight log2(m/u)", "term-frequency adjustment", "SQL condition"], rows, [2, 3, 4]);
    t.querySelectorAll("tbody td:last-child").forEach(function (td) { td.className = "code"; });
    section(box, "Comparison levels: m, u and weights", t);
    section(box, "Comparisons read these columns", table(["comparison", "columns"], M.comparisons.map(function (c) { return [c.name, c.columns.join(", ")]; })));
    section(box, "Blocking rules (a pair is scored when any holds)", el("ul", { "class": "plain" }, (M.blocking_rules || []).map(function (r) { return el("li", null, el("code", { text: r })); })));
    var S = META.summary;
    section(box, "Settings used" + (S.settings && S.settings.path ? ": " + S.settings.path : ""),
      S.settings_text ? el("pre", { text: S.settings_text }) : el("p", { "class": "muted", text: "the settings file could not be read" }));
  }

  // ---------------------------------------------------------------------------------------------
  // Data
  // ---------------------------------------------------------------------------------------------
  function loadData() {
    var b64 = document.getElementById("data").textContent.replace(/\s+/g, "");
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    if (typeof DecompressionStream !== "function") {
      return Promise.reject(new Error("this browser has no DecompressionStream; open the report in a current Chrome, Edge, Firefox or Safari"));
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  var D = null;            // the data
  var searchKeys = null;   // lower-case search text per record

  function rec(i) { return D.records[i]; }
  function rf(i, f) { var r = D.records[i]; return r ? r[RF[f]] : null; }
  function recKey(i) {
    if (!searchKeys) searchKeys = new Array(D.records.length);
    var k = searchKeys[i];
    if (k === undefined) {
      var r = D.records[i];
      k = [r[RF.unique_id], r[RF.title], r[RF.authors], r[RF.venue], r[RF.doi]].filter(Boolean).join(" \n").toLowerCase();
      searchKeys[i] = k;
    }
    return k;
  }
  function recLabel(i) {
    return el("span", null, el("span", { "class": "rec-id", text: rf(i, "unique_id") }), rf(i, "title") || "(no title)");
  }
  function clusterIdOf(i) {
    var c = rf(i, "cluster");
    return c >= 0 && D.clusters[c] ? D.clusters[c][0] : null;
  }

  // ---------------------------------------------------------------------------------------------
  // Waterfall
  // ---------------------------------------------------------------------------------------------
  function pairParts(row) {
    // [left, right, weight, gammas, w1..wn, (scored)]
    return { l: row[0], r: row[1], w: row[2], g: row[3], ws: row.slice(4, 4 + NC), scored: row.length > 4 + NC ? row[4 + NC] : 1 };
  }
  function levelLabel(ci, gch) {
    var g = GAMMA_CHARS.indexOf(gch) - 1;
    var lab = COMPS[ci].labels[String(g)];
    return lab === undefined ? "level " + g : lab;
  }
  function renderWaterfall(container, row, note) {
    var p = pairParts(row);
    clear(container);
    var panel = el("div", { "class": "panel" });
    container.appendChild(panel);
    var same = clusterIdOf(p.l) !== null && clusterIdOf(p.l) === clusterIdOf(p.r);
    var dec = decision(p.w);
    add(panel, el("h3", null, "Pair ", el("code", { text: rf(p.l, "unique_id") }), " × ", el("code", { text: rf(p.r, "unique_id") }), " ", badge(dec)));
    if (note) add(panel, el("p", { "class": "note", text: note }));
    if (p.scored === 2) add(panel, el("p", { "class": "note", text: "Blocking never generated this pair: it was scored for this report with the run's model." }));
    // the records side by side
    var fields = [["source", "source"], ["unique_id", "id"], ["title", "title (as read)"], ["authors", "authors (as read)"],
      ["date", "date / year (as read)"], ["venue", "venue (as read)"], ["doi", "DOI (as read)"]];
    var sides = el("table", { "class": "sides" }, el("thead", null, el("tr", null, el("th", { text: "" }), el("th", { text: "left record" }), el("th", { text: "right record" }))),
      el("tbody", null, fields.map(function (f) {
        return el("tr", null, el("th", { text: f[1] }), el("td", { text: rf(p.l, f[0]) || "–" }), el("td", { text: rf(p.r, f[0]) || "–" }));
      }).concat([el("tr", null, el("th", { text: "work (cluster)" }), el("td", { text: clusterIdOf(p.l) || "its own" }), el("td", { text: clusterIdOf(p.r) || "its own" }))])));
    add(panel, sides);
    if (p.w === null || p.w === undefined) {
      add(panel, el("p", { "class": "warn", text: "This pair was not compared by the run and is beyond the report's rescoring limit; run 'linkage explain RUN " + rf(p.l, "unique_id") + " " + rf(p.r, "unique_id") + "' for its waterfall." }));
      return;
    }
    var prior = META.model.prior_weight;
    var total = prior;
    var body = el("tbody");
    add(body, el("tr", { "class": "prior" }, el("td", { text: "prior (λ = " + sig(META.model.prior) + ")" }), el("td", { "class": "value", text: "two records drawn at random" }), el("td", { "class": "value", text: "" }),
      el("td", { text: "starting match weight" }), el("td", { "class": "num " + wclass(prior), text: wtext(prior) }), el("td", { "class": "num", text: num(total, 2) })));
    var chartData = [{ column_name: "Prior", label_for_charts: "Starting match weight (prior)", log2_bayes_factor: prior,
      bayes_factor: Math.pow(2, prior), value_l: "", value_r: "", bar_sort_order: 0, record_number: 0, sql_condition: null,
      comparison_vector_value: null, m_probability: null, u_probability: null, bayes_factor_description: null, term_frequency_adjustment: false }];
    COMPS.forEach(function (c, ci) {
      var w = p.ws[ci] || 0;
      total += w;
      var vl = rf(p.l, "cmp:" + c.name), vr = rf(p.r, "cmp:" + c.name);
      var lab = levelLabel(ci, p.g.charAt(ci));
      add(body, el("tr", { "data-comparison": c.name }, el("td", { text: c.name }), el("td", { "class": "value", text: vl === null ? "–" : vl }),
        el("td", { "class": "value", text: vr === null ? "–" : vr }), el("td", { text: lab }),
        el("td", { "class": "num " + wclass(w), text: wtext(w) }), el("td", { "class": "num", text: num(total, 2) })));
      chartData.push({ column_name: c.name, label_for_charts: lab, log2_bayes_factor: w, bayes_factor: Math.pow(2, w),
        value_l: vl === null ? "" : String(vl).slice(0, 40), value_r: vr === null ? "" : String(vr).slice(0, 40), bar_sort_order: ci + 1,
        record_number: 0, sql_condition: null, comparison_vector_value: GAMMA_CHARS.indexOf(p.g.charAt(ci)) - 1,
        m_probability: null, u_probability: null, bayes_factor_description: null, term_frequency_adjustment: false });
    });
    add(body, el("tr", { "class": "final" }, el("td", { text: "match weight" }), el("td"), el("td"), el("td", { text: "sum of the above" }),
      el("td", { "class": "num " + wclass(p.w), text: wtext(p.w) }), el("td", { "class": "num", text: num(p.w, 2) })));
    chartData.push({ column_name: "Final score", label_for_charts: "Final score", log2_bayes_factor: p.w, bayes_factor: Math.pow(2, p.w),
      value_l: "", value_r: "", bar_sort_order: NC + 1, record_number: 0, sql_condition: null, comparison_vector_value: null,
      m_probability: null, u_probability: null, bayes_factor_description: null, term_frequency_adjustment: false });
    var wt = el("table", { "class": "waterfall" },
      el("thead", null, el("tr", null, ["comparison", "left value (normalised)", "right value (normalised)", "level", "match weight", "running total"].map(function (h, i) {
        return el("th", { "class": i >= 4 ? "num" : "", text: h });
      }))), body);
    add(panel, el("h4", { text: "Waterfall" }), wt);
    add(panel, kvTable([
      ["match weight", wtext(p.w) + " bits"],
      ["match probability", num(prob(p.w), 6)],
      ["decision", el("span", null, badge(dec), " threshold " + num(T, 2) + ", review band " + num(LO, 2) + " to " + num(HI, 2) +
        (p.w >= T ? "; linked" : "; not linked") + (same ? "; the records are in the same work" : "; the records are in different works"))]
    ]));
    var chartBox = el("figure", { "class": "chart" });
    add(panel, chartBox);
    if (META.waterfall_spec) {
      var spec = JSON.parse(JSON.stringify(META.waterfall_spec));
      spec.data = { values: chartData };
      embed(chartBox, spec);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // A searchable, sortable, paginated table over an array of rows
  // ---------------------------------------------------------------------------------------------
  function DataTable(opts) {
    var self = this;
    this.opts = opts;
    this.rows = opts.rows;
    this.query = "";
    this.filter = opts.filters ? opts.filters[0].value : null;
    this.sortCol = opts.defaultSort || null;
    this.sortDir = opts.defaultDir || -1;
    this.page = 0;
    this.pageSize = opts.pageSize || 50;
    this.view = null;
    this.selected = null;
    var box = clear(opts.container);
    this.search = el("input", { type: "search", placeholder: opts.placeholder || "Search", "aria-label": opts.placeholder || "Search" });
    var timer = null;
    this.search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.query = self.search.value; self.page = 0; self.refresh(); }, 180);
    });
    var controls = el("div", { "class": "controls" }, this.search);
    if (opts.filters) {
      this.filterSel = el("select", { "aria-label": "Filter" }, opts.filters.map(function (f) { return el("option", { value: f.value, text: f.label }); }));
      this.filterSel.addEventListener("change", function () { self.filter = self.filterSel.value; self.page = 0; self.refresh(); });
      controls.appendChild(this.filterSel);
    }
    this.sizeSel = el("select", { "aria-label": "Rows per page" }, [25, 50, 100, 250].map(function (n) {
      return el("option", { value: n, selected: n === self.pageSize, text: n + " per page" });
    }));
    this.sizeSel.addEventListener("change", function () { self.pageSize = Number(self.sizeSel.value); self.page = 0; self.render(); });
    this.prev = el("button", { type: "button", text: "‹ previous", onclick: function () { self.page -= 1; self.render(); } });
    this.next = el("button", { type: "button", text: "next ›", onclick: function () { self.page += 1; self.render(); } });
    this.status = el("span", { "class": "muted" });
    add(controls, [this.sizeSel, this.prev, this.next, this.status]);
    box.appendChild(controls);
    this.thead = el("tr");
    opts.columns.forEach(function (c, ci) {
      var th = el("th", { "class": (c.num ? "num " : "") + (c.sort ? "sortable" : ""), text: c.label, scope: "col" });
      if (c.sort) th.addEventListener("click", function () {
        if (self.sortCol === ci) self.sortDir = -self.sortDir; else { self.sortCol = ci; self.sortDir = c.defaultDir || 1; }
        self.page = 0; self.refresh();
      });
      self.thead.appendChild(th);
    });
    this.tbody = el("tbody");
    box.appendChild(el("table", { "class": "data" }, el("thead", null, this.thead), this.tbody));
  }
  DataTable.prototype.setQuery = function (q) { this.search.value = q; this.query = q; this.page = 0; this.refresh(); };
  DataTable.prototype.refresh = function () {
    var o = this.opts, rows = this.rows, self = this;
    var terms = this.query.toLowerCase().split(/\s+/).filter(Boolean);
    var view = [];
    for (var i = 0; i < rows.length; i++) {
      if (this.filter !== null && o.filterTest && !o.filterTest(rows[i], this.filter)) continue;
      if (terms.length) {
        var text = o.searchText(rows[i]);
        var ok = true;
        for (var j = 0; j < terms.length; j++) { if (text.indexOf(terms[j]) < 0) { ok = false; break; } }
        if (!ok) continue;
      }
      view.push(i);
    }
    if (this.sortCol !== null && o.columns[this.sortCol].sort) {
      var key = o.columns[this.sortCol].sort, dir = this.sortDir;
      var keys = new Map();
      view.forEach(function (i) { keys.set(i, key(rows[i])); });
      view.sort(function (a, b) {
        var ka = keys.get(a), kb = keys.get(b);
        if (ka === kb) return a - b;
        if (ka === null || ka === undefined) return 1;
        if (kb === null || kb === undefined) return -1;
        return (ka < kb ? -1 : 1) * dir;
      });
    }
    this.view = view;
    Array.prototype.forEach.call(this.thead.children, function (th, ci) {
      th.classList.remove("sorted-asc", "sorted-desc");
      if (ci === self.sortCol) th.classList.add(self.sortDir > 0 ? "sorted-asc" : "sorted-desc");
    });
    this.render();
  };
  DataTable.prototype.render = function () {
    var self = this, o = this.opts;
    if (!this.view) return this.refresh();
    var pages = Math.max(1, Math.ceil(this.view.length / this.pageSize));
    this.page = Math.min(Math.max(this.page, 0), pages - 1);
    var start = this.page * this.pageSize;
    var slice = this.view.slice(start, start + this.pageSize);
    clear(this.tbody);
    slice.forEach(function (i) {
      var row = self.rows[i];
      var tr = el("tr", { tabindex: 0, "data-row": i, "class": self.selected === i ? "selected" : "" });
      o.columns.forEach(function (c) { tr.appendChild(el("td", { "class": c.num ? "num" : "wrap" }, c.cell(row))); });
      tr.addEventListener("click", function () { self.select(i); });
      tr.addEventListener("keydown", function (e) { if (e.key === "Enter") self.select(i); });
      self.tbody.appendChild(tr);
    });
    if (!slice.length) this.tbody.appendChild(el("tr", null, el("td", { colspan: o.columns.length, "class": "muted", text: "nothing matches" })));
    this.status.textContent = this.view.length ? (num(start + 1) + "–" + num(start + slice.length) + " of " + num(this.view.length) +
      (this.view.length !== this.rows.length ? " (filtered from " + num(this.rows.length) + ")" : "") + ", page " + (this.page + 1) + " of " + pages) : "0 rows";
    this.prev.disabled = this.page <= 0;
    this.next.disabled = this.page >= pages - 1;
  };
  DataTable.prototype.select = function (i) {
    this.selected = i;
    Array.prototype.forEach.call(this.tbody.children, function (tr) {
      tr.classList.toggle("selected", Number(tr.getAttribute("data-row")) === i);
    });
    this.opts.onSelect(this.rows[i], i);
  };
  DataTable.prototype.selectFirst = function () { if (this.view && this.view.length) this.select(this.view[this.page * this.pageSize] !== undefined ? this.view[this.page * this.pageSize] : this.view[0]); };

  // ---------------------------------------------------------------------------------------------
  // Decisions
  // ---------------------------------------------------------------------------------------------
  var decisionsTable = null, clustersTable = null;
  function pairColumns() {
    return [
      { label: "match weight", num: true, sort: function (r) { return r[2]; }, defaultDir: -1,
        cell: function (r) { return r[2] === null ? "–" : el("span", { "class": wclass(r[2] - T), text: num(r[2], 2) }); } },
      { label: "probability", num: true, sort: function (r) { return r[2]; }, defaultDir: -1,
        cell: function (r) { return r[2] === null ? "–" : num(prob(r[2]), 4); } },
      { label: "decision", sort: function (r) { return decision(r[2]); }, cell: function (r) { return badge(decision(r[2])); } },
      { label: "left record", sort: function (r) { return (rf(r[0], "title") || "").toLowerCase(); }, cell: function (r) { return recLabel(r[0]); } },
      { label: "right record", sort: function (r) { return (rf(r[1], "title") || "").toLowerCase(); }, cell: function (r) { return recLabel(r[1]); } },
      { label: "sources", sort: function (r) { return rf(r[0], "source") + " / " + rf(r[1], "source"); },
        cell: function (r) { return rf(r[0], "source") + " / " + rf(r[1], "source"); } },
      { label: "same work?", sort: function (r) { return sameWork(r) ? 1 : 0; }, cell: function (r) { return sameWork(r) ? "yes" : "no"; } }
    ];
  }
  function sameWork(r) { var a = clusterIdOf(r[0]); return a !== null && a === clusterIdOf(r[1]); }
  function drawDecisions() {
    var info = META.decisions;
    var intro = document.getElementById("decisions-intro");
    add(intro, "Every linked pair (match weight ≥ " + num(T, 2) + ") and every pair in the review band (" + num(LO, 2) + " to " + num(HI, 2) +
      "): " + num(info.total) + " decisions. Search by title, author, venue, DOI or id; click a column to sort; select a pair to see its waterfall.");
    if (info.left_out) {
      add(intro, el("strong", { "class": "warn", text: " This page keeps " + num(info.shown) + " of them (its limit is " + num(info.limit) +
        "): the " + num(info.left_out) + " most confident links (match weight ≥ " + num(info.left_out_min_weight, 2) +
        ") are left out. 'linkage explain RUN --all' exports every decision." }));
    }
    var detail = document.getElementById("decision-detail");
    decisionsTable = new DataTable({
      container: document.getElementById("decisions-table"), rows: D.decisions, columns: pairColumns(),
      defaultSort: 0, defaultDir: -1, placeholder: "Search decisions (title, author, venue, DOI, id)",
      searchText: function (r) { return recKey(r[0]) + "\n" + recKey(r[1]); },
      filters: [{ value: "all", label: "all decisions" }, { value: "linked", label: "linked (≥ threshold)" },
        { value: "review", label: "review band" }, { value: "review-linked", label: "review band, linked" },
        { value: "review-not", label: "review band, not linked" }, { value: "split", label: "linked but in different works" }],
      filterTest: function (r, f) {
        var w = r[2];
        if (f === "all") return true;
        if (f === "linked") return w >= T;
        if (f === "review") return w >= LO && w < HI;
        if (f === "review-linked") return w >= T && w < HI;
        if (f === "review-not") return w >= LO && w < T;
        if (f === "split") return w >= T && !sameWork(r);
        return true;
      },
      onSelect: function (r) { renderWaterfall(detail, r); }
    });
    decisionsTable.refresh();
  }

  // ---------------------------------------------------------------------------------------------
  // Clusters
  // ---------------------------------------------------------------------------------------------
  var pairsByRecord = null;
  function decisionsOf(i) {
    if (!pairsByRecord) {
      pairsByRecord = new Map();
      D.decisions.forEach(function (r, k) {
        [r[0], r[1]].forEach(function (x) { var a = pairsByRecord.get(x); if (!a) pairsByRecord.set(x, a = []); a.push(k); });
      });
    }
    return pairsByRecord.get(i) || [];
  }
  function drawClusters() {
    var info = META.clusters, MF = META.merged_fields;
    var intro = document.getElementById("clusters-intro");
    add(intro, num(info.total) + " works have more than one record; " + num(info.singletons) + " records stand alone (not listed). " +
      "Select a work to see its members, the merged record and the record each value came from.");
    if (info.total > info.shown) add(intro, el("strong", { "class": "warn", text: " The page lists the " + num(info.shown) + " largest (its limit)." }));
    var fi = {};
    MF.forEach(function (f, k) { fi[f] = 2 + 2 * k; });
    function mval(c, f) { return fi[f] === undefined ? null : c[fi[f]]; }
    var detail = document.getElementById("cluster-detail");
    var t = new DataTable({
      container: document.getElementById("clusters-table"), rows: D.clusters, placeholder: "Search works (title, author, id)",
      defaultSort: 0, defaultDir: -1,
      columns: [
        { label: "records", num: true, sort: function (c) { return c[1].length; }, defaultDir: -1, cell: function (c) { return num(c[1].length); } },
        { label: "merged title", sort: function (c) { return (mval(c, "title") || "").toLowerCase(); }, cell: function (c) { return mval(c, "title") || "–"; } },
        { label: "sources", sort: function (c) { return srcList(c); }, cell: function (c) { return srcList(c); } },
        { label: "work id", sort: function (c) { return c[0]; }, cell: function (c) { return c[0]; } }
      ],
      searchText: function (c) {
        return (c[0] + "\n" + (mval(c, "title") || "")).toLowerCase() + "\n" + c[1].map(recKey).join("\n");
      },
      onSelect: function (c) { renderCluster(detail, c, MF, fi); }
    });
    t.refresh();
    return t;
  }
  function srcList(c) {
    var seen = {};
    c[1].forEach(function (i) { var s = rf(i, "source"); seen[s] = (seen[s] || 0) + 1; });
    return Object.keys(seen).sort().map(function (s) { return seen[s] > 1 ? s + " ×" + seen[s] : s; }).join(", ");
  }
  function renderCluster(container, c, MF, fi) {
    clear(container);
    var panel = el("div", { "class": "panel" });
    container.appendChild(panel);
    add(panel, el("h3", null, "Work ", el("code", { text: c[0] }), " (" + c[1].length + " records)"));
    var mrows = MF.map(function (f) {
      var v = c[fi[f]], from = c[fi[f] + 1];
      if (v === null || v === undefined || v === "") return null;
      return [f, v, from >= 0 ? rf(from, "unique_id") + " (" + rf(from, "source") + ")" : "union of the members"];
    }).filter(Boolean);
    add(panel, el("h4", { text: "Merged record" }), table(["field", "value", "taken from"], mrows));
    add(panel, el("h4", { text: "Members" }), table(["record", "source", "title", "authors", "date / year", "venue"],
      c[1].map(function (i) { return [rf(i, "unique_id"), rf(i, "source"), rf(i, "title") || "–", rf(i, "authors") || "–", rf(i, "date") || "–", rf(i, "venue") || "–"]; })));
    var members = {};
    c[1].forEach(function (i) { members[i] = true; });
    var seen = {}, links = [];
    c[1].forEach(function (i) {
      decisionsOf(i).forEach(function (k) {
        var r = D.decisions[k];
        if (members[r[0]] && members[r[1]] && !seen[k]) { seen[k] = true; links.push(r); }
      });
    });
    links.sort(function (a, b) { return b[2] - a[2]; });
    var wbox = el("div", { "class": "detail" });
    var lt = el("table", { "class": "data" }, el("thead", null, el("tr", null, ["match weight", "decision", "left", "right"].map(function (h) { return el("th", { text: h }); }))),
      el("tbody", null, links.map(function (r) {
        var tr = el("tr", { tabindex: 0 }, el("td", { "class": "num", text: num(r[2], 2) }), el("td", null, badge(decision(r[2]))),
          el("td", { "class": "wrap" }, recLabel(r[0])), el("td", { "class": "wrap" }, recLabel(r[1])));
        tr.addEventListener("click", function () { renderWaterfall(wbox, r); });
        return tr;
      })));
    add(panel, el("h4", { text: "Decisions between its members (select one for its waterfall)" }),
      links.length ? lt : el("p", { "class": "muted", text: "none listed: the members were joined by decisions outside the page's limit or by clerical decisions" }), wbox);
  }

  // ---------------------------------------------------------------------------------------------
  // Works at risk
  // ---------------------------------------------------------------------------------------------
  var riskTable = null;
  var pairIndex = null;
  function mergedFieldIndex() {
    var fi = {};
    META.merged_fields.forEach(function (f, k) { fi[f] = 2 + 2 * k; });
    return fi;
  }
  function findDecision(a, b) {
    // the row of D.decisions for records a and b (either order), or null
    if (!pairIndex) {
      pairIndex = new Map();
      D.decisions.forEach(function (r, k) { pairIndex.set(r[0] + "|" + r[1], k); pairIndex.set(r[1] + "|" + r[0], k); });
    }
    var k = pairIndex.get(a + "|" + b);
    return k === undefined ? null : D.decisions[k];
  }
  function wnum(x) { return x === null || x === undefined ? "–" : num(x, 2); }
  function drawRisk() {
    var info = META.risk || { total: 0, listed: 0 }, MF = META.merged_fields, fi = mergedFieldIndex();
    var intro = document.getElementById("risk-intro");
    add(intro, "Works with more than one record, the ones most likely to be wrongly merged first. A work hangs on its bridges: " +
      "linked pairs whose removal would split it. Risk is the model's probability that the weakest bridge is not a match " +
      "(for a work without bridges, that its two weakest links both are not); must-link decisions count as certain. " +
      "'Links refused' are linked pairs to records of other works that the guard rails or cannot-link decisions kept apart. " +
      num(info.total) + " works; the run folder's cluster_diagnostics.parquet holds the same table and 'linkage review clusters RUN' prints it.");
    var fmtTitle = function (c) { return fi.title === undefined ? null : c[fi.title]; };
    var rows = (D.risk || []).map(function (r, i) { return { rank: i + 1, r: r, c: D.clusters[r[0]] }; }).filter(function (x) { return x.c; });
    var detail = document.getElementById("risk-detail");
    riskTable = new DataTable({
      container: document.getElementById("risk-table"), rows: rows, placeholder: "Search works at risk (title, author, id)",
      defaultSort: 0, defaultDir: 1,
      columns: [
        { label: "rank", num: true, sort: function (x) { return x.rank; }, defaultDir: 1, cell: function (x) { return num(x.rank); } },
        { label: "risk", num: true, sort: function (x) { return x.r[1]; }, defaultDir: -1, cell: function (x) { return sig(x.r[1]); } },
        { label: "records", num: true, sort: function (x) { return x.c[1].length; }, defaultDir: -1, cell: function (x) { return num(x.c[1].length); } },
        { label: "merged title", sort: function (x) { return (fmtTitle(x.c) || "").toLowerCase(); }, cell: function (x) { return fmtTitle(x.c) || "–"; } },
        { label: "sources", sort: function (x) { return srcList(x.c); }, cell: function (x) { return srcList(x.c); } },
        { label: "weakest link", num: true, sort: function (x) { return x.r[2]; }, defaultDir: 1, cell: function (x) { return wnum(x.r[2]); } },
        { label: "bridges", num: true, sort: function (x) { return x.r[4]; }, defaultDir: -1, cell: function (x) { return num(x.r[4]); } },
        { label: "weakest bridge", num: true, sort: function (x) { return x.r[3]; }, defaultDir: 1, cell: function (x) { return wnum(x.r[3]); } },
        { label: "links refused", num: true, sort: function (x) { return x.r[8]; }, defaultDir: -1, cell: function (x) { return num(x.r[8]); } },
        { label: "notes", sort: function (x) { return riskNotes(x.r); }, cell: function (x) { return riskNotes(x.r); } }
      ],
      searchText: function (x) { return (x.c[0] + "\n" + (fmtTitle(x.c) || "")).toLowerCase() + "\n" + x.c[1].map(recKey).join("\n"); },
      onSelect: function (x) { renderRisk(detail, x, MF, fi); }
    });
    riskTable.refresh();
  }
  function riskNotes(r) {
    var out = [];
    if (r[10]) out.push("a source holds two of its records");
    if (r[7]) out.push(r[7] + " must-link decision" + (r[7] > 1 ? "s" : ""));
    if (r[6] > 1) out.push("held together by decisions");
    return out.join("; ");
  }
  function renderRisk(container, x, MF, fi) {
    clear(container);
    var r = x.r;
    var panel = el("div", { "class": "panel" });
    container.appendChild(panel);
    add(panel, el("h3", null, "Work ", el("code", { text: x.c[0] }), " at risk rank " + x.rank));
    add(panel, kvTable([
      ["risk (for ordering)", sig(r[1])],
      ["linked pairs inside the work", num(r[5])],
      ["weakest link", wnum(r[2]) + (r[2] !== null ? " bits (probability " + num(prob(r[2]), 4) + ")" : "")],
      ["bridges (a link whose removal splits the work)", num(r[4])],
      ["weakest bridge", wnum(r[3])],
      ["must-link decisions inside", num(r[7])],
      ["linked pairs to other works, refused", num(r[8]) + (r[9] !== null ? " (strongest " + wnum(r[9]) + " bits)" : "")],
      ["notes", riskNotes(r) || "–"]
    ]));
    var wbox = el("div", { "class": "detail" });
    if (r[11].length) {
      var bt = el("table", { "class": "data" }, el("thead", null, el("tr", null, ["bridge weight", "left", "right"].map(function (h) { return el("th", { text: h }); }))),
        el("tbody", null, r[11].map(function (b) {
          var tr = el("tr", { tabindex: 0 }, el("td", { "class": "num", text: num(b[2], 2) }), el("td", { "class": "wrap" }, recLabel(b[0])), el("td", { "class": "wrap" }, recLabel(b[1])));
          tr.addEventListener("click", function () {
            var row = findDecision(b[0], b[1]);
            if (row) renderWaterfall(wbox, row); else { clear(wbox); add(wbox, el("p", { "class": "muted", text: "this pair is outside the page's decisions" })); }
          });
          return tr;
        })));
      add(panel, el("h4", { text: "Bridges, weakest first (select one for its waterfall)" }), bt, wbox);
    }
    var cbox = el("div");
    add(panel, cbox);
    renderCluster(cbox, x.c, MF, fi);
  }

  // ---------------------------------------------------------------------------------------------
  // Review: mark the review band's pairs same / different / unsure, download the decisions file
  // ---------------------------------------------------------------------------------------------
  var REVIEW = { rows: [], marks: {}, who: "", seq: 0, table: null, url: null, earlier: {} };
  var MARKS = ["same", "different", "unsure"];
  function uidKey(a, b) { return a < b ? a + "\t" + b : b + "\t" + a; }
  function reviewStore() { return "linkage-review:" + ((META.review || {}).key || ""); }
  function loadMarks() {
    try {
      var s = window.localStorage.getItem(reviewStore());
      if (!s) return;
      var o = JSON.parse(s);
      REVIEW.marks = o.marks || {};
      REVIEW.who = o.who || "";
      Object.keys(REVIEW.marks).forEach(function (k) { REVIEW.seq = Math.max(REVIEW.seq, REVIEW.marks[k].seq || 0); });
    } catch (e) { /* no storage for this page: marks last as long as the page */ }
  }
  function saveMarks() {
    try { window.localStorage.setItem(reviewStore(), JSON.stringify({ marks: REVIEW.marks, who: REVIEW.who })); } catch (e) { /* ignore */ }
  }
  function evidenceText(row) {
    var items = [];
    for (var ci = 0; ci < NC; ci++) {
      var w = row[4 + ci] || 0;
      items.push([Math.abs(w), ci, w]);
    }
    items.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    return items.slice(0, 3).map(function (it) {
      return COMPS[it[1]].name + " " + (it[2] > 0 ? "+" : "") + it[2].toFixed(1) + " (" + levelLabel(it[1], row[3].charAt(it[1])) + ")";
    }).join("; ");
  }
  function markButtons(ro) {
    var box = el("span", { "class": "marks", role: "group", "aria-label": "decision" });
    var cur = REVIEW.marks[ro.key];
    MARKS.forEach(function (d) {
      var b = el("button", { type: "button", "class": d, "data-mark": d, "aria-pressed": cur && cur.decision === d ? "true" : "false", text: d });
      b.addEventListener("click", function (e) {
        e.stopPropagation();
        var now = REVIEW.marks[ro.key];
        setMark(ro, now && now.decision === d ? null : d);
      });
      box.appendChild(b);
    });
    return box;
  }
  function setMark(ro, d, note) {
    var cur = REVIEW.marks[ro.key];
    if (!d) delete REVIEW.marks[ro.key];
    else {
      REVIEW.seq += 1;
      REVIEW.marks[ro.key] = { l: rf(ro.row[0], "unique_id"), r: rf(ro.row[1], "unique_id"), decision: d, who: REVIEW.who,
        when: new Date().toISOString().slice(0, 19) + "Z", note: note !== undefined ? note : (cur ? cur.note : ""),
        w: ro.row[2], tl: rf(ro.row[0], "title") || "", tr: rf(ro.row[1], "title") || "", seq: REVIEW.seq };
    }
    saveMarks();
    if (REVIEW.table) REVIEW.table.render();
    return updateReviewFile();
  }
  function csvCell(v) {
    v = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  function reviewCsv() {
    var head = ["unique_id_l", "unique_id_r", "decision", "who", "when", "note", "match_weight", "title_l", "title_r"];
    var marks = Object.keys(REVIEW.marks).map(function (k) { return REVIEW.marks[k]; }).sort(function (a, b) { return a.seq - b.seq; });
    var counts = { same: 0, different: 0, unsure: 0 };
    var lines = [head.join(",")].concat(marks.map(function (m) {
      counts[m.decision] = (counts[m.decision] || 0) + 1;
      return [m.l, m.r, m.decision, m.who, m.when, m.note, m.w, m.tl, m.tr].map(csvCell).join(",");
    }));
    return { text: lines.join("\n") + "\n", n: marks.length, counts: counts };
  }
  function reviewFileName() {
    var name = String((META.summary || {}).run_dir || "run").split(/[\\/]/).filter(Boolean).pop() || "run";
    return "decisions-" + name.replace(/[^A-Za-z0-9._-]+/g, "_") + ".csv";
  }
  function updateReviewFile() {
    var f = reviewCsv();
    var status = document.getElementById("review-status");
    if (status) status.textContent = num(f.n) + " marked (" + f.counts.same + " same, " + f.counts.different + " different, " + f.counts.unsure + " unsure)";
    var a = document.getElementById("review-download");
    var pre = document.getElementById("review-csv");
    if (typeof Blob !== "function" || !window.URL || !a) { if (pre) pre.textContent = f.text; return Promise.resolve(f); }
    var blob = new Blob([f.text], { type: "text/csv;charset=utf-8" });
    if (REVIEW.url) window.URL.revokeObjectURL(REVIEW.url);
    REVIEW.url = window.URL.createObjectURL(blob);
    a.href = REVIEW.url;
    a.setAttribute("download", reviewFileName());
    a.setAttribute("data-rows", String(f.n));
    a.setAttribute("aria-disabled", f.n ? "false" : "true");
    // the preview shows what the download holds: the Blob's own text
    return blob.text().then(function (t) {
      pre.textContent = t;
      pre.setAttribute("data-rows", String(f.n));
      return f;
    });
  }
  function drawReview() {
    var R = META.review || {};
    (R.decided || []).forEach(function (d) { REVIEW.earlier[uidKey(d[0], d[1])] = d; });
    var ks = [];
    D.decisions.forEach(function (r, k) { if (r[2] >= LO && r[2] < HI) ks.push(k); });
    ks.sort(function (a, b) {
      var ra = D.decisions[a], rb = D.decisions[b];
      var da = Math.abs(ra[2] - T), db = Math.abs(rb[2] - T);
      if (da !== db) return da - db;
      var ka = rf(ra[0], "unique_id") + "\t" + rf(ra[1], "unique_id"), kb = rf(rb[0], "unique_id") + "\t" + rf(rb[1], "unique_id");
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    REVIEW.rows = ks.map(function (k, i) {
      var row = D.decisions[k];
      return { i: i, row: row, key: uidKey(rf(row[0], "unique_id"), rf(row[1], "unique_id")) };
    });
    loadMarks();
    var intro = document.getElementById("review-intro");
    add(intro, "The " + num(REVIEW.rows.length) + " pairs in the review band (match weight " + num(LO, 2) + " to " + num(HI, 2) +
      "), the most uncertain first. Mark each pair same, different or unsure (select a row for its waterfall and a note), then " +
      "download the decisions file and import it: 'linkage review import RUN FILE' merges it into the decisions file every later run applies. " +
      "Marks are kept in this browser until you clear them; nothing leaves this page.");
    if (R.file) add(intro, " Decisions on file: " + R.file + " (" + num((R.decided || []).length) + ").");
    if (R.error) add(intro, el("strong", { "class": "warn", text: " " + R.error }));
    var controls = document.getElementById("review-controls");
    var who = el("input", { type: "text", id: "review-who", placeholder: "your name or initials", "aria-label": "Reviewer", value: REVIEW.who });
    who.addEventListener("input", function () {
      REVIEW.who = who.value;
      Object.keys(REVIEW.marks).forEach(function (k) { REVIEW.marks[k].who = REVIEW.who; });
      saveMarks();
      updateReviewFile();
    });
    var dl = el("a", { id: "review-download", "class": "button", href: "#", download: reviewFileName(), text: "Download decisions (CSV)" });
    var clearBtn = el("button", { type: "button", text: "Clear all marks", onclick: function () {
      REVIEW.marks = {};
      saveMarks();
      REVIEW.table.render();
      updateReviewFile();
    } });
    add(controls, el("label", null, "Reviewer ", who), el("span", { id: "review-status", "class": "muted" }), dl, clearBtn);
    var detail = document.getElementById("review-detail");
    REVIEW.table = new DataTable({
      container: document.getElementById("review-table"), rows: REVIEW.rows, placeholder: "Search the review band (title, author, id)",
      defaultSort: 0, defaultDir: 1, pageSize: 25,
      columns: [
        { label: "#", num: true, sort: function (ro) { return ro.i; }, defaultDir: 1, cell: function (ro) { return num(ro.i + 1); } },
        { label: "match weight", num: true, sort: function (ro) { return ro.row[2]; }, defaultDir: -1,
          cell: function (ro) { return el("span", { "class": wclass(ro.row[2] - T), text: num(ro.row[2], 2) }); } },
        { label: "model", sort: function (ro) { return ro.row[2] >= T ? 1 : 0; }, cell: function (ro) { return ro.row[2] >= T ? "linked" : "not linked"; } },
        { label: "left record", sort: function (ro) { return (rf(ro.row[0], "title") || "").toLowerCase(); }, cell: function (ro) { return recLabel(ro.row[0]); } },
        { label: "right record", sort: function (ro) { return (rf(ro.row[1], "title") || "").toLowerCase(); }, cell: function (ro) { return recLabel(ro.row[1]); } },
        { label: "evidence (largest weights)", cell: function (ro) { return el("span", { "class": "evidence", text: evidenceText(ro.row) }); } },
        { label: "on file", sort: function (ro) { var e = REVIEW.earlier[ro.key]; return e ? e[2] : ""; },
          cell: function (ro) { var e = REVIEW.earlier[ro.key]; return e ? e[2] + (e[3] ? " (" + e[3] + ")" : "") : "–"; } },
        { label: "your decision", sort: function (ro) { var m = REVIEW.marks[ro.key]; return m ? m.decision : ""; }, cell: markButtons }
      ],
      filters: [{ value: "all", label: "all pairs" }, { value: "open", label: "not marked yet" }, { value: "marked", label: "marked" }],
      filterTest: function (ro, f) {
        if (f === "open") return !REVIEW.marks[ro.key];
        if (f === "marked") return !!REVIEW.marks[ro.key];
        return true;
      },
      searchText: function (ro) { return recKey(ro.row[0]) + "\n" + recKey(ro.row[1]); },
      onSelect: function (ro) { renderReviewPair(detail, ro); }
    });
    REVIEW.table.refresh();
    updateReviewFile();
  }
  function renderReviewPair(container, ro) {
    clear(container);
    var top = el("div", { "class": "controls" });
    var note = el("input", { type: "text", placeholder: "note (optional, saved with the decision)", "aria-label": "Note", size: 60,
      value: REVIEW.marks[ro.key] ? REVIEW.marks[ro.key].note || "" : "" });
    note.addEventListener("change", function () {
      var m = REVIEW.marks[ro.key];
      if (m) { m.note = note.value; saveMarks(); updateReviewFile(); }
    });
    add(top, el("strong", { text: "Pair " + (ro.i + 1) + ": " }), markButtons(ro), note);
    var wf = el("div");
    add(container, top, wf);
    renderWaterfall(wf, ro.row);
  }
  function applyReviewHash(h) {
    // #tab=review&who=NAME&mark=0:same,3:different,ID_L|ID_R:unsure&export=1
    var jobs = [];
    if (h.who !== undefined) {
      REVIEW.who = h.who;
      var input = document.getElementById("review-who");
      if (input) input.value = h.who;
    }
    if (h.mark !== undefined) {
      h.mark.split(",").filter(Boolean).forEach(function (part) {
        var at = part.lastIndexOf(":");
        if (at < 0) return;
        var what = part.slice(0, at), d = part.slice(at + 1).toLowerCase();
        if (MARKS.indexOf(d) < 0 && d !== "clear") { reportError("mark " + part + ": the decision is same, different, unsure or clear"); return; }
        var ro = null;
        if (/^\d+$/.test(what)) ro = REVIEW.rows[Number(what)] || null;
        else {
          var ids = what.split("|");
          var key = ids.length === 2 ? uidKey(ids[0], ids[1]) : null;
          ro = REVIEW.rows.filter(function (x) { return x.key === key; })[0] || null;
        }
        if (!ro) { reportError("mark " + part + ": no such pair in the review band"); return; }
        jobs.push(setMark(ro, d === "clear" ? null : d));
      });
    }
    if (h.export !== undefined || jobs.length) {
      jobs.push(updateReviewFile());
      Promise.all(jobs).then(function () {
        document.body.setAttribute("data-review-file", String(reviewCsv().n));
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Accuracy
  // ---------------------------------------------------------------------------------------------
  function drawAccuracy() {
    var A = META.accuracy;
    if (!A) return;
    var head = document.getElementById("accuracy-head");
    var lab = A.labels || {};
    add(head, el("p", { "class": "intro", text: "Against the labels in " + (lab.path || "?") + " (" + (lab.format || "?") + "), " +
      (A.cross_source ? "counting only pairs of records from different sources" : "counting all pairs") +
      (A.cross_source_reason ? " (" + A.cross_source_reason + ")" : "") + "." }));
    var cards = el("div", { "class": "cards" });
    [["cluster.precision", "precision (works)"], ["cluster.recall", "recall (works)"], ["cluster.f1", "F1 (works)"],
      ["bcubed.f1", "B-cubed F1"], ["edge.precision_at_threshold", "precision (scored pairs ≥ threshold)"],
      ["edge.recall_at_threshold", "recall (scored pairs ≥ threshold)"], ["edge.max_recall", "recall blocking allowed"]].forEach(function (k) {
      if (A[k[0]] !== undefined && A[k[0]] !== null) add(cards, card(num(A[k[0]], 4), k[1]));
    });
    add(head, cards);
    var conf = [
      ["pairs in one work, truly the same paper (TP)", num(A["cluster.tp"]), num(A["edge.tp_at_threshold"])],
      ["pairs in one work, truly different (FP)", num(A["cluster.fp"]), num(A["edge.fp_at_threshold"])],
      ["pairs of one paper split across works (FN)", num(A["cluster.fn"]), num(A["edge.fn_at_threshold"])]
    ];
    section(head, "Confusion counts", el("div", null, table(["", "works (after clustering)", "scored pairs at the threshold"], conf, [1, 2]),
      el("p", { "class": "note", text: (A["edge.best_threshold"] !== undefined && A["edge.best_threshold"] !== null) ?
        "Best F1 on scored pairs: " + num(A["edge.best_f1"], 4) + " at match weight ≥ " + num(A["edge.best_threshold"], 2) + " (reported, not applied)." : "" })));
    var lists = document.getElementById("accuracy-lists");
    if (A.error) { add(lists, el("p", { "class": "warn", text: A.error })); return; }
    [["fp", "False positives: records in one work that are different papers"], ["fn", "False negatives: records of one paper in different works"]].forEach(function (kind) {
      var rows = D[kind[0]] || [];
      var box = el("div");
      var det = el("div", { "class": "detail" });
      section(lists, kind[1] + " (" + num(rows.length) + (A.listed && A["cluster." + kind[0]] > rows.length ? " listed of " + num(A["cluster." + kind[0]]) : "") + ")",
        el("div", null, box, det));
      if (!rows.length) { add(box, el("p", { "class": "muted", text: "none" })); return; }
      var cols = pairColumns().slice(0, 6).concat([{ label: "scored", sort: function (r) { return r[4 + NC]; },
        cell: function (r) { var s = r[4 + NC]; return s === 1 ? "by the run" : s === 2 ? "for this report" : "no"; } }]);
      new DataTable({ container: box, rows: rows, columns: cols, defaultSort: 0, defaultDir: -1, pageSize: 25,
        placeholder: "Search (title, author, id)", searchText: function (r) { return recKey(r[0]) + "\n" + recKey(r[1]); },
        onSelect: function (r) { renderWaterfall(det, r); } }).refresh();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // About
  // ---------------------------------------------------------------------------------------------
  function drawAbout() {
    var L = META.limits, d = META.decisions, c = META.clusters;
    var box = document.getElementById("about");
    add(box, el("p", { "class": "intro", text: "This file is self-contained: its scripts (Vega, Vega-Lite, Vega-Embed), styles and data are inside it, " +
      "and it loads nothing from the network. Records are stored once, long text is cut (titles 300 characters, authors 200, " +
      "compared values 160), and the data is gzip-compressed in the page (" + num(Math.round(META.data_bytes / 1024)) + " KB as base64); " +
      "waterfalls are built when a pair is selected." }));
    add(box, el("p", { "class": "intro", text: "Limits: the page keeps up to " + num(L.decisions) + " decisions (linked pairs and review-band pairs). " +
      "Beyond that it keeps the decisions nearest the threshold (all review-band pairs first) and leaves out the most confident links, " +
      "saying how many; 'linkage explain RUN --all --format csv' exports every decision, and 'linkage explain RUN ID_A ID_B' explains any pair. " +
      "It lists up to " + num(L.clusters) + " multi-record works (largest first) and up to " + num(L.error_pairs) + " false positives and " +
      "false negatives each." }));
    add(box, kvTable([["decisions in this page", num(d.shown) + " of " + num(d.total)], ["works listed", num(c.shown) + " of " + num(c.total)]]));
  }

  // ---------------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------------
  function applyHash() {
    var h = hashParams();
    if (h.tab) showTab(h.tab);
    if (h.q !== undefined && decisionsTable) {
      decisionsTable.setQuery(h.q);
      if (h.tab === undefined) showTab("decisions");
    }
    if (h.open !== undefined && decisionsTable) decisionsTable.selectFirst();
    if (h.cq !== undefined && clustersTable) {
      clustersTable.setQuery(h.cq);
      if (h.tab === undefined) showTab("clusters");
    }
    if (h.copen !== undefined && clustersTable) clustersTable.selectFirst();
    if (h.ropen !== undefined && riskTable) riskTable.selectFirst();
    if (h.tab === "review" || h.mark !== undefined || h.who !== undefined || h.export !== undefined) applyReviewHash(h);
  }
  function safely(fn) { try { fn(); } catch (e) { reportError(e && e.message ? e.message : e); } }

  if (META.accuracy) {
    tabButtons.forEach(function (b) { if (b.getAttribute("data-tab") === "accuracy") b.hidden = false; });
  }
  safely(drawOverview);
  safely(drawModel);
  safely(drawAbout);
  var charts = drawCharts();
  var ready = loadData().then(function (data) {
    D = data;
    safely(drawDecisions);
    safely(function () { clustersTable = drawClusters(); });
    safely(drawRisk);
    safely(drawReview);
    safely(drawAccuracy);
    document.getElementById("loading").hidden = true;
    safely(applyHash);
  }).catch(function (e) {
    document.getElementById("loading").hidden = true;
    reportError("the report's data could not be read (" + (e && e.message ? e.message : e) + ")");
  });
  window.addEventListener("hashchange", function () { safely(applyHash); });
  Promise.all([charts, ready]).then(function () {
    document.body.setAttribute("data-load-ms", String(Math.round(window.performance ? performance.now() : 0)));
    document.body.setAttribute("data-ready", "1");
  });
})();
