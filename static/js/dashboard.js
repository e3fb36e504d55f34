// The dashboard: tables sorted by a tap on a column, and the map of verified reports (clustered points for a region
// or a district, a heat layer for the country). The page works without it: the tables hold every figure and the
// month chart is drawn on the server. Started from data-* attributes only: the page runs without inline scripts.
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var format = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  };
  var COLOURS = { prevented: "#00758f", solved: "#1e7d32", other: "#5b6675" };
  // Dates and numbers as the server writes them (formats.js): 03.12.2026, 7 784.
  var formats = window.Formats || {
    locale: function () { return document.documentElement.lang || undefined; },
    date: function (day) { return day; },
    number: function (value) { return String(value); }
  };

  // Sorting: numbers from data-value (the shown text is formatted for the language), names by the language's order.
  function valueOf(row, index, type) {
    var cell = row.cells[index];
    if (type === "number") {
      var number = parseFloat(cell.dataset.value);
      return isNaN(number) ? -Infinity : number;
    }
    return cell.textContent.trim();
  }

  function sortBy(table, header, index, type) {
    var body = table.tBodies[0];
    var width = table.tHead.rows[0].cells.length;
    var rows = Array.prototype.filter.call(body.rows, function (row) { return row.cells.length === width; });
    if (rows.length < 2) { return; }
    var first = type === "number" ? "descending" : "ascending";
    var current = header.getAttribute("aria-sort");
    var order = current === first ? (first === "ascending" ? "descending" : "ascending") : first;
    var sign = order === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var left = valueOf(a, index, type);
      var right = valueOf(b, index, type);
      if (type === "number") { return sign * (left - right); }
      return sign * left.localeCompare(right, formats.locale());
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", order);
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      var type = header.dataset.sort;
      if (!type) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "dash-sort";
      button.title = gettext("Sort by this column");
      while (header.firstChild) { button.appendChild(header.firstChild); }
      header.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, header, index, type); });
    });
  }

  // The map. Popups are built from text nodes: nothing from the server is parsed as HTML.
  function popup(point, outcomes) {
    var box = document.createElement("div");
    var title = document.createElement("a");
    title.href = "/reports/" + encodeURIComponent(point.id) + "/";
    title.textContent = format(gettext("Report No. %(number)s"), { number: point.id }, true);
    box.appendChild(title);
    [outcomes[point.outcome] || point.outcome, formats.date(point.day)].forEach(function (line) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(line));
    });
    return box;
  }

  function showPoints(map, data) {
    var group = L.markerClusterGroup
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 48 })
      : L.featureGroup();
    data.points.forEach(function (point) {
      var marker = L.circleMarker([point.lat, point.lng], {
        radius: 7, color: "#fff", weight: 2, fillOpacity: 0.95,
        fillColor: COLOURS[point.outcome] || COLOURS.other
      });
      marker.bindPopup(popup(point, data.outcomes || {}));
      group.addLayer(marker);
    });
    group.addTo(map);
    var bounds = group.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13, animate: false });
    } else {
      frame(map, data);
    }
  }

  // The area's extent (south, west, north, east) from the server: the country, or the region's or district's outline.
  function frame(map, data) {
    var box = data.bounds;
    if (box) { map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { animate: false }); }
  }

  function showGrid(map, data) {
    frame(map, data);
    if (!data.cells.length) { return; }
    var top = data.cells.reduce(function (most, cell) { return Math.max(most, cell.count); }, 1);
    if (L.heatLayer) {
      // leaflet.heat fades points by how far the map is zoomed out from maxZoom: full strength at the country's view.
      L.heatLayer(data.cells.map(function (cell) { return [cell.lat, cell.lng, cell.count]; }), {
        radius: 22, blur: 18, minOpacity: 0.35, max: top, maxZoom: map.getZoom()
      }).addTo(map);
      return;
    }
    data.cells.forEach(function (cell) {
      L.circleMarker([cell.lat, cell.lng], {
        radius: 4 + 12 * Math.sqrt(cell.count / top), stroke: false, fillColor: COLOURS.prevented, fillOpacity: 0.6
      }).addTo(map);
    });
  }

  // Initiative villages: a green ring when no crime was registered in the year so far, grey otherwise.
  function showVillages(map, data) {
    (data.villages || []).forEach(function (village) {
      var marker = L.circleMarker([village.lat, village.lng], {
        radius: 9, weight: 3, fill: false, color: village.crime_free ? "#15803d" : "#6b7280"
      });
      var box = document.createElement("div");
      var name = document.createElement("strong");
      name.textContent = village.name;
      box.appendChild(name);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(
        village.crime_free ? gettext("Initiative village without crime") : gettext("Initiative village")
      ));
      marker.bindPopup(box);
      marker.addTo(map);
    });
  }

  function describe(note, data) {
    if (!note) { return; }
    if (!data.total) {
      note.textContent = gettext("No verified reports on the map for this year.");
    } else if (data.capped) {
      note.textContent = format(
        gettext("The %(shown)s newest of %(total)s verified reports are shown."),
        { shown: formats.number(data.points.length), total: formats.number(data.total) }, true
      );
    }
  }

  function startMap(element) {
    if (typeof L === "undefined" || !L.Map.djangoMap) { return; }
    var options = JSON.parse(element.dataset.options || "{}");
    // The map frames its own reports; the "reset view" button would leave them for the whole world.
    options.resetview = false;
    var map = L.Map.djangoMap(element.id, { djoptions: options, globals: false, callback: function () {} });
    var note = element.parentNode.querySelector("[data-map-note]");
    fetch(element.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        if (data.kind === "grid") { showGrid(map, data); } else { showPoints(map, data); }
        showVillages(map, data);
        element.dataset.loaded = data.kind;
        describe(note, data);
      })
      .catch(function () {
        if (note) { note.textContent = gettext("The map could not be loaded; the tables have every figure."); }
      });
  }

  document.querySelectorAll("table[data-sortable]").forEach(makeSortable);
  document.querySelectorAll("[data-dashboard-map]").forEach(startMap);
})();
