// The meeting form on the phone. A meeting logged in a village hall with no signal is kept in IndexedDB first
// (its own database, "meeting-outbox", keyed by client_uuid), then sent to the API as JSON when there is a
// connection: on saving, on the `online` event, on page load and every half minute. The API answers a retry of the
// same client_uuid with the first meeting (200), so sending twice never makes two; a 400 keeps the meeting here with
// the server's message. Photos follow the meeting. Without IndexedDB the form posts to the server as a plain form.
(function () {
  "use strict";

  var form = document.getElementById("meeting-form");
  if (!form || !window.indexedDB || !window.fetch || !window.Promise) { return; }

  var DB_NAME = "meeting-outbox";
  var STORE = "meetings";
  var TIMEOUT_MS = 30000;
  var RETRY_MS = 30000;

  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var fill = function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return values[key]; });
  };
  var data = form.dataset;
  var fields = form.elements;
  // The service worker keeps this page for a reload without signal (the report form's worker, the same shell).
  if ("serviceWorker" in navigator && window.isSecureContext && data.swUrl) {
    navigator.serviceWorker.register(data.swUrl, { scope: "/" }).catch(function () { return null; });
  }
  var offset = data.utcOffset || "+05:00";
  var offsetMinutes = (offset[0] === "-" ? -1 : 1) * (parseInt(offset.slice(1, 3), 10) * 60 + parseInt(offset.slice(4, 6), 10));
  var maxSide = parseInt(data.photoMaxSide, 10) || 1600;
  var quality = parseFloat(data.photoQuality) || 0.85;
  var maxCount = parseInt(data.photoMaxCount, 10) || 10;

  var box = document.getElementById("meeting-outbox");
  var waitingBox = box.querySelector("[data-waiting-box]");
  var waitingText = box.querySelector("[data-waiting-text]");
  var waitingList = box.querySelector("[data-waiting-list]");
  var offlineNote = box.querySelector("[data-offline]");
  var sentList = box.querySelector("[data-sent-list]");
  var status = form.querySelector("[data-form-status]");
  var placeStatus = form.querySelector("[data-place-status]");
  var useCentre = form.querySelector("[data-use-centre]");
  var thumbs = form.querySelector("[data-thumbs]");
  var submitButton = form.querySelector("button[type=submit]");
  var photos = [];
  var sent = [];
  var busy = false;
  var flushing = null;

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  // The store

  var opening = null;

  function open() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var request = window.indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "client_uuid" }); };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  function withStore(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var result;
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = transaction.onabort = function () { reject(transaction.error); };
        var request = work(transaction.objectStore(STORE));
        if (request) { request.onsuccess = function () { result = request.result; }; }
      });
    });
  }

  // Only the signed-in person's meetings: a phone may be shared.
  function all() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (records) {
      return (records || []).filter(function (record) { return record.owner === data.user; })
        .sort(function (a, b) { return a.created_at - b.created_at; });
    });
  }

  function get(clientUuid) { return withStore("readonly", function (store) { return store.get(clientUuid); }); }
  function put(record) { return withStore("readwrite", function (store) { return store.put(record); }); }
  function remove(clientUuid) { return withStore("readwrite", function (store) { return store.delete(clientUuid); }); }

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // Sending

  function Retry(reason) { this.reason = reason; }
  function Refused(body) { this.body = body; }

  function csrfToken() {
    var found = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return found ? decodeURIComponent(found[1]) : fields.csrfmiddlewaretoken.value;
  }

  function post(url, body, headers) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    headers["X-CSRFToken"] = csrfToken();
    headers.Accept = "application/json";
    return fetch(url, {
      method: "POST", body: body, headers: headers, credentials: "same-origin",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      clearTimeout(timer);
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.status === 200 || response.status === 201) { return answer; }
        if (response.status === 400) { throw new Refused(answer); }
        // Signed out, a server error: keep everything and try again later.
        throw new Retry(response.status);
      });
    }, function () {
      clearTimeout(timer);
      throw new Retry("network");
    });
  }

  function sendPhotos(record) {
    var index = record.photos.findIndex(function (photo) { return !photo.sent; });
    if (index < 0) { return Promise.resolve(); }
    var body = new FormData();
    body.append("photo", record.photos[index].blob, "photo-" + (index + 1) + ".jpg");
    var url = data.photosUrl.replace("/0/", "/" + record.meeting_id + "/");
    return post(url, body, {}).catch(function (error) {
      // A photo the server refuses for good does not hold the meeting back: it is dropped with its reason.
      if (!(error instanceof Refused)) { throw error; }
      record.photo_problems.push(problemsOf(error.body).join(" "));
    }).then(function () {
      record.photos[index] = { blob: null, sent: true };
      return put(record);
    }).then(function () { return sendPhotos(record); });
  }

  function sendOne(record) {
    var filed = record.meeting_id ? Promise.resolve() : post(
      data.apiUrl, JSON.stringify(record.meeting), { "Content-Type": "application/json" }
    ).then(function (answer) {
      record.meeting_id = answer.id;
      return put(record);
    });
    return filed.then(function () { return sendPhotos(record); }).then(function () {
      return remove(record.client_uuid);
    }).then(function () {
      sent.push({ id: record.meeting_id, label: record.label, problems: record.photo_problems });
    });
  }

  function flushNow() {
    return all().then(function (records) {
      var queue = records.filter(function (record) { return record.state === "waiting"; });
      return queue.reduce(function (done, record) {
        return done.then(function (stopped) {
          if (stopped) { return true; }
          return sendOne(record).then(function () { return false; }, function (error) {
            if (error instanceof Refused) {
              record.state = "needs_fixing";
              record.problem = error.body;
              return put(record).then(function () { return false; });
            }
            return true;
          });
        });
      }, Promise.resolve(false));
    });
  }

  function flush() {
    // A meeting saved while a round is under way goes out in the next one, right after it.
    if (flushing) { return flushing.then(function () { return flush(); }); }
    if (navigator.onLine === false) { return render(); }
    var locks = navigator.locks;
    // One sender at a time across tabs; the server's idempotency covers the rest.
    var run = locks ? locks.request("meeting-outbox-flush", flushNow) : flushNow();
    flushing = run.catch(function () { return undefined; }).then(function () {
      flushing = null;
      return render();
    });
    return flushing;
  }

  // What waits and what went out

  function labelOf(name) {
    var element = ["point", "lat", "lng"].indexOf(name) >= 0 ? form.querySelector(".place") : fields[name];
    if (element && !element.tagName && element.length) { element = element[0]; }
    if (!element || !element.closest) { return ""; }
    var fieldset = element.closest("fieldset");
    var legend = fieldset && fieldset.querySelector("legend");
    var label = legend || (element.id ? form.querySelector('label[for="' + element.id + '"]') : null);
    // Django's labels end with a colon; the message follows one.
    return label ? label.textContent.trim().replace(/:$/, "") : "";
  }

  // DRF's {"field": ["message"]} or {"detail": "message"}, as sentences.
  function problemsOf(body) {
    var found = [];
    Object.keys(body || {}).forEach(function (name) {
      var value = body[name];
      var list = Array.isArray(value) ? value : [value];
      var label = name === "detail" || name === "non_field_errors" ? "" : labelOf(name);
      list.forEach(function (message) {
        if (typeof message === "string") { found.push(label ? label + ": " + message : message); }
      });
    });
    return found.length ? found : [gettext("The server did not accept the meeting.")];
  }

  function button(text, onClick, className) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    if (className) { element.className = className; }
    element.addEventListener("click", onClick);
    return element;
  }

  function render() {
    return all().then(function (records) {
      box.hidden = records.length === 0 && sent.length === 0;
      box.dataset.count = String(records.length);
      waitingBox.hidden = records.length === 0;
      waitingText.textContent = fill(ngettext(
        "%(count)s meeting waits on this phone.", "%(count)s meetings wait on this phone.", records.length
      ), { count: records.length });
      offlineNote.hidden = navigator.onLine !== false;
      waitingList.textContent = "";
      records.forEach(function (record) {
        var item = document.createElement("li");
        item.dataset.clientUuid = record.client_uuid;
        item.appendChild(document.createTextNode(record.label));
        if (record.state === "needs_fixing") {
          item.className = "refused";
          var problems = document.createElement("ul");
          problemsOf(record.problem).forEach(function (text) {
            var line = document.createElement("li");
            line.textContent = text;
            problems.appendChild(line);
          });
          item.appendChild(problems);
          item.appendChild(button(gettext("Correct it in the form"), function () { load(record.client_uuid); }));
          item.appendChild(button(gettext("Delete"), function () {
            if (window.confirm(gettext("Delete this meeting from the phone? It was not received."))) {
              remove(record.client_uuid).then(render);
            }
          }, "danger"));
        }
        waitingList.appendChild(item);
      });
      sentList.textContent = "";
      sent.forEach(function (done) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = data.detailUrl.replace("/0/", "/" + done.id + "/");
        link.textContent = done.label;
        item.appendChild(document.createTextNode(gettext("Delivered:") + " "));
        item.appendChild(link);
        done.problems.forEach(function (text) {
          var note = document.createElement("p");
          note.className = "error";
          note.textContent = fill(gettext("A photo was refused: %(reason)s"), { reason: text });
          item.appendChild(note);
        });
        sentList.appendChild(item);
      });
    });
  }

  // The form

  function nowLocal() {
    return new Date(Date.now() + offsetMinutes * 60000).toISOString().slice(0, 16);
  }

  function checked(name) {
    return Array.prototype.map.call(form.querySelectorAll("input[name=" + name + "]:checked"), function (input) {
      return input.value;
    });
  }

  function syncStatus() {
    fields.residents.required = checked("status")[0] === "held";
  }

  // Only the groups of the chosen settlement's district can take part.
  function syncGroups() {
    var option = fields.settlement.options[fields.settlement.selectedIndex];
    var district = option ? option.getAttribute("data-district") : "";
    form.querySelectorAll(".groups label[data-district]").forEach(function (label) {
      var other = Boolean(district) && label.getAttribute("data-district") !== district;
      label.hidden = other;
      if (other) { label.querySelector("input").checked = false; }
    });
  }

  function collect() {
    var value = fields.held_at.value;
    var meeting = {
      client_uuid: fields.client_uuid.value,
      settlement: fields.settlement.value,
      kind: fields.kind.value,
      status: checked("status")[0] || "held",
      held_at: (value.length === 16 ? value + ":00" : value) + offset,
      duration_minutes: parseInt(fields.duration_minutes.value, 10) || 60,
      residents: fields.residents.value === "" ? null : parseInt(fields.residents.value, 10),
      topics: checked("topics"),
      groups: checked("groups").map(Number),
      decisions: fields.decisions.value.trim(),
      notes: fields.notes.value.trim()
    };
    if (fields.lat.value && fields.lng.value) {
      meeting.lat = parseFloat(fields.lat.value);
      meeting.lng = parseFloat(fields.lng.value);
    }
    return meeting;
  }

  function describe(meeting) {
    var option = fields.settlement.options[fields.settlement.selectedIndex];
    return (option ? option.textContent.trim() : meeting.settlement) + " · " + meeting.held_at.slice(0, 16).replace("T", " ");
  }

  function locate() {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      fields.lat.value = position.coords.latitude.toFixed(6);
      fields.lng.value = position.coords.longitude.toFixed(6);
      useCentre.hidden = false;
      placeStatus.textContent = fill(gettext("Your position is used, accurate to about %(metres)s m."), {
        metres: Math.round(position.coords.accuracy)
      });
    }, function () {
      placeStatus.textContent = gettext("The position could not be found: the settlement's centre is used.");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  useCentre.addEventListener("click", function () {
    fields.lat.value = "";
    fields.lng.value = "";
    useCentre.hidden = true;
    placeStatus.textContent = gettext("The settlement's centre is used.");
  });

  // Photos: made smaller on the phone (the server cleans them anyway); one that cannot be decoded is sent as it is.

  function shrink(file) {
    if (!window.createImageBitmap) { return Promise.resolve(file); }
    return window.createImageBitmap(file, { imageOrientation: "from-image" }).then(function (image) {
      var scale = Math.min(1, maxSide / Math.max(image.width, image.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(image.width * scale));
      canvas.height = Math.max(1, Math.round(image.height * scale));
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      image.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", quality);
      });
    }, function () { return file; });
  }

  function renderThumbs() {
    thumbs.textContent = "";
    photos.forEach(function (photo, index) {
      var item = document.createElement("li");
      var image = document.createElement("img");
      image.src = photo.url;
      image.alt = fill(gettext("Photo %(number)s"), { number: index + 1 });
      item.appendChild(image);
      item.appendChild(button("×", function () {
        URL.revokeObjectURL(photo.url);
        photos.splice(index, 1);
        renderThumbs();
      }));
      thumbs.appendChild(item);
    });
  }

  function addBlob(blob) {
    photos.push({ blob: blob, url: URL.createObjectURL(blob) });
    renderThumbs();
  }

  fields.photo.addEventListener("change", function () {
    var files = Array.prototype.slice.call(fields.photo.files || []);
    fields.photo.value = "";
    files.slice(0, Math.max(0, maxCount - photos.length)).reduce(function (done, file) {
      return done.then(function () { return shrink(file).then(addBlob); });
    }, Promise.resolve());
  });

  function clearPhotos() {
    photos.forEach(function (photo) { URL.revokeObjectURL(photo.url); });
    photos = [];
    renderThumbs();
  }

  function resetForm() {
    var lat = fields.lat.value;
    var lng = fields.lng.value;
    form.reset();
    // The next meeting is most likely near this one: keep the place.
    fields.lat.value = lat;
    fields.lng.value = lng;
    fields.client_uuid.value = newUuid();
    fields.held_at.value = nowLocal();
    clearPhotos();
    syncStatus();
    syncGroups();
  }

  // A meeting the server refused comes back into the form under the same id.
  function load(clientUuid) {
    return get(clientUuid).then(function (record) {
      if (!record) { return; }
      var meeting = record.meeting;
      fields.client_uuid.value = meeting.client_uuid;
      fields.settlement.value = meeting.settlement;
      fields.kind.value = meeting.kind;
      form.querySelectorAll("input[name=status]").forEach(function (input) { input.checked = input.value === meeting.status; });
      fields.held_at.value = meeting.held_at.slice(0, 16);
      fields.duration_minutes.value = meeting.duration_minutes;
      fields.residents.value = meeting.residents === null ? "" : meeting.residents;
      form.querySelectorAll("input[name=topics]").forEach(function (input) {
        input.checked = meeting.topics.indexOf(input.value) >= 0;
      });
      syncGroups();
      form.querySelectorAll("input[name=groups]").forEach(function (input) {
        input.checked = meeting.groups.indexOf(Number(input.value)) >= 0;
      });
      fields.decisions.value = meeting.decisions;
      fields.notes.value = meeting.notes;
      fields.lat.value = meeting.lat === undefined ? "" : meeting.lat;
      fields.lng.value = meeting.lng === undefined ? "" : meeting.lng;
      useCentre.hidden = !fields.lat.value;
      clearPhotos();
      record.photos.forEach(function (photo) { if (!photo.sent && photo.blob) { addBlob(photo.blob); } });
      syncStatus();
      say(gettext("Correct the meeting and save it again."));
      form.scrollIntoView();
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "status") { syncStatus(); }
    if (event.target.name === "settlement") { syncGroups(); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || !form.reportValidity()) { return; }
    busy = true;
    submitButton.disabled = true;
    var meeting = collect();
    var record = {
      client_uuid: meeting.client_uuid,
      owner: data.user,
      created_at: Date.now(),
      label: describe(meeting),
      meeting: meeting,
      photos: photos.map(function (photo) { return { blob: photo.blob, sent: false }; }),
      meeting_id: null,
      state: "waiting",
      problem: null,
      photo_problems: []
    };
    put(record).then(function () {
      resetForm();
      say(gettext("Saved on this phone. Sending…"));
      window.scrollTo(0, 0);
      return flush();
    }).then(function () { return get(record.client_uuid); }).then(function (left) {
      if (!left) {
        say(gettext("Delivered. Thank you!"));
      } else if (left.state === "needs_fixing") {
        say(gettext("The server did not accept the meeting: see above what to correct."), true);
      } else {
        say(gettext("Saved on this phone. It will be sent by itself when there is a connection."));
      }
    }, function () {
      say(gettext("The meeting could not be saved on this phone. Check the browser's free space and try again."), true);
    }).then(function () {
      busy = false;
      submitButton.disabled = false;
    });
  });

  box.querySelector("[data-send-now]").addEventListener("click", flush);
  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  window.setInterval(flush, RETRY_MS);

  syncStatus();
  syncGroups();
  if (data.fresh === "1") {
    fields.held_at.value = fields.held_at.value || nowLocal();
    locate();
  }
  flush();
})();
