// The verification queue and the report page: maps from the page's GeoJSON (json_script) and "select all".
// Every page works without it: the list has every report, the forms post as they are.
(function () {
  "use strict";

  var FLAGGED = "#a15c00";
  var PLAIN = "#00758f";

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // A popup built from text nodes only: titles and lines come from reports and are never parsed as HTML.
  function popup(properties) {
    var box = document.createElement("div");
    var title = document.createElement(properties.url ? "a" : "strong");
    title.textContent = properties.title;
    if (properties.url) { title.href = properties.url; }
    box.appendChild(title);
    (properties.lines || []).forEach(function (line) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(line));
    });
    return box;
  }

  function showFeatures(map, data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        var colour = feature.properties.flagged ? FLAGGED : PLAIN;
        return L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 0.95 });
      },
      // geoJSON styles every vector layer, the report markers too: only the zone takes the outline style.
      style: function (feature) {
        return feature.properties.kind === "zone" ? { color: PLAIN, weight: 2, fillOpacity: 0.08 } : {};
      },
      onEachFeature: function (feature, shape) { shape.bindPopup(popup(feature.properties)); }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 }); }
  }

  function startMap(element) {
    if (typeof L === "undefined" || !L.Map.djangoMap) { return; }
    var data = readJSON(element.dataset.geojson);
    var options = JSON.parse(element.dataset.options || "{}");
    // These maps frame their own reports; the "reset view" button would leave them for the whole country.
    options.resetview = false;
    var map = L.Map.djangoMap(element.id, { djoptions: options, globals: false, callback: function () {} });
    if (map && data) { showFeatures(map, data); }
  }

  document.querySelectorAll("[data-verify-map]").forEach(startMap);

  // "Select all on this page" ticks every report box of its form.
  document.querySelectorAll("input[data-select-all]").forEach(function (master) {
    var boxes = master.form.querySelectorAll('input[type="checkbox"][name="' + master.dataset.selectAll + '"]');
    master.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = master.checked; });
    });
  });
})();
