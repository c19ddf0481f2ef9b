// The treating doctor found by name: an ARIA 1.2 combobox (list autocomplete, first option selected
// automatically) over the practitioner look-up. Enter keeps the highlighted doctor and fills the RPPS.
import { api, debounce, doctorName, el } from "./common.js";

const MIN_QUERY = 2;
const DEFAULT_HINT = "Tapez son nom, ↓ ↑ pour choisir, Entrée pour le retenir.";

export class DoctorCombobox {
  constructor(input, { onPick, onClear }) {
    this.input = input;
    this.listbox = document.getElementById(input.getAttribute("aria-controls"));
    this.status = document.getElementById("treating-status");
    this.hint = document.getElementById(`${input.id}-hint`);
    this.url = input.dataset.lookupUrl;
    this.onPick = onPick;
    this.onClear = onClear;
    this.options = [];
    this.active = -1;
    this.picked = null;
    this.sequence = 0;
    const lookup = debounce(() => this.lookup(), 150);
    input.addEventListener("input", () => {
      if (this.picked && input.value !== this.label(this.picked)) { this.picked = null; this.onClear(); }
      lookup();
    });
    input.addEventListener("keydown", (event) => this.onKey(event));
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  label(p) { return `${doctorName(p)}${p.commune_name ? ` — ${p.commune_name}` : ""}`; }

  get isOpen() { return !this.listbox.hidden; }

  async lookup() {
    const query = this.input.value.trim();
    const sequence = ++this.sequence;
    if (query.length < MIN_QUERY || this.picked) { this.close(); this.setHint(DEFAULT_HINT); return; }
    const { ok, data } = await api("GET", `${this.url}?${new URLSearchParams({ q: query, limit: "8" })}`);
    if (sequence !== this.sequence || document.activeElement !== this.input) return;  // a later keystroke won
    this.show(ok ? data.results : []);
  }

  show(results) {
    this.options = results;
    this.active = results.length ? 0 : -1;
    this.listbox.replaceChildren(...results.map((p, i) => el("li", {
      role: "option", id: `treating-option-${i}`, class: "combobox-option", "aria-selected": String(i === 0),
      onmousedown: (event) => event.preventDefault(),  // keep focus in the field
      onclick: () => this.pick(i),
    }, el("span", { class: "option-name" }, doctorName(p)),
       el("span", { class: "muted" }, ` ${p.commune_name || ""} · RPPS ${p.rpps}`),
       el("span", { class: "muted" }, p.member === false ? " · annuaire national" : " · membre"))));
    if (results.length) {
      this.open();
      this.status.textContent = `${results.length} médecin${results.length > 1 ? "s" : ""} trouvé${results.length > 1 ? "s" : ""} : ${doctorName(results[0])} sélectionné, Entrée pour le retenir.`;
      this.setHint(DEFAULT_HINT);
    } else {
      this.close();
      this.status.textContent = "Aucun médecin de ce nom dans la zone ni dans l'annuaire.";
      this.setHint("Aucun médecin de ce nom dans la zone ni dans l'annuaire : saisissez son RPPS s'il est connu.");
    }
    this.paint();
  }

  setHint(text) { if (this.hint) this.hint.textContent = text; }

  open() { this.listbox.hidden = false; this.input.setAttribute("aria-expanded", "true"); }

  close() {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  paint() {
    this.listbox.querySelectorAll("[role=option]").forEach((li, i) => li.setAttribute("aria-selected", String(i === this.active)));
    if (this.active >= 0 && this.isOpen) {
      const current = document.getElementById(`treating-option-${this.active}`);
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  onKey(event) {
    const count = this.options.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!count) return;
      event.preventDefault();
      if (!this.isOpen) { this.open(); this.paint(); return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + count) % count;
      this.paint();
    } else if (event.key === "Enter" && this.isOpen && this.active >= 0) {
      event.preventDefault();
      event.stopPropagation();  // Enter here keeps the doctor; the next Enter searches
      this.pick(this.active);
    } else if (event.key === "Escape") {
      if (this.isOpen) { event.preventDefault(); event.stopPropagation(); this.close(); }
      else if (this.input.value) { event.preventDefault(); event.stopPropagation(); this.clear(); this.onClear(); }
    }
  }

  pick(index) {
    const p = this.options[index];
    this.picked = p;
    this.input.value = this.label(p);
    this.close();
    this.status.textContent = `Médecin traitant retenu : ${doctorName(p)}, RPPS ${p.rpps}.`;
    this.onPick(p);
  }

  clear() {
    this.picked = null;
    this.options = [];
    this.input.value = "";
    this.listbox.replaceChildren();
    this.close();
    this.status.textContent = "";
    this.setHint(DEFAULT_HINT);
  }
}
