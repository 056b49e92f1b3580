// 态势一张屏: signs in, loads every panel, refreshes every 30 s, opens a
// case's timeline when its id is clicked. Each panel's data comes from one
// public endpoint, so what the screen shows is what the API answers.

import { ApiError, getJson } from "./api.js";
import { drawRates, drawStages } from "./charts.js";
import { caseLink, openCase } from "./drill.js";
import { element, localTime, untilOrPast } from "./format.js";
import { showKpis } from "./kpi-table.js";
import { STAGES, TRENDS } from "./labels.js";
import { forgetKey, saveKey, takeKey } from "./key.js";

const REFRESH_MS = 30_000;

let key = takeKey(); // first thing: the key leaves the address bar at once
let timer = null;
const catalogue = { units: new Map(), categories: new Map(), timeZone: "Asia/Shanghai", loaded: false };

const names = {
  unit: (id) => (id ? catalogue.units.get(id) || id : "未派单"),
  category: (code) => (code ? catalogue.categories.get(code) || code : "未分类"),
};

function say(text, isError = false) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
}

function askForKey(reason) {
  document.getElementById("board").hidden = true;
  document.getElementById("key-form").hidden = false;
  document.body.dataset.state = "signed-out";
  say(reason || "", Boolean(reason));
  document.getElementById("key-input").focus();
}

async function loadCatalogue() {
  if (catalogue.loaded) return;
  const data = await getJson("/v1/catalogue", key);
  for (const unit of data.units) catalogue.units.set(unit.id, unit.name);
  for (const category of data.categories) catalogue.categories.set(category.code, category.name);
  catalogue.timeZone = data.timezone || catalogue.timeZone;
  catalogue.loaded = true;
}

function showStages(overview) {
  drawStages(overview.open_by_stage);
  document.getElementById("open-total").textContent = overview.open;
  document.getElementById("closed-total").textContent = overview.closed;
  document.getElementById("stages").replaceChildren(
    ...Object.entries(overview.open_by_stage).map(([stage, count]) =>
      element("div", { className: "count", data: { stage } }, [
        element("dt", { text: STAGES[stage] || stage, title: stage }),
        element("dd", { text: count }),
      ]),
    ),
  );
}

function showLights(id, lights, now) {
  document.getElementById(`${id}-total`).textContent = lights.total;
  const rows = lights.items.map((item) =>
    element("tr", { data: { case: item.id } }, [
      element("td", {}, [caseLink(item.id)]),
      element("td", { text: STAGES[item.stage] || item.stage, title: item.stage }),
      element("td", { text: names.unit(item.unit), title: item.unit || "unit: null" }),
      element("td", { text: names.category(item.category), title: item.category || "category: null" }),
      element("td", {
        text: `${localTime(item.due_at, catalogue.timeZone)} (${untilOrPast(item.due_at, now)})`,
        title: `due_at ${item.due_at}${item.warn_at ? ` · warn_at ${item.warn_at}` : ""}`,
      }),
    ]),
  );
  if (lights.total > lights.items.length) {
    rows.push(element("tr", {}, [element("td", { text: `…另有 ${lights.total - lights.items.length} 件`, className: "more" })]));
  }
  if (rows.length === 0) rows.push(element("tr", {}, [element("td", { text: "暂无", className: "empty" })]));
  document.getElementById(`${id}-list`).replaceChildren(...rows);
}

function showEscalations(escalations) {
  const rows = escalations.map((item) =>
    element("tr", {}, [
      element("td", { text: localTime(item.at, catalogue.timeZone), title: item.at }),
      element("td", {}, [caseLink(item.case_id)]),
      element("td", { text: STAGES[item.stage] || item.stage, title: item.stage }),
      element("td", { text: names.unit(item.from), title: item.from || "" }),
      element("td", { text: `${names.unit(item.to)}${item.tier ? `（${item.tier}级）` : ""}`, title: item.to || "" }),
    ]),
  );
  if (rows.length === 0) rows.push(element("tr", {}, [element("td", { text: "暂无", className: "empty" })]));
  document.getElementById("escalations-list").replaceChildren(...rows);
}

async function loadHotspots() {
  // Built beside this page; until it is there (404) the panel says 暂无.
  try {
    return await getJson("/v1/hotspots?days=30&min_cases=3", key);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

function showHotspots(report) {
  const items = report?.items || [];
  document.getElementById("hotspots-range").textContent = report?.window
    ? `${localTime(report.window.from, catalogue.timeZone)} – ${localTime(report.window.to, catalogue.timeZone)}`
    : "";
  const rows = items.map((item) =>
    element("tr", {}, [
      element("td", { text: item.category_name || item.category, title: item.category }),
      element("td", { text: item.grid_name || item.grid, title: item.grid }),
      element("td", { text: item.cases, className: "num" }),
      element("td", { text: item.previous, className: "num" }),
      element("td", { text: TRENDS[item.trend] || item.trend, title: String(item.trend) }),
      element("td", { className: "ids" }, (item.case_ids || []).slice(0, 3).map(caseLink)),
    ]),
  );
  if (rows.length === 0) rows.push(element("tr", {}, [element("td", { text: "暂无", className: "empty" })]));
  document.getElementById("hotspots-list").replaceChildren(...rows);
}

function unitName(item) {
  return item.name || names.unit(item.key);
}

async function refresh() {
  clearTimeout(timer);
  if (!key) return askForKey();
  try {
    await loadCatalogue();
    const [overview, kpis, hotspots] = await Promise.all([
      getJson("/v1/overview", key),
      getJson("/v1/kpis?group_by=unit", key),
      loadHotspots(),
    ]);
    const now = Date.now();
    showStages(overview);
    showLights("red", overview.red, now);
    showLights("yellow", overview.yellow, now);
    showEscalations(overview.escalations);
    showKpis(kpis.items, unitName);
    drawRates(kpis.items, unitName);
    document.getElementById("kpi-range").textContent =
      `${localTime(kpis.range.from, catalogue.timeZone)} – ${localTime(kpis.range.to, catalogue.timeZone)}`;
    showHotspots(hotspots);
    document.getElementById("updated").textContent = `更新于 ${localTime(overview.at, catalogue.timeZone)}`;
    document.getElementById("updated").title = `at ${overview.at}`;
    document.getElementById("board").hidden = false;
    document.getElementById("key-form").hidden = true;
    say("");
    document.body.dataset.state = "ready";
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetKey();
      key = null;
      return askForKey("密钥无效，请重新输入");
    }
    const reason = error instanceof ApiError && error.status === 403 ? "此密钥无权查看态势" : `加载失败：${error.message}`;
    say(reason, true);
    document.body.dataset.state = "error";
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  key = document.getElementById("key-input").value.trim();
  document.getElementById("key-input").value = "";
  if (key) saveKey(key);
  refresh();
});

document.getElementById("sign-out").addEventListener("click", () => {
  forgetKey();
  key = null;
  catalogue.loaded = false;
  askForKey("");
});

document.getElementById("refresh").addEventListener("click", () => refresh());
document.getElementById("drill-close").addEventListener("click", () => {
  document.getElementById("drill").hidden = true;
});

// One listener for every case link, whichever panel drew it and however often.
document.getElementById("board").addEventListener("click", (event) => {
  const link = event.target.closest("button.case-link");
  if (!link) return;
  openCase(link.dataset.case, { key, names, timeZone: catalogue.timeZone }).catch((error) => {
    say(`案件 ${link.dataset.case} 加载失败：${error.message}`, true);
  });
});

// Chart.js is a deferred classic script; modules run after it, so it is there.
refresh();
