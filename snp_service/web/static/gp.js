// The GP page: block preview, confirmations, feed link copy, visit outcomes through the JSON API.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function minutesOf(value) {
    var parts = (value || "").split(":");
    return parts.length < 2 ? NaN : parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }

  function clock(minutes) {
    var h = Math.floor(minutes / 60), m = minutes % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  // Preview of a block: how many slots, at which times, before anything is saved.
  function previewBlock() {
    var form = document.getElementById("block-form");
    if (!form) { return; }
    var start = minutesOf(form.elements["block-start"].value);
    var end = minutesOf(form.elements["block-end"].value);
    var step = parseInt(form.elements["block-slot_minutes"].value, 10);
    var preview = document.getElementById("block-preview");
    var submit = document.getElementById("block-submit");
    if (isNaN(start) || isNaN(end) || end <= start) {
      preview.textContent = "L'heure de fin doit être après l'heure de début.";
      submit.disabled = true;
      return;
    }
    var count = Math.floor((end - start) / step);
    if ((end - start) % step !== 0 || count === 0) {
      preview.textContent = "La plage de " + (end - start) + " min ne se découpe pas en créneaux de " + step + " min.";
      submit.disabled = true;
      return;
    }
    var times = [];
    for (var i = 0; i < count; i++) { times.push(clock(start + i * step)); }
    preview.textContent = count + " créneau" + (count > 1 ? "x" : "") + " : " + times.join(", ");
    submit.disabled = false;
    submit.textContent = "Publier " + count + " créneau" + (count > 1 ? "x" : "");
  }

  ["block-start", "block-end", "block-slot_minutes"].forEach(function (id) {
    var input = document.getElementById(id);
    if (input) { input.addEventListener("input", previewBlock); input.addEventListener("change", previewBlock); }
  });
  previewBlock();

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  var copy = document.getElementById("copy-feed");
  if (copy) {
    copy.addEventListener("click", function () {
      var input = document.getElementById("feed-url");
      input.select();
      var done = function () { copy.textContent = "Lien copié"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done);
      } else {
        document.execCommand("copy");
        done();
      }
    });
  }

  document.querySelectorAll("[data-outcome]").forEach(function (button) {
    button.addEventListener("click", function () {
      var item = button.closest("[data-booking-id]");
      var error = item.querySelector(".outcome-error");
      fetch("/api/v1/bookings/" + item.dataset.bookingId + "/outcome", {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({outcome: button.dataset.outcome})
      }).then(function (response) {
        if (response.ok) { window.location.reload(); return; }
        return response.json().then(function (body) {
          error.textContent = (body.error && body.error.message) || "Échec de l'enregistrement";
          error.hidden = false;
        });
      }).catch(function () {
        error.textContent = "Connexion impossible, réessayez.";
        error.hidden = false;
      });
    });
  });
})();
