// Shared by the console and the planning grid: API calls, DOM building, French formats.
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const PARIS = "Europe/Paris";

export const DAY_TIME = new Intl.DateTimeFormat("fr-FR", {
  timeZone: PARIS, weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
});
export const SHORT_DAY = new Intl.DateTimeFormat("fr-FR", { timeZone: PARIS, weekday: "short", day: "numeric", month: "short" });
export const TIME = new Intl.DateTimeFormat("fr-FR", { timeZone: PARIS, hour: "2-digit", minute: "2-digit" });
export const LONG_DAY = new Intl.DateTimeFormat("fr-FR", {
  timeZone: PARIS, weekday: "long", day: "numeric", month: "long", year: "numeric",
});
const KM = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
export const MODES = { office: "Cabinet", teleconsultation: "Téléconsultation", home_visit: "Visite" };

export function km(value) { return `${KM.format(value)} km`; }

export async function api(method, url, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = CSRF;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, credentials: "same-origin",
                                  body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    return { status: 0, ok: false, data: { error: { code: "network", message: "Serveur injoignable : vérifiez la connexion puis réessayez." } } };
  }
  const data = await response.json().catch(() => ({}));
  return { status: response.status, ok: response.ok, data, response };
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function debounce(fn, ms) {
  let timer;
  const debounced = (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

export const PROFESSIONS = { gp: "Médecin généraliste", nurse: "Infirmier·e", physiotherapist: "Kinésithérapeute",
                              pharmacist: "Pharmacien·ne", midwife: "Sage-femme" };
// "Dr" only before a physician's name (models/practitioners.display_name says the same on the server).
export function doctorName(p) { return `${!p.profession || p.profession === "gp" ? "Dr " : ""}${p.first_name} ${p.last_name}`; }
export function professionLabel(p) { return PROFESSIONS[p.profession] || ""; }

// The Paris wall-clock date and minute of an instant, whatever the browser's own time zone.
const PARTS = new Intl.DateTimeFormat("en-CA", {
  timeZone: PARIS, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
export function parisClock(date = new Date()) {
  const parts = Object.fromEntries(PARTS.formatToParts(date).map((p) => [p.type, p.value]));
  return { day: `${parts.year}-${parts.month}-${parts.day}`, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

// The message an API error carries, in French: field errors are shown next to their fields instead.
export function errorMessage(data, fallback = "L'opération n'a pas abouti.") {
  const error = data && data.error;
  if (!error) return fallback;
  if (error.code === "validation_error" || /^Invalid fields/.test(error.message || "")) return "Corrigez les champs signalés.";
  return error.message || fallback;
}
