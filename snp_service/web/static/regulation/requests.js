// Slot requests in the console: when nothing fits, "Demander un créneau" sends the caller's details to the nearby
// practitioners who take requests; the area's open requests are listed and each one's state follows live
// (polling): "envoyée à 6 médecins, vue par 2", then "acceptée par le Dr Bonnet à 15h40" and the read-back.
import { DAY_TIME, TIME, api, doctorName, el, errorMessage } from "./common.js";

const POLL_MS = 2000;
const AREA_POLL_MS = 10000;
const PLURALS = { gp: ["médecin", "médecins"] };

function recipientsWord(request) {
  const [one, many] = PLURALS[request.profession] || ["professionnel", "professionnels"];
  return request.recipients > 1 ? many : one;
}

export function stateText(request) {
  const sent = `Envoyée à ${request.recipients} ${recipientsWord(request)}, vue par ${request.seen}`;
  if (request.status === "accepted") {
    const by = request.accepted_by || "un professionnel";
    const clock = TIME.format(new Date(request.accepted_start)).replace(":", "h");
    return `${sent}, acceptée par ${by.startsWith("Dr ") ? "le " : ""}${by} à ${clock}.`;
  }
  if (request.status === "cancelled") return `${sent} : annulée.`;
  if (request.status === "expired") return `${sent} : expirée sans réponse. Orientez le patient autrement.`;
  return `${sent}. Expire à ${TIME.format(new Date(request.expires_at))}.`;
}

export class SlotRequests {
  constructor({ list, empty, message, onAccepted }) {
    this.list = list;
    this.empty = empty;
    this.message = message;
    this.onAccepted = onAccepted;
    this.tracked = new Map();  // id -> {request, booking, patient}: the ones this console follows
    this.area = [];
    this.timer = null;
    this.refreshArea();
    setInterval(() => this.refreshArea(), AREA_POLL_MS);
  }

  // ``body``: the booking's fields, plus where and when; answers {ok, data}.
  async send(body) {
    const answer = await api("POST", "/api/v1/slot-requests", body);
    if (answer.ok) {
      this.tracked.set(answer.data.id, { request: answer.data, patient: body.patient });
      this.say(`Demande envoyée : ${stateText(answer.data)} Vous pouvez prendre l'appel suivant.`);
      this.render();
      this.poll();
    }
    return answer;
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  async refreshArea() {
    const { ok, data } = await api("GET", "/api/v1/slot-requests?status=open");
    if (!ok) return;
    this.area = data;
    this.render();
  }

  poll() {
    clearTimeout(this.timer);
    const open = [...this.tracked.values()].filter((t) => t.request.status === "open");
    if (!open.length) return;
    this.timer = setTimeout(async () => {
      await Promise.all(open.map((t) => this.follow(t)));
      this.render();
      this.poll();
    }, POLL_MS);
  }

  async follow(tracked) {
    const { ok, data } = await api("GET", `/api/v1/slot-requests/${tracked.request.id}`);
    if (!ok) return;
    tracked.request = data;
    if (data.status === "accepted" && data.booking_id && !tracked.booking) {
      const booking = await api("GET", `/api/v1/bookings/${data.booking_id}`);
      if (booking.ok) {
        tracked.booking = booking.data;
        if (this.onAccepted) this.onAccepted(booking.data);
      }
    }
  }

  async cancel(id) {
    const answer = await api("POST", `/api/v1/slot-requests/${id}/cancel`, {});
    if (answer.ok) {
      const tracked = this.tracked.get(id);
      if (tracked) tracked.request = answer.data;
      this.say("Demande annulée.");
    } else {
      this.say(errorMessage(answer.data));
    }
    this.refreshArea();
  }

  render() {
    const shown = new Map(this.area.map((r) => [r.id, { request: r }]));
    for (const [id, tracked] of this.tracked) shown.set(id, tracked);
    const items = [...shown.values()].sort((a, b) => b.request.id - a.request.id);
    this.list.replaceChildren(...items.map((t) => this.item(t)));
    this.empty.hidden = items.length > 0;
  }

  item({ request, booking, patient }) {
    const who = patient ? `${patient.first_name} ${patient.last_name} · ` : "";
    const readback = booking ? el("p", { class: "readback" },
      `${DAY_TIME.format(new Date(booking.slot.start))} avec ${doctorName(booking.practitioner)}, ${booking.practitioner.address || "adresse non renseignée"}.`
      + (booking.patient ? ` Patient : ${booking.patient.first_name} ${booking.patient.last_name}.` : "")) : null;
    return el("li", { class: `slot-request is-${request.status}`, "data-request-id": request.id },
      el("span", { class: "muted" }, `${who}demande n° ${request.id} · `),
      el("span", { class: "request-state" }, stateText(request)),
      readback,
      request.status === "open" ? el("button", { type: "button", class: "small danger",
        onclick: () => this.cancel(request.id), "aria-label": `Annuler la demande n° ${request.id}` }, "Annuler la demande") : null);
  }
}
