import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

/** The files of `public/` the shell needs offline (the build's own files are added to them). */
const PUBLIC_SHELL = ['/manifest.webmanifest', '/icon.svg', '/icon-192.png', '/icon-512.png'];

/**
 * Writes `sw.js` from `sw/sw.js`: the list of the shell's files of this build (to keep for
 * offline use) and a version that changes with them.
 */
function serviceWorker(): Plugin {
  return {
    name: 'chevet-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const built = Object.keys(bundle)
        .filter((f) => !f.endsWith('.map') && f !== 'index.html')
        .map((f) => `/${f}`);
      const shell = ['/', ...built.sort(), ...PUBLIC_SHELL];
      const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 16);
      const source = readFileSync(new URL('./sw/sw.js', import.meta.url), 'utf8')
        .replace("'__CHEVET_VERSION__'", JSON.stringify(version))
        .replace('__CHEVET_SHELL__', JSON.stringify(shell));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

// The UI is served by the hub (`chevet serve` serves ui/dist at /). In development, `npm run dev`
// proxies the API to a hub on 127.0.0.1:8480 (e.g. `chevet demo`).
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  plugins: [serviceWorker()],
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8480', changeOrigin: false } } },
  test: { environment: 'jsdom', include: ['src/**/*.test.ts'] },
} as never);
