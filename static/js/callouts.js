// The call-out page: the answers list refreshes every few seconds from a small JSON endpoint (no reload).
(function () {
  "use strict";
  var box = document.querySelector("[data-callout-answers]");
  if (!box) return;
  var url = box.getAttribute("data-callout-answers");
  var every = (parseInt(box.getAttribute("data-poll-seconds"), 10) || 10) * 1000;
  var list = box.querySelector(".callout-answers");
  var counts = document.querySelector("[data-callout-counts]");
  var template = box.getAttribute("data-counts-template");

  function draw(data) {
    if (counts && template) {
      counts.textContent = template
        .replace("%(assigned)s", data.assigned)
        .replace("%(needed)s", data.needed)
        .replace("%(waitlisted)s", data.waitlisted);
    }
    if (!data.answers.length) return;
    list.textContent = "";
    data.answers.forEach(function (answer) {
      var item = document.createElement("li");
      var time = document.createElement("span");
      time.className = "mono";
      time.textContent = answer.accepted_at;
      item.appendChild(time);
      item.appendChild(document.createTextNode(" " + answer.volunteer + " · " + answer.result_label));
      list.appendChild(item);
    });
  }

  function poll() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) draw(data); })
      .catch(function () { /* offline: the next tick tries again */ });
  }

  setInterval(poll, every);
  document.addEventListener("visibilitychange", poll);
})();
