import { defineConfig } from 'vite';

// The UI is served by the hub (`chevet serve` serves ui/dist at /). In development, `npm run dev`
// proxies the API to a hub on 127.0.0.1:8480 (e.g. `chevet demo`).
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8480', changeOrigin: false } } },
  test: { environment: 'jsdom', include: ['src/**/*.test.ts'] },
} as never);
