// The report form on the phone: the place from GPS on a map with a draggable pin, photos shrunk in the browser,
// and a submit that never waits for the network: the report goes to the outbox (IndexedDB) first, then out.
// Without IndexedDB the form posts to the server as a plain form.
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form || !window.Outbox || !window.Photos || !window.Formats || !window.indexedDB) { return; }

  var gettext = window.gettext || function (text) { return text; };
  var fill = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return values[key]; });
  };
  var data = form.dataset;
  var caseOutcomes = JSON.parse(data.caseOutcomes || "[]");
  var offset = data.utcOffset || "+05:00";

  var fields = form.elements;
  var status = form.querySelector("[data-form-status]");
  var caseField = form.querySelector("[data-case-field]");
  var placeStatus = form.querySelector("[data-place-status]");
  var locateButton = form.querySelector("[data-locate]");
  var submitButton = form.querySelector("button[type=submit]");
  var editing = null;
  var busy = false;
  var placedByHand = false;

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  // Outcome: a crime solved needs the police case number.

  function chosenOutcome() {
    var chosen = form.querySelector("input[name=outcome]:checked");
    return chosen ? chosen.value : "";
  }

  function syncCaseNumber() {
    var needed = caseOutcomes.indexOf(chosenOutcome()) >= 0;
    caseField.hidden = !needed;
    fields.case_number.required = needed;
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "outcome") { syncCaseNumber(); }
  });

  // Time: now in Almaty (the cached page may be days old).

  function nowLocal() { return Formats.nowForInput(offset); }

  function occurredAt() { return Formats.fromInput(fields.occurred_at.value, offset); }

  // Place: GPS, then the pin can be dragged or the map tapped; tiles may be missing offline, the pin still works.

  var map = null;
  var marker = null;
  var mapBox = document.getElementById("report-map");

  // Leaflet's default pin, from its files' own (hashed) addresses: Leaflet guesses the folder from its stylesheet,
  // which fails on hashed names and asks for the shadow beside the page.
  function pin() {
    return window.L.icon({
      iconUrl: mapBox.dataset.pin, iconRetinaUrl: mapBox.dataset.pin2x, shadowUrl: mapBox.dataset.pinShadow,
      iconSize: [25, 41], iconAnchor: [12, 41], popupAnchor: [1, -34], tooltipAnchor: [16, -28], shadowSize: [41, 41]
    });
  }

  function showPlace(lat, lng, recentre) {
    fields.lat.value = lat.toFixed(6);
    fields.lng.value = lng.toFixed(6);
    if (!map) { return; }
    if (marker) {
      marker.setLatLng([lat, lng]);
    } else {
      marker = window.L.marker([lat, lng], { icon: pin(), draggable: true, autoPan: true, title: gettext("Place of the event") }).addTo(map);
      marker.on("dragend", function () {
        var point = marker.getLatLng();
        placedByHand = true;
        showPlace(point.lat, point.lng, false);
        placeStatus.textContent = gettext("The pin was moved by hand.");
      });
    }
    if (recentre) { map.setView([lat, lng], Math.max(map.getZoom(), 16)); }
  }

  if (window.L && mapBox) {
    mapBox.hidden = false;
    map = window.L.map(mapBox).setView([parseFloat(data.centreLat), parseFloat(data.centreLng)], 11);
    if (data.tileUrl) {
      window.L.tileLayer(data.tileUrl, { attribution: data.tileAttribution, maxZoom: 19 }).addTo(map);
    }
    map.on("click", function (event) {
      placedByHand = true;
      showPlace(event.latlng.lat, event.latlng.lng, false);
      placeStatus.textContent = gettext("The pin was put by hand.");
    });
  }

  [fields.lat, fields.lng].forEach(function (input) {
    input.addEventListener("change", function () {
      var lat = parseFloat(fields.lat.value);
      var lng = parseFloat(fields.lng.value);
      if (isFinite(lat) && isFinite(lng)) {
        placedByHand = true;
        showPlace(lat, lng, true);
      }
    });
  });

  function locate(automatic) {
    if (!navigator.geolocation) {
      placeStatus.textContent = gettext("This browser cannot tell the position: tap the map or type the coordinates.");
      return;
    }
    placeStatus.textContent = gettext("Finding your position…");
    navigator.geolocation.getCurrentPosition(function (position) {
      if (automatic && placedByHand) { return; }
      placedByHand = false;
      showPlace(position.coords.latitude, position.coords.longitude, true);
      placeStatus.textContent = fill(
        gettext("Your position, accurate to about %(metres)s m. Move the pin if the place is not exact."),
        { metres: Formats.number(Math.round(position.coords.accuracy)) },
        true
      );
    }, function (error) {
      placeStatus.textContent = error.code === 1
        ? gettext("Access to the position is denied: allow it in the browser, or tap the map to put the pin.")
        : gettext("The position could not be found: try again in the open, or tap the map to put the pin.");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  locateButton.hidden = false;
  locateButton.addEventListener("click", function () { locate(false); });

  // Photos: shrunk on the phone (photos.js) before they are stored or sent.

  var photos = new Photos.Picker({
    thumbs: form.querySelector("[data-thumbs]"),
    maxSide: parseInt(data.photoMaxSide, 10) || 1600,
    quality: parseFloat(data.photoQuality) || 0.85,
    maxCount: parseInt(data.photoMaxCount, 10) || 10,
    tooMany: gettext("A report has at most %(count)s photos."),
    say: say,
    onChange: function (count) { form.dataset.photos = String(count); }
  });
  photos.watch(form.querySelectorAll("input[type=file]"));

  // Saving: to the outbox first, then the outbox sends it.

  function resetForm() {
    var lat = fields.lat.value;
    var lng = fields.lng.value;
    form.reset();
    // The next report is most likely near this one: keep the place.
    fields.lat.value = lat;
    fields.lng.value = lng;
    fields.occurred_at.value = nowLocal();
    photos.clear();
    editing = null;
    syncCaseNumber();
  }

  function collect() {
    return {
      occurred_at: occurredAt(),
      lat: parseFloat(fields.lat.value),
      lng: parseFloat(fields.lng.value),
      category: fields.category.value,
      outcome: chosenOutcome(),
      description: fields.description.value.trim(),
      case_number: caseField.hidden ? "" : fields.case_number.value.trim(),
      third_party_details: fields.third_party_details.value.trim()
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    if (!fields.lat.value || !fields.lng.value) {
      say(gettext("Set the place: tap “Use my position” or tap the map."), true);
      (mapBox && !mapBox.hidden ? mapBox : fields.lat).scrollIntoView({ block: "center" });
      return;
    }
    if (!form.reportValidity()) { return; }
    busy = true;
    submitButton.disabled = true;
    var clientUuid = editing;
    Outbox.create(collect(), photos.blobs(), clientUuid)
      .then(function (record) {
        clientUuid = record.client_uuid;
        resetForm();
        say(gettext("Saved on this phone. Sending…"));
        window.scrollTo(0, 0);
        return window.OutboxPanel ? window.OutboxPanel.afterQueue() : Outbox.flush();
      })
      .then(function () { return Outbox.get(clientUuid); })
      .then(function (record) {
        if (!record) {
          say(gettext("Sent. Thank you!"));
        } else if (record.state === "needs_fixing") {
          say(gettext("The server did not accept the report: see above what to correct."), true);
        } else {
          say(gettext("Saved on this phone. It will be sent by itself when there is a connection."));
        }
      }, function () {
        say(gettext("The report could not be saved on this phone. Check the browser's free space and try again."), true);
      })
      .then(function () {
        busy = false;
        submitButton.disabled = false;
      });
  });

  // Correcting a report the server refused: it comes back into the form with the same id.

  function load(clientUuid) {
    return Outbox.get(clientUuid).then(function (record) {
      if (!record) { return; }
      var report = record.report;
      editing = record.client_uuid;
      form.querySelectorAll("input[name=outcome]").forEach(function (radio) {
        radio.checked = radio.value === report.outcome;
      });
      fields.category.value = report.category;
      fields.occurred_at.value = (report.occurred_at || "").slice(0, 16);
      fields.description.value = report.description || "";
      fields.case_number.value = report.case_number || "";
      fields.third_party_details.value = report.third_party_details || "";
      syncCaseNumber();
      if (isFinite(report.lat) && isFinite(report.lng)) {
        placedByHand = true;
        showPlace(report.lat, report.lng, true);
      }
      photos.clear();
      record.photos.forEach(function (photo) { if (!photo.sent && photo.blob) { photos.addBlob(photo.blob); } });
      say(gettext("Correct the report and save it again."));
      form.scrollIntoView();
    });
  }

  document.addEventListener("outbox:edit", function (event) { load(event.detail); });

  syncCaseNumber();
  if (window.location.hash.indexOf("#edit=") === 0) {
    load(decodeURIComponent(window.location.hash.slice(6)));
  } else if (data.fresh === "1") {
    fields.occurred_at.value = nowLocal();
    locate(true);
  }
})();
