// The GP page: the publishing preview (a dry run on the server), confirmations, feed link copy, focus on errors.
(function () {
  "use strict";

  // Show a field's problem next to it (or clear it): the same markup the server renders on a refused publish.
  function showFieldError(form, id, message) {
    var control = document.getElementById(id);
    var box = document.getElementById(id + "-error");
    if (!box) { return; }
    box.textContent = message || "";
    box.hidden = !message;
    var target = control && control.tagName === "UL" ? control.closest("fieldset") : control;
    if (target) {
      if (message) { target.setAttribute("aria-invalid", "true"); } else { target.removeAttribute("aria-invalid"); }
    }
  }

  // Ask the server what this form would publish: the same service code as the publish, without writing.
  function previewer(form) {
    var kind = form.id.replace(/-form$/, "");
    var preview = document.getElementById(kind + "-preview");
    var notes = document.getElementById(kind + "-notes");
    var formError = document.getElementById(kind + "-form-error");
    var submit = document.getElementById(kind + "-submit");
    var timer = null, sequence = 0;
    // Problems are shown once the GP has changed something (or the server refused a publish), not on opening.
    var touched = !!form.querySelector("[aria-invalid='true']") || !formError.hidden;

    function render(answer) {
      if (touched) {
        form.querySelectorAll(".field-error[id$='-error']").forEach(function (box) {
          if (box !== formError) { showFieldError(form, box.id.replace(/-error$/, ""), ""); }
        });
        Object.keys(answer.errors || {}).forEach(function (id) { showFieldError(form, id, answer.errors[id]); });
        formError.textContent = answer.form_error || "";
        formError.hidden = !answer.form_error;
      }
      preview.textContent = answer.summary || "";
      notes.textContent = "";
      (answer.notes || []).forEach(function (note) {
        var item = document.createElement("li");
        item.textContent = note;
        notes.appendChild(item);
      });
      submit.textContent = answer.submit || submit.dataset.label;
      // Some days already hold a slot: they are named, and one tap publishes the others.
      var clashes = document.getElementById(kind + "-clashes");
      var skip = document.getElementById(kind + "-skip");
      if (clashes && skip) {
        clashes.textContent = answer.clashing || "";
        clashes.hidden = !answer.clashing;
        skip.hidden = !answer.skip_submit;
        if (answer.skip_submit) { skip.textContent = answer.skip_submit; }
      }
    }

    function run() {
      var mine = ++sequence;
      fetch(form.dataset.preview, {method: "POST", body: new FormData(form), credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer && mine === sequence) { render(answer); } })
        .catch(function () { /* offline: the publish itself still answers */ });
    }

    function soon() {
      touched = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(run, 250);
    }

    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    var details = form.closest("details");
    if (details) {
      details.addEventListener("toggle", function () { if (details.open) { run(); } });
      if (details.open && !form.querySelector("[aria-invalid='true']") && formError.hidden) { run(); }
    }
  }

  document.querySelectorAll("form[data-preview]").forEach(previewer);

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

  // After a refused publish the page comes back with the reason next to its field: go there.
  var invalid = document.querySelector("form [aria-invalid='true']");
  if (invalid) {
    var focusable = invalid.tagName === "FIELDSET" ? invalid.querySelector("input") : invalid;
    focusable.focus();
    focusable.scrollIntoView({block: "center"});
  }
})();
