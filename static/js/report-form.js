// The report form on the phone: the place from GPS on a map with a draggable pin, photos shrunk in the browser,
// and a submit that never waits for the network: the report goes to the outbox (IndexedDB) first, then out.
// Without IndexedDB the form posts to the server as a plain form.
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form || !window.Outbox || !window.indexedDB) { return; }

  var gettext = window.gettext || function (text) { return text; };
  var fill = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return values[key]; });
  };
  var data = form.dataset;
  var caseOutcomes = JSON.parse(data.caseOutcomes || "[]");
  var offset = data.utcOffset || "+05:00";
  var offsetMinutes = (offset[0] === "-" ? -1 : 1) * (parseInt(offset.slice(1, 3), 10) * 60 + parseInt(offset.slice(4, 6), 10));
  var maxSide = parseInt(data.photoMaxSide, 10) || 1600;
  var quality = parseFloat(data.photoQuality) || 0.85;
  var maxCount = parseInt(data.photoMaxCount, 10) || 10;

  var fields = form.elements;
  var status = form.querySelector("[data-form-status]");
  var caseField = form.querySelector("[data-case-field]");
  var placeStatus = form.querySelector("[data-place-status]");
  var locateButton = form.querySelector("[data-locate]");
  var thumbs = form.querySelector("[data-thumbs]");
  var submitButton = form.querySelector("button[type=submit]");
  var photos = [];
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

  function nowLocal() {
    return new Date(Date.now() + offsetMinutes * 60000).toISOString().slice(0, 16);
  }

  function occurredAt() {
    var value = fields.occurred_at.value;
    return (value.length === 16 ? value + ":00" : value) + offset;
  }

  // Place: GPS, then the pin can be dragged or the map tapped; tiles may be missing offline, the pin still works.

  var map = null;
  var marker = null;
  var mapBox = document.getElementById("report-map");

  function showPlace(lat, lng, recentre) {
    fields.lat.value = lat.toFixed(6);
    fields.lng.value = lng.toFixed(6);
    if (!map) { return; }
    if (marker) {
      marker.setLatLng([lat, lng]);
    } else {
      marker = window.L.marker([lat, lng], { draggable: true, autoPan: true, title: gettext("Place of the event") }).addTo(map);
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
        { metres: Math.round(position.coords.accuracy) },
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

  // Photos: shrunk to at most `maxSide` pixels on the longest side, JPEG, before they are stored or sent.

  function decodeWithImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () { URL.revokeObjectURL(url); resolve(image); };
      image.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      image.src = url;
    });
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return window.createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return decodeWithImage(file);
      });
    }
    return decodeWithImage(file);
  }

  function shrink(file) {
    return decode(file).then(function (image) {
      var width = image.naturalWidth || image.width;
      var height = image.naturalHeight || image.height;
      var scale = Math.min(1, maxSide / Math.max(width, height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) { image.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (blob) { resolve(blob); } else { reject(new Error("not encoded")); }
        }, "image/jpeg", quality);
      });
    });
  }

  function renderThumbs() {
    thumbs.textContent = "";
    photos.forEach(function (photo, index) {
      var item = document.createElement("li");
      var image = document.createElement("img");
      image.src = photo.url;
      image.alt = fill(gettext("Photo %(number)s"), { number: index + 1 }, true);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", gettext("Remove this photo"));
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(photo.url);
        photos.splice(index, 1);
        renderThumbs();
      });
      item.appendChild(image);
      item.appendChild(remove);
      thumbs.appendChild(item);
    });
    form.dataset.photos = String(photos.length);
  }

  function addBlob(blob) {
    photos.push({ blob: blob, url: URL.createObjectURL(blob) });
    renderThumbs();
  }

  function addFiles(files) {
    say(gettext("Preparing the photos…"));
    return files.reduce(function (done, file) {
      return done.then(function () {
        if (photos.length >= maxCount) {
          say(fill(gettext("A report has at most %(count)s photos."), { count: maxCount }, true), true);
          return undefined;
        }
        return shrink(file).then(addBlob, function () {
          say(fill(gettext("“%(name)s” could not be read as a photo."), { name: file.name }, true), true);
        });
      });
    }, Promise.resolve()).then(function () {
      if (!status.classList.contains("error")) { say(""); }
    });
  }

  form.querySelectorAll("input[type=file]").forEach(function (input) {
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      input.value = "";
      addFiles(files);
    });
  });

  // Saving: to the outbox first, then the outbox sends it.

  function clearPhotos() {
    photos.forEach(function (photo) { URL.revokeObjectURL(photo.url); });
    photos = [];
    renderThumbs();
  }

  function resetForm() {
    var lat = fields.lat.value;
    var lng = fields.lng.value;
    form.reset();
    // The next report is most likely near this one: keep the place.
    fields.lat.value = lat;
    fields.lng.value = lng;
    fields.occurred_at.value = nowLocal();
    clearPhotos();
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
    Outbox.create(collect(), photos.map(function (photo) { return photo.blob; }), clientUuid)
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
      clearPhotos();
      record.photos.forEach(function (photo) { if (!photo.sent && photo.blob) { addBlob(photo.blob); } });
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
