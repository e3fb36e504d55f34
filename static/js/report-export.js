// An export's page follows the job's progress until it ends, then reloads to show the download (or the error).
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box || box.dataset.finished === "1") { return; }
  var bar = box.querySelector("progress");
  var poll = function () {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        bar.value = state.percent;
        ["status_label", "rows_done", "rows_total"].forEach(function (name) {
          var field = box.querySelector('[data-field="' + name + '"]');
          if (field) { field.textContent = state[name]; }
        });
        if (state.finished) { window.location.reload(); } else { window.setTimeout(poll, 1500); }
      })
      .catch(function () { window.setTimeout(poll, 4000); });
  };
  window.setTimeout(poll, 800);
})();
