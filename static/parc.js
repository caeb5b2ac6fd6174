// parc's pages, a little more usable with script: every table sorts by a
// click on its header and long tables filter as one types; the search page
// looks through the index the build writes (search-index.js). Without
// script every page reads the same, every row shown. The words come from
// the page (data-* attributes of <body>), so they are the page's language.
(function () {
  "use strict";
  var words = document.body.dataset;

  // "816.07 GB" → bytes, "42" → 42; anything else compares as text.
  var UNITS = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15, Ko: 1e3, Mo: 1e6, Go: 1e9, To: 1e12, o: 1 };
  function key(cell) {
    var text = (cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent).trim();
    var m = /^(-?\d[\d\u202f\u00a0 ]*(?:[.,]\d+)?)\s*(\S*)$/.exec(text);
    if (m && (m[2] === "" || UNITS[m[2]] || m[2] === "%")) {
      var n = parseFloat(m[1].replace(/[\u202f\u00a0 ]/g, "").replace(",", "."));
      return { n: n * (UNITS[m[2]] || 1), t: text };
    }
    return { n: null, t: text.toLowerCase() };
  }
  function compare(a, b) {
    if (a.n !== null && b.n !== null) return a.n - b.n;
    if (a.n !== null) return -1;
    if (b.n !== null) return 1;
    return a.t < b.t ? -1 : a.t > b.t ? 1 : 0;
  }

  function sortable(table) {
    var body = table.tBodies[0];
    var head = table.tHead && table.tHead.rows[0];
    if (!body || !head || body.rows.length < 2) return;
    Array.prototype.forEach.call(head.cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.title = words.sort || "";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.cells, function (c) { c.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var rows = Array.prototype.map.call(body.rows, function (row, i) {
          return { row: row, key: row.cells[col] ? key(row.cells[col]) : { n: null, t: "" }, i: i };
        });
        rows.sort(function (a, b) { return (up ? 1 : -1) * compare(a.key, b.key) || a.i - b.i; });
        rows.forEach(function (r) { body.appendChild(r.row); });
      });
    });
  }

  // A table of 8 rows or more gets a filter box. A table may name its own
  // (data-filter-input), the column it filters on (data-filter-column), and
  // then takes its words from ?q= too (a link from a CVE ticket).
  function filterable(table) {
    var body = table.tBodies[0];
    var own = table.dataset.filterInput && document.getElementById(table.dataset.filterInput);
    if (!body || (!own && body.rows.length < 8)) return;
    var input = own || document.createElement("input");
    var column = table.dataset.filterColumn;
    function filter() {
      var q = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(body.rows, function (row) {
        var cell = column === undefined ? row : row.cells[+column];
        row.hidden = q !== "" && (!cell || cell.textContent.toLowerCase().indexOf(q) < 0);
      });
    }
    input.addEventListener("input", filter);
    if (own) {
      input.value = new URLSearchParams(location.search).get("q") || "";
      filter();
      return;
    }
    input.type = "search";
    input.className = "filter";
    input.placeholder = words.filter || "";
    input.setAttribute("aria-label", words.filter || "");
    if (table.id) input.setAttribute("aria-controls", table.id);
    table.parentNode.insertBefore(input, table);
  }

  Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
    sortable(table);
    filterable(table);
  });

  // The search page: every host, disk, package and finding whose words hold the query.
  var results = document.getElementById("search-results");
  if (!results) return;
  var box = document.getElementById("search-q");
  var root = results.dataset.root || "";
  var PATHS = {
    h: function (s) { return "hosts/" + s + ".html"; },
    d: function (s) { return "disks/" + s + ".html"; },
    p: function (s) { return "apt/packages.html?q=" + encodeURIComponent(s); },
    f: function (s) { return s; }
  };
  function search() {
    var q = box.value.trim().toLowerCase();
    results.textContent = "";
    var entries = window.parcSearchIndex || [];
    if (q === "") return;
    var first = [], rest = [];
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i], label = e[1].toLowerCase(), at = (label + " " + e[2].toLowerCase()).indexOf(q);
      if (at === 0) first.push(e); else if (at > 0) rest.push(e);
    }
    var found = first.concat(rest);
    var count = document.getElementById("search-count");
    count.textContent = (words.found || "") + " " + found.length;
    found.slice(0, 200).forEach(function (e) {
      var li = document.createElement("li"), a = document.createElement("a"), kind = document.createElement("span");
      kind.className = "search-kind";
      kind.textContent = words["kind" + e[0].toUpperCase()] || e[0];
      a.href = root + PATHS[e[0]](e[3]);
      a.textContent = e[1];
      li.appendChild(kind);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(a);
      if (e[2]) li.appendChild(document.createTextNode(" · " + e[2]));
      results.appendChild(li);
    });
  }
  box.value = new URLSearchParams(location.search).get("q") || "";
  box.addEventListener("input", search);
  search();
})();
