// The case drill-down: a case id clicked anywhere on the board opens its
// timeline (GET /v1/grievances/{id}/events). The case's reporter is never
// shown: events carry no personal data, and from the case only its stage,
// unit, category and clock are used.

import { getJson } from "./api.js";
import { element, localTime } from "./format.js";
import { EVENTS, ROLES, STAGES } from "./labels.js";

const NOTE_FIELDS = ["note", "reason", "result", "satisfaction", "category", "unit", "from", "to", "units", "clock"];

function summary(data) {
  return NOTE_FIELDS.filter((name) => data[name] !== undefined && data[name] !== null)
    .map((name) => `${name}: ${Array.isArray(data[name]) ? data[name].join(", ") : data[name]}`)
    .join("；");
}

/** A button that opens ``caseId``'s timeline. */
export function caseLink(caseId) {
  const button = element("button", { text: caseId.replace(/^grievance-/, ""), title: caseId, className: "case-link", data: { case: caseId } });
  button.type = "button";
  return button;
}

/** Open the timeline of ``caseId`` below the board. */
export async function openCase(caseId, { key, names, timeZone }) {
  const panel = document.getElementById("drill");
  panel.hidden = false;
  panel.dataset.state = "loading";
  document.getElementById("drill-id").textContent = caseId;
  const [events, found] = await Promise.all([
    getJson(`/v1/grievances/${encodeURIComponent(caseId)}/events`, key),
    getJson(`/v1/grievances/${encodeURIComponent(caseId)}`, key),
  ]);
  const clock = found.sla ? `${found.sla.state} · 期限 ${localTime(found.sla.due_at, timeZone)}` : "无计时";
  document.getElementById("drill-summary").textContent =
    `${STAGES[found.stage] || found.stage} · ${names.unit(found.unit)} · ${names.category(found.category)} · ${clock}`;
  document.getElementById("drill-events").replaceChildren(
    ...events.map((event) =>
      element("tr", { data: { type: event.type } }, [
        element("td", { text: event.seq, className: "num" }),
        element("td", { text: localTime(event.at, timeZone), title: event.at }),
        element("td", { text: EVENTS[event.type] || event.type, title: event.type }),
        element("td", {
          text: `${ROLES[event.actor.role] || event.actor.role}${event.actor.unit ? ` ${names.unit(event.actor.unit)}` : ""}`,
          title: event.actor.unit || event.actor.role,
        }),
        element("td", { text: STAGES[event.stage] || event.stage, title: event.stage }),
        element("td", { text: summary(event.data || {}), className: "note" }),
      ]),
    ),
  );
  panel.dataset.state = "ready";
  panel.scrollIntoView({ block: "nearest" });
}
