// The service worker, served at /sw.js (scope: the whole site) by patrols.web.reports.service_worker, which puts
// `self.APP_SHELL` above this file: the cache version, the shell's pages and static files, the API addresses.
// It keeps the report form usable offline, sends the outbox through Background Sync where the browser has it, and
// shows the notifications pushed to the phone.
"use strict";

var SHELL = self.APP_SHELL;
var CACHE_PREFIX = "patrol-shell-";
var CACHE = CACHE_PREFIX + SHELL.version;
var NETWORK_TIMEOUT_MS = 6000;

importScripts(SHELL.outbox);

function csrfToken() {
  if (!self.cookieStore) { return Promise.resolve(null); }
  return self.cookieStore.get("csrftoken").then(function (found) { return found ? found.value : null; });
}

self.Outbox.configure({
  reportsUrl: SHELL.api.reports,
  photosUrl: SHELL.api.photos,
  csrfToken: csrfToken,
  currentUser: function () {
    return fetch(SHELL.api.me, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (me) { return me ? me.username : null; });
  }
});

function absolute(path) { return new URL(path, self.location.origin).href; }

// Pages are fetched with the session so the cached form is the signed-in volunteer's; one that fails
// (signed out, offline) does not stop the install: it is cached the next time it is opened.
function cachePage(cache, path) {
  return fetch(path, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
    if (response.ok && !response.redirected) { return cache.put(absolute(path), response); }
    return undefined;
  }).catch(function () { return undefined; });
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL.static).then(function () {
      return Promise.all(SHELL.pages.map(function (path) { return cachePage(cache, path); }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(CACHE_PREFIX) === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

// Pages: the network first (fresh statuses, a new form), the cached copy when the network fails or hangs.
function networkFirst(event, key, keep) {
  var network = fetch(event.request);
  var stored = network.then(function (response) {
    if (keep && response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      return caches.open(CACHE).then(function (cache) { return cache.put(key, copy); });
    }
    if (response.redirected || response.type === "opaqueredirect") {
      // Sent to the sign-in page: the session ended, so the copy kept for offline use is nobody's to see now.
      return caches.open(CACHE).then(function (cache) { return cache.delete(key); });
    }
    return undefined;
  }).catch(function () { return undefined; });
  event.waitUntil(stored);
  var fromCache = function () {
    return caches.match(key, { ignoreVary: true }).then(function (cached) { return cached || network; });
  };
  return Promise.race([network, delay(NETWORK_TIMEOUT_MS).then(fromCache)]).catch(fromCache);
}

// Static files: the cache first; their addresses change with their content in production.
function cacheFirst(request) {
  return caches.match(request, { ignoreVary: true }).then(function (cached) {
    if (cached) { return cached; }
    return fetch(request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf(SHELL.staticPrefix) === 0) {
    event.respondWith(cacheFirst(request));
  } else if (SHELL.pages.indexOf(url.pathname) >= 0) {
    // Another page of a list (?page=2) is served from the network, the first page stays cached.
    event.respondWith(networkFirst(event, absolute(url.pathname), !url.search));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "patrol-outbox") { return; }
  event.waitUntil(self.Outbox.flush().then(function (outcome) {
    // A rejected promise asks the browser to try the sync again later.
    if (outcome.problem) { throw new Error("The outbox is still waiting."); }
  }));
});

// Web push: the server sends {title, body, url, tag, urgent, lang, actions: [{action, title, url}]}, encrypted for
// this browser (patrols/services/webpush.py payload). Urgent messages (SOS, call-outs) stay on screen until seen.
self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try { data = event.data.json() || {}; } catch (error) { data = { body: event.data.text() }; }
  }
  var limit = (self.Notification && self.Notification.maxActions) || 2;
  var actions = (data.actions || []).slice(0, limit);
  var links = {};
  actions.forEach(function (item) { links[item.action] = item.url; });
  var options = {
    body: data.body || "",
    data: { url: data.url || "/", actions: links },
    requireInteraction: Boolean(data.urgent),
    actions: actions.map(function (item) { return { action: item.action, title: item.title }; })
  };
  if (data.tag) { options.tag = data.tag; }
  if (data.lang) { options.lang = data.lang; }
  if (data.urgent) { options.vibrate = [300, 100, 300, 100, 300]; }
  event.waitUntil(self.registration.showNotification(data.title || "", options));
});

// A tap on the notification opens its page, a tap on an answer that answer's link. A window already showing the
// page is brought forward; otherwise a new one opens (never another window taken over: it may hold a form being
// filled in).
self.addEventListener("notificationclick", function (event) {
  var notification = event.notification;
  var data = notification.data || {};
  var target = (event.action && data.actions && data.actions[event.action]) || data.url || "/";
  var href = new URL(target, self.location.origin).href;
  notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var index = 0; index < windows.length; index += 1) {
      if (windows[index].url === href && "focus" in windows[index]) { return windows[index].focus(); }
    }
    return self.clients.openWindow ? self.clients.openWindow(href) : undefined;
  }));
});

// The browser replaced the subscription (its push service renewed it): the new one is saved and the old one
// forgotten. Without a CSRF token here the settings page saves it the next time it is opened.
self.addEventListener("pushsubscriptionchange", function (event) {
  var old = event.oldSubscription;
  var key = old && old.options ? old.options.applicationServerKey : null;
  var renewed = event.newSubscription ? Promise.resolve(event.newSubscription)
    : key ? self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key })
      : Promise.resolve(null);
  function send(method, body, token) {
    return fetch(SHELL.api.push, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token || "" },
      body: JSON.stringify(body)
    });
  }
  event.waitUntil(Promise.all([renewed, csrfToken()]).then(function (found) {
    var subscription = found[0];
    var token = found[1];
    if (!token) { return undefined; }
    var saved = subscription ? send("POST", subscription.toJSON(), token) : Promise.resolve();
    return saved.then(function () {
      return old ? send("DELETE", { endpoint: old.endpoint }, token) : undefined;
    });
  }).catch(function () { return undefined; }));
});
