/**
 * Vite config of the dashboard. The charts are not the dashboard's own: the `virtual:fedsim-charts`
 * module is made from CHARTS_JS, the very script report.html inlines, so a live run and its
 * offline report draw the same charts from the same code.
 *
 * Development: `fedsim serve` on one terminal, `npx vite --config app/dashboard/vite.config.ts`
 * on another; /api and /socket.io are proxied to FEDSIM_API_URL (default http://localhost:8080).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { CHARTS_CSS, CHARTS_JS } from '../report/charts.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const CHARTS_MODULE = 'virtual:fedsim-charts';
const RESOLVED = `\0${CHARTS_MODULE}`;

function fedsimCharts(): Plugin {
  return {
    name: 'fedsim-charts',
    resolveId: (id) => (id === CHARTS_MODULE ? RESOLVED : undefined),
    load(id) {
      if (id !== RESOLVED) return undefined;
      // CHARTS_JS expects uPlot as a global and publishes window.FedsimCharts, as in the report.
      return [
        `import uPlot from 'uplot';`,
        `import 'uplot/dist/uPlot.min.css';`,
        `window.uPlot = uPlot;`,
        CHARTS_JS,
        `const style = document.createElement('style');`,
        `style.textContent = ${JSON.stringify(CHARTS_CSS)};`,
        `document.head.appendChild(style);`,
        `export const FedsimCharts = window.FedsimCharts;`,
      ].join('\n');
    },
  };
}

const api = process.env.FEDSIM_API_URL ?? 'http://localhost:8080';

export default defineConfig({
  root,
  // Relative asset URLs: the page works wherever the server mounts it.
  base: './',
  plugins: [fedsimCharts()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: {
      '/api': api,
      '/socket.io': { target: api, ws: true },
    },
  },
});
