// The map tools in the reader's language: Leaflet's zoom buttons, scale, popups and markers, django-leaflet's
// "reset view" button, and every title, tooltip, measurement and message of Leaflet.draw (zones, routes and
// boundaries). Loaded after Leaflet (and Leaflet.draw where a page draws) and the JavaScript catalogue, before any map
// starts: Leaflet reads these options when a map and its controls are made.
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  var gettext = window.gettext || function (text) { return text; };
  var fill = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return values[key]; });
  };

  function figure(value, digits) {
    return window.Formats
      ? window.Formats.number(value, { maximumFractionDigits: digits })
      : String(Math.round(value * Math.pow(10, digits)) / Math.pow(10, digits));
  }

  // Leaflet.draw puts its button texts and tooltips into the page as HTML; its titles go into a title attribute too,
  // so they stay plain (they come from the project's catalogue, never from a user).
  function escape(text) {
    return String(text).replace(/[&<>"']/g, function (character) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[character];
    });
  }

  function metres(distance) {
    if (distance >= 1000) {
      return fill(gettext("%(distance)s km"), { distance: figure(distance / 1000, distance >= 10000 ? 0 : 1) }, true);
    }
    return fill(gettext("%(distance)s m"), { distance: figure(distance, 0) }, true);
  }

  L.Control.Zoom.prototype.options.zoomInTitle = gettext("Zoom in");
  L.Control.Zoom.prototype.options.zoomOutTitle = gettext("Zoom out");
  L.Marker.prototype.options.alt = gettext("Marker on the map");

  // The link to Leaflet keeps its flag; only its title is words.
  var attribution = L.Control.Attribution.prototype.options;
  if (typeof attribution.prefix === "string") {
    attribution.prefix = attribution.prefix.replace(
      "A JavaScript library for interactive maps", escape(gettext("A JavaScript library for interactive maps"))
    );
  }

  // Leaflet names a popup's close button in English and offers no option for it.
  var popupLayout = L.Popup.prototype._initLayout;
  L.Popup.prototype._initLayout = function () {
    popupLayout.apply(this, arguments);
    if (this._closeButton) { this._closeButton.setAttribute("aria-label", gettext("Close")); }
  };

  // The scale bar writes its units in English ("500 m", "2 km").
  if (L.Control.Scale) {
    L.Control.Scale.prototype._updateMetric = function (maxMeters) {
      var rounded = this._getRoundNum(maxMeters);
      this._updateScale(this._mScale, metres(rounded), rounded / maxMeters);
    };
  }

  // django-leaflet's button reads its title from the page when it is made; ours is from the catalogue.
  if (L.Control.ResetView) {
    var resetView = L.Control.ResetView.prototype.initialize;
    L.Control.ResetView.prototype.initialize = function () {
      resetView.apply(this, arguments);
      L.Control.ResetView.TITLE = gettext("Reset view");
    };
  }

  if (L.GeometryField) {
    L.GeometryField.unsavedText = gettext("The drawing on the map is not saved yet.");
  }

  if (!L.drawLocal) { return; }

  L.drawLocal.draw = {
    toolbar: {
      actions: { title: gettext("Cancel drawing"), text: escape(gettext("Cancel")) },
      finish: { title: gettext("Finish drawing"), text: escape(gettext("Finish")) },
      undo: { title: gettext("Delete the last point drawn"), text: escape(gettext("Delete last point")) },
      buttons: {
        polyline: gettext("Draw a line (a route)"),
        polygon: gettext("Draw an area (a polygon)"),
        rectangle: gettext("Draw a rectangle"),
        circle: gettext("Draw a circle"),
        marker: gettext("Put a point on the map"),
        circlemarker: gettext("Put a circle marker on the map")
      }
    },
    handlers: {
      circle: { tooltip: { start: escape(gettext("Press and drag to draw a circle.")) }, radius: escape(gettext("Radius")) },
      circlemarker: { tooltip: { start: escape(gettext("Click the map to put the circle marker.")) } },
      marker: { tooltip: { start: escape(gettext("Click the map to put the point.")) } },
      polygon: {
        tooltip: {
          start: escape(gettext("Click to start drawing the area.")),
          cont: escape(gettext("Click to continue drawing the area.")),
          end: escape(gettext("Click the first point to close the area."))
        }
      },
      polyline: {
        error: "<strong>" + escape(gettext("Error: the edges of a shape cannot cross.")) + "</strong>",
        tooltip: {
          start: escape(gettext("Click to start drawing the line.")),
          cont: escape(gettext("Click to continue drawing the line.")),
          end: escape(gettext("Click the last point to finish the line."))
        }
      },
      rectangle: { tooltip: { start: escape(gettext("Press and drag to draw a rectangle.")) } },
      simpleshape: { tooltip: { end: escape(gettext("Release to finish drawing.")) } }
    }
  };

  L.drawLocal.edit = {
    toolbar: {
      actions: {
        save: { title: gettext("Save the changes"), text: escape(gettext("Save")) },
        cancel: { title: gettext("Cancel editing and discard the changes"), text: escape(gettext("Cancel")) },
        clearAll: { title: gettext("Delete everything drawn"), text: escape(gettext("Delete all")) }
      },
      buttons: {
        edit: gettext("Change the drawing"),
        editDisabled: gettext("Nothing to change"),
        remove: gettext("Delete shapes"),
        removeDisabled: gettext("Nothing to delete")
      }
    },
    handlers: {
      edit: {
        tooltip: {
          text: escape(gettext("Drag the handles or markers to change the shape.")),
          subtext: escape(gettext("Click Cancel to undo the changes."))
        }
      },
      remove: { tooltip: { text: escape(gettext("Click a shape to delete it.")) } }
    }
  };

  // Lengths and areas while drawing, in the reader's units and number format. Other unit systems stay as they are.
  var util = L.GeometryUtil;
  if (util && util.readableDistance && util.readableArea) {
    var distanceIn = util.readableDistance;
    util.readableDistance = function (distance, isMetric) {
      if (isMetric === true || isMetric === "metric") { return metres(distance); }
      return distanceIn.apply(this, arguments);
    };
    var areaIn = util.readableArea;
    util.readableArea = function (area, isMetric) {
      if (!isMetric) { return areaIn.apply(this, arguments); }
      var units = typeof isMetric === "string" ? [isMetric] : Array.isArray(isMetric) ? isMetric : ["ha", "m"];
      if (area >= 1000000 && units.indexOf("km") >= 0) {
        return fill(gettext("%(area)s km²"), { area: figure(area / 1000000, 2) }, true);
      }
      if (area >= 10000 && units.indexOf("ha") >= 0) {
        return fill(gettext("%(area)s ha"), { area: figure(area / 10000, 2) }, true);
      }
      return fill(gettext("%(area)s m²"), { area: figure(area, 0) }, true);
    };
  }
})();
