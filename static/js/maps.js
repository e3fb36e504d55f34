// Maps started from data-* attributes, never from inline scripts, so pages work under a Content Security Policy
// without 'unsafe-inline'. Loaded after django-leaflet's {% leaflet_js %}; data-options holds its map options.
//   data-map="shapes"  GeoJSON from the json_script element named by data-source, fitted into view
//   data-map="draw"    django-leaflet's drawing field (LeafletWidget); data-reference names a guide outline
(function () {
  "use strict";
  if (typeof L === "undefined" || !L.Map.DjangoMap) { return; }

  var COLOURS = { brand: "#00758f", route: "#a15c00", ok: "#1e7d32", danger: "#b3261e", muted: "#5b6675" };

  function readJSON(id) {
    var element = id ? document.getElementById(id) : null;
    return element ? JSON.parse(element.textContent) : null;
  }

  function makeMap(element) {
    return new L.Map.DjangoMap(element, { djoptions: JSON.parse(element.dataset.options) });
  }

  function styleFor(feature) {
    var props = feature.properties || {};
    if (props.kind === "route" || (feature.geometry && /LineString$/.test(feature.geometry.type))) {
      return { color: COLOURS.route, weight: 5, opacity: 0.9 };
    }
    return { color: COLOURS.brand, weight: 3, fillOpacity: 0.15 };
  }

  // Names come from users: built as text nodes, never as HTML.
  function popupFor(props) {
    var box = document.createElement("div");
    var title = document.createElement(props.url ? "a" : "strong");
    title.textContent = props.name;
    if (props.url) { title.href = props.url; }
    box.appendChild(title);
    return box;
  }

  function showShapes(element) {
    var map = makeMap(element);
    var data = readJSON(element.dataset.source);
    if (!data) { return; }
    var layer = L.geoJSON(data, {
      style: styleFor,
      pointToLayer: function (feature, latlng) {
        var role = feature.properties && feature.properties.role;
        // A check-in inside the zone, one outside it, and a volunteer's last position on duty.
        var fill = role === "outside" ? COLOURS.danger : role === "position" ? COLOURS.brand : COLOURS.ok;
        return L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillOpacity: 1, fillColor: fill });
      },
      onEachFeature: function (feature, shape) {
        if (feature.properties && feature.properties.name) { shape.bindPopup(popupFor(feature.properties)); }
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16 }); }
  }

  // A zone is a polygon (or rectangle), a route a line: markers and circles are not offered.
  var ZoneField = L.GeometryField && L.GeometryField.extend({
    _controlDrawOptions: function () {
      var options = L.GeometryField.prototype._controlDrawOptions.call(this);
      options.draw.marker = false;
      options.draw.circle = false;
      options.draw.circlemarker = false;
      return options;
    }
  });

  function startDrawing(element) {
    var map = makeMap(element);
    var reference = readJSON(element.dataset.reference);
    if (reference) {
      var guide = L.geoJSON(reference, {
        interactive: false,
        style: { color: COLOURS.muted, weight: 2, dashArray: "6 6", fill: false }
      }).addTo(map);
      if (guide.getBounds().isValid()) { map.fitBounds(guide.getBounds()); }
    }
    // A point (a place's centre, in the admin) is drawn with a marker; zones and routes with ZoneField.
    var Field = /Point$/.test(element.dataset.geomType) ? L.GeometryField : ZoneField;
    new Field({
      fieldid: element.dataset.field,
      geom_type: element.dataset.geomType,
      modifiable: element.hasAttribute("data-modifiable"),
      precision: map.options.djoptions.precision,
      field_store_class: L.FieldStore
    }).addTo(map);
  }

  function start() {
    document.querySelectorAll('[data-map="shapes"]').forEach(showShapes);
    if (ZoneField) { document.querySelectorAll('[data-map="draw"]').forEach(startDrawing); }
  }

  // Pages load this at the end of the body; the admin loads form media in the head, before the fields exist.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
