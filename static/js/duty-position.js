// The volunteer's position while checked in, sent from the shift page while it is open (the page loads this only
// when the volunteer is checked in and agreed to share it; "Stop" withdraws the consent in one tap).
//
// Every TICK_MS the phone is asked for its position. A position is kept when SEND_EVERY_MS has passed since the last
// one kept and the phone moved at least MOVED_M, or when IDLE_EVERY_MS has passed anyway (a volunteer standing still
// is still seen). Kept positions wait in localStorage, in the order they were taken, and go to the API in batches
// when the phone is online; a batch whose answer was lost is sent again and stored once (each has its client_uuid).
(function () {
  "use strict";
  var TICK_MS = 30000;
  var SEND_EVERY_MS = 30000;
  var IDLE_EVERY_MS = 180000;
  var MOVED_M = 20;
  var BATCH = 100;
  var OPTIONS = { enableHighAccuracy: true, timeout: 20000, maximumAge: 15000 };

  var element = document.querySelector("[data-duty-position]");
  if (!element || !("geolocation" in navigator)) { return; }
  var status = element.querySelector(".duty-status");
  var KEY = "duty-positions:" + element.dataset.assignment;
  var LAST = "duty-last:" + element.dataset.assignment;
  var timer = null;
  var sending = false;
  var stopped = false;

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return values[key]; });
  }

  function say(text) { if (status) { status.textContent = text; } }

  function read(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (error) { return fallback; }
  }

  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (error) { /* full: the newest is lost */ }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // Metres between two positions (equirectangular: plenty for tens of metres).
  function metres(a, b) {
    var rad = Math.PI / 180;
    var x = (b.lng - a.lng) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
    var y = (b.lat - a.lat) * rad;
    return Math.sqrt(x * x + y * y) * 6371000;
  }

  function csrfToken() {
    var found = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (found) { return decodeURIComponent(found[1]); }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function stop(text) {
    stopped = true;
    if (timer) { clearInterval(timer); }
    localStorage.removeItem(KEY);
    localStorage.removeItem(LAST);
    say(text);
  }

  function keep(position) {
    var here = { lat: position.coords.latitude, lng: position.coords.longitude };
    var now = Date.now();
    var last = read(LAST, null);
    if (last) {
      var since = now - last.at;
      if (since < SEND_EVERY_MS - 1000) { return; }
      if (metres(last, here) < MOVED_M && since < IDLE_EVERY_MS) { return; }
    }
    var queue = read(KEY, []);
    queue.push({
      lat: Number(here.lat.toFixed(6)),
      lng: Number(here.lng.toFixed(6)),
      accuracy: isFinite(position.coords.accuracy) ? Math.round(position.coords.accuracy) : null,
      recorded_at: new Date(position.timestamp || now).toISOString(),
      client_uuid: uuid()
    });
    write(KEY, queue);
    write(LAST, { lat: here.lat, lng: here.lng, at: now });
  }

  function flush() {
    var queue = read(KEY, []);
    if (stopped || sending || !queue.length) { return; }
    if (navigator.onLine === false) {
      say(fill(element.dataset.waiting, { count: queue.length }));
      return;
    }
    var batch = queue.slice(0, BATCH);
    sending = true;
    fetch(element.dataset.endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(batch)
    }).then(function (response) {
      sending = false;
      if (response.ok || response.status === 400) {
        // Kept (or refused for its content, which sending again would not change): off the phone, in order.
        var sent = {};
        batch.forEach(function (item) { sent[item.client_uuid] = true; });
        write(KEY, read(KEY, []).filter(function (item) { return !sent[item.client_uuid]; }));
      }
      if (response.status === 400) {
        return response.json().then(function (body) {
          // Not checked in any more, or the consent was withdrawn elsewhere: nothing more is taken.
          if (body && (body.consent || body.assignment)) { stop(element.dataset.stopped); }
        });
      }
      if (response.status === 403 || response.status === 404) { stop(element.dataset.stopped); return; }
      if (response.ok) {
        var time = window.Formats ? window.Formats.time(new Date()) : new Date().toTimeString().slice(0, 5);
        say(fill(element.dataset.sent, { time: time }));
        if (read(KEY, []).length) { flush(); }
      }
    }).catch(function () {
      sending = false;
      say(fill(element.dataset.waiting, { count: read(KEY, []).length }));
    });
  }

  function tick() {
    if (stopped) { return; }
    navigator.geolocation.getCurrentPosition(
      function (position) { keep(position); flush(); },
      function (error) {
        if (error.code === error.PERMISSION_DENIED) { say(element.dataset.denied); }
        flush();
      },
      OPTIONS
    );
  }

  var stopForm = document.querySelector("form[data-duty-stop]");
  if (stopForm) {
    stopForm.addEventListener("submit", function () { stop(""); });
  }
  window.addEventListener("online", flush);
  tick();
  timer = setInterval(tick, TICK_MS);
})();
