// The two charts (Chart.js, vendored: window.Chart). Each is made once and
// updated in place on every refresh, without animation, so a wall screen
// does not flicker every 30 seconds.

import { PASS_LINE, STAGES } from "./labels.js";

const charts = new Map();

// Chart.js draws on a canvas; a dashed line at 80 % marks the pass line (达标线).
const passLine = {
  id: "passLine",
  afterDatasetsDraw(chart) {
    const y = chart.scales.y?.getPixelForValue(PASS_LINE * 100);
    if (y === undefined) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.strokeStyle = "#e5484d";
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(chartArea.left, y);
    ctx.lineTo(chartArea.right, y);
    ctx.stroke();
    ctx.fillStyle = "#e5484d";
    ctx.textAlign = "right";
    ctx.fillText("80% 达标线", chartArea.right - 4, y - 4);
    ctx.restore();
  },
};

// The page's colours and type (Chart.js's defaults are for a white page).
function style(Chart) {
  Chart.defaults.color = "#8b9bab";
  Chart.defaults.borderColor = "#2a3947";
  Chart.defaults.font.size = 12;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
}

function draw(id, config) {
  const existing = charts.get(id);
  if (existing) {
    existing.data = config.data;
    existing.update("none");
    return;
  }
  if (charts.size === 0) style(window.Chart);
  const canvas = document.getElementById(id);
  charts.set(id, new window.Chart(canvas, config));
}

/** Open cases per stage, as bars in lifecycle order. */
export function drawStages(openByStage) {
  const stages = Object.keys(openByStage);
  draw("stages-chart", {
    type: "bar",
    data: {
      labels: stages.map((stage) => STAGES[stage] || stage),
      datasets: [{ label: "在办", data: stages.map((stage) => openByStage[stage]), backgroundColor: "#3e9bff" }],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

/** Each unit's 及时签收率 and 按时办结率 (0–100 %), with the 80 % line. */
export function drawRates(items, unitName) {
  const rate = (value) => (value === null ? null : Math.round(value * 1000) / 10);
  draw("rates-chart", {
    type: "bar",
    data: {
      labels: items.map((item) => unitName(item)),
      datasets: [
        { label: "及时签收率", data: items.map((item) => rate(item.accepted_on_time_rate)), backgroundColor: "#30a46c" },
        { label: "按时办结率", data: items.map((item) => rate(item.completed_on_time_rate)), backgroundColor: "#3e9bff" },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } } },
    },
    plugins: [passLine],
  });
}
