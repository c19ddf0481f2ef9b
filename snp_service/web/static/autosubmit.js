// A <select data-autosubmit> sends its form when changed (the page keeps a submit button for no-JS use).
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
