// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // The language switcher submits as soon as a language is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // A read-only address (the calendar feed) is selected whole with one tap, ready to copy.
  document.querySelectorAll("input[data-select-all]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // Signed out: the pages the service worker kept for offline use (the report form, "My reports") are the last
  // person's; on a shared phone the next one must not open them offline. The static files stay cached.
  var body = document.body;
  if (body.hasAttribute("data-signed-out")) {
    var forgetPages = function () {
      if (!window.caches) { return Promise.resolve(); }
      var staticPrefix = new URL(body.dataset.staticPrefix || "/static/", window.location.origin).pathname;
      return caches.keys().then(function (names) {
        return Promise.all(names.filter(function (name) { return name.indexOf("patrol-shell-") === 0; })
          .map(function (name) {
            return caches.open(name).then(function (cache) {
              return cache.keys().then(function (requests) {
                return Promise.all(requests.filter(function (request) {
                  return new URL(request.url).pathname.indexOf(staticPrefix) !== 0;
                }).map(function (request) { return cache.delete(request); }));
              });
            });
          }));
      });
    };
    forgetPages().catch(function () { return undefined; }).then(function () {
      body.setAttribute("data-offline-pages-forgotten", "");
    });
  }

  // A roster import page follows the import's progress until it ends, then reloads to show the result.
  var box = document.getElementById("import-progress");
  if (box && box.dataset.finished !== "1") {
    var bar = box.querySelector("progress");
    var poll = function () {
      fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          bar.value = state.percent;
          ["status_label", "processed_rows", "total_rows"].forEach(function (name) {
            var field = box.querySelector('[data-field="' + name + '"]');
            if (field) { field.textContent = state[name]; }
          });
          if (state.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  }
})();
