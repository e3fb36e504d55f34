// Check-in and check-out on the spot: the button asks the phone for its position, puts it into the form's lat and
// lng fields and sends the form (with its CSRF token). When the position is refused or cannot be found, the form
// says so and stays. Without JavaScript the form is sent without a position and the server explains that one is needed.
(function () {
  "use strict";
  var OPTIONS = { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 };

  function say(form, text, isError) {
    var status = form.querySelector(".geo-status");
    if (!status) { return; }
    status.textContent = text;
    status.hidden = false;
    status.classList.toggle("error", Boolean(isError));
    status.setAttribute("role", isError ? "alert" : "status");
  }

  function explain(form, error) {
    if (error.code === error.PERMISSION_DENIED) { return form.dataset.errorDenied; }
    if (error.code === error.TIMEOUT) { return form.dataset.errorTimeout; }
    return form.dataset.errorUnavailable;
  }

  document.querySelectorAll("form[data-geo-form]").forEach(function (form) {
    var button = form.querySelector('button[type="submit"]');
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.reportValidity && !form.reportValidity()) { return; }
      if (!("geolocation" in navigator)) {
        say(form, form.dataset.errorUnsupported, true);
        return;
      }
      button.disabled = true;
      say(form, form.dataset.locating, false);
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.lat.value = position.coords.latitude.toFixed(6);
          form.elements.lng.value = position.coords.longitude.toFixed(6);
          // The server widens the zone by the phone's accuracy and asks to try again outdoors when it is poor.
          if (form.elements.accuracy && isFinite(position.coords.accuracy)) {
            form.elements.accuracy.value = Math.round(position.coords.accuracy);
          }
          // submit() sends the form without firing this handler again.
          form.submit();
        },
        function (error) {
          button.disabled = false;
          say(form, explain(form, error), true);
        },
        OPTIONS
      );
    });
  });
})();
