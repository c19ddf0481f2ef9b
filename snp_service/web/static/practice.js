// The practice space's part of every practice page: the scripted caller's scorecard.
// Counts what the trainee does from the first key (navigation keys, typed characters, errors shown), ends the
// call on the console's confirmation (booked or moved), on a cancellation, on a slot request sent, or on F8
// "Terminer sans rendez-vous" or the console's "Nouvel appel" (reported as the call ended without booking: a
// scenario left for another is not),
// then shows the scorecard the server computed and the SMS that would have been sent (never sent in practice).
import { api } from "./regulation/common.js";

const card = document.getElementById("practice-card");
const NAVIGATION = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Enter", "Escape", "Tab",
                            "PageUp", "PageDown", "Home", "End", " "]);

if (card) {
  let finished = card.dataset.done === "true";
  let started = null;
  let navigationKeys = 0;
  let typedChars = 0;
  const errors = [];
  const seen = new Set();

  document.addEventListener("keydown", (event) => {
    if (finished) return;
    if (event.key === "F8") { event.preventDefault(); finish({ ended: true }); return; }
    if (started === null) started = performance.now();
    if (NAVIGATION.has(event.key) && !(event.key === " " && event.target.matches("input[type=text], input[type=tel], input:not([type])"))) {
      navigationKeys += 1;
    } else if (event.key.length === 1 || event.key === "Backspace" || event.key === "Delete") {
      typedChars += 1;
    }
  }, true);
  document.getElementById("practice-finish").addEventListener("click", () => finish({ ended: true }));
  // The console's own way to end a call without booking: "Nouvel appel" (it records nothing of the call).
  const newCall = document.getElementById("new-call");
  if (newCall) newCall.addEventListener("click", () => finish({ ended: true }));
  let holdFocus = false;
  document.addEventListener("keydown", () => { holdFocus = false; }, true);
  document.addEventListener("focusin", (event) => {
    if (holdFocus && event.target instanceof Element && event.target.closest("#bookings")) {
      document.getElementById("practice-next").focus();
    }
  });

  const watch = () => {
    if (finished) return;
    document.querySelectorAll('[role="alert"], .field-error').forEach((node) => {
      const text = node.textContent.trim();
      if (text && !node.hidden && node.offsetParent !== null && !seen.has(`${node.id}|${text}`)) {
        seen.add(`${node.id}|${text}`);
        errors.push(text);
      }
    });
    const confirmation = document.getElementById("confirmation");
    const bookingsMessage = document.getElementById("bookings-message");
    const requestsMessage = document.getElementById("requests-message");
    if ((confirmation && !confirmation.hidden)
        || (bookingsMessage && !bookingsMessage.hidden && bookingsMessage.classList.contains("flash-success"))
        || (requestsMessage && !requestsMessage.hidden && requestsMessage.textContent.startsWith("Demande envoyée"))) {
      finish();
    }
  };
  new MutationObserver(watch).observe(document.body, { subtree: true, childList: true, characterData: true,
                                                        attributes: true, attributeFilter: ["hidden", "class"] });

  async function finish({ ended = false } = {}) {
    if (finished) return;
    finished = true;
    const durationMs = started === null ? 0 : Math.round(performance.now() - started);
    const answer = await api("POST", card.dataset.finishUrl, {
      duration_ms: Math.min(durationMs, 3600000), navigation_keys: navigationKeys, typed_chars: typedChars,
      errors: errors.slice(0, 20), ended,
    });
    const detail = document.getElementById("confirmation-detail");
    if (detail) detail.textContent = detail.textContent.replace("Le patient reçoit un SMS de confirmation.", "SMS non envoyé (entraînement).");
    const sms = await api("GET", card.dataset.smsUrl);
    if (sms.ok && sms.data.text) {
      const box = document.getElementById("practice-sms");
      box.textContent = `SMS qui aurait été envoyé au patient — non envoyé (entraînement) : « ${sms.data.text} »`;
      box.hidden = false;
    }
    showScorecard(answer);
  }

  function showScorecard({ ok, data }) {
    const section = document.getElementById("practice-scorecard");
    const figures = document.getElementById("scorecard-figures");
    figures.replaceChildren();
    if (!ok) {
      document.getElementById("scorecard-why").textContent = (data.error && data.error.message) || "Bilan indisponible.";
    } else {
      const rows = [
        ["Résultat", data.ok ? "Réussi" : "À revoir"],
        ["Temps (de la première touche à la confirmation)", `${data.seconds.toLocaleString("fr-FR")} s`],
        ["Touches de navigation", String(data.navigation_keys)],
        ["Caractères tapés", String(data.typed_chars)],
        ["Erreurs affichées", data.errors.length ? data.errors.join(" · ") : "aucune"],
      ];
      for (const [term, value] of rows) {
        const dt = document.createElement("dt"); dt.textContent = term;
        const dd = document.createElement("dd"); dd.textContent = value;
        dd.dataset.field = term;
        figures.append(dt, dd);
      }
      section.dataset.ok = String(data.ok);
      document.getElementById("scorecard-why").textContent = data.why;
      const form = document.getElementById("practice-next-form");
      if (data.next) { form.action = data.next; form.hidden = false; }
    }
    section.hidden = false;
    const next = document.getElementById("practice-next");
    if (!document.getElementById("practice-next-form").hidden) {
      next.focus();
      // The console, after a cancel or a move, puts the focus on the bookings' next row once the list is read
      // again, which may come after this: until the trainee presses a key, the scorecard's button keeps it.
      holdFocus = true;
    } else {
      section.focus();
    }
  }
}
