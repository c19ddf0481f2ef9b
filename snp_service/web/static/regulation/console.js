// The regulator's console, one flow for one call: type the caller's details, Enter searches and puts
// focus on the best slot, ↑ ↓ choose, Enter books, Escape goes back to the form. After a booking the
// confirmation is read back, then the next caller starts from a blank screen.
import { DAY_TIME, MODES, SHORT_DAY, TIME, api, debounce, doctorName, el, errorMessage, km, parisClock } from "./common.js";
import { PatientForm } from "./patient_form.js";

const RESULT_LIMIT = 30;
const formElement = document.getElementById("patient-form");
const list = document.getElementById("results");
const confirmation = document.getElementById("confirmation");
const communeNames = Object.fromEntries([...document.querySelectorAll("#commune option")]
  .filter((o) => o.value).map((o) => [o.value, o.textContent.trim()]));
const state = { results: [], active: -1, moving: null, idempotency: {}, busy: false, sequence: 0, shownKey: null,
                focusPending: false, lastField: null, bookings: new Map(), cancelling: null };

const liveSearchSoon = debounce(() => liveSearch(), 250);
const patientForm = new PatientForm(formElement, { onChange: liveSearchSoon });
patientForm.restoreDraft();

// ---------------------------------------------------------------- searching
function criteria() {
  if (state.moving) {
    const patient = state.moving.patient || {};
    return { commune: patient.commune_insee, rpps: patient.treating_rpps };
  }
  return { commune: patientForm.commune(), rpps: patientForm.treatingRpps() };
}

// What the answer depends on: the same key gives the same list (the window's end aside).
function criteriaKey() {
  const { commune, rpps } = criteria();
  return JSON.stringify([commune, rpps, state.moving && state.moving.id,
                         ...["window", "radius", "mode"].map((id) => document.getElementById(id).value)]);
}

function searchUrl() {
  const params = new URLSearchParams();
  const hours = Number(document.getElementById("window").value);
  params.set("to", new Date(Date.now() + hours * 3600 * 1000).toISOString());
  const { commune, rpps } = criteria();
  if (commune) {
    params.set("commune", commune);
    params.set("radius_km", document.getElementById("radius").value);
  }
  const mode = document.getElementById("mode").value;
  if (mode) params.set("mode", mode);
  if (rpps) params.set("treating_rpps", rpps);
  params.set("limit", String(RESULT_LIMIT));
  return `/api/v1/slots/search?${params}`;
}

// Enter asks for the list; the search that answers last (a live one may overtake it) takes focus there.
async function search({ focus = false } = {}) {
  if (focus) { state.focusPending = true; liveSearchSoon.cancel(); }
  const sequence = ++state.sequence;
  const key = criteriaKey();
  const { ok, data } = await api("GET", searchUrl());
  if (sequence !== state.sequence) return;  // a newer search answers
  if (!ok) { state.focusPending = false; showResultsMessage(errorMessage(data)); return; }
  state.shownKey = key;
  showResults(data.results);
  if (state.focusPending) { state.focusPending = false; focusList(); }
}

// While the caller's details are typed, the list follows the commune and the treating doctor.
function liveSearch() {
  if (!confirmation.hidden || criteriaKey() === state.shownKey) return;
  const { commune, rpps } = criteria();
  if (commune || rpps || state.results.length) search();
}

// "aujourd'hui", "demain" or "mer. 3 déc.": the day of an instant, as a regulator says it.
function dayWord(when) {
  const day = parisClock(when).day;
  if (day === parisClock().day) return "aujourd'hui";
  if (day === parisClock(new Date(Date.now() + 86400 * 1000)).day) return "demain";
  return SHORT_DAY.format(when);
}

function dayLabel(iso) {
  const when = new Date(iso);
  return `${TIME.format(when)} ${dayWord(when)}`;
}

// A French number as it is read out: "02 51 00 00 00".
function phoneText(e164) {
  return /^\+33\d{9}$/.test(e164 || "") ? `0${e164.slice(3)}`.replace(/(\d{2})(?=\d)/g, "$1 ") : e164;
}

function showResults(results) {
  state.results = results;
  state.active = results.length ? 0 : -1;
  list.replaceChildren(...results.map((r, i) => el("li", {
    role: "option", id: `result-${i}`, class: `result${r.is_treating_doctor ? " is-treating" : ""}`,
    onclick: () => { state.active = i; paint(); list.focus(); },
    ondblclick: () => { state.active = i; bookActive(); },
  },
  el("span", { class: "r-when" }, el("strong", {}, TIME.format(new Date(r.slot.start))), " ",
    el("span", { class: "r-day" }, dayWord(new Date(r.slot.start)))),
  el("span", { class: "r-doctor" }, doctorName(r.practitioner)),
  el("span", { class: "r-commune" }, communeNames[r.practitioner.commune_insee] || r.practitioner.commune_insee || ""),
  el("span", { class: "r-distance" }, r.distance_km === null ? "" : km(r.distance_km)),
  el("span", { class: "r-badges" },
    r.is_treating_doctor ? el("span", { class: "badge badge-treating" }, "Médecin traitant") : null,
    r.slot.mode !== "office" ? el("span", { class: "badge" }, MODES[r.slot.mode]) : null))));
  list.hidden = results.length === 0;
  document.getElementById("results-help").hidden = results.length === 0;
  document.getElementById("results-empty").hidden = results.length > 0;
  document.getElementById("results-empty").textContent = "Aucun créneau libre pour ces critères : élargissez la période ou le rayon.";
  document.getElementById("results-status").textContent = results.length
    ? `${results.length} créneau${results.length > 1 ? "x" : ""} libre${results.length > 1 ? "s" : ""}.` : "Aucun créneau libre.";
  paint();
}

function clearResults() {
  state.shownKey = null;
  state.results = [];
  state.active = -1;
  list.replaceChildren();
  list.hidden = true;
  document.getElementById("results-help").hidden = true;
  list.removeAttribute("aria-activedescendant");
  const empty = document.getElementById("results-empty");
  empty.hidden = false;
  empty.textContent = "Saisissez l'appel puis Entrée : les créneaux s'affichent ici, le médecin traitant d'abord.";
  document.getElementById("results-status").textContent = "";
}

function paint() {
  list.querySelectorAll("[role=option]").forEach((li, i) => li.setAttribute("aria-selected", String(i === state.active)));
  const current = document.getElementById(`result-${state.active}`);
  if (current) {
    list.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  } else {
    list.removeAttribute("aria-activedescendant");
  }
}

function focusList() {
  if (!state.results.length) return;
  list.focus();
  paint();
}

function backToForm() {
  (state.lastField || document.getElementById("last_name")).focus();
}

list.addEventListener("keydown", (event) => {
  const last = state.results.length - 1;
  const moves = { ArrowDown: state.active + 1, ArrowUp: state.active - 1, Home: 0, End: last };
  if (event.key in moves) {
    event.preventDefault();
    state.active = Math.max(0, Math.min(last, moves[event.key]));
    paint();
  } else if (event.key === "Enter") {
    event.preventDefault();
    bookActive();
  } else if (event.key === "Escape") {
    event.preventDefault();
    if (state.moving) endMove(); else backToForm();
  }
});

// ---------------------------------------------------------------- the form
formElement.addEventListener("submit", (event) => { event.preventDefault(); search({ focus: true }); });
formElement.addEventListener("keydown", (event) => {
  // Selects, radios and the checkbox do not submit on Enter by themselves.
  if (event.key === "Enter" && event.target.matches("select, input[type=radio], input[type=checkbox]")) {
    event.preventDefault();
    formElement.requestSubmit();
  }
});
formElement.addEventListener("focusin", (event) => {
  if (event.target.matches("input, select")) state.lastField = event.target;
});
formElement.addEventListener("input", () => { if (!confirmation.hidden) hideConfirmation(); clearMessages(); });
for (const id of ["window", "radius", "mode"]) {
  const filter = document.getElementById(id);
  filter.addEventListener("change", () => liveSearch());
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); search({ focus: true }); }
  });
}
document.getElementById("new-call").addEventListener("click", nextCall);

// ---------------------------------------------------------------- booking
async function bookActive() {
  const result = state.results[state.active];
  if (!result || state.busy) return;
  state.busy = true;
  try {
    if (state.moving) await moveTo(result); else await book(result);
  } finally {
    state.busy = false;
  }
}

async function book(result) {
  const body = patientForm.booking(result.slot.id);
  if (!body) return;  // errors shown next to the fields, focus on the first
  const slotId = result.slot.id;
  // One key per slot chosen for this caller: a retried Enter never books twice.
  state.idempotency[slotId] = state.idempotency[slotId] || crypto.randomUUID();
  const answer = await api("POST", "/api/v1/bookings", body, { "Idempotency-Key": state.idempotency[slotId] });
  if (answer.ok) {
    showConfirmation("Rendez-vous confirmé", answer.data, body);
    patientForm.reset();
    state.idempotency = {};
    loadBookings();
  } else {
    handleRefusal(answer);
  }
}

function handleRefusal({ status, data }) {
  if (status === 409 && data.error && data.error.code === "slot_unavailable") {
    state.shownKey = null;
    showResults(data.error.alternatives || []);
    showResultsMessage("Ce créneau vient d'être pris par un autre régulateur. Autres créneaux proposés ci-dessous.");
    focusList();
  } else if (status === 422 && patientForm.showServerError(data)) {
    // shown next to the fields
  } else {
    showResultsMessage(errorMessage(data));
  }
}

function showConfirmation(title, booking, body) {
  const p = booking.practitioner;
  const commune = communeNames[p.commune_insee] || p.commune_insee || "";
  document.getElementById("confirmation-title").textContent = title;
  document.getElementById("confirmation-text").textContent =
    `${DAY_TIME.format(new Date(booking.slot.start))} avec ${doctorName(p)}, ${p.address || "adresse non renseignée"}${commune && !(p.address || "").includes(commune) ? `, ${commune}` : ""}.`;
  const patient = booking.patient;
  const details = [];
  if (patient) details.push(`Patient : ${patient.first_name} ${patient.last_name}.`);
  if (p.phone) details.push(`Cabinet : ${phoneText(p.phone)}.`);
  details.push(body && body.notify_patient === false ? "Pas de SMS envoyé." : "Le patient reçoit un SMS de confirmation.");
  document.getElementById("confirmation-detail").textContent = details.join(" ");
  clearResults();
  document.getElementById("results-empty").hidden = true;
  clearMessages();
  confirmation.hidden = false;
  confirmation.focus();
}

function hideConfirmation() {
  confirmation.hidden = true;
  document.getElementById("results-empty").hidden = state.results.length > 0;
}

// The next caller: nothing of the previous one stays on screen.
function nextCall() {
  endMove({ quiet: true });
  patientForm.reset();
  state.idempotency = {};
  hideConfirmation();
  clearResults();
  clearMessages();
  state.lastField = null;
  document.getElementById("last_name").focus();
}

confirmation.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === "Escape") { event.preventDefault(); nextCall(); }
});
document.getElementById("next-call").addEventListener("click", nextCall);

function showResultsMessage(text) {
  const box = document.getElementById("results-message");
  box.textContent = text;
  box.hidden = !text;
}

function clearMessages() {
  showResultsMessage("");
  const bookingsMessage = document.getElementById("bookings-message");
  bookingsMessage.hidden = true;
  bookingsMessage.textContent = "";
}

// ---------------------------------------------------------------- today's bookings: cancel, move
async function loadBookings() {
  const from = new Date(); from.setHours(0, 0, 0, 0);
  const to = new Date(from.getTime() + 2 * 86400 * 1000);
  const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), status: "booked" });
  const { ok, data } = await api("GET", `/api/v1/bookings?${params}`);
  if (!ok) return;
  state.bookings = new Map(data.map((b) => [b.id, b]));
  document.getElementById("bookings-empty").hidden = data.length > 0;
  document.querySelector("table.bookings").hidden = data.length === 0;
  document.getElementById("bookings").replaceChildren(...data.map((b) => el("tr", { "data-booking": b.id },
    el("td", {}, dayLabel(b.slot.start)),
    el("td", {}, doctorName(b.practitioner)),
    el("td", { class: "wrap" }, b.patient ? `${b.patient.last_name} ${b.patient.first_name}` : "—"),
    el("td", {}, b.confirmed_at ? el("span", { class: "badge status-confirmed" }, "confirmé")
      : el("span", { class: "badge status-booked" }, "réservé")),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "small", onclick: () => startMove(b.id),
                     "aria-label": `Déplacer le rendez-vous de ${TIME.format(new Date(b.slot.start))}` }, "Déplacer"),
      el("button", { type: "button", class: "small danger", onclick: () => askCancel(b.id),
                     "aria-label": `Annuler le rendez-vous de ${TIME.format(new Date(b.slot.start))}` }, "Annuler")))));
}

function bookingSummary(b) {
  const who = b.patient ? ` de ${b.patient.first_name} ${b.patient.last_name}` : "";
  return `Rendez-vous${who} du ${DAY_TIME.format(new Date(b.slot.start))} avec ${doctorName(b.practitioner)}`;
}

const cancelDialog = document.getElementById("cancel-dialog");
function askCancel(bookingId) {
  state.cancelling = bookingId;
  document.getElementById("cancel-summary").textContent = `${bookingSummary(state.bookings.get(bookingId))}.`;
  cancelDialog.showModal();
}

cancelDialog.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-by]");
  if (!button) return;
  const by = button.dataset.by;
  const bookingId = state.cancelling;
  if (!by) { cancelDialog.close(); return; }  // Retour: nothing changes
  const booking = state.bookings.get(bookingId);
  const answer = await api("POST", `/api/v1/bookings/${bookingId}/cancel`, { by, reason: null });
  cancelDialog.close();
  if (answer.ok) {
    const asker = by === "patient" ? "à la demande du patient" : `à l'initiative de ${button.textContent.trim().toLowerCase()}`;
    showBookingsMessage(`${bookingSummary(booking)} : annulé ${asker}. Le créneau est de nouveau libre.`);
  } else {
    showBookingsMessage(errorMessage(answer.data, "L'annulation n'a pas abouti."), true);
  }
  loadBookings();
});
cancelDialog.addEventListener("close", () => {
  const row = document.querySelector(`tr[data-booking="${state.cancelling}"] button.danger`);
  if (row) row.focus();
  state.cancelling = null;
});

function showBookingsMessage(text, isError = false) {
  const box = document.getElementById("bookings-message");
  box.textContent = text;
  box.className = `flash ${isError ? "flash-error" : "flash-success"}`;
  box.hidden = false;
  box.setAttribute("tabindex", "-1");
  box.focus();
}

function startMove(bookingId) {
  const booking = state.bookings.get(bookingId);
  state.moving = booking;
  hideConfirmation();
  clearMessages();
  const banner = document.getElementById("move-banner");
  banner.textContent = `Déplacement : ${bookingSummary(booking)}. Choisissez le nouveau créneau puis Entrée ; Échap pour abandonner.`;
  banner.hidden = false;
  search({ focus: true });
}

function endMove({ quiet = false } = {}) {
  const moving = state.moving;
  state.moving = null;
  document.getElementById("move-banner").hidden = true;
  if (moving && !quiet) {
    clearResults();
    const button = document.querySelector(`tr[data-booking="${moving.id}"] button`);
    (button || document.getElementById("last_name")).focus();
  }
}

async function moveTo(result) {
  const answer = await api("POST", `/api/v1/bookings/${state.moving.id}/move`, { slot_id: result.slot.id });
  if (answer.ok) {
    endMove({ quiet: true });
    showConfirmation("Rendez-vous déplacé", answer.data);
    loadBookings();
  } else {
    handleRefusal(answer);
  }
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.moving && !cancelDialog.open) { event.preventDefault(); endMove(); }
});

clearResults();
loadBookings();
