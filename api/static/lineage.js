// The lineage graph of an asset page (Cytoscape.js, vendored). Layers by signed distance from the
// asset (sources to the left, products to the right); each layer shows a page of nodes and a
// "+N" node that shows the next page, so graphs of thousands of nodes stay usable. The witness
// path that sets the level is drawn thick; clicking a node opens that asset.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("graph-config").textContent);
  const zh = cfg.lang === "zh";
  const container = document.getElementById("lineage");
  const status = document.getElementById("graph-status");
  const PAGE = 40, MAX_NODES = 12000, X = 230, Y = 44;
  const witness = new Set(cfg.witness);
  let graph = null, shown = {}, cy = null;

  function text(zhText, enText) { return zh ? zhText : enText; }

  async function load() {
    const depth = document.getElementById("graph-depth").value;
    const direction = document.getElementById("graph-direction").value;
    status.textContent = text("载入中…", "loading…");
    container.dataset.ready = "false";
    const url = `/api/assets/${encodeURIComponent(cfg.id)}/lineage?direction=${direction}&depth=${depth}&max_nodes=${MAX_NODES}`;
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      status.textContent = text("无法载入血缘：", "cannot load the lineage: ") + response.status;
      return;
    }
    graph = await response.json();
    shown = {};
    draw();
  }

  function layers() {
    const up = new Map(), down = new Map();
    for (const e of graph.edges) {
      if (!up.has(e.target)) up.set(e.target, []);
      up.get(e.target).push(e.source);
      if (!down.has(e.source)) down.set(e.source, []);
      down.get(e.source).push(e.target);
    }
    const layer = new Map([[graph.root, 0]]);
    for (const [adjacent, sign] of [[up, -1], [down, 1]]) {
      let frontier = [graph.root], d = 0;
      while (frontier.length) {
        d += 1;
        const next = [];
        for (const x of frontier) for (const y of adjacent.get(x) || []) {
          if (!layer.has(y)) { layer.set(y, sign * d); next.push(y); }
        }
        frontier = next;
      }
    }
    return layer;
  }

  function draw() {
    const layer = layers();
    const byLayer = new Map();
    for (const n of graph.nodes) {
      const l = layer.has(n.iri) ? layer.get(n.iri) : n.distance;
      if (!byLayer.has(l)) byLayer.set(l, []);
      byLayer.get(l).push(n);
    }
    const rank = (n) => (n.effective ? n.effective.rank : 0);
    const elements = [], visible = new Set(), moreOf = new Map();
    for (const [l, nodes] of byLayer) {
      nodes.sort((a, b) => (witness.has(b.iri) - witness.has(a.iri)) || (rank(b) - rank(a)) || a.id.localeCompare(b.id));
      const limit = shown[l] || PAGE;
      const page = nodes.slice(0, limit);
      const rest = nodes.length - page.length;
      const count = page.length + (rest > 0 ? 1 : 0);
      page.forEach((n, i) => {
        visible.add(n.iri);
        elements.push({ group: "nodes", data: {
          id: n.iri, ident: n.id, label: n.id, rank: rank(n), witness: witness.has(n.iri) ? 1 : 0,
          root: n.iri === graph.root ? 1 : 0, origin: n.iri === cfg.origin ? 1 : 0,
          title: (n.name || n.id) + (n.effective ? " · " + (zh ? n.effective.label_zh : n.effective.label_en) : ""),
        }, position: { x: l * X, y: (i - (count - 1) / 2) * Y } });
      });
      if (rest > 0) {
        const id = `more:${l}`;
        for (const n of nodes.slice(limit)) moreOf.set(n.iri, id);
        elements.push({ group: "nodes", data: { id, more: 1, layer: l, label: `+${rest}` },
          position: { x: l * X, y: (page.length - (count - 1) / 2) * Y } });
      }
    }
    const seen = new Set();
    for (const e of graph.edges) {
      const s = visible.has(e.source) ? e.source : moreOf.get(e.source);
      const t = visible.has(e.target) ? e.target : moreOf.get(e.target);
      if (!s || !t || s === t) continue;
      const key = s + " " + t;
      if (seen.has(key)) continue;
      seen.add(key);
      const w = witness.has(e.source) && witness.has(e.target) ? 1 : 0;
      elements.push({ group: "edges", data: { id: "e" + seen.size, source: s, target: t, witness: w,
        approved: e.approved ? 1 : 0, label: (zh ? e.activity_label_zh : e.activity_label_en) || "" } });
    }
    const big = elements.length > 1500;
    if (cy) cy.destroy();
    cy = cytoscape({
      container, elements, layout: { name: "preset" }, minZoom: 0.05, maxZoom: 3,
      textureOnViewport: big, hideEdgesOnViewport: big, pixelRatio: big ? 1 : "auto",
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
          width: 18, height: 18, "background-color": "#8a96a3", "min-zoomed-font-size": 7, "text-max-width": 200 } },
        { selector: "node[rank = 1]", style: { "background-color": "#2e7d32" } },
        { selector: "node[rank = 2]", style: { "background-color": "#689f38" } },
        { selector: "node[rank = 3]", style: { "background-color": "#d89a00" } },
        { selector: "node[rank = 4]", style: { "background-color": "#e65100" } },
        { selector: "node[rank = 5]", style: { "background-color": "#c62828" } },
        { selector: "node[rank = 6]", style: { "background-color": "#6a1b9a" } },
        { selector: "node[witness = 1]", style: { "border-width": 3, "border-color": "#14324f" } },
        { selector: "node[root = 1]", style: { width: 28, height: 28, "font-weight": "bold" } },
        { selector: "node[origin = 1]", style: { shape: "star", width: 30, height: 30 } },
        { selector: "node[more = 1]", style: { shape: "round-rectangle", width: 44, height: 22, "background-color": "#dfe5eb",
          "text-valign": "center", "text-margin-y": 0, color: "#14324f" } },
        { selector: "edge", style: { width: 1.2, "line-color": "#b3bdc7", "target-arrow-color": "#b3bdc7",
          "target-arrow-shape": "triangle", "curve-style": big ? "haystack" : "bezier", "arrow-scale": 0.8 } },
        { selector: "edge[witness = 1]", style: { width: 4, "line-color": "#14324f", "target-arrow-color": "#14324f",
          label: "data(label)", "font-size": 9, "text-background-color": "#fff", "text-background-opacity": 1 } },
      ],
    });
    cy.on("tap", "node", (event) => {
      const d = event.target.data();
      if (d.more) { shown[d.layer] = (shown[d.layer] || PAGE) + PAGE * 5; draw(); return; }
      window.location.href = `/ui/assets/${encodeURIComponent(d.ident)}`;
    });
    cy.on("mouseover", "node", (event) => { container.title = event.target.data("title") || ""; });
    if (elements.length <= 400) cy.fit(undefined, 30); else cy.zoom(0.6), cy.center(cy.getElementById(graph.root));
    const total = graph.nodes.length;
    status.textContent = text(`${total} 个节点，显示 ${visible.size} 个`, `${total} nodes, ${visible.size} shown`) +
      (graph.truncated ? text("（已截断，请减小深度）", " (truncated: lower the depth)") : "");
    container.dataset.nodes = String(total);
    container.dataset.ready = "true";
    window.medgradeGraph = cy;
  }

  document.getElementById("graph-depth").addEventListener("change", load);
  document.getElementById("graph-direction").addEventListener("change", load);
  document.getElementById("graph-fit").addEventListener("click", () => cy && cy.fit(undefined, 30));
  load();
})();
