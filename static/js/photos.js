// Photos on the phone's forms (a report, a meeting): shrunk in the browser to at most `maxSide` pixels on the longest
// side, as JPEG, before they are stored or sent (the server re-encodes them anyway), and shown as thumbnails that
// can be taken out again.
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var fill = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return values[key]; });
  };

  function decodeWithImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () { URL.revokeObjectURL(url); resolve(image); };
      image.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      image.src = url;
    });
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return window.createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return decodeWithImage(file);
      });
    }
    return decodeWithImage(file);
  }

  // A JPEG blob; rejects when the file is not a picture the browser can read.
  function shrink(file, maxSide, quality) {
    return decode(file).then(function (image) {
      var width = image.naturalWidth || image.width;
      var height = image.naturalHeight || image.height;
      var scale = Math.min(1, maxSide / Math.max(width, height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      var context = canvas.getContext("2d");
      // A transparent picture would turn black as JPEG.
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) { image.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (blob) { resolve(blob); } else { reject(new Error("not encoded")); }
        }, "image/jpeg", quality);
      });
    });
  }

  // The photos of one form. options: thumbs (the <ul>), maxSide, quality, maxCount, say(message, isError),
  // tooMany (a sentence with %(count)s), onChange(count).
  function Picker(options) {
    this.options = options;
    this.photos = [];
  }

  Picker.prototype.render = function () {
    var picker = this;
    var thumbs = picker.options.thumbs;
    thumbs.textContent = "";
    picker.photos.forEach(function (photo, index) {
      var item = document.createElement("li");
      var image = document.createElement("img");
      image.src = photo.url;
      image.alt = fill(gettext("Photo %(number)s"), { number: index + 1 }, true);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", gettext("Remove this photo"));
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(photo.url);
        picker.photos.splice(index, 1);
        picker.render();
      });
      item.appendChild(image);
      item.appendChild(remove);
      thumbs.appendChild(item);
    });
    if (picker.options.onChange) { picker.options.onChange(picker.photos.length); }
  };

  Picker.prototype.addBlob = function (blob) {
    this.photos.push({ blob: blob, url: URL.createObjectURL(blob) });
    this.render();
  };

  Picker.prototype.add = function (files) {
    var picker = this;
    var options = picker.options;
    var refused = false;
    options.say(gettext("Preparing the photos…"));
    return files.reduce(function (done, file) {
      return done.then(function () {
        if (picker.photos.length >= options.maxCount) {
          refused = true;
          options.say(fill(options.tooMany, { count: options.maxCount }, true), true);
          return undefined;
        }
        return shrink(file, options.maxSide, options.quality).then(function (blob) { picker.addBlob(blob); }, function () {
          refused = true;
          options.say(fill(gettext("“%(name)s” could not be read as a photo."), { name: file.name }, true), true);
        });
      });
    }, Promise.resolve()).then(function () {
      if (!refused) { options.say(""); }
    });
  };

  // The file inputs that bring photos (the camera, the gallery).
  Picker.prototype.watch = function (inputs) {
    var picker = this;
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        input.value = "";
        picker.add(files);
      });
    });
  };

  Picker.prototype.blobs = function () {
    return this.photos.map(function (photo) { return photo.blob; });
  };

  Picker.prototype.clear = function () {
    this.photos.forEach(function (photo) { URL.revokeObjectURL(photo.url); });
    this.photos = [];
    this.render();
  };

  window.Photos = { shrink: shrink, Picker: Picker };
})();
