// What people see of the outboxes (reports: outbox-panel.js; meetings: meeting-form.js): each record with its
// state in words (waiting, sending, sent, refused), lists updated in place so that a screen reader hears only what
// changed, the browser asked to keep the storage, and the reminder that every page of a signed-in person carries
// when something has waited on the phone for more than a day.
(function () {
  "use strict";

  // Looked up when used: this file loads before the page's JavaScript catalogue.
  function gettext(text) { return window.gettext ? window.gettext(text) : text; }

  function stateWords(state) {
    switch (state) {
      case "sending": return gettext("Sending…");
      case "photos": return gettext("Received; the photos wait to be sent");
      case "sent": return gettext("Sent");
      case "refused": return gettext("Refused");
      default: return gettext("Waiting to be sent");
    }
  }

  // One record: its state in words first (never a colour alone), then what it is. A record that has waited more than
  // a day says so as well.
  function item(state, about, stale) {
    var element = document.createElement("li");
    element.dataset.state = state;
    var words = document.createElement("strong");
    words.className = "state";
    words.textContent = stateWords(state);
    element.appendChild(words);
    if (about) {
      var what = document.createElement("span");
      what.className = "about";
      what.textContent = about;
      element.appendChild(document.createTextNode(" · "));
      element.appendChild(what);
    }
    if (stale) {
      element.classList.add("stale");
      var note = document.createElement("p");
      note.className = "small stale-note";
      note.textContent = gettext("It has waited on this phone for more than a day: send it as soon as you can.");
      element.appendChild(note);
    }
    return element;
  }

  // entries: [{uuid, signature, build}] in order. An item whose signature is unchanged stays as it is; the others are
  // built again, so a live region announces only the records whose state changed.
  function syncList(list, entries) {
    var wanted = {};
    entries.forEach(function (entry) { wanted[entry.uuid] = true; });
    Array.prototype.slice.call(list.children).forEach(function (element) {
      if (!wanted[element.dataset.clientUuid]) { list.removeChild(element); }
    });
    entries.forEach(function (entry, index) {
      var current = Array.prototype.filter.call(list.children, function (element) {
        return element.dataset.clientUuid === entry.uuid;
      })[0];
      if (!current || current.dataset.signature !== entry.signature) {
        var fresh = entry.build();
        fresh.dataset.clientUuid = entry.uuid;
        fresh.dataset.signature = entry.signature;
        if (current) { list.replaceChild(fresh, current); }
        current = fresh;
      }
      if (list.children[index] !== current) { list.insertBefore(current, list.children[index] || null); }
    });
  }

  // Asks the browser to keep the waiting records; `note` (the sentence that says it refused) shows only then.
  function keepStorage(note) {
    if (!window.Outbox) { return Promise.resolve(null); }
    return window.Outbox.keepStorage().then(function (kept) {
      if (note) { note.hidden = kept !== false; }
      return kept;
    });
  }

  // The service worker keeps the outbox pages for a reload without signal and sends reports through Background Sync.
  function registerWorker(url) {
    if (!url || !("serviceWorker" in navigator) || !window.isSecureContext) { return Promise.resolve(null); }
    return navigator.serviceWorker.register(url, { scope: "/" }).catch(function () { return null; });
  }

  // The reminder at the top of every page: which outbox has kept a record for more than a day, since when. The pages
  // that show an outbox list it themselves.
  function remind() {
    var box = document.getElementById("outbox-reminder");
    if (!box || !window.Outbox || !window.indexedDB) { return Promise.resolve(); }
    var now = Date.now();
    var user = box.dataset.user;
    var kinds = [
      { store: window.Outbox.stores.reports, line: "reports", page: "outbox" },
      { store: window.Outbox.stores.meetings, line: "meetings", page: "meeting-outbox" }
    ];
    return Promise.all(kinds.map(function (kind) {
      var line = box.querySelector('[data-reminder="' + kind.line + '"]');
      if (!line || document.getElementById(kind.page)) { return false; }
      return kind.store.exists().then(function (found) {
        return found ? kind.store.all() : [];
      }).then(function (records) {
        var old = records.filter(function (record) {
          return record.owner === user && window.Outbox.isStale(record, now);
        });
        line.hidden = old.length === 0;
        line.dataset.count = String(old.length);
        if (old.length) {
          var since = line.querySelector("[data-reminder-since]");
          since.textContent = window.Formats ? window.Formats.dateTime(old[0].created_at) : "";
          since.setAttribute("datetime", new Date(old[0].created_at).toISOString());
        }
        return old.length > 0;
      }).catch(function () { return false; });
    })).then(function (shown) {
      box.hidden = shown.indexOf(true) < 0;
    });
  }

  window.OutboxUI = {
    stateWords: stateWords,
    item: item,
    syncList: syncList,
    keepStorage: keepStorage,
    registerWorker: registerWorker,
    remind: remind
  };

  remind();
})();
