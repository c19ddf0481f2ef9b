// The caller's details: read, checked in French next to each field, limits counted as one types.
// Shared by the console and the grid's booking dialog. The draft stays in this tab (sessionStorage)
// while the regulator moves between the console and the grid; it never goes into a URL.
import { DoctorCombobox } from "./combobox.js";
import { parisClock } from "./common.js";

const DRAFT_KEY = "snp-regulation-patient";
const MAX_AGE_YEARS = 120;
// Where each field of the API lives in the form.
const FIELD_IDS = { commune_insee: "commune", has_treating_doctor: "treating_name" };
// The API's field messages (English, for programs) as the regulator reads them.
const SERVER_MESSAGES = [
  [/required|missing data/i, "Champ obligatoire."],
  [/not a valid phone/i, "Numéro de téléphone invalide."],
  [/in the future/i, "La date de naissance est dans le futur."],
  [/more than \d+ years/i, `Date de naissance de plus de ${MAX_AGE_YEARS} ans.`],
  [/11 digits/i, "Le RPPS compte 11 chiffres."],
  [/no treating doctor/i, "RPPS donné alors que le patient n'a pas de médecin traitant."],
  [/longer than maximum length (\d+)/i, (m) => `${m[1]} caractères au maximum.`],
  [/not a valid date/i, "Date invalide : jj/mm/aaaa."],
  [/insee/i, "Commune inconnue."],
];

// "02041950" or "2/4/1950" typed, "02/04/1950" shown.
export function maskDate(raw) {
  const parts = raw.split(/\D+/);
  const last = parts.pop();
  const digits = (parts.map((p) => (p.length === 1 ? `0${p}` : p)).join("") + last).slice(0, 8);
  let shown = [digits.slice(0, 2), digits.slice(2, 4), digits.slice(4)].filter(Boolean).join("/");
  if (/\D$/.test(raw) && (digits.length === 2 || digits.length === 4)) shown += "/";
  return shown;
}

// "02/04/1950" → "1950-04-02", or an error message.
export function parseBirthDate(text, today = parisClock().day) {
  const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text.trim());
  if (!match) return { error: "Date attendue au format jj/mm/aaaa." };
  const [, d, m, y] = match;
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) {
    return { error: "Cette date n'existe pas." };
  }
  const iso = `${y}-${m}-${d}`;
  if (iso > today) return { error: "La date de naissance est dans le futur." };
  if (Number(today.slice(0, 4)) - Number(y) > MAX_AGE_YEARS) return { error: `Date de naissance de plus de ${MAX_AGE_YEARS} ans.` };
  return { value: iso };
}

function phoneError(text) {
  const compact = text.replace(/[\s.\-()]/g, "");
  if (!compact) return "Téléphone obligatoire.";
  if (/^0\d{9}$/.test(compact) || /^(\+|00)\d{8,15}$/.test(compact)) return null;
  return "Numéro invalide : 10 chiffres (06 12 34 56 78) ou +indicatif.";
}

function frenchMessage(messages) {
  const text = [].concat(messages).flat().join(" ");
  for (const [pattern, french] of SERVER_MESSAGES) {
    const match = pattern.exec(text);
    if (match) return typeof french === "function" ? french(match) : french;
  }
  return "Valeur refusée.";
}

export class PatientForm {
  constructor(form, { onChange = () => {} } = {}) {
    this.form = form;
    this.onChange = onChange;
    this.message = form.querySelector("#form-message");
    this.rpps = form.querySelector("#treating_rpps");
    this.combobox = new DoctorCombobox(form.querySelector("#treating_name"), {
      onPick: (p) => { this.rpps.value = p.rpps; this.setTreating("yes"); this.changed(); },
      onClear: () => { this.rpps.value = ""; this.changed(); },
    });
    for (const counter of form.querySelectorAll(".counter")) {
      const input = form.querySelector(`#${counter.id.replace(/-count$/, "")}`);
      input.addEventListener("input", () => this.count(input, counter));
    }
    const birth = form.querySelector("#birth_date");
    birth.addEventListener("input", (event) => {
      if (!String(event.inputType || "").startsWith("delete")) birth.value = maskDate(birth.value);
    });
    this.rpps.addEventListener("input", () => {
      this.rpps.value = this.rpps.value.replace(/\D/g, "");
      if (this.rpps.value.length === 11) { this.setTreating("yes"); this.changed(); }
    });
    for (const radio of form.querySelectorAll('input[name="has_treating_doctor"]')) {
      radio.addEventListener("change", () => {
        if (this.treating() === "no") { this.combobox.clear(); this.rpps.value = ""; }
        this.changed();
      });
    }
    form.querySelector("#commune").addEventListener("change", () => this.changed());
    form.addEventListener("input", (event) => { this.clearFieldError(event.target); this.saveDraft(); });
    form.addEventListener("change", () => this.saveDraft());
  }

  changed() { this.saveDraft(); this.onChange(); }

  count(input, counter) {
    counter.textContent = `${input.value.length} / ${counter.dataset.max}`;
    counter.classList.toggle("at-limit", input.value.length >= Number(counter.dataset.max));
  }

  value(id) { return this.form.querySelector(`#${id}`).value.trim(); }

  treating() { return this.form.querySelector('input[name="has_treating_doctor"]:checked').value; }

  setTreating(answer) { this.form.querySelector(`input[name="has_treating_doctor"][value="${answer}"]`).checked = true; }

  commune() { return this.value("commune"); }

  // The treating doctor's RPPS, when one was given (for the search: their slots first).
  treatingRpps() {
    const rpps = this.value("treating_rpps");
    return this.treating() !== "no" && /^\d{11}$/.test(rpps) ? rpps : null;
  }

  // The booking body's patient part, or null with the errors shown (focus on the first).
  read() {
    this.clearErrors();
    const errors = {};
    const patient = {
      last_name: this.value("last_name"), first_name: this.value("first_name"), phone: this.value("phone"),
      commune_insee: this.commune() || null, has_treating_doctor: this.treating(), treating_rpps: this.treatingRpps(),
    };
    if (!patient.last_name) errors.last_name = "Nom obligatoire.";
    if (!patient.first_name) errors.first_name = "Prénom obligatoire.";
    const birth = this.value("birth_date") ? parseBirthDate(this.value("birth_date")) : { error: "Date de naissance obligatoire." };
    if (birth.error) errors.birth_date = birth.error; else patient.birth_date = birth.value;
    const phone = phoneError(patient.phone);
    if (phone) errors.phone = phone;
    if (this.value("treating_rpps") && !patient.treating_rpps && this.treating() !== "no") {
      errors.treating_rpps = "Le RPPS compte 11 chiffres.";
    }
    if (patient.treating_rpps) patient.has_treating_doctor = "yes";
    if (Object.keys(errors).length) { this.showErrors(errors); return null; }
    return patient;
  }

  booking(slotId) {
    const patient = this.read();
    if (!patient) return null;
    return { slot_id: slotId, patient, reason: this.value("reason") || null, channel: this.value("channel"),
             notify_patient: this.form.querySelector("#notify_patient").checked };
  }

  // ``errors``: {field: French message}; marks each field, focuses the first, says so at the top.
  showErrors(errors) {
    let first = null;
    for (const field of Object.keys(errors)) {
      const input = this.form.querySelector(`#${FIELD_IDS[field] || field}`);
      if (!input) continue;
      input.setAttribute("aria-invalid", "true");
      const box = this.form.querySelector(`#${input.id}-error`);
      if (box) box.textContent = errors[field];
      first = first || input;
    }
    const count = Object.keys(errors).length;
    this.say(count > 1 ? `${count} champs à corriger.` : "Un champ à corriger.");
    if (first) first.focus();
    return Boolean(first);
  }

  // An API error: field errors go next to their fields (in French); anything else is returned to show.
  showServerError(data) {
    const fields = (data && data.error && data.error.fields) || {};
    const flat = { ...(fields.patient || {}) };
    for (const [key, messages] of Object.entries(fields)) if (key !== "patient") flat[key] = messages;
    const errors = {};
    for (const [key, messages] of Object.entries(flat)) {
      if (this.form.querySelector(`#${FIELD_IDS[key] || key}`)) errors[key] = frenchMessage(messages);
    }
    return Object.keys(errors).length ? this.showErrors(errors) : false;
  }

  say(text) { this.message.textContent = text; this.message.hidden = !text; }

  clearFieldError(input) {
    if (!input || !input.id || input.getAttribute("aria-invalid") !== "true") return;
    input.removeAttribute("aria-invalid");
    const box = this.form.querySelector(`#${input.id}-error`);
    if (box) box.textContent = "";
    if (!this.form.querySelector('[aria-invalid="true"]')) this.say("");
  }

  clearErrors() {
    for (const input of this.form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
    for (const box of this.form.querySelectorAll(".field-error")) box.textContent = "";
    this.say("");
  }

  // Nothing of the previous caller is kept: fields, doctor, errors, draft.
  reset() {
    this.form.reset();
    this.combobox.clear();
    const channel = this.form.querySelector("#channel");
    channel.value = channel.dataset.default;
    for (const counter of this.form.querySelectorAll(".counter")) counter.textContent = `0 / ${counter.dataset.max}`;
    this.clearErrors();
    sessionStorage.removeItem(DRAFT_KEY);
  }

  saveDraft() {
    const values = {};
    for (const input of this.form.elements) {
      if (!input.id && !input.name) continue;
      const key = input.name || input.id;
      if (input.type === "radio") { if (input.checked) values[key] = input.value; }
      else if (input.type === "checkbox") values[key] = input.checked;
      else if (input.tagName !== "BUTTON" && key !== "channel") values[key] = input.value;
    }
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify(values));
  }

  restoreDraft() {
    const values = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || "{}");
    for (const input of this.form.elements) {
      const key = input.name || input.id;
      if (!key || !(key in values)) continue;
      if (input.type === "radio") input.checked = input.value === values[key];
      else if (input.type === "checkbox") input.checked = values[key];
      else input.value = values[key];
    }
    for (const counter of this.form.querySelectorAll(".counter")) {
      this.count(this.form.querySelector(`#${counter.id.replace(/-count$/, "")}`), counter);
    }
  }
}
