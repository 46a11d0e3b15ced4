// The web console: Preact + uPlot, built by `npm run build` into dist/console/, which the hub serves
// at / (src/console/). `npx vite --config console/vite.config.ts` serves it with hot reload; point
// its proxy at a running hub with SENTINEL_HUB_URL (default http://127.0.0.1:8070).
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const hub = process.env.SENTINEL_HUB_URL ?? 'http://127.0.0.1:8070';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
  },
  server: { proxy: { '/api': { target: hub, changeOrigin: false } } },
});
