// Chevet's service worker: serves the UI's shell when the network is gone (a doctor in a cellar,
// an EHPAD with a weak Wi-Fi), and opens the app from a visit's notification. It never touches
// the API: health data is kept by the app itself (src/offline.ts), and wiped at logout.
//
// The build (vite.config.ts) writes the shell's file list and a version in place of the two
// markers below; a new build is a new cache, and the old one is removed once it takes over.

const VERSION = '__CHEVET_VERSION__';
const SHELL = __CHEVET_SHELL__;
const CACHE = `chevet-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('chevet-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/launch')) return;
  if (req.mode === 'navigate') {
    // The page itself: the hub's when it answers (a new version), else the kept one.
    event.respondWith(fetch(req).catch(() => caches.match('/', { cacheName: CACHE }).then((r) => r ?? Response.error())));
    return;
  }
  // The build's files have their content's hash in their names: the kept copy is the right one.
  event.respondWith(caches.match(req, { cacheName: CACHE }).then((hit) => hit ?? fetch(req)));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows[0];
      if (open) return open.focus();
      return self.clients.openWindow('/');
    }),
  );
});

// Web Push (#15): a visit given to the doctor while the app is closed. The message names no
// patient (urgency, motive, town); the same tag as the page's own alert, so that one visit is
// one notification.
self.addEventListener('push', (event) => {
  let ring = {};
  try {
    ring = event.data ? event.data.json() : {};
  } catch {
    // Not ours, or damaged: still tell him something came.
  }
  const tag = ring.visit_id ? `visit-${ring.visit_id}` : 'visit';
  event.waitUntil(
    self.registration.showNotification(ring.title || 'Nouvelle visite', {
      body: ring.body || '',
      tag,
      renotify: true,
      requireInteraction: true,
      vibrate: [400, 200, 400, 200, 400],
      icon: '/icon-192.png',
      data: { visit: ring.visit_id },
    }),
  );
});
