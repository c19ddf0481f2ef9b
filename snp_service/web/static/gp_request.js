// A slot request's page: tell the service it was seen (a GET never writes), so the regulator reads "vue par 2".
(function () {
  "use strict";
  var section = document.getElementById("slot-request");
  if (!section || section.dataset.status !== "open") { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  fetch("/api/v1/slot-requests/" + section.dataset.requestId + "/seen", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" }, body: "{}",
  }).catch(function () { /* seen is a courtesy: the page works without it */ });
}());
