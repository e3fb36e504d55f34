// Dates, times and numbers as the server writes them (coordination/formats): 03.12.2026 19:30 in Almaty time, in every
// language; 7 784,7 in Kazakh and Russian, 7,784.7 in English. Intl gives the time zone and the digits in the page's
// language; the order of the parts and the separators are the server's, because Chromium's ICU has no Kazakh data
// and would write 2026-12-03 19:30 and 7,784.7 on a Kazakh page.
(function (global) {
  "use strict";

  var TIME_ZONE = "Asia/Almaty";
  var LOCALES = { kk: "kk-KZ", ru: "ru-RU", en: "en-GB" };
  var SEPARATORS = {
    kk: { group: "\u00a0", decimal: "," },
    ru: { group: "\u00a0", decimal: "," },
    en: { group: ",", decimal: "." }
  };
  var CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/;
  var formatters = {};

  function language() {
    var page = global.document && global.document.documentElement;
    var code = ((page && page.lang) || "kk").toLowerCase().split("-")[0];
    return LOCALES[code] ? code : "kk";
  }

  function locale() { return LOCALES[language()]; }

  function formatter(key, make) {
    if (!formatters[key]) { formatters[key] = make(); }
    return formatters[key];
  }

  function pad(number) { return (number < 10 ? "0" : "") + number; }

  // The wall clock in Almaty: a Date, milliseconds, or an ISO date-time with its offset. A calendar day
  // ("2026-12-03", as the map's points carry it) is that day wherever the phone is.
  function partsOf(value) {
    var day = typeof value === "string" && CALENDAR_DAY.test(value);
    var moment = day ? new Date(value + "T00:00:00Z") : value instanceof Date ? value : new Date(value);
    if (value === null || value === undefined || value === "" || isNaN(moment.getTime())) { return null; }
    var zone = day ? "UTC" : TIME_ZONE;
    try {
      var format = formatter("date " + locale() + " " + zone, function () {
        return new Intl.DateTimeFormat(locale(), {
          timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
          hour: "2-digit", minute: "2-digit", hourCycle: "h23", numberingSystem: "latn"
        });
      });
      var found = {};
      format.formatToParts(moment).forEach(function (part) { found[part.type] = part.value; });
      return found;
    } catch (error) {
      // A browser without time zones in Intl: Almaty is UTC+5 all year.
      var shifted = new Date(moment.getTime() + (day ? 0 : 5 * 3600000));
      return {
        year: String(shifted.getUTCFullYear()), month: pad(shifted.getUTCMonth() + 1), day: pad(shifted.getUTCDate()),
        hour: pad(shifted.getUTCHours()), minute: pad(shifted.getUTCMinutes())
      };
    }
  }

  function date(value) {
    var parts = partsOf(value);
    return parts ? parts.day + "." + parts.month + "." + parts.year : "";
  }

  function time(value) {
    var parts = partsOf(value);
    return parts ? parts.hour + ":" + parts.minute : "";
  }

  function dateTime(value) {
    var parts = partsOf(value);
    return parts ? parts.day + "." + parts.month + "." + parts.year + " " + parts.hour + ":" + parts.minute : "";
  }

  // `options` are Intl.NumberFormat's (maximumFractionDigits…); thousands are always grouped, as the server does.
  function number(value, options) {
    var figure = Number(value);
    if (value === null || value === "" || !isFinite(figure)) { return ""; }
    var separators = SEPARATORS[language()];
    var settings = { useGrouping: "always", numberingSystem: "latn" };
    Object.keys(options || {}).forEach(function (key) { settings[key] = options[key]; });
    var format = formatter("number " + locale() + " " + JSON.stringify(settings), function () {
      return new Intl.NumberFormat(locale(), settings);
    });
    return format.formatToParts(figure).map(function (part) {
      if (part.type === "group") { return separators.group; }
      if (part.type === "decimal") { return separators.decimal; }
      if (part.type === "minusSign") { return "-"; }
      return part.value;
    }).join("");
  }

  // A datetime-local input's value for now in the zone of `offset` ("+05:00"): the cached page may be days old.
  function offsetMinutes(offset) {
    var sign = offset[0] === "-" ? -1 : 1;
    return sign * (parseInt(offset.slice(1, 3), 10) * 60 + parseInt(offset.slice(4, 6), 10));
  }

  function nowForInput(offset) {
    return new Date(Date.now() + offsetMinutes(offset) * 60000).toISOString().slice(0, 16);
  }

  // What the API takes from a datetime-local input: the ISO date-time with the zone's offset.
  function fromInput(value, offset) {
    return (value.length === 16 ? value + ":00" : value) + offset;
  }

  global.Formats = {
    language: language,
    locale: locale,
    date: date,
    time: time,
    dateTime: dateTime,
    number: number,
    nowForInput: nowForInput,
    fromInput: fromInput
  };
})(typeof self !== "undefined" ? self : this);
