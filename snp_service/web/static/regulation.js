// The regulator's console and the shared agenda. Keyboard first: the caller is on the line.
// Patient details stay in this tab (sessionStorage) when the regulator goes to the agenda and
// back; they never go into a URL.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const DAY_TIME = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "Europe/Paris", weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
});
const TIME = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });
const SHORT_DAY = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", weekday: "short", day: "numeric" });
const FORM_KEY = "snp-regulation-patient";

async function api(method, url, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = CSRF;
  }
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                      credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  return { status: response.status, ok: response.ok, data };
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function doctorName(p) { return `Dr ${p.first_name} ${p.last_name}`; }

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// ---------------------------------------------------------------- console
function initConsole(root) {
  const form = document.getElementById("patient-form");
  const list = document.getElementById("results");
  const state = { results: [], highlighted: 0, moving: null, idempotency: {}, practitioners: null, busy: false };
  const chosen = JSON.parse(root.dataset.chosen || "null");

  restoreForm(form);
  // A visit from the SAS platform's booking link books with channel "sas".
  const visitChannel = document.getElementById("visit-channel");
  if (visitChannel) form.elements.channel.value = visitChannel.value;
  form.addEventListener("input", () => saveForm(form));
  form.addEventListener("submit", (event) => { event.preventDefault(); bookHighlighted(); });
  for (const radio of form.querySelectorAll('input[name="has_treating_doctor"]')) {
    radio.addEventListener("change", () => { showTreatingLookup(); refresh(); });
  }
  showTreatingLookup();
  document.getElementById("treating_name").addEventListener("input", pickTreatingDoctor);
  document.getElementById("treating_name").addEventListener("focus", loadPractitioners);
  document.getElementById("treating_rpps").addEventListener("input", debounce(refresh, 300));
  for (const id of ["commune", "window", "radius", "mode"]) {
    document.getElementById(id).addEventListener("change", refresh);
  }
  list.addEventListener("keydown", onListKey);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.moving) endMove();
  });

  function treatingAnswer() { return form.querySelector('input[name="has_treating_doctor"]:checked').value; }

  function showTreatingLookup() {
    document.getElementById("treating-lookup").hidden = treatingAnswer() !== "yes";
  }

  async function loadPractitioners() {
    if (state.practitioners) return;
    const { ok, data } = await api("GET", "/api/v1/practitioners");
    state.practitioners = ok ? data : [];
    const options = document.getElementById("treating-options");
    options.replaceChildren(...state.practitioners.map(
      (p) => el("option", { value: `${p.last_name} ${p.first_name} — ${p.rpps}` })));
  }

  function pickTreatingDoctor(event) {
    const match = /(\d{11})\s*$/.exec(event.target.value);
    if (match) {
      document.getElementById("treating_rpps").value = match[1];
      saveForm(form);
      refresh();
    }
  }

  function searchParams() {
    const params = new URLSearchParams();
    const hours = Number(document.getElementById("window").value);
    params.set("to", new Date(Date.now() + hours * 3600 * 1000).toISOString());
    const commune = document.getElementById("commune").value;
    if (commune) {
      params.set("commune", commune);
      params.set("radius_km", document.getElementById("radius").value);
    }
    const mode = document.getElementById("mode").value;
    if (mode) params.set("mode", mode);
    const rpps = document.getElementById("treating_rpps").value.trim();
    if (treatingAnswer() === "yes" && /^\d{11}$/.test(rpps)) params.set("treating_rpps", rpps);
    params.set("limit", "20");
    return params;
  }

  async function refresh() {
    const { ok, data } = await api("GET", `/api/v1/slots/search?${searchParams()}`);
    if (!ok) return showErrors(data);
    let results = data.results;
    if (chosen && !state.moving) {
      results = [chosen, ...results.filter((r) => r.slot.id !== chosen.slot.id)];
    }
    showResults(results, 0);
  }

  function showResults(results, highlighted) {
    state.results = results;
    state.highlighted = Math.min(highlighted, Math.max(results.length - 1, 0));
    document.getElementById("results-empty").hidden = results.length > 0;
    list.replaceChildren(...results.map((r, i) => el("li", {
      role: "option", id: `result-${i}`, class: "result" + (r.is_treating_doctor ? " treating" : ""),
      onclick: () => { state.highlighted = i; paintHighlight(); list.focus(); },
      ondblclick: () => { state.highlighted = i; bookHighlighted(); },
    },
    el("strong", {}, DAY_TIME.format(new Date(r.slot.start))),
    el("span", {}, ` · ${doctorName(r.practitioner)}`),
    r.is_treating_doctor ? el("span", { class: "badge status-booked" }, "médecin traitant") : null,
    el("span", { class: "muted" }, ` · ${r.practitioner.address || ""} ${r.practitioner.commune_insee || ""}`),
    r.distance_km !== null ? el("span", { class: "muted" }, ` · ${r.distance_km.toFixed(1)} km`) : null)));
    paintHighlight();
  }

  function paintHighlight() {
    list.querySelectorAll("li").forEach((li, i) => li.setAttribute("aria-selected", String(i === state.highlighted)));
    const current = list.querySelector('[aria-selected="true"]');
    if (current) {
      list.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    }
  }

  function onListKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      state.highlighted = Math.max(0, Math.min(state.results.length - 1, state.highlighted + step));
      paintHighlight();
    } else if (event.key === "Enter") {
      event.preventDefault();
      bookHighlighted();
    }
  }

  function patientFromForm() {
    const value = (name) => form.elements[name].value.trim();
    return {
      last_name: value("last_name"), first_name: value("first_name"), birth_date: value("birth_date") || null,
      phone: value("phone"), commune_insee: value("commune_insee") || null,
      has_treating_doctor: treatingAnswer(),
      treating_rpps: treatingAnswer() === "yes" && value("treating_rpps") ? value("treating_rpps") : null,
    };
  }

  async function bookHighlighted() {
    const result = state.results[state.highlighted];
    if (!result || state.busy) return;
    state.busy = true;
    try {
      if (state.moving) await moveTo(result); else await book(result);
    } finally {
      state.busy = false;
    }
  }

  async function book(result) {
    const slotId = result.slot.id;
    // One key per slot chosen for this caller: a retried click never books twice.
    state.idempotency[slotId] = state.idempotency[slotId] || crypto.randomUUID();
    const body = {
      slot_id: slotId, patient: patientFromForm(), reason: form.elements.reason.value.trim() || null,
      channel: form.elements.channel.value, notify_patient: form.elements.notify_patient.checked,
    };
    const answer = await api("POST", "/api/v1/bookings", body, { "Idempotency-Key": state.idempotency[slotId] });
    handleBookingAnswer(answer, "Rendez-vous confirmé");
    if (answer.ok) {
      sessionStorage.removeItem(FORM_KEY);
      form.reset();
      showTreatingLookup();
      state.idempotency = {};
    }
  }

  async function moveTo(result) {
    const answer = await api("POST", `/api/v1/bookings/${state.moving}/move`, { slot_id: result.slot.id });
    handleBookingAnswer(answer, "Rendez-vous déplacé");
    if (answer.ok) endMove();
  }

  function handleBookingAnswer({ status, ok, data }, title) {
    if (ok) {
      showErrors(null);
      confirmBooking(data, title);
      loadBookings();
      refresh();
    } else if (status === 409 && data.error && data.error.code === "slot_unavailable") {
      showErrors({ error: { message: "Ce créneau vient d'être pris. Autres créneaux proposés ci-dessous." } });
      showResults(data.error.alternatives || [], 0);
      list.focus();
    } else {
      showErrors(data);
    }
  }

  function confirmBooking(booking, title) {
    const box = document.getElementById("confirmation");
    const p = booking.practitioner;
    box.replaceChildren(
      el("h2", {}, title),
      el("p", { class: "readback" },
        `${DAY_TIME.format(new Date(booking.slot.start))} avec ${doctorName(p)}, ` +
        `${p.address || "adresse non renseignée"} (${p.commune_insee || ""}).`),
      p.phone ? el("p", { class: "muted" }, `Téléphone du cabinet : ${p.phone}`) : null,
      el("p", { class: "muted" }, booking.patient && form.elements.notify_patient
        ? "Le patient recevra un SMS de confirmation s'il l'a accepté." : ""));
    box.hidden = false;
    box.focus();
  }

  function showErrors(data) {
    const box = document.getElementById("form-errors");
    if (!data || !data.error) { box.hidden = true; return; }
    const fields = data.error.fields || {};
    const names = Object.keys(fields.patient || {}).concat(Object.keys(fields).filter((k) => k !== "patient"));
    box.textContent = data.error.message + (names.length ? ` (${names.map(label).join(", ")})` : "");
    box.hidden = false;
  }

  function label(name) {
    const input = document.getElementById(name === "commune_insee" ? "commune" : name);
    const text = input && document.querySelector(`label[for="${input.id}"]`);
    return text ? text.textContent : name;
  }

  async function loadBookings() {
    const from = new Date(); from.setHours(0, 0, 0, 0);
    const to = new Date(from.getTime() + 2 * 86400 * 1000);
    const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), status: "booked" });
    const { ok, data } = await api("GET", `/api/v1/bookings?${params}`);
    if (!ok) return;
    document.getElementById("bookings").replaceChildren(...data.map((b) => el("tr", {},
      el("td", {}, `${SHORT_DAY.format(new Date(b.slot.start))} ${TIME.format(new Date(b.slot.start))}`),
      el("td", {}, doctorName(b.practitioner)),
      el("td", {}, b.patient ? `${b.patient.last_name} ${b.patient.first_name}` : "—"),
      el("td", {}, el("span", { class: `badge status-${b.status}` }, b.status === "booked" ? "réservé" : "annulé")),
      el("td", { class: "actions" },
        el("button", { type: "button", onclick: () => startMove(b.id) }, "Déplacer"),
        el("button", { type: "button", class: "danger", onclick: () => cancel(b.id) }, "Annuler")))));
  }

  async function cancel(bookingId) {
    const byPatient = window.confirm("Annuler ce rendez-vous à la demande du patient ? (Annuler = à l'initiative de la régulation)");
    const answer = await api("POST", `/api/v1/bookings/${bookingId}/cancel`,
                             { by: byPatient ? "patient" : "regulator", reason: null });
    if (!answer.ok) showErrors(answer.data);
    loadBookings();
    refresh();
  }

  function startMove(bookingId) {
    state.moving = bookingId;
    document.getElementById("move-banner").hidden = false;
    refresh().then(() => list.focus());
  }

  function endMove() {
    state.moving = null;
    document.getElementById("move-banner").hidden = true;
  }

  refresh();
  loadBookings();
  if (chosen) list.focus();
}

function saveForm(form) {
  const values = {};
  for (const input of form.elements) {
    if (!input.name) continue;
    if (input.type === "radio") { if (input.checked) values[input.name] = input.value; }
    else if (input.type === "checkbox") values[input.name] = input.checked;
    else values[input.name] = input.value;
  }
  sessionStorage.setItem(FORM_KEY, JSON.stringify(values));
}

function restoreForm(form) {
  const values = JSON.parse(sessionStorage.getItem(FORM_KEY) || "{}");
  for (const input of form.elements) {
    if (!input.name || !(input.name in values)) continue;
    if (input.type === "radio") input.checked = input.value === values[input.name];
    else if (input.type === "checkbox") input.checked = values[input.name];
    else input.value = values[input.name];
  }
}

// ---------------------------------------------------------------- shared agenda
function initAgenda(root) {
  const dayInput = document.getElementById("agenda-day");
  const daysInput = document.getElementById("agenda-days");
  const refreshSeconds = Number(root.dataset.refreshSeconds || 5);

  async function load() {
    const params = new URLSearchParams({ day: dayInput.value, days: daysInput.value });
    if (root.dataset.practitionerId) params.set("practitioner_id", root.dataset.practitionerId);
    const { ok, data } = await api("GET", `/regulation/agenda.json?${params}`);
    if (!ok) return;
    root.querySelector(".agenda-grid").replaceChildren(...data.communes.map((commune) => el("section",
      { class: "agenda-commune" }, el("h2", {}, commune.name),
      el("div", { class: "agenda-columns" }, ...commune.practitioners.map(column)))));
    document.getElementById("agenda-updated").textContent = `Mis à jour à ${TIME.format(new Date())}`;
  }

  function column(col) {
    return el("div", { class: "agenda-column" },
      el("h3", {}, col.practitioner.name),
      el("p", { class: "muted" }, col.practitioner.address || ""),
      el("ul", {}, ...col.slots.map((s) => el("li", {}, slotButton(s)))));
  }

  function slotButton(slot) {
    const text = `${SHORT_DAY.format(new Date(slot.start))} ${TIME.format(new Date(slot.start))}` +
      (slot.initials ? ` · ${slot.initials}` : "");
    if (slot.status !== "free") {
      return el("span", { class: `agenda-slot status-${slot.status}` }, text);
    }
    const visitChannel = document.getElementById("visit-channel");
    const channel = visitChannel ? `&channel=${encodeURIComponent(visitChannel.value)}` : "";
    return el("a", { class: "agenda-slot status-free", href: `/regulation?slot=${slot.id}${channel}`,
                     title: "Réserver ce créneau" }, text);
  }

  dayInput.addEventListener("change", load);
  daysInput.addEventListener("change", load);
  load();
  setInterval(load, refreshSeconds * 1000);
}

const consoleRoot = document.getElementById("console");
if (consoleRoot) initConsole(consoleRoot);
const agendaRoot = document.getElementById("agenda");
if (agendaRoot) initAgenda(agendaRoot);
