// Chart.js configurations for the analytics dashboard, built from the data the page embeds
// (analytics.dashboard._chart_data). Pure functions: no DOM, no Chart.js, so node tests them.

const COLORS = {
  loads: '#4f46e5',
  opens: '#0ea5e9',
  conversations: '#10b981',
  resolved: '#f59e0b',
  p50: '#6366f1',
  p95: '#ef4444',
  load50: '#14b8a6',
  load95: '#a855f7',
};

const pad = (n) => String(n).padStart(2, '0');

/** "2026-03-02T10:00:00+00:00" -> "03-02 10:00" (hour) or "2026-03-02" (day), in UTC. */
export function formatLabel(iso, grain) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const day = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  return grain === 'hour' ? `${day.slice(5)} ${pad(date.getUTCHours())}:00` : day;
}

/** Rates come as fractions (or null when there was nothing to divide by). */
export const percent = (values) => values.map((value) => (value == null ? null : Math.round(value * 1000) / 10));

function line(label, data, color, extra = {}) {
  return { label, data, borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2, tension: 0.2, ...extra };
}

function lineChart(labels, datasets, yTitle) {
  return {
    type: 'line',
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: { y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle } } },
      plugins: { legend: { position: 'bottom' } },
    },
  };
}

/** The funnel's bars, each with its share of the first step in the label. */
export function funnelConfig(steps) {
  const first = steps.length ? steps[0].value : 0;
  const labels = steps.map((step) => (first ? `${step.label} (${Math.round((step.value / first) * 100)}%)` : step.label));
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [{ label: 'Funnel', data: steps.map((step) => step.value), backgroundColor: [COLORS.loads, COLORS.opens, COLORS.conversations, COLORS.resolved] }],
    },
    options: {
      animation: false,
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { beginAtZero: true } },
      plugins: { legend: { display: false } },
    },
  };
}

/** Every chart of the page, keyed by its canvas's data-chart name. */
export function dashboardConfigs(data) {
  const labels = data.labels.map((iso) => formatLabel(iso, data.grain));
  const s = data.series;
  return {
    traffic: lineChart(labels, [
      line('Loads', s.loads, COLORS.loads),
      line('Opens', s.opens, COLORS.opens),
      line('Conversations', s.conversations, COLORS.conversations),
      line('Resolved', s.resolved, COLORS.resolved),
    ]),
    funnel: funnelConfig(data.funnel),
    rates: lineChart(
      labels,
      [line('Open rate %', percent(s.openRate), COLORS.opens), line('Resolution rate %', percent(s.resolutionRate), COLORS.resolved)],
      '%',
    ),
    timing: lineChart(
      labels,
      [
        line('First response p50', s.firstResponseP50, COLORS.p50),
        line('First response p95', s.firstResponseP95, COLORS.p95, { borderDash: [6, 4] }),
        line('Widget load p50', s.loadTimeP50, COLORS.load50),
        line('Widget load p95', s.loadTimeP95, COLORS.load95, { borderDash: [6, 4] }),
      ],
      'ms',
    ),
  };
}
