// The regulator's console, one flow for one call: type the caller's details, Enter searches and puts
// focus on the best slot, ↑ ↓ choose, Enter books, Escape goes back to the form. After a booking the
// confirmation is read back, then the next caller starts from a blank screen.
import { DAY_TIME, MODES, SHORT_DAY, TIME, api, debounce, doctorName, el, errorMessage, km, parisClock, professionLabel } from "./common.js";
import { PatientForm } from "./patient_form.js";
import { SlotRequests } from "./requests.js";

const RESULT_LIMIT = 30;
const FILTERS = ["window", "radius", "profession", "mode"];
const formElement = document.getElementById("patient-form");
const list = document.getElementById("results");
const confirmation = document.getElementById("confirmation");
const communeNames = Object.fromEntries([...document.querySelectorAll("#commune option")]
  .filter((o) => o.value).map((o) => [o.value, o.textContent.trim()]));
const state = { results: [], active: -1, moving: null, idempotency: {}, busy: false, sequence: 0, shownKey: null,
                focusPending: false, lastField: null, bookings: new Map(), cancelling: null, afterCancel: null };

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
                         ...FILTERS.map((id) => document.getElementById(id).value)]);
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
  const profession = document.getElementById("profession").value;
  if (profession) params.set("profession", profession);
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
  showResults(data.results, data.later || []);
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

function resultItem(r, i) {
  return el("li", {
    role: "option", id: `result-${i}`, class: `result${r.is_treating_doctor ? " is-treating" : ""}`,
    onclick: () => { state.active = i; paint(); list.focus(); },
    ondblclick: () => { state.active = i; bookActive(); },
  },
  el("span", { class: "r-when" }, el("strong", {}, TIME.format(new Date(r.slot.start))), " ",
    el("span", { class: "r-day" }, dayWord(new Date(r.slot.start)))),
  el("span", { class: "r-doctor" }, doctorName(r.practitioner),
    r.practitioner.profession && r.practitioner.profession !== "gp"
      ? el("span", { class: "r-profession" }, ` · ${professionLabel(r.practitioner)}`) : null),
  el("span", { class: "r-commune" }, communeNames[r.practitioner.commune_insee] || r.practitioner.commune_insee || ""),
  el("span", { class: "r-distance" }, r.distance_km === null ? "" : km(r.distance_km)),
  el("span", { class: "r-badges" },
    r.is_treating_doctor ? el("span", { class: "badge badge-treating" }, "Médecin traitant") : null,
    r.slot.mode !== "office" ? el("span", { class: "badge" }, MODES[r.slot.mode]) : null));
}

// ``later``: the next free slots after the window (fewer than 3 in it), listed under their own heading in the
// same list, so that the arrows and Enter reach them like the others.
function showResults(results, later = []) {
  const all = results.concat(later);
  state.results = all;
  state.active = all.length ? 0 : -1;
  const items = results.map((r, i) => resultItem(r, i));
  if (later.length) {
    items.push(el("li", { role: "presentation", class: "results-later", id: "later-title" }, "Prochains créneaux disponibles"));
    items.push(...later.map((r, i) => resultItem(r, results.length + i)));
  }
  list.replaceChildren(...items);
  list.hidden = all.length === 0;
  document.getElementById("results-help").hidden = all.length === 0;
  const empty = document.getElementById("results-empty");
  empty.hidden = results.length > 0;
  empty.textContent = later.length
    ? "Aucun créneau libre dans la période : voici les prochains créneaux disponibles."
    : "Aucun créneau libre pour ces critères : élargissez la période ou le rayon.";
  const plural = (n) => (n > 1 ? "x" : "");
  document.getElementById("results-status").textContent = (results.length
    ? `${results.length} créneau${plural(results.length)} libre${results.length > 1 ? "s" : ""}.` : "Aucun créneau libre.")
    + (later.length ? ` ${later.length} prochain${later.length > 1 ? "s" : ""} créneau${plural(later.length)} plus tard.` : "");
  document.getElementById("request-offer").hidden = results.length > 0;
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
  document.getElementById("request-offer").hidden = true;
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
  const offer = document.getElementById("request-offer");
  if (!state.results.length && !offer.hidden) { document.getElementById("request-slot").focus(); return; }
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
for (const id of FILTERS) {
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
    showBookingDay(answer.data);
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

function showConfirmation(title, booking, body, takeFocus = true) {
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
  if (takeFocus) confirmation.focus();
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

// ---------------------------------------------------------------- bookings of any day: cancel, move
// A day at a time (today by default); a name or a number typed in the filter looks over 14 days from that day,
// among the bookings the regulator may see (the API answers only those). The filter stays in the page: a
// patient's name never goes into a URL. On a focused row, A opens the cancel dialog and D starts a move.
const FILTER_DAYS = 14;
const dayInput = document.getElementById("bookings-day");
const filterInput = document.getElementById("bookings-filter");
dayInput.value = parisClock().day;

// The instant of 00:00 in Paris on ``day`` (YYYY-MM-DD), whatever the browser's zone.
function parisMidnight(day) {
  const [y, m, d] = day.split("-").map(Number);
  let guess = Date.UTC(y, m - 1, d) - 3600 * 1000;
  for (let i = 0; i < 3; i += 1) {
    const clock = parisClock(new Date(guess));
    const off = (Date.UTC(...clock.day.split("-").map((v, k) => (k === 1 ? Number(v) - 1 : Number(v)))) - Date.UTC(y, m - 1, d)) / 60000 + clock.minute;
    if (off === 0) break;
    guess -= off * 60000;
  }
  return new Date(guess);
}

function shiftDay(day, days) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

const fold = (text) => (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
const digits = (text) => (text || "").replace(/\D/g, "");
function nationalDigits(e164) { return /^\+33\d{9}$/.test(e164 || "") ? `0${e164.slice(3)}` : digits(e164); }

function matches(b, query) {
  if (!b.patient) return false;
  const wanted = digits(query);
  if (wanted.length >= 4) return nationalDigits(b.patient.phone).includes(wanted) || digits(b.patient.phone).includes(wanted);
  const words = fold(query).split(/\s+/).filter(Boolean);
  const name = fold(`${b.patient.last_name} ${b.patient.first_name}`);
  return words.length > 0 && words.every((w) => name.includes(w));
}

// What a row says of the patient: the whole name for the day's list; found by the filter, only enough to tell
// the caller apart (name, first initial, the number's last two digits).
function patientCell(b, filtered) {
  if (!b.patient) return "—";
  if (!filtered) return `${b.patient.last_name} ${b.patient.first_name}`;
  const end = nationalDigits(b.patient.phone).slice(-2);
  return `${b.patient.last_name} ${b.patient.first_name.slice(0, 1)}.${end ? ` · tél. …${end}` : ""}`;
}

// A name or a number of 2 characters or more turns the day's list into the 14 days' search.
function filterActive() { return filterInput.value.trim().length >= 2; }

async function loadBookings({ focusIndex = null } = {}) {
  if (!dayInput.value) dayInput.value = parisClock().day;
  const query = filterInput.value.trim();
  const filtered = filterActive();
  const from = parisMidnight(dayInput.value);
  const to = parisMidnight(shiftDay(dayInput.value, filtered ? FILTER_DAYS : 1));
  const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), status: "booked" });
  const { ok, data } = await api("GET", `/api/v1/bookings?${params}`);
  if (!ok) { showBookingsMessage(errorMessage(data, "Les rendez-vous n'ont pas pu être chargés."), true); return; }
  const shown = filtered ? data.filter((b) => matches(b, query)) : data;
  state.bookings = new Map(shown.map((b) => [b.id, b]));
  const empty = document.getElementById("bookings-empty");
  empty.textContent = filtered ? "Aucun rendez-vous à ce nom ou à ce numéro sur ces 14 jours." : "Aucun rendez-vous ce jour-là.";
  empty.hidden = shown.length > 0;
  document.querySelector("table.bookings").hidden = shown.length === 0;
  document.getElementById("bookings").replaceChildren(...shown.map((b, i) => el("tr", {
    "data-booking": b.id, tabindex: i === 0 ? "0" : "-1", class: "booking-row",
    "aria-label": `${bookingSummary(b)}${b.confirmed_at ? ", confirmé" : ""}`,
  },
    el("td", {}, dayLabel(b.slot.start)),
    el("td", {}, doctorName(b.practitioner)),
    el("td", { class: "wrap" }, patientCell(b, filtered)),
    el("td", {}, b.confirmed_at ? el("span", { class: "badge status-confirmed" }, "confirmé")
      : el("span", { class: "badge status-booked" }, "réservé")),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "small", tabindex: "-1", onclick: () => startMove(b.id),
                     "aria-label": `Déplacer le rendez-vous de ${TIME.format(new Date(b.slot.start))}` }, "Déplacer"),
      el("button", { type: "button", class: "small danger", tabindex: "-1", onclick: () => askCancel(b.id),
                     "aria-label": `Annuler le rendez-vous de ${TIME.format(new Date(b.slot.start))}` }, "Annuler")))));
  if (focusIndex !== null) focusRow(focusIndex);
}

function rows() { return [...document.querySelectorAll("#bookings tr[data-booking]")]; }

// Focus on the row at ``index`` (the next one after a cancel: the last if it was the last); with no row left,
// on the list's "no booking" line: never the page's body.
function focusRow(index) {
  const all = rows();
  if (!all.length) { document.getElementById("bookings-empty").focus(); return; }
  const row = all[Math.max(0, Math.min(index, all.length - 1))];
  all.forEach((r) => r.setAttribute("tabindex", r === row ? "0" : "-1"));
  row.focus();
}

document.getElementById("bookings").addEventListener("keydown", (event) => {
  const row = event.target.closest("tr[data-booking]");
  if (!row || event.target !== row || event.altKey || event.ctrlKey || event.metaKey) return;
  const all = rows();
  const index = all.indexOf(row);
  const id = Number(row.dataset.booking);
  const key = event.key.toLowerCase();
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    focusRow(index + (event.key === "ArrowDown" ? 1 : -1));
  } else if (event.key === "Home" || event.key === "End") {
    event.preventDefault();
    focusRow(event.key === "Home" ? 0 : all.length - 1);
  } else if (key === "a" || event.key === "Delete") {
    event.preventDefault();
    askCancel(id);
  } else if (key === "d") {
    event.preventDefault();
    startMove(id);
  }
});

// "Rendez-vous ↓", one Shift+Tab before the call's first field: Enter puts the focus on the list's first row.
document.getElementById("to-bookings").addEventListener("click", (event) => {
  event.preventDefault();
  document.getElementById("today-title").scrollIntoView({ block: "start" });
  focusRow(0);
});

// The list of the day of a booking just made, moved or accepted, so that the regulator sees it there (an evening
// booking is often tomorrow's); a name typed in the filter keeps its 14 days.
async function showBookingDay(booking, { focus = false } = {}) {
  if (!filterActive()) dayInput.value = parisClock(new Date(booking.slot.start)).day;
  await loadBookings();
  if (!focus) return;
  const index = rows().findIndex((r) => Number(r.dataset.booking) === booking.id);
  focusRow(Math.max(index, 0));
}

function setDay(day) {
  dayInput.value = day;
  loadBookings();
}
document.getElementById("bookings-prev").addEventListener("click", () => setDay(shiftDay(dayInput.value, -1)));
document.getElementById("bookings-next").addEventListener("click", () => setDay(shiftDay(dayInput.value, 1)));
document.getElementById("bookings-today").addEventListener("click", () => setDay(parisClock().day));
dayInput.addEventListener("change", () => { if (dayInput.value) loadBookings(); });
const filterSoon = debounce(() => loadBookings(), 250);
filterInput.addEventListener("input", filterSoon);
filterInput.addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown" || event.key === "Enter") { event.preventDefault(); filterSoon.cancel(); loadBookings({ focusIndex: 0 }); }
});

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
  const index = rows().findIndex((r) => Number(r.dataset.booking) === bookingId);
  const answer = await api("POST", `/api/v1/bookings/${bookingId}/cancel`, { by, reason: null });
  state.afterCancel = index;  // the dialog's close leaves focus to the reloaded list
  cancelDialog.close();
  if (answer.ok) {
    const asker = by === "patient" ? "à la demande du patient" : `à l'initiative de ${button.textContent.trim().toLowerCase()}`;
    showBookingsMessage(`${bookingSummary(booking)} : annulé ${asker}. Le créneau est de nouveau libre.`, false, false);
  } else {
    showBookingsMessage(errorMessage(answer.data, "L'annulation n'a pas abouti."), true, false);
  }
  // The row that took the cancelled one's place (the next), or the last one.
  await loadBookings({ focusIndex: Math.max(index, 0) });
  state.afterCancel = null;
});
cancelDialog.addEventListener("close", () => {
  if (state.afterCancel === null || state.afterCancel === undefined) {
    const row = document.querySelector(`tr[data-booking="${state.cancelling}"]`);
    if (row) row.focus(); else focusRow(0);
  }
  state.cancelling = null;
});

function showBookingsMessage(text, isError = false, takeFocus = true) {
  const box = document.getElementById("bookings-message");
  box.textContent = text;
  box.className = `flash ${isError ? "flash-error" : "flash-success"}`;
  box.hidden = false;
  box.setAttribute("tabindex", "-1");
  if (takeFocus) box.focus();
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
    const row = document.querySelector(`tr[data-booking="${moving.id}"]`);
    (row || document.getElementById("last_name")).focus();
  }
}

async function moveTo(result) {
  const answer = await api("POST", `/api/v1/bookings/${state.moving.id}/move`, { slot_id: result.slot.id });
  if (answer.ok) {
    endMove({ quiet: true });
    showConfirmation("Rendez-vous déplacé", answer.data, undefined, false);
    // The list turns to the moved booking's new day, focus on its row: never the page's body.
    await showBookingDay(answer.data, { focus: true });
  } else {
    handleRefusal(answer);
  }
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.moving && !cancelDialog.open) { event.preventDefault(); endMove(); }
});

// ---------------------------------------------------------------- slot requests (nothing fits)
const slotRequests = new SlotRequests({
  list: document.getElementById("slot-requests"), empty: document.getElementById("slot-requests-empty"),
  message: document.getElementById("requests-message"),
  onAccepted: (booking) => { showBookingDay(booking); slotRequests.say(`Demande acceptée : rendez-vous confirmé le ${DAY_TIME.format(new Date(booking.slot.start))} avec ${doctorName(booking.practitioner)}.`); },
});

async function requestSlot() {
  const body = patientForm.booking(0);
  if (!body) return;  // errors shown next to the fields
  delete body.slot_id;
  const hours = Number(document.getElementById("window").value);
  const now = new Date();
  const request = { ...body, commune_insee: patientForm.commune(), radius_km: Number(document.getElementById("radius").value),
                    profession: document.getElementById("profession").value || "gp",
                    mode: document.getElementById("mode").value || "office",
                    not_before: now.toISOString(), not_after: new Date(now.getTime() + hours * 3600 * 1000).toISOString() };
  if (!request.commune_insee) { showResultsMessage("Indiquez la commune du patient : la demande part vers les professionnels proches."); return; }
  const answer = await slotRequests.send(request);
  if (answer.ok) {
    patientForm.reset();
    state.idempotency = {};
    clearResults();
    document.getElementById("requests-message").setAttribute("tabindex", "-1");
    document.getElementById("requests-message").focus();
  } else if (!(answer.status === 422 && patientForm.showServerError(answer.data))) {
    showResultsMessage(errorMessage(answer.data));
  }
}
document.getElementById("request-slot").addEventListener("click", requestSlot);

clearResults();
loadBookings();
