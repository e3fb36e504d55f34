// "Notifications on this phone" on the notification settings page (templates/includes/push_settings.html): whether
// this browser is subscribed to web push, and the buttons that turn it on (the browser asks for permission, the
// push service gives a subscription, the API keeps it) and off (unsubscribed here, forgotten by the API).
//
// A browser that is subscribed is saved again each time the page opens: the server may have forgotten it (its push
// service said it was gone) or it may belong to another person who was signed in on this phone before.
(function () {
  "use strict";

  var section = document.querySelector("[data-push-settings]");
  if (!section) { return; }
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var fill = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };

  var status = section.querySelector("[data-push-status]");
  var count = section.querySelector("[data-push-count]");
  var onRow = section.querySelector("[data-push-on]");
  var offRow = section.querySelector("[data-push-off]");
  var buttons = section.querySelectorAll("button");
  var key = section.dataset.key;
  var api = section.dataset.api;

  function say(text) { status.textContent = text; }

  // "on": this browser gets them (the off button shows); "off": it does not (the on button shows); "none": neither.
  function show(state) {
    onRow.hidden = state !== "off";
    offRow.hidden = state !== "on";
  }

  function busy(yes) {
    Array.prototype.forEach.call(buttons, function (button) { button.disabled = yes; });
  }

  function csrfToken() {
    var found = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (found) { return decodeURIComponent(found[1]); }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // An error whose sentence is for the person (the API's translated message, or ours).
  function Said(text) { this.said = text; }

  function firstMessage(answer) {
    if (typeof answer === "string") { return answer; }
    if (Array.isArray(answer)) { return answer.length ? firstMessage(answer[0]) : ""; }
    if (answer && typeof answer === "object") {
      var names = Object.keys(answer);
      for (var index = 0; index < names.length; index += 1) {
        var text = firstMessage(answer[names[index]]);
        if (text) { return text; }
      }
    }
    return "";
  }

  function call(method, body) {
    return fetch(api, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      if (response.ok) { return response.status === 204 ? null : response.json(); }
      return response.json().catch(function () { return {}; }).then(function (answer) {
        throw new Said(firstMessage(answer) || gettext("The server did not take it. Try again in a moment."));
      });
    });
  }

  function keyBytes() {
    var base64 = key.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((key.length + 3) % 4);
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var index = 0; index < raw.length; index += 1) { bytes[index] = raw.charCodeAt(index); }
    return bytes;
  }

  function sameKey(subscription) {
    var given = subscription.options && subscription.options.applicationServerKey;
    if (!given) { return true; }
    var mine = keyBytes();
    var theirs = new Uint8Array(given);
    if (mine.length !== theirs.length) { return false; }
    for (var index = 0; index < mine.length; index += 1) {
      if (mine[index] !== theirs[index]) { return false; }
    }
    return true;
  }

  function registration() {
    return navigator.serviceWorker.getRegistration("/").then(function (found) {
      return found || navigator.serviceWorker.register(section.dataset.swUrl, { scope: "/" });
    }).then(function () { return navigator.serviceWorker.ready; });
  }

  // This browser's subscription made with the site's key; one made with an older key is dropped (it cannot work).
  function current(worker) {
    return worker.pushManager.getSubscription().then(function (subscription) {
      if (!subscription || sameKey(subscription)) { return subscription; }
      return subscription.unsubscribe().then(function () { return null; });
    });
  }

  function counted() {
    if (!count) { return Promise.resolve(); }
    return call("GET").then(function (answer) {
      var phones = answer.subscriptions.length;
      count.textContent = fill(
        ngettext("You get them on %(count)s phone or browser.", "You get them on %(count)s phones or browsers.", phones),
        { count: phones },
        true
      );
    }).catch(function () { return undefined; });
  }

  function blocked() {
    return gettext("Notifications are blocked for this site in the browser: allow them in the site's settings, then try again.");
  }

  function turnOn() {
    busy(true);
    say(gettext("Turning them on…"));
    Promise.resolve(Notification.requestPermission()).then(function (permission) {
      if (permission !== "granted") {
        throw new Said(permission === "denied" ? blocked() : gettext("Notifications were not allowed, so nothing changed."));
      }
      return registration();
    }).then(function (worker) {
      return current(worker).then(function (subscription) {
        return subscription || worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes() });
      });
    }).then(function (subscription) {
      return call("POST", subscription.toJSON());
    }).then(function () {
      show("on");
      say(gettext("Notifications are on for this phone."));
      return counted();
    }).catch(function (error) {
      say(error instanceof Said ? error.said : gettext("They could not be turned on. Check the connection and try again."));
    }).then(function () { busy(false); });
  }

  function turnOff() {
    busy(true);
    say(gettext("Turning them off…"));
    registration().then(function (worker) {
      return worker.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) { return undefined; }
      // Unsubscribed here even when the server cannot be told now: its next push is refused and it forgets this phone.
      var told = call("DELETE", { endpoint: subscription.endpoint }).catch(function () { return undefined; });
      return Promise.all([told, subscription.unsubscribe()]);
    }).then(function () {
      show("off");
      say(gettext("Notifications are off for this phone."));
      return counted();
    }).catch(function () {
      say(gettext("They could not be turned off. Try again in a moment."));
    }).then(function () { busy(false); });
  }

  if (!key) { return; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !window.isSecureContext) {
    show("none");
    say(gettext("This browser cannot show notifications from this site. On an iPhone, add the site to the home screen first and open it from there."));
    return;
  }
  onRow.querySelector("button").addEventListener("click", turnOn);
  offRow.querySelector("button").addEventListener("click", turnOff);

  // Only a browser that has the service worker already can be subscribed: opening this page registers nothing.
  navigator.serviceWorker.getRegistration("/").then(function (found) {
    return found ? current(found) : null;
  }).then(function (subscription) {
    if (!subscription || Notification.permission !== "granted") {
      show("off");
      say(Notification.permission === "denied" ? blocked() : gettext("Notifications are off for this phone."));
      return undefined;
    }
    return call("POST", subscription.toJSON()).then(function () {
      show("on");
      say(gettext("Notifications are on for this phone."));
      return counted();
    });
  }).catch(function (error) {
    show("off");
    say(error instanceof Said ? error.said : gettext("Notifications are off for this phone."));
  });
})();
