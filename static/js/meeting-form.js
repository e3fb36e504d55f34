// The meeting form on the phone. A meeting logged in a village hall with no signal is kept in IndexedDB first
// (its own database, "meeting-outbox", keyed by client_uuid), then sent to the API as JSON when there is a
// connection: on saving, on the `online` event, on page load and every half minute. The API answers a retry of the
// same client_uuid with the first meeting (200), so sending twice never makes two; a 400 keeps the meeting here with
// the server's message. Photos follow the meeting. Each waiting meeting shows its state in words (outbox-ui.js).
// Without IndexedDB the form posts to the server as a plain form.
(function () {
  "use strict";

  var form = document.getElementById("meeting-form");
  if (!form || !window.indexedDB || !window.fetch || !window.Promise) { return; }
  if (!window.Outbox || !window.OutboxUI || !window.Photos || !window.Formats) { return; }

  var store = Outbox.stores.meetings;
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
  OutboxUI.registerWorker(data.swUrl);
  var offset = data.utcOffset || "+05:00";

  var box = document.getElementById("meeting-outbox");
  var waitingBox = box.querySelector("[data-waiting-box]");
  var waitingText = box.querySelector("[data-waiting-text]");
  var waitingList = box.querySelector("[data-waiting-list]");
  var offlineNote = box.querySelector("[data-offline]");
  var sentList = box.querySelector("[data-sent-list]");
  var persistNote = box.querySelector("[data-persist]");
  var status = form.querySelector("[data-form-status]");
  var placeStatus = form.querySelector("[data-place-status]");
  var useCentre = form.querySelector("[data-use-centre]");
  var submitButton = form.querySelector("button[type=submit]");
  var sent = [];
  var busy = false;
  var flushing = null;
  // The meeting going out now, and whether the browser was asked to keep the storage on this page.
  var sending = null;
  var askedToKeep = false;

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  // The store (outbox.js): only the signed-in person's meetings, since a phone may be shared.

  function all() {
    return store.all().then(function (records) {
      return records.filter(function (record) { return record.owner === data.user; });
    });
  }

  function get(clientUuid) { return store.get(clientUuid); }
  function put(record) { return store.put(record); }
  function remove(clientUuid) { return store.remove(clientUuid); }

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
      sent.push({
        client_uuid: record.client_uuid, id: record.meeting_id, about: describe(record), problems: record.photo_problems
      });
    });
  }

  function flushNow() {
    return all().then(function (records) {
      var queue = records.filter(function (record) { return record.state === "waiting"; });
      return queue.reduce(function (done, record) {
        return done.then(function (stopped) {
          if (stopped) { return true; }
          sending = record.client_uuid;
          return render().then(function () { return sendOne(record); }).then(function () { return false; }, function (error) {
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
      sending = null;
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

  // Where and when, in the reader's language: records kept by an earlier version of this page carry a `label`.
  function describe(record) {
    if (!record.place) { return record.label || ""; }
    return record.place + " · " + Formats.dateTime(record.meeting.held_at);
  }

  function refusedItem(record) {
    var item = OutboxUI.item("refused", describe(record), false);
    item.classList.add("refused");
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
    return item;
  }

  function waitingEntry(record, now) {
    if (record.state === "needs_fixing") {
      return {
        uuid: record.client_uuid,
        signature: "refused " + JSON.stringify(record.problem),
        build: function () { return refusedItem(record); }
      };
    }
    var state = record.client_uuid === sending ? "sending" : record.meeting_id ? "photos" : "waiting";
    var stale = Outbox.isStale(record, now);
    return {
      uuid: record.client_uuid,
      signature: state + (stale ? " stale" : ""),
      build: function () { return OutboxUI.item(state, describe(record), stale); }
    };
  }

  function sentEntry(done) {
    return {
      uuid: done.client_uuid,
      signature: "sent",
      build: function () {
        var item = OutboxUI.item("sent", "", false);
        var link = document.createElement("a");
        link.href = data.detailUrl.replace("/0/", "/" + done.id + "/");
        link.textContent = done.about || gettext("The meeting");
        item.appendChild(document.createTextNode(" · "));
        item.appendChild(link);
        done.problems.forEach(function (text) {
          var note = document.createElement("p");
          note.className = "error";
          note.textContent = fill(gettext("A photo was refused: %(reason)s"), { reason: text });
          item.appendChild(note);
        });
        return item;
      }
    };
  }

  function render() {
    return all().then(function (records) {
      var now = Date.now();
      box.hidden = records.length === 0 && sent.length === 0;
      box.dataset.count = String(records.length);
      waitingBox.hidden = records.length === 0;
      waitingText.textContent = fill(ngettext(
        "%(count)s meeting waits on this phone.", "%(count)s meetings wait on this phone.", records.length
      ), { count: Formats.number(records.length) });
      offlineNote.hidden = navigator.onLine !== false;
      OutboxUI.syncList(waitingList, records.map(function (record) { return waitingEntry(record, now); }));
      OutboxUI.syncList(sentList, sent.map(sentEntry));
      if (records.length && !askedToKeep) {
        askedToKeep = true;
        OutboxUI.keepStorage(persistNote);
      }
    });
  }

  // The form

  function nowLocal() { return Formats.nowForInput(offset); }

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
      held_at: Formats.fromInput(value, offset),
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

  function placeOf(meeting) {
    var option = fields.settlement.options[fields.settlement.selectedIndex];
    return option ? option.textContent.trim() : meeting.settlement;
  }

  function locate() {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      fields.lat.value = position.coords.latitude.toFixed(6);
      fields.lng.value = position.coords.longitude.toFixed(6);
      useCentre.hidden = false;
      placeStatus.textContent = fill(gettext("Your position is used, accurate to about %(metres)s m."), {
        metres: Formats.number(Math.round(position.coords.accuracy))
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

  // Photos: made smaller on the phone (photos.js); the server cleans them anyway.

  var photos = new Photos.Picker({
    thumbs: form.querySelector("[data-thumbs]"),
    maxSide: parseInt(data.photoMaxSide, 10) || 1600,
    quality: parseFloat(data.photoQuality) || 0.85,
    maxCount: parseInt(data.photoMaxCount, 10) || 10,
    tooMany: gettext("A meeting has at most %(count)s photos."),
    say: say
  });
  photos.watch([fields.photo]);

  function resetForm() {
    var lat = fields.lat.value;
    var lng = fields.lng.value;
    form.reset();
    // The next meeting is most likely near this one: keep the place.
    fields.lat.value = lat;
    fields.lng.value = lng;
    fields.client_uuid.value = Outbox.newUuid();
    fields.held_at.value = nowLocal();
    photos.clear();
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
      photos.clear();
      record.photos.forEach(function (photo) { if (!photo.sent && photo.blob) { photos.addBlob(photo.blob); } });
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
      place: placeOf(meeting),
      meeting: meeting,
      photos: photos.blobs().map(function (blob) { return { blob: blob, sent: false }; }),
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
