import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// No @vitejs/plugin-react: esbuild's automatic JSX runtime is enough (no fast refresh needed).
export default defineConfig({
  root,
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npx vite --config src/web/vite.config.ts` against a running Squall on :9101
    proxy: {
      '/api': 'http://127.0.0.1:9101',
      '/auth': 'http://127.0.0.1:9101',
      '/stream': { target: 'http://127.0.0.1:9101', ws: false },
    },
  },
});
