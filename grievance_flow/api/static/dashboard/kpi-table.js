// The per-unit KPI table: rates as percentages, under 80 % marked, sortable
// by clicking a column header (again: the other way round).

import { element, percent } from "./format.js";
import { KPI_COLUMNS, PASS_LINE } from "./labels.js";

const order = { field: "cases", descending: true };
let shown = [];
let nameOf = (item) => item.name || item.key || "未派单";

function value(item, field) {
  return field === "name" ? nameOf(item) : item[field];
}

function compare(a, b) {
  const left = value(a, order.field);
  const right = value(b, order.field);
  // Nothing to divide (null) sorts last whichever way round.
  if (left === null || left === undefined) return right === null || right === undefined ? 0 : 1;
  if (right === null || right === undefined) return -1;
  const sign = order.descending ? -1 : 1;
  if (typeof left === "string") return sign * left.localeCompare(right, "zh-CN");
  return sign * (left - right);
}

function cell(item, column) {
  const raw = item[column.field];
  if (column.kind === "text") {
    return element("td", { text: nameOf(item), title: item.key || "no unit yet", data: { field: "name" } });
  }
  if (column.kind === "count") return element("td", { text: raw, className: "num", data: { field: column.field } });
  const below = column.line && raw !== null && raw < PASS_LINE;
  return element("td", {
    text: percent(raw),
    className: below ? "num below" : "num",
    title: below ? `${column.field}: 低于 80% 达标线` : column.field,
    data: { field: column.field },
  });
}

function renderHead() {
  const head = document.getElementById("units-head");
  head.replaceChildren(
    ...KPI_COLUMNS.map((column) => {
      const th = element("th", {
        text: column.label,
        title: `${column.field}${column.line ? " (80% line)" : ""} — 点击排序`,
        className: "sort",
        data: { field: column.field },
      });
      if (column.field === order.field) th.dataset.order = order.descending ? "desc" : "asc";
      th.addEventListener("click", () => {
        order.descending = column.field === order.field ? !order.descending : column.kind !== "text";
        order.field = column.field;
        render();
      });
      return th;
    }),
  );
}

function render() {
  renderHead();
  const rows = [...shown].sort(compare).map((item) =>
    element("tr", { data: { key: item.key ?? "" } }, KPI_COLUMNS.map((column) => cell(item, column))),
  );
  if (rows.length === 0) rows.push(element("tr", {}, [element("td", { text: "暂无", className: "empty" })]));
  document.getElementById("units-body").replaceChildren(...rows);
}

/** Show the KPI items of ``/v1/kpis?group_by=unit``, keeping the chosen order. */
export function showKpis(items, unitName) {
  shown = items;
  nameOf = unitName;
  render();
}
