// The admin's analytics dashboard (/admin/analytics/dashboard/): draws the charts from the
// JSON the page embeds in <script type="application/json" id="ca-dashboard-data">. Bundled
// with Chart.js by build.mjs into dist/static/analytics/dashboard.js (no CDN; the CSP runs
// scripts only from the platform itself).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { dashboardConfigs } from './charts.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

function draw() {
  const root = document.querySelector('[data-dashboard="root"]');
  const source = document.getElementById('ca-dashboard-data');
  if (!root || !source) return; // an error page: nothing to chart
  const configs = dashboardConfigs(JSON.parse(source.textContent));
  for (const canvas of root.querySelectorAll('canvas[data-chart]')) {
    const config = configs[canvas.dataset.chart];
    if (config) new Chart(canvas, config);
  }
  root.dataset.chartsReady = 'true';
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
else draw();
