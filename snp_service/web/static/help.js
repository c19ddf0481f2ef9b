// Help inside the pages: the shortcuts overlay ("Aide" button or ?) and the first-sign-in tour.
const CSRF = document.querySelector('meta[name="csrf-token"]').content;

// ---------------------------------------------------------------- the overlay
const dialog = document.getElementById("help-dialog");
let returnFocus = null;

function openHelp() {
  if (!dialog || dialog.open) return;
  returnFocus = document.activeElement;
  dialog.showModal();
  document.getElementById("help-close").focus();
}

function closeHelp() {
  if (dialog && dialog.open) dialog.close();
}

if (dialog) {
  document.getElementById("help-button").addEventListener("click", openHelp);
  document.getElementById("help-close").addEventListener("click", closeHelp);
  dialog.addEventListener("close", () => {
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
    returnFocus = null;
  });
  const replay = document.getElementById("help-tour");
  if (replay) {
    replay.addEventListener("click", () => {
      closeHelp();
      // The tour belongs to the role's home page: there it starts at once, elsewhere that page opens with it.
      if (tourRoot) startTour(); else window.location.assign(replay.dataset.replayUrl);
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.key !== "?" || event.ctrlKey || event.metaKey || event.altKey) return;
    // Typed in a field, ? is a character; elsewhere it opens the help.
    if (event.target.matches("input:not([type=radio]):not([type=checkbox]), textarea, select, [contenteditable]")) return;
    if (document.querySelector("dialog[open]")) return;
    event.preventDefault();
    openHelp();
  });
}

// ---------------------------------------------------------------- the tour
const tourRoot = document.getElementById("tour");
const steps = tourRoot ? JSON.parse(tourRoot.dataset.steps) : [];
let current = -1;
let tourReturn = null;

function targetOf(step) { return document.querySelector(step.selector); }

function showStep(index) {
  document.querySelectorAll(".tour-target").forEach((node) => node.classList.remove("tour-target"));
  current = index;
  const step = steps[index];
  const target = targetOf(step);
  if (target) {
    target.classList.add("tour-target");
    target.scrollIntoView({ block: "center" });
  }
  document.getElementById("tour-count").textContent = `(${index + 1} / ${steps.length})`;
  document.getElementById("tour-text").textContent = step.text;
  document.getElementById("tour-next").firstChild.textContent = index === steps.length - 1 ? "Terminer " : "Suivant ";
  document.getElementById("tour-box").focus();
}

const tourBox = document.getElementById("tour-box");

function startTour() {
  if (!tourRoot || !steps.length) return;
  tourReturn = document.activeElement;
  const offer = document.getElementById("tour-offer");
  if (offer) offer.hidden = true;
  tourBox.hidden = false;
  showStep(0);
}

async function endTour() {
  tourBox.hidden = true;
  const offer = document.getElementById("tour-offer");
  if (offer) offer.remove();
  document.querySelectorAll(".tour-target").forEach((node) => node.classList.remove("tour-target"));
  current = -1;
  // Done or skipped: not shown again (replayable from Aide).
  await fetch(tourRoot.dataset.doneUrl, { method: "POST", credentials: "same-origin",
                                          headers: { "X-CSRFToken": CSRF, Accept: "application/json" } }).catch(() => {});
  const back = tourReturn && document.contains(tourReturn) && tourReturn !== document.body ? tourReturn
    : document.querySelector("main h1");
  if (back) { if (!back.hasAttribute("tabindex") && back.tagName === "H1") back.setAttribute("tabindex", "-1"); back.focus(); }
}

if (tourRoot) {
  document.getElementById("tour-next").addEventListener("click", () => {
    if (current < steps.length - 1) showStep(current + 1); else endTour();
  });
  document.getElementById("tour-skip").addEventListener("click", endTour);
  tourRoot.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); endTour(); }
    else if (event.key === "Enter" && event.target.id === "tour-box") { event.preventDefault(); document.getElementById("tour-next").click(); }
  });
  const start = document.getElementById("tour-start");
  if (start) start.addEventListener("click", startTour);
  const decline = document.getElementById("tour-decline");
  if (decline) decline.addEventListener("click", () => { tourReturn = null; endTour(); });
  if (tourRoot.dataset.replay === "true") startTour();
}
