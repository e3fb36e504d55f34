// The SOS button of a checked-in volunteer. Held for 3 seconds it sends the phone's position to POST /api/v1/sos/
// (a short tap sends nothing, so a pocket cannot raise an alarm); from the keyboard or a screen reader, a click asks
// for a confirmation instead. After sending, the state is read every 5 seconds (sent / acknowledged by whom).
// Without a connection the button gives way to two native links that need no data: a call to 102 and an SMS to
// the district's duty unit with the coordinates in the text. "I'm OK" posts to the assignment's check-in address.
(function () {
  "use strict";
  var HOLD_MS = 3000;
  var POLL_MS = 5000;
  var GEO = { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 };
  var box = document.querySelector("[data-sos]");
  if (!box) { return; }
  var hold = box.querySelector("[data-sos-hold]");
  var confirmBox = box.querySelector("[data-sos-confirm]");
  var statusLine = box.querySelector("[data-sos-status]");
  var cancelButton = box.querySelector("[data-sos-cancel]");
  var offline = box.querySelector("[data-sos-offline]");
  var smsLink = box.querySelector("[data-sos-sms]");
  var okButton = box.querySelector("[data-sos-ok]");
  var timer = null;
  var alarm = null;
  var lastFix = null;

  function csrfToken() {
    var found = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (found) { return decodeURIComponent(found[1]); }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function say(text) {
    statusLine.textContent = text;
    statusLine.hidden = false;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {})
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  function locate(done) {
    if (!("geolocation" in navigator)) { done(lastFix); return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      lastFix = position.coords;
      fillSms();
      done(lastFix);
    }, function () { done(lastFix); }, GEO);
  }

  function fillSms() {
    if (!smsLink) { return; }
    var body = box.dataset.smsBody;
    if (lastFix) {
      body += " " + lastFix.latitude.toFixed(5) + "," + lastFix.longitude.toFixed(5) +
        " (±" + Math.round(lastFix.accuracy || 0) + " m)";
    }
    smsLink.href = "sms:" + box.dataset.dutyPhone + "?body=" + encodeURIComponent(body);
  }

  function showOffline(isOffline) {
    offline.hidden = !isOffline;
    hold.hidden = isOffline;
    if (isOffline) { locate(function () {}); }
  }

  function show(data) {
    alarm = data;
    var active = data.status === "open" || data.status === "acknowledged";
    cancelButton.hidden = !active;
    if (data.status === "acknowledged") {
      say(box.dataset.textAcknowledged.replace("%(name)s", data.acknowledged_by || ""));
    } else if (active) {
      say(box.dataset.textSent);
    } else {
      say(box.dataset.textClosed);
      alarm = null;
    }
    if (alarm) { window.setTimeout(poll, POLL_MS); }
  }

  function poll() {
    if (!alarm) { return; }
    fetch(box.dataset.api + alarm.id + "/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { show(data); } else { window.setTimeout(poll, POLL_MS); } })
      .catch(function () { window.setTimeout(poll, POLL_MS); });
  }

  function send() {
    confirmBox.hidden = true;
    say(box.dataset.textLocating);
    var clientId = uuid();
    locate(function (coords) {
      if (!coords) { say(box.dataset.textFailed); showOffline(true); return; }
      say(box.dataset.textSending);
      var body = { lat: coords.latitude, lng: coords.longitude, accuracy: coords.accuracy, client_uuid: clientId };
      if (box.dataset.shift) { body.shift = Number(box.dataset.shift); }
      post(box.dataset.api, body)
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(show)
        .catch(function () {
          say(box.dataset.textFailed);
          showOffline(true);
        });
    });
  }

  function stopHold() {
    if (timer) { window.clearTimeout(timer); timer = null; }
    hold.classList.remove("holding");
  }

  hold.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    stopHold();
    hold.classList.add("holding");
    timer = window.setTimeout(function () {
      timer = null;
      hold.classList.remove("holding");
      send();
    }, HOLD_MS);
  });
  ["pointerup", "pointerleave", "pointercancel"].forEach(function (name) {
    hold.addEventListener(name, stopHold);
  });
  hold.addEventListener("contextmenu", function (event) { event.preventDefault(); });
  // A click with no pointer behind it (Enter, Space, a screen reader) asks for a confirmation.
  hold.addEventListener("click", function (event) {
    if (event.detail === 0) { confirmBox.hidden = false; box.querySelector("[data-sos-send]").focus(); }
  });
  box.querySelector("[data-sos-ask]").addEventListener("click", function () {
    confirmBox.hidden = false;
    box.querySelector("[data-sos-send]").focus();
  });
  box.querySelector("[data-sos-send]").addEventListener("click", send);
  box.querySelector("[data-sos-dismiss]").addEventListener("click", function () {
    confirmBox.hidden = true;
    hold.focus();
  });
  cancelButton.addEventListener("click", function () {
    if (!alarm) { return; }
    post(box.dataset.api + alarm.id + "/cancel/").then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) { if (data) { show(data); } });
  });
  if (okButton) {
    okButton.addEventListener("click", function () {
      post(box.dataset.okUrl).then(function (response) { if (response.ok) { say(box.dataset.textOk); } });
    });
  }
  window.addEventListener("offline", function () { showOffline(true); });
  window.addEventListener("online", function () { showOffline(false); });
  fillSms();
  if (!navigator.onLine) { showOffline(true); }
})();
