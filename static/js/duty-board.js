// The live board (/duty/) updates itself: every few seconds it asks /duty/now.json for its list (rendered by the
// server, translated and formatted as the first page was) and its map points, and swaps them in.
//
// Why polling: it needs no extra server process (no ASGI server, no Channels layer), goes through any proxy and
// any mobile network as plain HTTPS requests, and an answer costs the server a handful of indexed queries
// (selectors/duty.py). A board is read by a few people per district, so a request every POLL_MS is cheap; a hidden
// tab stops asking and asks at once when shown again.
(function () {
  "use strict";
  var POLL_MS = 7000;
  var board = document.querySelector("[data-duty-board]");
  if (!board) { return; }

  var COLOURS = { on_duty: "#1e7d32", stale: "#5b6675", alarm: "#b3261e" };
  var map = null;
  var layer = null;
  var fitted = false;
  var timer = null;
  var busy = false;

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // Names come from users: put in as text, never as HTML.
  function popupFor(props) {
    var title = document.createElement(props.url ? "a" : "strong");
    title.textContent = props.name;
    if (props.url) { title.href = props.url; }
    return title;
  }

  function startMap() {
    var element = document.getElementById("duty-map");
    if (!element || typeof L === "undefined" || !L.Map.DjangoMap) { return; }
    map = new L.Map.DjangoMap(element, { djoptions: JSON.parse(element.dataset.options) });
    layer = L.layerGroup().addTo(map);
    draw(readJSON(element.dataset.source));
  }

  function draw(collection) {
    if (!map || !collection) { return; }
    layer.clearLayers();
    var points = [];
    collection.features.forEach(function (feature) {
      var coordinates = feature.geometry.coordinates;
      var latlng = L.latLng(coordinates[1], coordinates[0]);
      var role = feature.properties.role;
      L.circleMarker(latlng, {
        radius: role === "alarm" ? 11 : 8, color: "#fff", weight: 2, fillOpacity: 1,
        fillColor: COLOURS[role] || COLOURS.on_duty
      }).bindPopup(popupFor(feature.properties)).addTo(layer);
      points.push(latlng);
    });
    // Fitted once: a board someone has zoomed into keeps its view while the points move.
    if (points.length && !fitted) {
      map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 15 });
      fitted = true;
    }
  }

  function offline(shown) {
    var note = board.querySelector("[data-duty-offline]");
    if (!note) { return; }
    note.textContent = board.dataset.offline;
    note.hidden = !shown;
  }

  function apply(data) {
    Object.keys(data.parts || {}).forEach(function (part) {
      var target = board.querySelector('[data-duty-part="' + part + '"]');
      // The server's own template, autoescaped: the same markup the page was first served with.
      if (target) { target.innerHTML = data.parts[part]; }
    });
    draw({ type: "FeatureCollection", features: data.features || [] });
  }

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(board.dataset.endpoint, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) { apply(data); offline(false); })
      .catch(function () { offline(true); })
      .then(function () { busy = false; });
  }

  function schedule() {
    if (timer) { clearInterval(timer); }
    timer = setInterval(poll, POLL_MS);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { poll(); }
  });
  window.addEventListener("online", poll);
  startMap();
  schedule();
})();
