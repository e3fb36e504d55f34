// The outbox: reports written on the phone wait in IndexedDB until the server has them, photos included.
// Used by the pages and by the service worker (Background Sync), so it touches no DOM and no translations:
// it keeps what the server answered, and the page says it in the user's language.
// Its Store also keeps the meetings that meeting-form.js sends, in a database of their own.
(function (global) {
  "use strict";

  var CHANNEL = "patrol-outbox";
  var REPORT_TIMEOUT_MS = 30000;
  var PHOTO_TIMEOUT_MS = 90000;
  // A record still here after a day reminds its author on every page.
  var STALE_AFTER_MS = 24 * 60 * 60 * 1000;

  var config = {
    reportsUrl: "/api/v1/reports/",
    photosUrl: "/api/v1/reports/{id}/photos/",
    csrfToken: function () { return Promise.resolve(null); },
    // Who is signed in: a record is sent only by the account that wrote it (a phone may be shared).
    currentUser: function () { return Promise.resolve(null); }
  };
  var listeners = [];
  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
  var flushing = null;

  function emit(event) {
    listeners.forEach(function (listener) { listener(event); });
    if (channel) { channel.postMessage(event); }
  }

  if (channel) {
    channel.onmessage = function (message) {
      listeners.forEach(function (listener) { listener(message.data); });
    };
  }

  // One IndexedDB database with one object store of records keyed by client_uuid, each with its `created_at`.
  function Store(dbName, storeName) {
    this.dbName = dbName;
    this.storeName = storeName;
    this.opening = null;
  }

  Store.prototype.open = function () {
    var store = this;
    if (!store.opening) {
      store.opening = new Promise(function (resolve, reject) {
        var request = global.indexedDB.open(store.dbName, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(store.storeName, { keyPath: "client_uuid" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { store.opening = null; reject(request.error); };
      });
    }
    return store.opening;
  };

  Store.prototype.run = function (mode, work) {
    var name = this.storeName;
    return this.open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode);
        var result;
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
        var request = work(transaction.objectStore(name));
        if (request) { request.onsuccess = function () { result = request.result; }; }
      });
    });
  };

  // Oldest first.
  Store.prototype.all = function () {
    return this.run("readonly", function (store) { return store.getAll(); }).then(function (records) {
      return (records || []).sort(function (a, b) { return a.created_at - b.created_at; });
    });
  };

  Store.prototype.get = function (clientUuid) {
    return this.run("readonly", function (store) { return store.get(clientUuid); });
  };

  Store.prototype.put = function (record) {
    return this.run("readwrite", function (store) { return store.put(record); });
  };

  Store.prototype.remove = function (clientUuid) {
    return this.run("readwrite", function (store) { return store.delete(clientUuid); });
  };

  Store.prototype.count = function () {
    return this.run("readonly", function (store) { return store.count(); });
  };

  // Whether this phone ever kept such records: a page that only looks (the reminder) must not create the database.
  Store.prototype.exists = function () {
    var factory = global.indexedDB;
    var name = this.dbName;
    if (!factory) { return Promise.resolve(false); }
    if (typeof factory.databases !== "function") { return Promise.resolve(true); }
    return factory.databases().then(function (found) {
      return found.some(function (db) { return db.name === name; });
    }, function () { return true; });
  };

  var reports = new Store("patrol-outbox", "reports");
  var meetings = new Store("meeting-outbox", "meetings");

  function isStale(record, now) {
    return (now || Date.now()) - record.created_at > STALE_AFTER_MS;
  }

  // Asks the browser not to delete this site's data when the phone runs short of space. Resolves with true (kept),
  // false (refused: the page says so) or null (the browser cannot say).
  function keepStorage() {
    var storage = global.navigator && global.navigator.storage;
    if (!storage || typeof storage.persist !== "function") { return Promise.resolve(null); }
    var already = typeof storage.persisted === "function" ? storage.persisted() : Promise.resolve(false);
    return already.then(function (kept) { return kept || storage.persist(); }).then(Boolean, function () { return null; });
  }

  function all() { return reports.all(); }

  function get(clientUuid) { return reports.get(clientUuid); }

  function save(record) { return reports.put(record); }

  function put(record) {
    return save(record).then(function () { emit({ type: "changed" }); return record; });
  }

  function remove(clientUuid) {
    return reports.remove(clientUuid).then(function () {
      emit({ type: "changed" });
    });
  }

  function newUuid() {
    if (global.crypto && typeof global.crypto.randomUUID === "function") { return global.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    if (global.crypto && global.crypto.getRandomValues) {
      global.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i += 1) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // A new report waiting to be sent: `report` has the API's fields, `photos` the resized JPEG blobs.
  function create(report, photos, clientUuid) {
    var uuid = clientUuid || newUuid();
    report.client_uuid = uuid;
    return Promise.resolve(config.currentUser()).then(function (owner) {
      return put({
        client_uuid: uuid,
        owner: owner,
        created_at: Date.now(),
        report: report,
        photos: (photos || []).map(function (blob) { return { blob: blob, sent: false }; }),
        report_id: null,
        state: "waiting",
        problem: null
      });
    });
  }

  function Retry(reason) { this.reason = reason; }
  function Stop(reason) { this.reason = reason; }

  function send(url, body, headers, timeout) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeout) : null;
    return Promise.resolve(config.csrfToken()).then(function (token) {
      if (token) { headers["X-CSRFToken"] = token; }
      headers.Accept = "application/json";
      return fetch(url, {
        method: "POST",
        body: body,
        headers: headers,
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      });
    }).then(function (response) {
      if (timer) { clearTimeout(timer); }
      return response;
    }, function () {
      if (timer) { clearTimeout(timer); }
      throw new Retry("network");
    });
  }

  // What a refused answer says: DRF's {"field": ["message"]} or {"detail": "message"}.
  function answerOf(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      return { status: response.status, errors: body && typeof body === "object" ? body : {} };
    });
  }

  function check(response, kind, photoIndex) {
    if (response.status === 200 || response.status === 201) { return response.json(); }
    return answerOf(response).then(function (answer) {
      if (response.status === 400) {
        throw new Stop({ kind: kind, photo: photoIndex, errors: answer.errors });
      }
      if (response.status === 401 || response.status === 403) {
        throw new Retry({ kind: "auth", errors: answer.errors });
      }
      throw new Retry({ kind: "server", status: response.status });
    });
  }

  function sendPhotos(record) {
    var index = record.photos.findIndex(function (photo) { return !photo.sent; });
    if (index < 0) { return Promise.resolve(record); }
    var form = new FormData();
    form.append("photo", record.photos[index].blob, "photo-" + (index + 1) + ".jpg");
    var url = config.photosUrl.replace("{id}", String(record.report_id));
    return send(url, form, {}, PHOTO_TIMEOUT_MS)
      .then(function (response) { return check(response, "photo", index); })
      .then(function () {
        // The server has this photo: the blob is not needed any more.
        record.photos[index] = { blob: null, sent: true };
        return save(record);
      })
      .then(function () { return sendPhotos(record); });
  }

  function sendOne(record) {
    var filed = record.report_id
      ? Promise.resolve(record)
      : send(config.reportsUrl, JSON.stringify(record.report), { "Content-Type": "application/json" }, REPORT_TIMEOUT_MS)
        .then(function (response) { return check(response, "report", null); })
        .then(function (body) {
          record.report_id = body.id;
          record.status_label = body.status_label || "";
          return save(record).then(function () { return record; });
        });
    return filed.then(sendPhotos).then(function () {
      return remove(record.client_uuid).then(function () {
        emit({ type: "sent", client_uuid: record.client_uuid, id: record.report_id });
      });
    });
  }

  // Send what waits, oldest first. Resolves with {waiting, problem}: `problem` says why something is still waiting.
  function flushNow() {
    var outcome = { waiting: 0, problem: null };
    return Promise.resolve().then(function () {
      // The phone knows it has no network: nothing is tried (nor shown as going out) until it has.
      if (global.navigator && global.navigator.onLine === false) { throw new Retry("network"); }
      return config.currentUser();
    }).catch(function () {
      throw new Retry("network");
    }).then(function (owner) {
      if (!owner) { throw new Retry({ kind: "auth" }); }
      return all().then(function (records) {
        return records.filter(function (record) { return record.state === "waiting" && record.owner === owner; });
      });
    }).then(function (queue) {
      var next = function (index) {
        if (index >= queue.length) { return Promise.resolve(); }
        var record = queue[index];
        emit({ type: "sending", client_uuid: record.client_uuid });
        return sendOne(record).then(function () { return next(index + 1); }, function (error) {
          if (error instanceof Stop) {
            record.state = "needs_fixing";
            record.problem = error.reason;
            return put(record).then(function () { return next(index + 1); });
          }
          // No connection, a server error or a lost session: keep everything and try again later.
          outcome.problem = error instanceof Retry ? error.reason : "error";
          return undefined;
        });
      };
      return next(0);
    }).catch(function (error) {
      if (!(error instanceof Retry)) { throw error; }
      outcome.problem = error.reason;
    }).then(function () {
      return count().then(function (waiting) {
        outcome.waiting = waiting;
        emit({ type: "flushed", problem: outcome.problem });
        return outcome;
      });
    });
  }

  function flush() {
    if (flushing) { return flushing; }
    var run = function () { return flushNow(); };
    var locks = global.navigator && global.navigator.locks;
    // One sender at a time across tabs and the service worker; the server's idempotency covers the rest.
    flushing = (locks ? locks.request("patrol-outbox-flush", run) : run()).then(function (outcome) {
      flushing = null;
      return outcome;
    }, function (error) {
      flushing = null;
      throw error;
    });
    return flushing;
  }

  function count() { return reports.count(); }

  global.Outbox = {
    configure: function (options) { Object.keys(options).forEach(function (key) { config[key] = options[key]; }); },
    subscribe: function (listener) { listeners.push(listener); },
    create: create,
    put: put,
    get: get,
    all: all,
    count: count,
    remove: remove,
    flush: flush,
    newUuid: newUuid,
    isStale: isStale,
    keepStorage: keepStorage,
    Store: Store,
    stores: { reports: reports, meetings: meetings }
  };
})(typeof self !== "undefined" ? self : this);
