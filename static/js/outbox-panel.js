// The outbox on the report pages: each report waiting on this phone with its state in words (waiting, sending,
// sent, refused with the server's reason), the ones older than a day marked, and a sentence when the browser would
// not promise to keep them. It sends them on load, when the phone comes online, every 30 s and on request,
// and registers the service worker that keeps the form for offline use.
(function () {
  "use strict";

  var root = document.getElementById("outbox");
  if (!root || !window.Outbox || !window.OutboxUI || !window.Formats || !window.indexedDB) { return; }

  var RETRY_EVERY_MS = 30000;
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var fill = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return values[key]; });
  };
  // Field names of the API, as the form calls them.
  var FIELD_LABELS = {
    client_uuid: gettext("Report id"),
    occurred_at: gettext("When it happened"),
    location: gettext("Where it happened"),
    lat: gettext("Latitude"),
    lng: gettext("Longitude"),
    category: gettext("Category"),
    outcome: gettext("Outcome"),
    description: gettext("What happened"),
    case_number: gettext("Police case number"),
    third_party_details: gettext("Details of other people"),
    photo: gettext("Photo")
  };

  var banner = root.querySelector("#outbox-banner");
  var text = root.querySelector("[data-outbox-text]");
  var offlineHint = root.querySelector("[data-outbox-offline]");
  var authHint = root.querySelector("[data-outbox-auth]");
  var othersHint = root.querySelector("[data-outbox-others]");
  var persistNote = root.querySelector("[data-outbox-persist]");
  var items = root.querySelector("[data-outbox-items]");
  var problems = root.querySelector("[data-outbox-problems]");
  var sent = root.querySelector("[data-outbox-sent]");
  var sendButton = root.querySelector("[data-outbox-send]");
  // What each waiting report was, by client_uuid, so a sent one is still named; and the one going out now.
  var known = {};
  var sending = null;
  var askedToKeep = false;

  function cookie(name) {
    var found = document.cookie.split(";").map(function (part) { return part.trim(); }).filter(function (part) {
      return part.indexOf(name + "=") === 0;
    })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return Promise.resolve(cookie("csrftoken") || (field ? field.value : null));
  }

  var user = root.dataset.user;
  Outbox.configure({
    reportsUrl: root.dataset.reportsUrl,
    photosUrl: root.dataset.photosUrl.replace("/0/", "/{id}/"),
    csrfToken: csrfToken,
    currentUser: function () { return Promise.resolve(user); }
  });

  function reportUrl(id) { return root.dataset.reportUrl.replace("/0/", "/" + id + "/"); }

  function messagesOf(errors) {
    var lines = [];
    Object.keys(errors || {}).forEach(function (field) {
      var value = errors[field];
      var list = Array.isArray(value) ? value : [typeof value === "object" ? JSON.stringify(value) : String(value)];
      var label = FIELD_LABELS[field];
      list.forEach(function (message) { lines.push(label ? label + ": " + message : message); });
    });
    return lines.length ? lines : [gettext("The server refused it without saying why.")];
  }

  function describe(record) {
    if (!record) { return ""; }
    var when = Formats.dateTime(record.report.occurred_at);
    var what = (record.report.description || "").slice(0, 60);
    return when + (what ? " · " + what : "");
  }

  function button(label, handler) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", handler);
    return element;
  }

  function problemItem(record) {
    var item = OutboxUI.item("refused", describe(record), false);
    var title = document.createElement("p");
    var photo = record.problem && record.problem.kind === "photo";
    title.textContent = photo
      ? gettext("The report was received, but the server refused a photo:")
      : gettext("The server did not accept this report; correct it and save it again:");
    item.appendChild(title);
    var list = document.createElement("ul");
    messagesOf(record.problem && record.problem.errors).forEach(function (line) {
      var entry = document.createElement("li");
      entry.textContent = line;
      list.appendChild(entry);
    });
    item.appendChild(list);
    var actions = document.createElement("div");
    actions.className = "actions";
    if (photo) {
      actions.appendChild(button(gettext("Send without this photo"), function () {
        record.photos[record.problem.photo] = { blob: null, sent: true };
        record.state = "waiting";
        record.problem = null;
        Outbox.put(record).then(flush);
      }));
    } else {
      actions.appendChild(button(gettext("Correct it"), function () {
        if (document.getElementById("report-form")) {
          document.dispatchEvent(new CustomEvent("outbox:edit", { detail: record.client_uuid }));
        } else {
          window.location.href = root.dataset.formUrl + "#edit=" + encodeURIComponent(record.client_uuid);
        }
      }));
    }
    var discard = button(photo ? gettext("Keep the report without its other photos") : gettext("Delete it"), function () {
      var question = photo
        ? gettext("The photos not sent yet will be deleted from this phone. Continue?")
        : gettext("This report will be deleted from this phone and never sent. Continue?");
      if (window.confirm(question)) { Outbox.remove(record.client_uuid); }
    });
    discard.className = "danger";
    actions.appendChild(discard);
    item.appendChild(actions);
    return item;
  }

  function waitingEntry(record, now) {
    var state = record.client_uuid === sending ? "sending" : record.report_id ? "photos" : "waiting";
    var stale = Outbox.isStale(record, now);
    return {
      uuid: record.client_uuid,
      signature: state + (stale ? " stale" : ""),
      build: function () { return OutboxUI.item(state, describe(record), stale); }
    };
  }

  function problemEntry(record) {
    return {
      uuid: record.client_uuid,
      signature: JSON.stringify([record.problem, record.photos.map(function (photo) { return photo.sent; })]),
      build: function () { return problemItem(record); }
    };
  }

  function refresh() {
    return Outbox.all().then(function (all) {
      // Reports written under another account on this phone wait for that account: they are never sent as ours.
      var records = all.filter(function (record) { return record.owner === user; });
      var others = all.length - records.length;
      var count = records.length;
      var now = Date.now();
      records.forEach(function (record) { known[record.client_uuid] = record; });
      banner.dataset.count = String(count);
      banner.hidden = count === 0 && others === 0;
      text.textContent = fill(
        ngettext("%(count)s report waiting to be sent", "%(count)s reports waiting to be sent", count),
        { count: Formats.number(count) },
        true
      );
      othersHint.hidden = others === 0;
      othersHint.textContent = fill(
        ngettext(
          "%(count)s report written under another account also waits on this phone: it is sent when that account signs in.",
          "%(count)s reports written under another account also wait on this phone: they are sent when that account signs in.",
          others
        ),
        { count: Formats.number(others) },
        true
      );
      OutboxUI.syncList(items, records.filter(function (record) { return record.state !== "needs_fixing"; })
        .map(function (record) { return waitingEntry(record, now); }));
      OutboxUI.syncList(problems, records.filter(function (record) { return record.state === "needs_fixing"; })
        .map(problemEntry));
      if (count > 0) { askToKeep(); }
    }).catch(function () {
      banner.hidden = false;
      text.textContent = gettext("This browser does not let the page keep reports: send them with a connection.");
    });
  }

  function showProblem(problem) {
    offlineHint.hidden = !(problem && (problem === "network" || problem.kind === "server"));
    authHint.hidden = !(problem && problem.kind === "auth");
  }

  // Once per page, when something waits: the browser may refuse, and the page then says what that means.
  function askToKeep() {
    if (askedToKeep) { return; }
    askedToKeep = true;
    OutboxUI.keepStorage(persistNote);
  }

  function showSent(id, clientUuid) {
    var item = OutboxUI.item("sent", describe(known[clientUuid]), false);
    delete known[clientUuid];
    var line = document.createElement("p");
    line.appendChild(document.createTextNode(fill(gettext("Report No. %(number)s was received."), { number: id }, true) + " "));
    item.appendChild(line);
    var link = document.createElement("a");
    link.href = reportUrl(id);
    link.textContent = gettext("See its status");
    line.appendChild(link);
    sent.appendChild(item);
  }

  function flush() {
    return Outbox.flush().then(function (outcome) {
      showProblem(outcome.problem);
      return outcome;
    }, function () {
      showProblem("network");
      return { waiting: null, problem: "network" };
    });
  }

  Outbox.subscribe(function (event) {
    if (event.type === "sending") { sending = event.client_uuid; }
    if (event.type === "sent") {
      sending = null;
      showSent(event.id, event.client_uuid);
    }
    if (event.type === "flushed") {
      sending = null;
      showProblem(event.problem);
    }
    refresh();
  });

  // After a report is stored: ask the browser to keep the storage, let Background Sync send it if the page
  // closes, and try right away.
  function afterQueue() {
    askToKeep();
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.getRegistration("/").then(function (registration) {
        if (registration && registration.sync) { return registration.sync.register("patrol-outbox"); }
        return undefined;
      }).catch(function () {});
    }
    return refresh().then(flush);
  }

  window.OutboxPanel = { refresh: refresh, flush: flush, afterQueue: afterQueue };

  sendButton.addEventListener("click", flush);
  window.addEventListener("online", flush);
  window.setInterval(flush, RETRY_EVERY_MS);
  OutboxUI.registerWorker(root.dataset.swUrl);
  refresh().then(flush);
})();
