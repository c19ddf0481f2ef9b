// The shared agenda as a planning grid: each day's hours down the side, one column per practitioner
// of the area grouped by commune. Arrows move between cells, Enter on a free cell opens the patient
// form to book it. The grid polls a small JSON document (answered 304 while nothing changed), so the
// other regulators' bookings appear within a few seconds.
import { DAY_TIME, LONG_DAY, MODES, PROFESSIONS, TIME, api, doctorName, el, errorMessage, parisClock } from "./common.js";
import { PatientForm } from "./patient_form.js";

// A column's profession in a few letters, under the name.
const PROFESSION_SHORT = { gp: "MG", nurse: "IDE", physiotherapist: "MK", pharmacist: "Pharm.", midwife: "SF" };
const root = document.getElementById("agenda");
const table = document.getElementById("planning");
const scroller = document.getElementById("grid-scroll");
const nowLine = document.getElementById("now-line");
const dialog = document.getElementById("book-dialog");
const formElement = document.getElementById("patient-form");
const dayInput = document.getElementById("agenda-day");
const daysInput = document.getElementById("agenda-days");
const communeInput = document.getElementById("agenda-commune");
const stepInput = document.getElementById("agenda-step");
// Up to this many practitioners the names fit upright in wider columns.
const FEW_COLUMNS = 6;
const STATUS_TEXT = { free: "libre", booked: "réservé", withdrawn: "retiré", expired: "passé" };

const state = {
  data: null, etag: null, text: null,
  cells: [],        // cells[row][col]: the cell element covering that position (rowspans included)
  rowMinutes: [],   // rowMinutes[row]: {day, minute} of each time row, across the days shown
  cursor: { row: 0, col: 0 }, slots: new Map(), booking: null, returnTo: null, loaded: false,
  opened: null,     // the booking open in the booking dialog
  moving: null,     // the booking being moved: Enter on a free cell moves it there
};
const patientForm = new PatientForm(formElement);

// ---------------------------------------------------------------- loading
function params() {
  const query = new URLSearchParams({ day: dayInput.value || root.dataset.day, days: daysInput.value });
  if (root.dataset.practitionerId) query.set("practitioner_id", root.dataset.practitionerId);
  if (communeInput && communeInput.value) query.set("commune", communeInput.value);
  if (stepInput && stepInput.value !== "15") query.set("step", stepInput.value);
  return query;
}

async function load() {
  const headers = { Accept: "application/json" };
  if (state.etag) headers["If-None-Match"] = state.etag;
  let response;
  try {
    // The ETag is ours to send: the HTTP cache would answer 200 from its copy and hide the 304.
    response = await fetch(`${root.dataset.dataUrl}?${params()}`, { headers, cache: "no-store", credentials: "same-origin" });
  } catch (error) {
    setUpdated("Serveur injoignable, nouvel essai dans quelques secondes.");
    return;
  }
  if (response.status === 304) { setUpdated(); return; }
  const text = await response.text();
  if (!response.ok) { setUpdated(errorMessage(JSON.parse(text || "{}"), "Agenda indisponible.")); return; }
  state.etag = response.headers.get("ETag");
  if (text !== state.text) {
    state.text = text;
    state.data = JSON.parse(text);
    render();
  }
  setUpdated();
}

function setUpdated(problem) {
  document.getElementById("agenda-updated").textContent = problem || `Mis à jour à ${TIME.format(new Date())}`;
}

function reload() {
  state.etag = null;
  state.text = null;
  state.loaded = false;
  history.replaceState(null, "", `${location.pathname}?${new URLSearchParams([...params()].filter(([k]) => k !== "commune"))}`);
  load();
}

// ---------------------------------------------------------------- drawing
function columns() {
  return state.data.communes.flatMap((c) => c.practitioners.map((p) => ({ ...p, commune: c.name })));
}

function render() {
  const focused = table.contains(document.activeElement) ? currentKey() : null;
  const data = state.data;
  const cols = columns();
  document.getElementById("grid-empty").hidden = cols.length > 0;
  table.hidden = cols.length === 0;
  table.style.setProperty("--cols", String(cols.length));
  table.classList.toggle("few", cols.length <= FEW_COLUMNS);
  state.slots = new Map(data.slots.map((s) => [s.id, s]));
  state.cells = [];
  state.rowMinutes = [];
  const head = el("thead", {},
    el("tr", { class: "communes" }, el("th", { class: "corner", rowspan: "2", scope: "col" }, "Heure"),
      ...data.communes.map((c) => el("th", { scope: "colgroup", colspan: String(c.practitioners.length), title: c.name },
        communeHeader(c.name, c.practitioners.length)))),
    el("tr", { class: "names" }, ...cols.map((p) => el("th", { scope: "col", title: `${p.name}, ${PROFESSIONS[p.profession] || ""}, ${p.commune}`,
                                                         "data-profession": p.profession },
      el("span", { class: "vname", "aria-hidden": "true" }, p.short_name),
      el("span", { class: "vprofession", "aria-hidden": "true" }, PROFESSION_SHORT[p.profession] || ""),
      el("span", { class: "sr-only" }, `${p.name}, ${PROFESSIONS[p.profession] || ""}`)))));
  const byColumnDay = new Map();
  for (const slot of data.slots) {
    const key = `${slot.practitioner_id} ${slot.day}`;
    if (!byColumnDay.has(key)) byColumnDay.set(key, []);
    byColumnDay.get(key).push(slot);
  }
  const bodies = data.days.map((day) => dayBody(day, cols, data.step_minutes, byColumnDay));
  table.replaceChildren(table.querySelector("caption"), head, ...bodies);
  const days = data.days.map((d) => LONG_DAY.format(new Date(`${d.date}T12:00:00Z`)));
  document.getElementById("grid-day").textContent = days.length > 1 ? `Du ${days[0]} au ${days[days.length - 1]}` : days[0];
  if (!state.loaded) {
    state.loaded = true;
    state.cursor = startCursor();
    // The regulator came to plan: the first free slot has focus, unless they are already elsewhere.
    const untouched = document.activeElement === document.body || table.contains(document.activeElement);
    setCursor(state.cursor, { focus: false });
    scrollToCursor();
    if (untouched) cellAt(state.cursor)?.focus({ preventScroll: true });
  } else {
    restore(focused);
  }
  placeNowLine();
}

// A commune's header: its name, broken only between words ("Saint-Gilles-Croix-de-Vie" may break after a
// hyphen); in a group too narrow for its longest word, the name abbreviated (the full name is the tooltip).
const ABBREVIATIONS = [[/^Saint-/, "St-"], [/^Sainte-/, "Ste-"], [/-Saint-/g, "-St-"], [/-Sainte-/g, "-Ste-"],
                       [/-sur-/g, "-s/-"]];
function communeLabel(name, columnsWide) {
  const room = columnsWide * 8;  // about 8 characters per 50-pixel column at this size
  const words = (text) => text.split(/(?<=[-\s])/);
  let label = name;
  for (const [pattern, short] of ABBREVIATIONS) {
    if (Math.max(...words(label).map((w) => w.length)) <= room && label.length <= 2 * room) break;
    label = label.replace(pattern, short);
  }
  return label;
}

function communeHeader(name, columnsWide) {
  const label = communeLabel(name, columnsWide);
  // A break opportunity (<wbr>) after each hyphen, none inside a word.
  const parts = label.split(/(?<=-)/).flatMap((part, i) => (i ? [el("wbr"), part] : [part]));
  if (label === name) return el("span", { class: "clip" }, ...parts);
  return el("span", {}, el("span", { class: "clip", "aria-hidden": "true" }, ...parts), el("span", { class: "sr-only" }, name));
}

function dayBody(day, cols, step, byColumnDay) {
  const rows = (day.last_minute - day.first_minute) / step;
  const first = state.rowMinutes.length;
  const bySlot = cols.map((p) => byColumnDay.get(`${p.id} ${day.date}`) || []);
  const body = el("tbody", { "data-day": day.date },
    el("tr", { class: "day-row" }, el("th", { scope: "colgroup", colspan: String(cols.length + 1) },
      el("span", { class: "day-label" }, LONG_DAY.format(new Date(`${day.date}T12:00:00Z`))))));
  const trs = [];
  for (let r = 0; r < rows; r++) {
    const minute = day.first_minute + r * step;
    state.rowMinutes.push({ day: day.date, minute });
    state.cells.push(new Array(cols.length));
    // Full hours read "09:00", the rows between ":15"; the day's first row says its hour too.
    const label = minute % 60 === 0 || r === 0 ? hhmm(minute) : `:${String(minute % 60).padStart(2, "0")}`;
    trs.push(el("tr", { class: minute % 60 === 0 ? "hour" : "" },
      el("th", { scope: "row", class: minute % 60 === 0 ? "time on-hour" : "time" },
        el("span", { "aria-hidden": "true" }, label), el("span", { class: "sr-only" }, hhmm(minute)))));
  }
  cols.forEach((p, c) => {
    const placed = place(bySlot[c], day.first_minute, step, rows);
    for (let r = 0; r < rows; r++) {
      const cell = placed.find((x) => x.row === r);
      if (cell) {
        const td = slotCell(cell.slots, first + r, c, cell.span, day.first_minute + r * step, step);
        trs[r].append(td);
        for (let k = 0; k < cell.span; k++) state.cells[first + r + k][c] = td;
        r += cell.span - 1;
      } else {
        const td = el("td", { role: "gridcell", class: "empty", tabindex: "-1", "data-row": String(first + r), "data-col": String(c) });
        trs[r].append(td);
        state.cells[first + r][c] = td;
      }
    }
  });
  body.append(...trs);
  return body;
}

// Slots of one column and day as cells: a row, a height in rows, and the slots it shows (a withdrawn
// slot may share its time with the slot published after it).
function place(slots, firstMinute, step, rows) {
  const cells = [];
  for (const slot of slots) {
    const row = Math.max(0, Math.floor((slot.start_minute - firstMinute) / step));
    const end = Math.min(rows, Math.max(row + 1, Math.ceil((slot.end_minute - firstMinute) / step)));
    const previous = cells[cells.length - 1];
    if (previous && row < previous.row + previous.span) {
      previous.slots.push(slot);
      previous.span = Math.max(previous.span, end - previous.row);
    } else {
      cells.push({ row, span: end - row, slots: [slot] });
    }
  }
  return cells;
}

// The slot a cell offers: the bookable one first, then any live one, then the withdrawn.
function mainSlot(slots) {
  return slots.find((s) => s.bookable) || slots.find((s) => s.status !== "withdrawn") || slots[0];
}

function slotCell(slots, row, col, span, cellMinute, step) {
  const slot = mainSlot(slots);
  const kind = slot.bookable ? "free" : slot.status === "booked" ? "booked" : slot.status === "withdrawn" ? "withdrawn" : "past";
  const when = `${TIME.format(new Date(slot.start))} à ${TIME.format(new Date(slot.end))}`;
  const mode = slot.mode !== "office" ? `, ${MODES[slot.mode]}` : "";
  const visible = { free: "libre", booked: slot.initials || "réservé", withdrawn: "retiré", past: "passé" }[kind];
  const confirmed = kind === "booked" && slot.confirmed ? ", confirmé" : "";
  const spoken = kind === "booked" ? `réservé${slot.initials ? ` (${slot.initials})` : ""}${confirmed}` : kind === "past" ? "passé" : STATUS_TEXT[slot.status];
  const action = kind === "free" ? ", Entrée pour réserver" : kind === "booked" && slot.booking_id ? ", Entrée pour annuler ou déplacer" : "";
  return el("td", {
    role: "gridcell", class: `slot slot-${kind}${span > 1 ? " tall" : ""}`, tabindex: "-1", rowspan: span > 1 ? String(span) : null,
    "data-row": String(row), "data-col": String(col), "data-slot": String(slot.id), title: `${visible}${confirmed} ${when}${mode}`,
  }, ...slots.filter((s) => s === slot || s.status !== "withdrawn").map((s) => slotBlock(s, s === slot ? el("span", {
    class: "cell-text" }, visible, confirmed ? el("span", { class: "confirmed-mark" }, " ✓ confirmé") : null,
    slot.mode !== "office" ? el("span", { class: "mode" }, slot.mode === "teleconsultation" ? " T" : " V") : null) : null,
    cellMinute, step)),
     el("span", { class: "sr-only" }, `${spoken} de ${when}${mode}${action}`));
}

// A slot drawn at its true start and length inside its cell, in rows of the grid's step (a 20-minute slot is
// 1⅓ rows of 15 minutes): the rows keep their scale whatever the slots' lengths.
function slotBlock(slot, text, cellMinute, step) {
  const kind = slot.bookable ? "free" : slot.status === "booked" ? "booked" : slot.status === "withdrawn" ? "withdrawn" : "past";
  const block = el("span", { class: `slot-block slot-${kind}`, "aria-hidden": "true" }, text);
  block.style.setProperty("--top", String((slot.start_minute - cellMinute) / step));
  block.style.setProperty("--len", String((slot.end_minute - slot.start_minute) / step));
  return block;
}

function hhmm(minute) { return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`; }

// ---------------------------------------------------------------- the "now" line
function placeNowLine() {
  const now = parisClock();
  const row = state.rowMinutes.findIndex((r, i) => r.day === now.day && r.minute <= now.minute
    && (i + 1 === state.rowMinutes.length || state.rowMinutes[i + 1].day !== now.day || state.rowMinutes[i + 1].minute > now.minute));
  const step = state.data ? state.data.step_minutes : 15;
  const tr = row >= 0 ? state.cells[row][0]?.parentElement : null;
  const within = row >= 0 && now.minute < state.rowMinutes[row].minute + step;
  if (!tr || !within) { nowLine.hidden = true; return; }
  const rowTop = table.querySelectorAll("tbody tr:not(.day-row)")[row];
  const fraction = (now.minute - state.rowMinutes[row].minute) / step;
  nowLine.style.top = `${table.offsetTop + rowTop.offsetTop + fraction * rowTop.offsetHeight}px`;
  nowLine.style.width = `${table.offsetWidth}px`;
  nowLine.querySelector("span").textContent = `maintenant ${hhmm(now.minute)}`;
  nowLine.hidden = false;
}
setInterval(placeNowLine, 30_000);

// ---------------------------------------------------------------- moving around
function startCursor() {
  // The first bookable slot from now on, else the current hour of the first column.
  const now = parisClock();
  const free = [...table.querySelectorAll("td.slot-free")].map((td) => ({ row: Number(td.dataset.row), col: Number(td.dataset.col) }));
  free.sort((a, b) => a.row - b.row || a.col - b.col);
  if (free.length) return free[0];
  const row = state.rowMinutes.findIndex((r) => r.day === now.day && r.minute + state.data.step_minutes > now.minute);
  return { row: Math.max(row, 0), col: 0 };
}

function findCellOfSlot(slotId) {
  for (const row of state.cells) for (const td of row) if (td && td.dataset.slot === String(slotId)) return td;
  return null;
}

function currentKey() {
  const td = cellAt(state.cursor);
  const cols = columns();
  return { slot: td && td.dataset.slot, practitioner: cols[state.cursor.col] && cols[state.cursor.col].id,
           time: state.rowMinutes[state.cursor.row] };
}

function restore(key) {
  let cursor = state.cursor;
  if (key) {
    const bySlot = key.slot && table.querySelector(`td[data-slot="${key.slot}"]`);
    const col = columns().findIndex((p) => p.id === key.practitioner);
    const row = key.time ? state.rowMinutes.findIndex((r) => r.day === key.time.day && r.minute === key.time.minute) : -1;
    if (bySlot) cursor = { row: Number(bySlot.dataset.row), col: Number(bySlot.dataset.col) };
    else if (col >= 0 && row >= 0) cursor = { row, col };
  }
  setCursor(clamp(cursor), { focus: Boolean(key) && !dialog.open });
}

function clamp({ row, col }) {
  const rows = state.cells.length;
  const cols = rows ? state.cells[0].length : 0;
  return { row: Math.max(0, Math.min(rows - 1, row)), col: Math.max(0, Math.min(cols - 1, col)) };
}

function cellAt({ row, col }) { return state.cells[row] && state.cells[row][col]; }

function setCursor(cursor, { focus = true } = {}) {
  const previous = table.querySelector('td[tabindex="0"]');
  if (previous) previous.setAttribute("tabindex", "-1");
  state.cursor = cursor;
  const td = cellAt(cursor);
  if (!td) return;
  td.setAttribute("tabindex", "0");
  if (focus) { td.focus({ preventScroll: true }); td.scrollIntoView({ block: "nearest", inline: "nearest" }); }
}

// Show the cursor's row a little below the sticky headers, with the hour before it.
function scrollToCursor() {
  const td = cellAt(state.cursor);
  if (!td) return;
  const row = td.parentElement;
  scroller.scrollTop = Math.max(0, row.offsetTop - table.tHead.offsetHeight - 2 * row.offsetHeight);
}

table.addEventListener("keydown", (event) => {
  const td = event.target.closest("td");
  if (!td) return;
  const here = { row: Number(td.dataset.row), col: Number(td.dataset.col) };
  // A tall cell covers several rows: leave it from its edges, keep the row when moving sideways.
  const top = here.row;
  const bottom = top + Number(td.getAttribute("rowspan") || 1) - 1;
  const row = Math.min(Math.max(state.cursor.row, top), bottom);
  const perHour = 60 / state.data.step_minutes;
  const targets = {
    ArrowUp: { row: top - 1, col: here.col }, ArrowDown: { row: bottom + 1, col: here.col },
    ArrowLeft: { row, col: here.col - 1 }, ArrowRight: { row, col: here.col + 1 },
    Home: { row, col: 0 }, End: { row, col: Infinity },
    PageUp: { row: top - perHour, col: here.col }, PageDown: { row: bottom + perHour, col: here.col },
  };
  if (event.key in targets) {
    event.preventDefault();
    const target = event.ctrlKey && (event.key === "Home" || event.key === "End")
      ? { row: event.key === "Home" ? 0 : Infinity, col: targets[event.key].col } : targets[event.key];
    const next = clamp(target);
    const cell = cellAt(next);
    if (cell) setCursor({ row: next.row, col: next.col });
  } else if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    openBooking(td);
  }
});

table.addEventListener("click", (event) => {
  const td = event.target.closest("td");
  if (!td) return;
  setCursor({ row: Number(td.dataset.row), col: Number(td.dataset.col) });
  if (td.classList.contains("slot-free") || td.classList.contains("slot-booked")) openBooking(td);
});

// ---------------------------------------------------------------- booking from the grid
function openBooking(td) {
  const slot = td.dataset.slot && state.slots.get(Number(td.dataset.slot));
  if (slot && slot.bookable && state.moving) { moveTo(slot); return; }
  if (slot && slot.status === "booked" && slot.booking_id && !state.moving) { openBooked(slot); return; }
  if (!slot || !slot.bookable) {
    say(slot ? `Ce créneau est ${STATUS_TEXT[slot.status] || "indisponible"} : choisissez un créneau libre.` : "Aucun créneau ici : choisissez un créneau libre.");
    return;
  }
  const p = columns().find((c) => c.id === slot.practitioner_id);
  state.booking = slot;
  // One key for this slot and this caller: Enter pressed twice books once.
  state.idempotencyKey = crypto.randomUUID();
  state.returnTo = slot.id;
  document.getElementById("book-title").textContent = "Réserver ce créneau";
  document.getElementById("book-slot").textContent =
    `${DAY_TIME.format(new Date(slot.start))} avec ${p.name}, ${p.commune}${slot.mode !== "office" ? ` (${MODES[slot.mode]})` : ""}.`;
  patientForm.clearErrors();
  patientForm.restoreDraft();
  dialog.showModal();
  document.getElementById("last_name").focus();
}

formElement.addEventListener("submit", async (event) => {
  event.preventDefault();  // the dialog closes only once booked, or on Retour / Escape
  const slot = state.booking;
  const body = slot && !state.busy && patientForm.booking(slot.id);
  if (!body) return;
  state.busy = true;
  const answer = await api("POST", "/api/v1/bookings", body, { "Idempotency-Key": state.idempotencyKey })
    .finally(() => { state.busy = false; });
  if (answer.ok) {
    const p = answer.data.practitioner;
    const who = answer.data.patient ? ` pour ${answer.data.patient.first_name} ${answer.data.patient.last_name}` : "";
    patientForm.reset();
    dialog.close();
    say(`Rendez-vous confirmé${who} : ${DAY_TIME.format(new Date(answer.data.slot.start))} avec ${doctorName(p)}, ${p.address || ""}.`, "success");
    state.etag = null;
    load();
  } else if (answer.status === 409) {
    patientForm.say("Ce créneau vient d'être pris par un autre régulateur : fermez (Retour) et choisissez-en un autre.");
    state.etag = null;
    load();
  } else if (!(answer.status === 422 && patientForm.showServerError(answer.data))) {
    patientForm.say(errorMessage(answer.data));
  }
});
formElement.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("select, input[type=radio], input[type=checkbox]")) {
    event.preventDefault();
    formElement.requestSubmit();
  }
});
document.getElementById("book-cancel").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  state.booking = null;
  const td = state.returnTo && findCellOfSlot(state.returnTo);
  if (td) setCursor({ row: Number(td.dataset.row), col: Number(td.dataset.col) });
  else setCursor(state.cursor);
});

function say(text, kind = "info") {
  const box = document.getElementById("grid-message");
  box.textContent = text;
  box.className = `flash ${kind === "success" ? "flash-success" : ""}`;
  box.hidden = false;
}

// ---------------------------------------------------------------- a booked cell: cancel or move it
// Enter on a booking of the grid's scope opens it (Déplacer has the focus: Entrée, Entrée starts a move; the
// cancel buttons name who asks). After a cancel or a move the focus is back on the cell, never the page's body.
const bookingDialog = document.getElementById("booking-dialog");

async function openBooked(slot) {
  const { ok, data } = await api("GET", `/api/v1/bookings/${slot.booking_id}`);
  if (!ok) { say(errorMessage(data, "Ce rendez-vous n'a pas pu être ouvert.")); return; }
  state.opened = data;
  state.returnTo = slot.id;
  const p = data.practitioner;
  const who = data.patient ? `${data.patient.first_name} ${data.patient.last_name}, ` : "";
  document.getElementById("booking-title").textContent = data.confirmed_at ? "Rendez-vous (confirmé par le patient)" : "Rendez-vous";
  document.getElementById("booking-summary").textContent =
    `${who}${DAY_TIME.format(new Date(data.slot.start))} avec Dr ${p.first_name} ${p.last_name}.`;
  bookingDialog.showModal();
  bookingDialog.querySelector('[data-action="move"]').focus();
}

bookingDialog.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || !state.opened) return;
  const booking = state.opened;
  if (button.dataset.action === "back") { bookingDialog.close(); return; }
  if (button.dataset.action === "move") {
    state.moving = booking;
    bookingDialog.close();
    const banner = document.getElementById("move-banner");
    banner.textContent = `Déplacement du rendez-vous du ${DAY_TIME.format(new Date(booking.slot.start))} : Entrée sur un créneau libre ; Échap pour abandonner.`;
    banner.hidden = false;
    return;
  }
  const answer = await api("POST", `/api/v1/bookings/${booking.id}/cancel`, { by: button.dataset.by, reason: null });
  bookingDialog.close();
  if (answer.ok) say(`Rendez-vous du ${DAY_TIME.format(new Date(booking.slot.start))} annulé. Le créneau est de nouveau libre.`, "success");
  else say(errorMessage(answer.data, "L'annulation n'a pas abouti."));
  state.etag = null;
  await load();
  const td = findCellOfSlot(booking.slot.id);
  if (td) setCursor({ row: Number(td.dataset.row), col: Number(td.dataset.col) });
});
bookingDialog.addEventListener("close", () => {
  state.opened = null;
  const td = state.returnTo && findCellOfSlot(state.returnTo);
  if (td) setCursor({ row: Number(td.dataset.row), col: Number(td.dataset.col) });
});

async function moveTo(slot) {
  const moving = state.moving;
  const answer = await api("POST", `/api/v1/bookings/${moving.id}/move`, { slot_id: slot.id });
  endMove();
  if (answer.ok) {
    say(`Rendez-vous déplacé au ${DAY_TIME.format(new Date(answer.data.slot.start))}.`, "success");
  } else {
    say(errorMessage(answer.data, "Le déplacement n'a pas abouti."));
  }
  state.etag = null;
  await load();
  const td = findCellOfSlot(answer.ok ? answer.data.slot.id : moving.slot.id);
  if (td) setCursor({ row: Number(td.dataset.row), col: Number(td.dataset.col) });
}

function endMove() {
  state.moving = null;
  document.getElementById("move-banner").hidden = true;
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !state.moving || dialog.open || bookingDialog.open) return;
  event.preventDefault();
  const from = state.moving.slot.id;
  endMove();
  say("Déplacement abandonné.");
  const td = findCellOfSlot(from);
  if (td) setCursor({ row: Number(td.dataset.row), col: Number(td.dataset.col) });
});

// ---------------------------------------------------------------- filters
function shiftDay(days) {
  const day = new Date(`${dayInput.value || root.dataset.day}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  dayInput.value = day.toISOString().slice(0, 10);
  reload();
}
document.getElementById("day-before").addEventListener("click", () => shiftDay(-1));
document.getElementById("day-after").addEventListener("click", () => shiftDay(1));
document.getElementById("today").addEventListener("click", () => { dayInput.value = parisClock().day; reload(); });
for (const input of [dayInput, daysInput, communeInput, stepInput]) if (input) input.addEventListener("change", reload);
document.getElementById("grid-filters").addEventListener("submit", (event) => event.preventDefault());

load();
setInterval(() => { if (!document.hidden) load(); }, Number(root.dataset.refreshSeconds || 2) * 1000);
