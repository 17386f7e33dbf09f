// The three journeys of the demo, in real Chromium against a real hub.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiAs, demoTakesSmtp, fillCall, launchBrowser, runChevet, seat, shot, startDemo, startHub, startSmtp } from './hub.mjs';

let hub;
let browser;
/** The mail server standing for the MSSanté relay, when the demo hub can use one. */
let smtp = null;
before(async () => {
  if (await demoTakesSmtp()) smtp = await startSmtp();
  hub = await startDemo(smtp ? ['--smtp-url', smtp.url] : []);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await hub?.stop();
  await smtp?.stop();
});

const stamp = () => Date.now().toString(36);

test('a dispatcher takes a call and assigns it; the doctor sees it live and closes it', async () => {
  const desk = await seat(browser, hub.url, 'dispatcher');
  const doctor = await seat(browser, hub.url, 'doctor', { width: 420, height: 860 });
  const motive = `Fièvre 39,8 et frissons ${stamp()}`;

  // Intake, keyboard first.
  const form = desk.getByRole('form', { name: 'Nouvel appel' });
  await fillCall(form, { birth_name: 'Lefort', first_names: 'Agathe', birth_date: '1950-04-02', line: '3 rue de Strasbourg', postcode: '38000', city: 'Grenoble', lat: '45,1876', lon: '5,7310', motive: motive });
  await form.getByLabel('Motif').press('Control+Enter');
  const row = desk.locator('li.visit', { hasText: motive });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'received');
  await shot(desk, '1-dispatcher-call-taken');

  // One choice assigns: Dr Claire Martin, from the list of doctors.
  const select = row.getByLabel('Attribuer à un autre médecin');
  const option = await select.locator('option', { hasText: 'Claire Martin' }).getAttribute('value');
  await select.selectOption(option);
  await desk.locator(`li.visit[data-status="assigned"]`, { hasText: motive }).waitFor();
  await shot(desk, '2-dispatcher-assigned');

  // The doctor's phone shows it without reloading.
  const card = doctor.locator('li.card', { hasText: motive });
  await card.waitFor();
  await shot(doctor, '3-doctor-new-visit');
  for (const [button, status] of [['En route', 'en_route'], ['Sur place', 'on_site']]) {
    await card.getByRole('button', { name: button }).click();
    await doctor.locator(`li.card[data-status="${status}"]`, { hasText: motive }).waitFor();
    await desk.locator(`li.visit[data-status="${status}"]`, { hasText: motive }).waitFor();
  }
  await shot(desk, '4-dispatcher-sees-on-site');
  // Closing opens the report; a visit may also be closed without one (two taps, no dialog).
  await card.getByRole('button', { name: 'Clôturer / Compte rendu' }).click();
  await doctor.getByRole('button', { name: 'Clôturer sans compte rendu' }).click();
  await doctor.getByRole('button', { name: /Confirmer : clôturer sans compte rendu/ }).click();
  await doctor.getByRole('heading', { name: /Mes visites/ }).waitFor();
  await card.waitFor({ state: 'detached' });
  await row.waitFor({ state: 'detached' }); // leaves the dispatcher's queue
  await doctor.getByText('Terminées récemment').click();
  await doctor.locator('details.done li[data-status="closed"]', { hasText: 'LEFORT' }).waitFor();
  await shot(doctor, '5-doctor-closed');
  await desk.context().close();
  await doctor.context().close();
});

test('an EHPAD nurse requests a visit and follows it live until the report is back', async () => {
  const nurse = await seat(browser, hub.url, 'ehpad');
  const desk = await seat(browser, hub.url, 'dispatcher');
  const motive = `Désaturation 88 % ${stamp()}`;

  const resident = nurse.locator('ul.residents li').first();
  await resident.getByRole('button', { name: 'Demander une visite' }).click();
  const form = resident.locator('form');
  await form.getByLabel('Motif').fill(motive);
  await form.getByLabel('Urgence').selectOption('1');
  await form.getByLabel('Notes, résultats biologiques').fill('CRP 85 mg/L ce matin');
  await form.getByRole('button', { name: 'Envoyer la demande' }).click();
  const request = nurse.locator('ul.requests li', { hasText: motive });
  await request.waitFor();
  assert.match(await request.innerText(), /En attente/);
  await shot(nurse, '6-ehpad-requested');

  // The dispatcher sees it arrive, and assigns it with one click on the first suggestion.
  const row = desk.locator('li.visit', { hasText: motive });
  await row.waitFor();
  assert.match(await row.innerText(), /EHPAD/);
  await row.locator('button.suggest').first().click();
  await nurse.locator('ul.requests li[data-status="assigned"]', { hasText: motive }).waitFor();
  assert.match(await request.innerText(), /Attribuée/);
  await shot(nurse, '7-ehpad-sees-assigned');

  // The doctor goes on site and validates his report (through the API, as from his phone); the
  // nurse follows it until the report is back, without reloading.
  const visitId = Number(await request.getAttribute('data-visit'));
  const deskApi = await apiAs(hub.url, 'dispatcher');
  const visit = await deskApi('GET', `/visits/${visitId}`);
  const users = await (await apiAs(hub.url, 'admin'))('GET', '/users');
  const doctor = await apiAs(hub.url, users.find((u) => u.id === visit.doctor.id).username);
  await doctor('POST', `/visits/${visitId}/en-route`, {});
  await doctor('POST', `/visits/${visitId}/on-site`, {});
  await nurse.locator('ul.requests li[data-status="on_site"]', { hasText: motive }).waitFor();
  await doctor('PUT', `/visits/${visitId}/report`, {
    version: 0,
    observations: {
      motive,
      history: 'BPCO, HTA. Pas d’allergie connue.',
      examination: 'Crépitants de la base droite, polypnée, pas de signe de lutte.',
      vitals: { systolic_mmhg: 128, diastolic_mmhg: 74, heart_rate_bpm: 104, spo2_pct: 89, temperature_c: 38.6, respiratory_rate: 26 },
      ecg_interpretation: '',
      diagnoses: [{ code: 'J18.9', label: 'Pneumopathie, sans précision' }],
      treatment: 'Oxygène 2 L/min aux lunettes, paracétamol 1 g per os.',
      prescriptions: ['Amoxicilline-acide clavulanique 1 g : 1 sachet 3 fois par jour, 7 jours', 'Paracétamol 1 g : 1 cp toutes les 6 h si fièvre'],
      orientation: { kind: 'home', details: null },
      advice: 'Oxygène pour SpO₂ ≥ 92 %, surveillance de la température et de la fréquence respiratoire 3 fois par jour.',
      follow_up: 'Rappeler le 15 si SpO₂ < 90 % sous 3 L/min ; revoir le médecin traitant sous 48 h.',
    },
  });
  // A draft is the doctor's: nothing shows on the nurse's side yet.
  await nurse.waitForTimeout(300);
  assert.equal(await nurse.getByText('Compte rendu disponible').count(), 0, 'no mark for a draft');
  const patient = await doctor('GET', `/patients/${visit.patient.id}`);
  const gp = patient.treating_physician ?? { name: 'Dr Bruno Vial', mssante: 'bruno.vial@medecin.mssante.fr' };
  const validate = () =>
    doctor('POST', `/visits/${visitId}/report/validate`, { version: 1, treating_physician: { name: gp.name, mssante: gp.mssante } });
  await validate().catch(async (e) => {
    // A resident without a birth date on file: the letter needs one.
    if (!/ 422 .*patient\.birth_date/.test(e.message)) throw e;
    await doctor('PATCH', `/patients/${visit.patient.id}`, { birth_date: '1935-04-02' });
    await validate();
  });

  // « Compte rendu disponible » appears live on her request.
  const done = nurse.locator('ul.requests li[data-status="closed"][data-report="validated"]', { hasText: motive });
  await done.waitFor();
  await done.getByText('Compte rendu disponible').waitFor();
  await shot(nurse, '22-ehpad-report-available');

  // She opens it: read only, large, the diagnosis with its CIM-10 code, the prescription to apply.
  await done.getByRole('button', { name: /Lire le compte rendu/ }).click();
  const reader = nurse.getByRole('article', { name: 'Compte rendu de visite' });
  await reader.waitFor();
  assert.match(await nurse.url(), new RegExp(`#compte-rendu/${visitId}$`));
  const dx = reader.getByRole('list', { name: 'Diagnostics' });
  assert.match(await dx.innerText(), /J18\.9\s+Pneumopathie, sans précision/);
  assert.equal(await reader.getByRole('list', { name: 'Ordonnance' }).locator('li').count(), 2);
  assert.match(await reader.innerText(), /TA\s+128\/74 mmHg/);
  assert.match(await reader.innerText(), /Température\s+38,6 °C/);
  assert.match(await reader.innerText(), /Domicile : reste à l'EHPAD/);
  assert.match(await reader.getByTestId('validated').innerText(), /Validé par Dr .+ le \d\d\/\d\d\/\d{4} à \d\d:\d\d/);
  assert.equal(await reader.locator('textarea, input').count(), 0, 'read only');
  const fontSize = await reader.locator('.reader-text').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(fontSize >= 17, `large text (${fontSize} px)`);
  await shot(nurse, '23-ehpad-reads-report');

  // « Imprimer » prints the report alone: the app's chrome is hidden on paper.
  await nurse.evaluate(() => {
    window.__printed = 0;
    window.print = () => window.__printed++;
  });
  await reader.getByRole('button', { name: 'Imprimer' }).click();
  assert.equal(await nurse.evaluate(() => window.__printed), 1);
  await nurse.emulateMedia({ media: 'print' });
  assert.equal(await nurse.locator('header.top').isVisible(), false, 'no app header on paper');
  assert.equal(await reader.getByRole('button', { name: 'Imprimer' }).isVisible(), false, 'no buttons on paper');
  assert.ok(await dx.isVisible());
  await shot(nurse, '24-ehpad-report-print');
  await nurse.emulateMedia({ media: 'screen' });

  // Back to her requests (the browser's back button too).
  await nurse.goBack();
  await done.waitFor();
  await nurse.context().close();
  await desk.context().close();
});

test('two dispatchers and a doctor always see the same board', async () => {
  const a = await seat(browser, hub.url, 'dispatcher');
  const b = await seat(browser, hub.url, 'dispatcher2');
  const motive = `Lombalgie ${stamp()}`;
  const form = a.getByRole('form', { name: 'Nouvel appel' });
  await fillCall(form, { birth_name: 'Brunet', first_names: 'Paul', line: '10 avenue Jean Perrot', city: 'Grenoble', motive: motive });
  await form.getByRole('button', { name: /Enregistrer l'appel/ }).click();
  await b.locator('li.visit', { hasText: motive }).waitFor();
  // b assigns; a sees it at once.
  const select = b.locator('li.visit', { hasText: motive }).getByLabel('Attribuer à un autre médecin');
  const option = await select.locator('option', { hasText: 'Claire Martin' }).getAttribute('value');
  await select.selectOption(option);
  await a.locator('li.visit[data-status="assigned"]', { hasText: motive }).waitFor();

  const board = (page) =>
    page.locator('ul.visits li.visit').evaluateAll((rows) => rows.map((r) => `${r.dataset.visit}:${r.dataset.status}`));
  // Both boards converge on the same queue, in the same order.
  let same = false;
  for (let i = 0; i < 20 && !same; i++) {
    const [x, y] = [await board(a), await board(b)];
    same = x.length > 0 && JSON.stringify(x) === JSON.stringify(y);
    if (!same) await a.waitForTimeout(100);
  }
  assert.ok(same, 'the two boards show the same queue');
  // The doctor sees the visit too, in his round.
  const doctor = await seat(browser, hub.url, 'doctor', { width: 420, height: 860 });
  await doctor.locator('li.card', { hasText: motive }).waitFor();
  await shot(b, '8-second-dispatcher');
  for (const p of [a, b, doctor]) await p.context().close();
});

test('text anyone types is never run as script, on any seat', async () => {
  // What a hostile EHPAD nurse could type: markup in a resident's name, address and in a request.
  const planted = (where) => `<img src=x onerror="window.__pwned='${where}'"><script>window.__pwned='s'</script>`;
  const nurseApi = await apiAs(hub.url, 'ehpad');
  const me = await nurseApi('GET', '/me');
  const resident = await nurseApi('POST', '/patients', {
    birth_name: `X${planted('birth_name')}`,
    first_names: planted('first_names'),
    institution_id: me.institution_id,
  });
  const motive = `Chute ${stamp()} ${planted('motive')}`;
  await nurseApi('POST', '/calls', { patient_id: resident.id, motive, urgency: 2, notes: planted('notes') });

  const desk = await seat(browser, hub.url, 'dispatcher', { width: 1920, height: 1080 });
  const nurse = await seat(browser, hub.url, 'ehpad', { width: 390, height: 844 });
  const dialogs = [];
  for (const p of [desk, nurse]) p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  // The text shows as text: on the board, in the queue and in every map tooltip.
  const row = desk.locator('li.visit', { hasText: 'onerror' });
  await row.first().waitFor();
  const map = desk.getByTestId('map');
  await map.scrollIntoViewIfNeeded();
  await desk.waitForFunction(() => document.querySelectorAll('.leaflet-overlay-pane path').length > 0);
  const shapes = desk.locator('.leaflet-overlay-pane path');
  for (let i = 0, n = await shapes.count(); i < n; i++) await shapes.nth(i).hover({ force: true }).catch(() => {});
  await row.first().click();
  await nurse.locator('ul.requests li', { hasText: 'onerror' }).first().waitFor();
  for (const p of [desk, nurse]) {
    assert.equal(await p.evaluate(() => window.__pwned ?? null), null, 'no planted script ran');
    assert.equal(await p.locator('img[src="x"]').count(), 0, 'no planted element was made');
  }
  assert.deepEqual(dialogs, []);
  // And the hub forbids inline script whatever happens.
  const resp = await fetch(hub.url);
  assert.match(resp.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(resp.headers.get('x-content-type-options'), 'nosniff');
  await shot(desk, '9b-planted-markup-shown-as-text');
  for (const p of [desk, nurse]) await p.context().close();
});

test('the map draws sectors, doctors and calls without tiles', async () => {
  const desk = await seat(browser, hub.url, 'dispatcher');
  const map = desk.getByTestId('map');
  await map.scrollIntoViewIfNeeded();
  await desk.waitForFunction(() => document.querySelectorAll('.leaflet-overlay-pane path').length > 20);
  const paths = await desk.locator('.leaflet-overlay-pane path').count();
  assert.ok(paths >= 6 + 15 + 10, `sectors, doctors and calls are drawn (${paths} shapes)`);
  assert.equal(await desk.locator('.leaflet-tile-pane img').count(), 0);
  await shot(desk, '9-map-without-tiles');
  await desk.context().close();
});

test('errors from the hub are shown in French next to the field', async () => {
  const desk = await seat(browser, hub.url, 'dispatcher');
  const form = desk.getByRole('form', { name: 'Nouvel appel' });
  await fillCall(form, { birth_name: 'Test', first_names: 'Erreur', line: '1 rue X', city: 'Grenoble', lat: '145', lon: '5.7', motive: 'douleur' });
  await form.getByRole('button', { name: /Enregistrer l'appel/ }).click();
  const error = form.locator('[data-field="address.lat"] .error');
  await error.waitFor();
  assert.equal(await error.innerText(), 'La latitude est hors limites (de -90 à 90).');
  await shot(desk, '10-error-in-french');

  // A wrong password, on the login screen.
  const page = await (await browser.newContext()).newPage();
  await page.goto(hub.url);
  await page.getByLabel('Identifiant').fill('dispatcher');
  await page.getByLabel('Mot de passe').fill('wrong');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByText('Identifiant ou mot de passe incorrect.').waitFor();
  await desk.context().close();
  await page.context().close();
});

test('a lost connection is shown, and the board catches up by itself when the hub is back', async () => {
  // A hub of its own, on a store that outlives it, so that it can be stopped and started again.
  const dir = mkdtempSync(join(tmpdir(), 'chevet-e2e-'));
  const db = `sqlite://${join(dir, 'hub.db')}`;
  await runChevet(['user', 'add', '--db', db, '--username', 'standard', '--name', 'Nadia Benali', '--role', 'dispatcher'], 'un mot de passe\n');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = ['serve', '--db', db, '--listen', `127.0.0.1:${port}`];
  let own = await startHub(args);
  const context = await browser.newContext({ locale: 'fr-FR' });
  await context.addInitScript(() => localStorage.setItem('chevet.tiles', ''));
  const desk = await context.newPage();
  await desk.goto(own.url);
  await desk.getByLabel('Identifiant').fill('standard');
  await desk.getByLabel('Mot de passe').fill('un mot de passe');
  await desk.getByRole('button', { name: 'Se connecter' }).click();
  await desk.getByText('Aucun appel en attente.').waitFor();
  const token = await desk.evaluate(() => sessionStorage.getItem('chevet.token'));

  await own.stop();
  await desk.locator('[data-link="lost"]').waitFor({ timeout: 15_000 });
  await shot(desk, '11-connection-lost');

  own = await startHub(args);
  // A call taken as soon as the hub is back reaches the board, which reconnected by itself.
  const motive = `Après la coupure ${stamp()}`;
  const r = await fetch(`${own.url}/api/v1/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      patient: { birth_name: 'Coupure', first_names: 'Réseau' },
      address: { line: '2 place Victor Hugo', city: 'Grenoble' },
      motive,
      urgency: 2,
    }),
  });
  assert.equal(r.status, 201);
  await desk.locator('[data-link]').waitFor({ state: 'detached', timeout: 20_000 });
  await desk.locator('li.visit', { hasText: motive }).waitFor({ timeout: 20_000 });
  await context.close();
  await own.stop();
});

test('an admin delegates a doctor to an assistant and reads the audit trail', async () => {
  const admin = await seat(browser, hub.url, 'admin');
  await admin.locator('table.list tbody tr').first().waitFor();
  assert.ok((await admin.locator('table.list tbody tr').count()) >= 25, 'every account is listed');
  await admin.getByRole('button', { name: 'Délégations' }).click();
  const form = admin.getByRole('form', { name: 'Nouvelle délégation' });
  const doctor = await form.getByLabel('Médecin').locator('option', { hasText: 'Julien Bernard' }).getAttribute('value');
  await form.getByLabel('Médecin').selectOption(doctor);
  const assistant = await form.getByLabel('Assistante').locator('option', { hasText: 'Aurélie Roussel' }).getAttribute('value');
  await form.getByLabel('Assistante').selectOption(assistant);
  await form.getByRole('button', { name: 'Proposer la délégation' }).click();
  // Proposed, not in force: the doctor accepts it (here through the API; his phone is another test).
  await admin.locator('ul.delegations li', { hasText: "en attente de l'accord du médecin" }).waitFor();
  // Proposing it twice is refused, in French.
  await form.getByRole('button', { name: 'Proposer la délégation' }).click();
  await admin.getByText('Cette assistante a déjà une délégation de ce médecin.').waitFor();
  const users = await (await apiAs(hub.url, 'admin'))('GET', '/users');
  const bernard = users.find((u) => u.display_name.includes('Julien Bernard'));
  const asBernard = await apiAs(hub.url, bernard.username);
  const pending = (await asBernard('GET', '/delegations')).find((d) => !d.accepted_at);
  await asBernard('POST', `/delegations/${pending.id}/accept`, {});
  await admin.getByRole('button', { name: 'Comptes' }).click();
  await admin.getByRole('button', { name: 'Délégations' }).click();
  await admin.locator('ul.delegations li', { hasText: 'Aurélie Roussel agit pour Dr Julien Bernard' }).waitFor();

  await admin.getByRole('button', { name: "Journal d'audit" }).click();
  await admin.getByPlaceholder('ex. visit.assign').fill('delegation.grant');
  await admin.getByPlaceholder('ex. visit.assign').press('Enter');
  await admin.locator('table.audit tbody tr', { hasText: 'Isabelle Fabre' }).first().waitFor();
  await shot(admin, '12-admin-audit');

  // The assistant now follows both doctors.
  const assistantPage = await seat(browser, hub.url, 'assistant', { width: 420, height: 860 });
  await assistantPage.locator('.me-status', { hasText: 'Julien Bernard' }).waitFor();
  assert.equal(await assistantPage.getByRole('button', { name: 'Clôturer' }).count(), 0, 'only the doctor closes');
  await admin.context().close();
  await assistantPage.context().close();
});

test('a call outside the sectors is kept with « téléconsultation » as its outcome and found in the journal by phone; red flags lead to the 15', async () => {
  const desk = await seat(browser, hub.url, 'dispatcher', { width: 1920, height: 1080 });
  const form = desk.getByRole('form', { name: 'Nouvel appel' });
  const digits = String(Date.now()).slice(-8);
  const phone = `06 ${digits.slice(0, 2)} ${digits.slice(2, 4)} ${digits.slice(4, 6)} ${digits.slice(6, 8)}`;
  await form.getByLabel('Téléphone').fill(phone);
  await fillCall(form, { birth_name: 'Hors', first_names: 'Secteur', line: '1 place du Marché', city: 'Voiron', lat: '45,364', lon: '5,589', motive: 'fièvre' });
  const banner = desk.getByTestId('out-of-sector');
  await banner.waitFor();
  assert.match(await banner.innerText(), /Téléconsultation/);
  // No home visit out there: the call is not lost, it is kept with the fallback chosen.
  assert.ok(await form.getByRole('button', { name: /Enregistrer l'appel/ }).isDisabled());
  await shot(desk, '13-out-of-sector');
  await banner.locator('button[data-outcome="teleconsultation"]').click();
  await desk.locator('.notice', { hasText: 'Appel enregistré sans visite : téléconsultation' }).waitFor();
  assert.equal(await desk.locator('li.visit', { hasText: 'HORS' }).count(), 0, 'no home visit queued');

  // The journal finds it by the number, typed another way.
  await desk.getByRole('button', { name: 'Journal des appels' }).click();
  const journal = desk.getByRole('region', { name: 'Journal des appels' });
  await journal.getByLabel('Téléphone').fill(`+33 6${digits}`);
  const found = journal.locator('tr[data-call]');
  await found.first().waitFor();
  assert.equal(await found.count(), 1);
  assert.match(await found.innerText(), /Téléconsultation/);
  assert.match(await found.innerText(), /Hors Secteur/i);
  await found.locator('.chip', { hasText: 'hors secteur' }).waitFor();
  await found.click();
  await journal.locator('.call-detail', { hasText: /décidée par Karim Haddad/ }).waitFor();
  await shot(desk, '42-journal-by-phone');
  await desk.getByRole('button', { name: 'Régulation' }).click();

  // Back inside the city, chest pain with sweating: the 15 is offered, and the transfer recorded.
  await fillCall(form, { lat: '45,1876', lon: '5,7310', city: 'Grenoble' });
  const motive = `Douleur thoracique avec sueurs ${stamp()}`;
  await form.getByLabel('Motif').fill(motive);
  await banner.waitFor({ state: 'detached' });
  const flags = desk.getByTestId('red-flags');
  await flags.waitFor();
  await shot(desk, '14-red-flag');
  await flags.getByRole('button', { name: 'Enregistrer et transférer au 15' }).click();
  await desk.locator('.notice', { hasText: 'Appel enregistré' }).waitFor();
  assert.equal(await desk.locator('li.visit', { hasText: motive }).count(), 0, 'not queued for a home visit');
  await desk.context().close();
});

test('auto-dispatch proposes a doctor, one click accepts; a pin dropped on the map gives the position', async () => {
  const desk = await seat(browser, hub.url, 'dispatcher');
  const form = desk.getByRole('form', { name: 'Nouvel appel' });
  const modes = desk.getByRole('radiogroup', { name: 'Répartition automatique' });
  await modes.getByText('Proposer').click();
  await desk.locator('.notice', { hasText: 'Répartition : proposer' }).waitFor();
  try {
    // The position comes from a click on the map, not from typed coordinates.
    await form.getByRole('button', { name: 'Placer sur la carte' }).click();
    const map = desk.getByTestId('map');
    await map.scrollIntoViewIfNeeded();
    const box = await map.boundingBox();
    // The middle of the view: Grenoble's centre, inside the demo's sectors (a marker there lets the
    // click through to the map).
    await map.click({ position: { x: box.width / 2 + 7, y: box.height / 2 + 5 }, force: true });
    await desk.locator('.leaflet-marker-icon.pin').waitFor();
    const lat = Number((await form.getByLabel('Latitude').inputValue()).replace(',', '.'));
    assert.ok(lat > 45.0 && lat < 45.4, `latitude from the map: ${lat}`);

    const motive = `Lombalgie aiguë ${stamp()}`;
    await fillCall(form, { birth_name: 'Proposé', first_names: 'Paul', line: '2 rue Lafayette', city: 'Grenoble', motive });
    await form.getByLabel('Motif').press('Control+Enter');
    const row = desk.locator('li.visit', { hasText: motive });
    const proposal = row.locator('button.suggest.proposal');
    await proposal.waitFor();
    await shot(desk, '15-auto-dispatch-proposal');
    assert.equal(await row.getAttribute('data-status'), 'received', 'a proposal does not assign');
    const name = (await proposal.innerText()).replace(/^✓\s*/, '').split(' · ')[0];
    await proposal.click();
    const assigned = desk.locator('li.visit[data-status="assigned"]', { hasText: motive });
    await assigned.waitFor();
    assert.match(await assigned.innerText(), new RegExp(name));
  } finally {
    await modes.getByText('Manuel').click();
    await desk.locator('.notice', { hasText: 'Répartition : manuel' }).waitFor();
    await desk.context().close();
  }
});

test('the address is found as it is typed, with typos and without accents', async () => {
  const desk = await seat(browser, hub.url, 'dispatcher');
  const form = desk.getByRole('form', { name: 'Nouvel appel' });
  await fillCall(form, { line: '12 rue des alp', city: 'grenolbe' });
  const found = form.getByRole('list', { name: 'Adresses trouvées' });
  const hit = found.getByRole('button', { name: /12 Rue des Alpes/ }).first();
  await hit.waitFor();
  await shot(desk, '16-address-search');
  await hit.click();
  assert.equal(await form.getByLabel('Commune').inputValue(), 'Grenoble');
  assert.equal(await form.getByLabel('Code postal').inputValue(), '38000');
  const lat = Number(await form.getByLabel('Latitude').inputValue());
  assert.ok(Math.abs(lat - 45.189) < 0.01, `latitude ${lat}`);
  await desk.locator('.leaflet-marker-icon.pin').waitFor();
  await found.waitFor({ state: 'detached' });
  await desk.context().close();
});

const PHONE = { width: 390, height: 844 };
/** A 12-lead SCP-ECG recording (the shared test data, or the ECG crate's copy of it). */
const SCP_ECG = ['/work/shared/data/ecg/scp/Example.scp', new URL('../../crates/ecg/fuzz/corpus/scp/Example.scp', import.meta.url).pathname].find(existsSync);

/** A new visit of Dr Claire Martin (the demo's `doctor`), on site; resolves with its id. */
async function visitOnSite(motive, patient = {}, at = hub) {
  const desk = await apiAs(at.url, 'dispatcher');
  const doctor = await apiAs(at.url, 'doctor');
  const me = await doctor('GET', '/me');
  const visit = await desk('POST', '/calls', {
    patient: {
      birth_name: `Rollin${stamp()}`,
      first_names: 'Marcel',
      birth_date: '1941-03-12',
      sex: 'M',
      treating_physician: { name: 'Dr Anne Perret', mssante: 'anne.perret@medecin.mssante.fr' },
      ...patient,
    },
    address: { line: '3 rue de Strasbourg', postcode: '38000', city: 'Grenoble', lat: 45.1876, lon: 5.731 },
    motive,
    urgency: 2,
  });
  await desk('POST', `/visits/${visit.id}/assign`, { doctor_id: me.id });
  await doctor('POST', `/visits/${visit.id}/en-route`, {});
  await doctor('POST', `/visits/${visit.id}/on-site`, {});
  return visit.id;
}

test('the assistant drafts the report and adds an ECG; the doctor finishes it on his phone, validates, and the letter leaves', async () => {
  // The letters leave from the association's MSSanté mailbox: the administrator gives it.
  const admin = await seat(browser, hub.url, 'admin');
  await admin.getByRole('button', { name: 'Association' }).click();
  const association = admin.getByRole('form', { name: 'Association' });
  await association.getByLabel('Adresse MSSanté (envoi des lettres)').fill('sos-medecins-grenoble@asso.mssante.fr');
  await association.getByLabel('Code postal').fill('38000');
  await association.getByRole('button', { name: 'Enregistrer' }).click();
  await association.getByText('Enregistré.').waitFor();
  await admin.context().close();

  const motive = `Palpitations et malaise ${stamp()}`;
  const visitId = await visitOnSite(motive);

  // The assistant, at her desk, drafts for Dr Martin.
  const assistant = await seat(browser, hub.url, 'assistant');
  await assistant.locator('li.card', { hasText: motive }).getByRole('button', { name: 'Compte rendu' }).click();
  await assistant.getByText('Brouillon pour le Dr Claire Martin — il le validera.').waitFor();
  assert.equal(await assistant.getByRole('textbox', { name: 'Motif' }).inputValue(), motive, 'the motive of the call is the default');
  await assistant.getByRole('textbox', { name: 'Antécédents, traitements, allergies' }).fill('HTA, diabète de type 2 (metformine). Pas d’allergie.');
  await assistant.getByRole('textbox', { name: 'TA systolique' }).fill('145');
  await assistant.getByRole('textbox', { name: 'TA diastolique' }).fill('85');
  await assistant.getByRole('textbox', { name: 'FC' }).fill('128');
  await assistant.getByRole('textbox', { name: 'SpO₂' }).fill('96');
  await assistant.getByRole('textbox', { name: 'Température' }).fill('36,8');
  await assistant.getByRole('textbox', { name: 'Examen clinique' }).fill('Pouls irrégulier, pas de souffle, pas de signe d’insuffisance cardiaque.');
  await assistant.getByLabel('Ajouter un ECG (fichiers)').setInputFiles(SCP_ECG);
  await assistant.locator('.ecg-list li', { hasText: 'SCP-ECG · 12 dérivations' }).waitFor();
  await assistant.getByTestId('save-state').filter({ hasText: /Brouillon enregistré \d\d:\d\d/ }).waitFor();
  assert.equal(await assistant.getByRole('button', { name: 'Valider et envoyer' }).count(), 0, 'only the doctor validates');
  // The preview of the letter the draft would make opens in a new tab.
  const [preview] = await Promise.all([assistant.context().waitForEvent('page'), assistant.getByRole('button', { name: 'Aperçu de la lettre' }).click()]);
  await preview.waitForURL(/^blob:/);
  await preview.close();
  await shot(assistant, '17-assistant-drafts-report');

  // The doctor, on his phone, opens the visit: the assistant's draft is there.
  const doctor = await seat(browser, hub.url, 'doctor', PHONE);
  const card = doctor.locator('li.card', { hasText: motive });
  await card.scrollIntoViewIfNeeded();
  await shot(doctor, '18a-doctor-round-close-entry');
  await card.getByRole('button', { name: 'Clôturer / Compte rendu' }).click();
  const exam = doctor.getByRole('textbox', { name: 'Examen clinique' });
  await doctor.waitForFunction(() => document.querySelector('textarea[aria-label="Examen clinique"]')?.value.startsWith('Pouls irrégulier'));
  assert.match(await doctor.getByTestId('provenance').innerText(), /Brouillon rédigé par Aurélie Roussel/);
  assert.equal(await doctor.getByRole('textbox', { name: 'FC' }).inputValue(), '128');
  assert.equal(await doctor.getByText(/Brouillon pour le/).count(), 0, 'no delegation banner for the doctor');
  await shot(doctor, '18-doctor-sees-draft');

  // What she types now reaches his phone without a reload.
  await assistant.getByRole('textbox', { name: 'Interprétation ECG' }).fill('ACFA à réponse ventriculaire rapide, QRS fins.');
  await doctor.waitForFunction(() => document.querySelector('textarea[aria-label="Interprétation ECG"]')?.value.startsWith('ACFA'));

  // The diagnosis, by typing a few letters.
  await doctor.getByRole('searchbox', { name: 'Rechercher un diagnostic (CIM-10)' }).fill('fibril');
  await doctor.getByRole('list', { name: 'Codes CIM-10 trouvés' }).getByRole('button', { name: /I48/ }).first().click();
  await doctor.getByRole('list', { name: 'Diagnostics retenus' }).getByText('I48').waitFor();
  await exam.fill('Pouls irrégulier à 128/min, pas de souffle, pas de signe d’insuffisance cardiaque.');
  await doctor.getByRole('textbox', { name: 'Ordonnance' }).fill('Bisoprolol 2,5 mg : 1 cp le matin\nApixaban 5 mg : 1 cp matin et soir');
  await doctor.getByRole('radio', { name: /Hôpital/ }).click();
  await doctor.getByRole('textbox', { name: 'Quel hôpital' }).fill('CHU Grenoble Alpes, cardiologie (famille)');
  await doctor.getByRole('textbox', { name: 'Suivi' }).fill('Échographie cardiaque, revoir le médecin traitant sous 8 jours.');

  // The ECG on paper, full width of the phone.
  await doctor.locator('.ecg-list li', { hasText: 'SCP-ECG' }).getByRole('button', { name: /voir le tracé/ }).click();
  const paper = doctor.getByTestId('ecg-paper').locator('img');
  await doctor.waitForFunction(() => {
    const img = document.querySelector('[data-testid="ecg-paper"] img');
    return img && img.complete && img.naturalWidth > 0;
  });
  const box = await paper.boundingBox();
  assert.ok(box.width >= 330, `the paper takes the phone's width (${box.width} px)`);
  await paper.scrollIntoViewIfNeeded();
  await shot(doctor, '19-doctor-ecg-paper');
  await doctor.getByRole('button', { name: 'Agrandir' }).click();
  assert.ok((await paper.boundingBox()).width > box.width * 1.4, 'zoomed in');

  // Validation: the visit closes and the letter leaves, its status shown live.
  await doctor.getByRole('button', { name: 'Valider et envoyer' }).click();
  const letter = doctor.getByTestId('letter');
  await letter.waitFor();
  if (smtp) {
    await doctor.locator('[data-testid="letter"][data-status="sent"]').waitFor({ timeout: 20_000 });
    assert.match(await letter.innerText(), /Envoyée à \d\d:\d\d/);
    assert.ok(smtp.messages().length >= 1, 'the relay received the letter');
  } else {
    // `chevet demo` has no --smtp-url yet: without a relay the letter waits in the outbox, and
    // the screen says why.
    await letter.getByText(/En file/).waitFor();
    await letter.getByText(/relais de messagerie/).waitFor({ timeout: 15_000 });
  }
  assert.match(await doctor.getByTestId('provenance').innerText(), /Validé par Dr Claire Martin .* brouillon de Aurélie Roussel/);
  assert.equal(await doctor.locator('[data-report-status="validated"]').count(), 1);
  await shot(doctor, '20-doctor-validated-letter');

  // The assistant's screen follows: validated, read only.
  await assistant.locator('[data-report-status="validated"]').waitFor();
  await assistant.getByTestId('letter').waitFor();

  // Back on the round, the visit is closed.
  await doctor.getByRole('button', { name: 'Retour à mes visites' }).click();
  await doctor.locator('li.card', { hasText: motive }).waitFor({ state: 'detached' });
  const api = await apiAs(hub.url, 'doctor');
  assert.equal((await api('GET', `/visits/${visitId}`)).status, 'closed');
  await assistant.context().close();
  await doctor.context().close();
});

test('a file that is not a readable ECG, and an impossible vital sign, are told in French where they were given', async () => {
  const motive = `Dyspnée ${stamp()}`;
  await visitOnSite(motive);
  const doctor = await seat(browser, hub.url, 'doctor', PHONE);
  await doctor.locator('li.card', { hasText: motive }).getByRole('button', { name: 'Clôturer / Compte rendu' }).click();
  const upload = doctor.getByLabel('Ajouter un ECG (fichiers)');
  await upload.setInputFiles({ name: 'trace.scp', mimeType: 'application/octet-stream', buffer: Buffer.from('pas un ECG') });
  const error = doctor.locator('.ecg-error');
  await error.waitFor();
  assert.match(await error.innerText(), /trace\.scp : Fichier ECG illisible/);
  assert.match(await error.innerText(), /scp: /, 'the hub’s own words follow');
  await upload.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await doctor.locator('.ecg-error', { hasText: 'Format non reconnu' }).waitFor();
  assert.equal(await doctor.locator('.ecg-list li').count(), 0);

  await doctor.getByRole('textbox', { name: 'SpO₂' }).fill('120');
  const spo2 = doctor.locator('[data-field="vitals.spo2_pct"] .error');
  await spo2.waitFor();
  assert.equal(await spo2.innerText(), 'SpO₂ hors limites (30 à 100).');
  await doctor.getByTestId('save-state').filter({ hasText: 'Non enregistré' }).waitFor();
  await shot(doctor, '21-doctor-ecg-and-vital-errors');
  // Corrected, it saves by itself.
  await doctor.getByRole('textbox', { name: 'SpO₂' }).fill('92');
  await doctor.getByTestId('save-state').filter({ hasText: /Brouillon enregistré/ }).waitFor();
  await spo2.waitFor({ state: 'detached' });

  // Validating too early points at what is missing.
  await doctor.getByRole('button', { name: 'Valider et envoyer' }).click();
  await doctor.locator('[data-field="examination"] .error', { hasText: "L'examen est à remplir" }).waitFor();
  await doctor.context().close();
});

/** "11:52": an instant as the screens show it (Paris time). */
const parisClock = (iso) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

test('the doctor books a partner nurse from the bedside on one hub; the first nurse of the network, on another hub, takes it, the other sees it taken, all live', async () => {
  // Two hubs, two processes: the association's, and the nurse network's.
  const assoc = await startDemo();
  const network = await startDemo();
  try {
    await nurseBookingBetween(assoc, network);
  } finally {
    await assoc.stop();
    await network.stop();
  }
});

async function nurseBookingBetween(hub, network) {
  // The network's admin lets the association book: an API key, shown once.
  const netAdmin = await apiAs(network.url, 'admin');
  const [hosted] = await netAdmin('GET', '/nurse-networks');
  const client = await netAdmin('POST', '/partner-clients', { name: 'SOS Médecins Grenoble', network_id: hosted.id });
  // The association's admin registers that network (and sets aside the one its demo hosts itself).
  const admin = await apiAs(hub.url, 'admin');
  for (const n of await admin('GET', '/partner-networks')) {
    await admin('PUT', `/partner-networks/${n.id}`, { name: n.name, base_url: n.base_url, acts: n.acts, area: n.area, priority: n.priority, active: false });
  }
  await admin('POST', '/partner-networks', {
    name: 'SOS Infirmiers Grenoble (réseau)',
    base_url: `${network.url.replace(/\/$/, '')}/api/partner/v1`,
    api_key: client.api_key,
    acts: ['urinary_catheter', 'wound_dressing', 'injection'],
    priority: 1,
  });
  const motive = `Globe vésical sur sonde bouchée ${stamp()}`;
  const visitId = await visitOnSite(motive, {}, hub);
  // Both nurses take requests now.
  for (const username of ['nurse', 'nurse2']) {
    const api = await apiAs(network.url, username);
    const coverage = await api('GET', '/me/coverage');
    if (!coverage.on_duty) await api('PUT', '/me/coverage', { ...coverage, on_duty: true });
  }
  const nurse = await seat(browser, network.url, 'nurse', PHONE);
  const nurse2 = await seat(browser, network.url, 'nurse2', PHONE);
  const desk = await seat(browser, hub.url, 'dispatcher');
  const doctor = await seat(browser, hub.url, 'doctor', PHONE);
  await nurse.getByRole('switch', { name: 'Ma disponibilité', checked: true }).waitFor();

  // At the bedside: the visit, « Demander une infirmière ».
  await doctor.locator('li.card', { hasText: motive }).getByRole('button', { name: 'Clôturer / Compte rendu' }).click();
  await doctor.getByRole('button', { name: 'Demander une infirmière' }).click();
  const dialog = doctor.getByRole('dialog', { name: 'Demander une infirmière' });
  await dialog.waitFor();
  // Patient, address and prescriber come from the visit; within the hour is the default.
  const summary = await dialog.locator('dl.summary').innerText();
  assert.match(summary, /ROLLIN|Rollin/);
  assert.match(summary, /3 rue de Strasbourg/);
  assert.match(summary, /Claire Martin/);
  assert.equal(await dialog.getByRole('radio', { name: /Dans l'heure/ }).getAttribute('aria-checked'), 'true', 'within the hour by default');
  await dialog.getByRole('radio', { name: /Changement de sonde urinaire/ }).click();
  await dialog.getByTestId('nurse-where').filter({ hasText: /Sera proposé à : SOS Infirmiers Grenoble/ }).waitFor();
  await dialog.getByLabel("Notes pour l'infirmière (facultatif)").fill('Sonde Ch 16, poche de recueil au domicile');
  await shot(doctor, '22-doctor-books-nurse');
  await dialog.getByRole('button', { name: 'Envoyer la demande' }).click();
  await dialog.waitFor({ state: 'detached' });
  const status = doctor.getByTestId('nurse-booking').filter({ hasText: /Changement de sonde urinaire/ });
  await status.getByText("En attente d'une infirmière").waitFor({ timeout: 20_000 });
  await shot(doctor, '23-doctor-nurse-waiting');

  // The offer reaches both nurses' phones without a reload: act, commune, deadline, association.
  const doctorApi = await apiAs(hub.url, 'doctor');
  const [booking] = await doctorApi('GET', `/visits/${visitId}/nurse-bookings`);
  assert.equal(booking.act, 'urinary_catheter');
  const before = `avant ${parisClock(booking.window_end)}`;
  const offered = (page) =>
    page.locator('li.offer[data-status="offered"]', { hasText: 'Changement de sonde urinaire' }).filter({ hasText: before }).first();
  await offered(nurse).waitFor({ timeout: 20_000 });
  await offered(nurse2).waitFor();
  const offerId = await offered(nurse).getAttribute('data-offer');
  const mine = nurse.locator(`li.offer[data-offer="${offerId}"]`);
  assert.match(await mine.innerText(), /Grenoble/);
  assert.doesNotMatch(await mine.innerText(), /Rollin/i, 'no patient before she takes it');
  await shot(nurse, '24-nurse-offer');

  // « J'accepte », one tap: the patient, the address to navigate to, « Soin réalisé ».
  await mine.getByRole('button', { name: "J'accepte" }).click();
  await nurse.locator(`li.offer[data-offer="${offerId}"][data-status="accepted"]`).waitFor();
  assert.match(await mine.innerText(), /Rollin/i);
  await mine.locator('a.address[href^="geo:"]').waitFor();
  await mine.getByRole('button', { name: 'Soin réalisé' }).waitFor();
  await shot(nurse, '25-nurse-accepted');

  // The other nurse sees it taken, faded.
  await nurse2
    .locator('li.offer.greyed', { hasText: 'Changement de sonde urinaire' })
    .filter({ hasText: before })
    .filter({ hasText: 'Prise par une autre infirmière' })
    .first()
    .waitFor();
  await shot(nurse2, '26-nurse2-taken');

  // The doctor's screen follows: accepted, by whom, when.
  await status.getByText(/Acceptée — Hélène Jacquet, arrivée prévue \d\d:\d\d/).waitFor({ timeout: 30_000 });
  await shot(doctor, '27-doctor-nurse-accepted');

  // The dispatcher's board shows it on the visit, compactly.
  const row = desk.locator('li.visit', { hasText: motive });
  await row.getByTestId('nurse-badge').filter({ hasText: /Infirmière : acceptée \d\d:\d\d/ }).waitFor();
  await row.scrollIntoViewIfNeeded();
  await shot(desk, '28-dispatcher-nurse-badge');

  for (const page of [nurse, nurse2, desk, doctor]) await page.context().close();
}


/** The code an authenticator app shows for a base32 secret (RFC 6238: HMAC-SHA1, 30 s, 6 digits). */
async function totpCode(secret, at = Date.now()) {
  const { createHmac } = await import('node:crypto');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('a doctor accepts on his phone the delegation an admin proposed; before that the assistant sees nothing of his', async () => {
  const admin = await apiAs(hub.url, 'admin');
  const users = await admin('GET', '/users');
  const doctor = users.find((u) => u.username === 'dr05');
  const assistant = users.find((u) => u.role === 'assistant');
  await admin('POST', '/delegations', { doctor_id: doctor.id, assistant_id: assistant.id });
  const asAssistant = await apiAs(hub.url, 'assistant');
  assert.ok(!(await asAssistant('GET', '/me')).acts_for.includes(doctor.id));

  const phone = await seat(browser, hub.url, 'dr05', { width: 390, height: 844 });
  const banner = phone.locator('.pending-delegations');
  await banner.getByText(assistant.display_name).waitFor();
  await shot(phone, '30-doctor-delegation-proposed');
  await banner.getByRole('button', { name: 'Accepter' }).click();
  await banner.waitFor({ state: 'detached' });
  assert.ok((await asAssistant('GET', '/me')).acts_for.includes(doctor.id));
  // His account says so too, and he may take it back from there.
  await phone.getByRole('button', { name: 'Mon compte' }).click();
  await phone.getByRole('region', { name: 'Mon compte' }).getByText(/agit pour vous depuis/).waitFor();
  await phone.context().close();
});

test('a doctor turns on the second factor from his phone; his next login asks for the code', async () => {
  const phone = await seat(browser, hub.url, 'dr06', { width: 390, height: 844 });
  await phone.getByRole('button', { name: 'Mon compte' }).click();
  await phone.getByRole('button', { name: 'Activer la double authentification' }).click();
  const secret = (await phone.getByTestId('totp-secret').textContent()).trim();
  await phone.locator('img.qr').waitFor();
  await shot(phone, '31-doctor-second-factor-enrol');
  const box = phone.getByLabel('Double authentification');
  await box.getByLabel("Code à 6 chiffres de l'application").fill(await totpCode(secret));
  await box.getByRole('button', { name: 'Confirmer' }).click();
  await box.getByText(/Active : chaque connexion demande le code/).waitFor();
  // His sessions: this one, marked.
  await phone.getByLabel('Mes sessions').getByText('cette session').waitFor();
  await shot(phone, '32-doctor-account');
  await phone.getByRole('button', { name: 'Se déconnecter' }).click();

  await phone.getByLabel('Identifiant').fill('dr06');
  await phone.getByLabel('Mot de passe').fill('demo');
  await phone.getByRole('button', { name: 'Se connecter' }).click();
  const code = phone.getByLabel("Code de l'application d'authentification");
  await code.waitFor();
  await code.fill('000000');
  await phone.getByRole('button', { name: 'Se connecter' }).click();
  await phone.getByText(/Code faux ou déjà utilisé/).waitFor();
  await shot(phone, '33-login-asks-the-code');
  // The code of the next step: the one of this step was spent confirming.
  await code.fill(await totpCode(secret, Date.now() + 30_000));
  await phone.getByRole('button', { name: 'Se connecter' }).click();
  await phone.getByTestId('who').waitFor();
  await phone.context().close();
});

test("the doctor's phone shares its position; the board shows where he is within seconds, and when he pauses it", async () => {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    geolocation: { latitude: 45.1885, longitude: 5.7245, accuracy: 15 },
    permissions: ['geolocation'],
  });
  await context.addInitScript(() => localStorage.setItem('chevet.tiles', ''));
  const phone = await context.newPage();
  phone.setDefaultTimeout(15_000);
  await phone.goto(hub.url);
  await phone.getByLabel('Identifiant').fill('dr08');
  await phone.getByLabel('Mot de passe').fill('demo');
  await phone.getByRole('button', { name: 'Se connecter' }).click();
  const line = phone.getByTestId('position-line');
  await line.getByText(/Position partagée \(± 15 m\)/).waitFor();
  await shot(phone, '34-doctor-position-shared');

  const desk = await apiAs(hub.url, 'dispatcher');
  const me = (await (await apiAs(hub.url, 'dr08'))('GET', '/me')).id;
  const fixOnBoard = async (lat) => {
    for (let i = 0; i < 60; i++) {
      const d = (await desk('GET', '/doctors')).find((x) => x.id === me);
      if (d.position && Math.abs(d.position.lat - lat) < 1e-6) return d;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`the board never showed ${lat}`);
  };
  await fixOnBoard(45.1885);
  // He drives 1.5 km north: the board has it within 30 s (at most one fix per 10 s is sent).
  await context.setGeolocation({ latitude: 45.2020, longitude: 5.7245, accuracy: 8 });
  const moved = await fixOnBoard(45.202);
  assert.equal(moved.position.accuracy_m, 8);
  const board = await seat(browser, hub.url, 'dispatcher', { width: 1920, height: 1080 });
  const cell = board.locator(`tr[data-doctor="${me}"] [data-testid="doctor-position"]`);
  await cell.getByText(/^il y a \d+ s$/).waitFor();

  // He pauses sharing: the board says so at once.
  await line.getByRole('button', { name: 'Suspendre le partage' }).click();
  await line.getByText(/Partage de la position suspendu/).waitFor();
  await cell.getByText(/partage suspendu/).waitFor();
  await shot(board, '35-dispatcher-position-paused');
  await line.getByRole('button', { name: 'Reprendre le partage' }).click();
  await line.getByText(/Position partagée|Recherche de la position/).waitFor();
  await board.context().close();
  await context.close();
});

test("a visit given to the doctor rings his phone and the board sees « vu »; offline, his steps and his report wait on the phone and reach the hub when the network returns", async () => {
  const context = await browser.newContext({ ...{ viewport: PHONE }, locale: 'fr-FR', timezoneId: 'Europe/Paris', permissions: ['notifications'] });
  await context.addInitScript(() => {
    localStorage.setItem('chevet.tiles', '');
    window.__shown = [];
    const show = ServiceWorkerRegistration.prototype.showNotification;
    ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
      window.__shown.push(`${title} | ${options?.body ?? ''}`);
      return show.call(this, title, options);
    };
  });
  const phone = await context.newPage();
  phone.setDefaultTimeout(15_000);
  await phone.goto(hub.url);
  await phone.getByLabel('Identifiant').fill('dr09');
  await phone.getByLabel('Mot de passe').fill('demo');
  await phone.getByRole('button', { name: 'Se connecter' }).click();
  await phone.getByTestId('who').waitFor();
  // The service worker keeps the shell from now on.
  await phone.waitForFunction(async () => !!(await navigator.serviceWorker.getRegistration())?.active);

  const desk = await apiAs(hub.url, 'dispatcher');
  const doctor = await apiAs(hub.url, 'dr09');
  const me = await doctor('GET', '/me');
  await doctor('PUT', `/doctors/${me.id}/status`, { status: 'available' });
  const motive = `Douleur lombaire fébrile ${stamp()}`;
  const visit = await desk('POST', '/calls', {
    patient: { birth_name: `Vallier${stamp()}`, first_names: 'Odette', birth_date: '1938-07-21', sex: 'F' },
    address: { line: '12 rue Lesdiguières', postcode: '38000', city: 'Grenoble', lat: 45.1868, lon: 5.7259, details: '3e étage, code 4512B' },
    motive,
    urgency: 2,
  });
  await desk('POST', `/visits/${visit.id}/assign`, { doctor_id: me.id });

  // The phone rings: a banner with « Vu », and a system notification that names no patient.
  const banner = phone.getByRole('alert', { name: 'Nouvelles visites' });
  await banner.getByText(motive).waitFor();
  // What the page asks the platform to show (headless Chromium does not always keep shown
  // notifications for getNotifications(): the request itself is what our code controls).
  await phone.waitForFunction((m) => (window.__shown ?? []).some((t) => t.includes(m)), motive);
  const titles = await phone.evaluate(() => window.__shown);
  assert.ok(titles.some((t) => t.startsWith('Nouvelle visite P2 | ') && t.includes(motive) && !t.includes('Vallier')), `notifications: ${titles}`);
  await shot(phone, '36-doctor-new-visit-rings');
  const board = await seat(browser, hub.url, 'dispatcher', { width: 1920, height: 1080 });
  const row = board.locator('li.visit', { hasText: motive });
  await row.getByTestId('seen').getByText('envoyée').waitFor();
  await banner.getByRole('button', { name: 'Vu' }).click();
  await row.getByTestId('seen').getByText(/^vu à \d\d:\d\d$/).waitFor();
  await shot(board, '37-dispatcher-sees-vu');

  // A cellar: no network. He sets off and arrives; the steps wait, marked « non envoyé ».
  await context.setOffline(true);
  const card = phone.locator('li.card', { hasText: motive });
  await card.getByRole('button', { name: 'En route' }).click();
  await card.getByTestId('unsent').waitFor();
  await card.getByRole('button', { name: 'Sur place' }).click();
  await phone.locator('li.card[data-status="on_site"]', { hasText: motive }).waitFor();
  assert.equal((await desk('GET', `/visits/${visit.id}`)).status, 'assigned', 'the hub has not heard yet');
  // The report, typed offline: kept on the phone at every keystroke.
  await card.getByRole('button', { name: 'Clôturer / Compte rendu' }).click();
  const exam = phone.getByRole('textbox', { name: 'Examen clinique' });
  await exam.fill('Fosse lombaire droite sensible, pas de défense. Urines troubles.');
  await phone.getByTestId('save-state').getByText('Non envoyé — gardé sur ce téléphone').waitFor();
  await phone.getByTestId('offline').waitFor();
  await shot(phone, '38-doctor-report-offline');
  // The tab is reloaded without network: the shell, the round and the draft are still there.
  await phone.reload();
  await phone.getByTestId('who').waitFor();
  await phone.waitForFunction(() => document.querySelector('textarea[aria-label="Examen clinique"]')?.value.startsWith('Fosse lombaire'));
  await shot(phone, '39-doctor-offline-after-reload');

  // The network returns: the steps go in order with the times they were tapped, then the draft.
  await context.setOffline(false);
  const deadline = Date.now() + 30_000;
  let v;
  let report;
  for (;;) {
    v = await desk('GET', `/visits/${visit.id}`);
    report = await doctor('GET', `/visits/${visit.id}/report`);
    if (v.status === 'on_site' && report.observations?.examination?.startsWith('Fosse lombaire')) break;
    if (Date.now() > deadline) throw new Error(`not replayed: ${v.status}, ${JSON.stringify(report.observations ?? null)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const steps = v.history.filter((h) => ['en_route', 'on_site'].includes(h.to_status));
  assert.deepEqual(steps.map((h) => h.to_status), ['en_route', 'on_site']);
  await phone.getByTestId('save-state').getByText(/Brouillon enregistré/).waitFor();
  // The tab killed, a new one opened: still logged in (the session cookie), no second login.
  await phone.close();
  const again = await context.newPage();
  await again.goto(hub.url);
  await again.getByTestId('who').getByText(/Dr/).waitFor();
  assert.equal(await again.getByLabel('Mot de passe').count(), 0);
  await board.context().close();
  await context.close();
});

test('the doctor called back to a patient reads, on his phone, what the last doctor found', async () => {
  const desk = await apiAs(hub.url, 'dispatcher');
  const first = await apiAs(hub.url, 'dr11');
  const second = await apiAs(hub.url, 'dr12');
  const [me1, me2] = [await first('GET', '/me'), await second('GET', '/me')];
  await first('PUT', `/doctors/${me1.id}/status`, { status: 'available' });
  await second('PUT', `/doctors/${me2.id}/status`, { status: 'available' });
  const name = `Rochas${stamp()}`;
  const address = { line: '5 place Grenette', postcode: '38000', city: 'Grenoble', lat: 45.1904, lon: 5.7272 };
  const earlier = await desk('POST', '/calls', {
    patient: { birth_name: name, first_names: 'Lucien', birth_date: '1941-03-09', sex: 'M' },
    address,
    motive: 'Palpitations',
    urgency: 2,
  });
  await desk('POST', `/visits/${earlier.id}/assign`, { doctor_id: me1.id });
  await first('POST', `/visits/${earlier.id}/en-route`, {});
  await first('POST', `/visits/${earlier.id}/on-site`, {});
  await first('PUT', `/visits/${earlier.id}/report`, {
    version: 0,
    observations: {
      motive: 'Palpitations depuis 2 heures',
      history: 'HTA traitée',
      examination: 'Pouls irrégulier à 120/min, pas de signe d’insuffisance cardiaque.',
      vitals: { systolic_mmhg: 142, diastolic_mmhg: 84, heart_rate_bpm: 122, spo2_pct: 96 },
      ecg_interpretation: 'Fibrillation atriale rapide, QRS fins',
      diagnoses: [{ code: 'I48.9', label: 'Fibrillation et flutter auriculaires, sans précision' }],
      treatment: 'Bisoprolol 2,5 mg per os',
      prescriptions: ['Bisoprolol 2,5 mg : 1 cp le matin'],
      orientation: { kind: 'home', details: null },
      advice: 'Rappeler en cas de malaise',
      follow_up: 'Avis cardiologique sous 8 jours',
    },
  });
  await first('POST', `/visits/${earlier.id}/report/validate`, { version: 1, treating_physician: { name: 'Dr Bruno Vial', mssante: 'bruno.vial@medecin.mssante.fr' } });

  // Two days later, another doctor is sent to him.
  const now = await desk('POST', '/calls', { patient_id: earlier.patient.id, address, motive: 'Malaise', urgency: 2 });
  await desk('POST', `/visits/${now.id}/assign`, { doctor_id: me2.id });
  const phone = await seat(browser, hub.url, 'dr12', PHONE);
  const card = phone.locator('li', { hasText: 'Malaise' }).filter({ has: phone.getByRole('button', { name: 'Historique' }) }).first();
  await card.getByRole('button', { name: 'Historique' }).click();
  const timeline = phone.getByRole('list', { name: 'Visites précédentes' });
  await timeline.getByText('Fibrillation et flutter auriculaires').waitFor();
  const text = await timeline.innerText();
  assert.match(text, /Vu le \d{2}\/\d{2}/);
  assert.ok(text.includes(`par ${me1.display_name ?? me1.name}`) || /par Dr/.test(text), text);
  assert.ok(text.includes('ECG : Fibrillation atriale rapide'), text);
  await timeline.scrollIntoViewIfNeeded();
  await shot(phone, '40-doctor-patient-history');
});

test('the doctor on his way hands the case to the 15 himself, with a reason the board reads', async () => {
  const desk = await apiAs(hub.url, 'dispatcher');
  const doctor = await apiAs(hub.url, 'dr13');
  const me = await doctor('GET', '/me');
  await doctor('PUT', `/doctors/${me.id}/status`, { status: 'available' });
  const motive = `Malaise ${stamp()}`;
  const visit = await desk('POST', '/calls', {
    patient: { birth_name: `Garnier${stamp()}`, first_names: 'Paul', birth_date: '1950-01-02', sex: 'M' },
    address: { line: '2 rue Félix Poulat', postcode: '38000', city: 'Grenoble', lat: 45.1889, lon: 5.7247 },
    motive,
    urgency: 2,
  });
  await desk('POST', `/visits/${visit.id}/assign`, { doctor_id: me.id });
  const phone = await seat(browser, hub.url, 'dr13', PHONE);
  const card = phone.locator(`li.card[data-visit="${visit.id}"]`);
  await card.getByRole('button', { name: 'Transférer au 15' }).click();
  const form = card.getByRole('form', { name: 'Transfert au 15' });
  const send = form.getByRole('button', { name: 'Transférer au 15' });
  assert.ok(await send.isDisabled(), 'no transfer without a reason');
  await form.getByRole('button', { name: 'Détresse vitale' }).click();
  await form.getByLabel('Motif du transfert').fill('Détresse vitale : la fille rappelle, il ne répond plus');
  await shot(phone, '41-doctor-hands-to-15');
  await send.click();
  await card.waitFor({ state: 'detached' });
  const v = await desk('GET', `/visits/${visit.id}`);
  assert.equal(v.status, 'redirected_15');
  const last = v.history.at(-1);
  assert.equal(last.to_status, 'redirected_15');
  assert.equal(last.reason, 'Détresse vitale : la fille rappelle, il ne répond plus');
});

test('a week of shifts is planned on the roster, overlaps are refused, the week is copied; a doctor without a shift is never suggested', async () => {
  const admin = await apiAs(hub.url, 'admin');
  const users = await admin('GET', '/users');
  const dr = users.find((u) => u.username === 'dr18');
  const api = await apiAs(hub.url, 'dispatcher2');
  // Dr 18 is available but has no shift: never suggested, and the board says why.
  await api('PUT', `/doctors/${dr.id}/status`, { status: 'available' });
  const motive = `Otite ${stamp()}`;
  await api('POST', '/calls', {
    patient: { birth_name: 'Garde', first_names: 'Sans' },
    address: { line: '3 place Grenette', postcode: '38000', city: 'Grenoble', lat: 45.1908, lon: 5.7279 },
    motive,
    urgency: 3,
  });
  const desk = await seat(browser, hub.url, 'dispatcher2', { width: 1920, height: 1080 });
  const row = desk.locator('li.visit', { hasText: motive });
  await row.waitFor();
  const option = row.getByLabel('Attribuer à un autre médecin').locator(`option[value="${dr.id}"]`);
  await desk.waitForFunction((el) => el.textContent.includes('pas de garde en cours'), await option.elementHandle());
  assert.equal(await row.locator(`button.suggest[data-doctor="${dr.id}"]`).count(), 0, 'not among the suggestions');

  // The roster: next week, a night shift each day for him, a click on each evening.
  await desk.getByRole('button', { name: 'Tableau de garde' }).click();
  const roster = desk.getByRole('region', { name: 'Tableau de garde' });
  await roster.getByRole('button', { name: 'Semaine suivante', exact: true }).click();
  const line = roster.locator(`.week-row[data-doctor="${dr.id}"] .track`);
  await line.waitFor();
  const save = roster.getByRole('button', { name: 'Enregistrer la garde' });
  for (let day = 0; day < 7; day++) {
    const box = await line.boundingBox();
    await desk.mouse.click(box.x + (box.width * (day + 21 / 24)) / 7, box.y + box.height / 2);
    const form = roster.getByRole('form', { name: 'Nouvelle garde' });
    assert.equal(await form.getByLabel('Heure de début').inputValue(), '20:00');
    assert.equal(await form.getByLabel('Heure de fin').inputValue(), '08:00');
    await save.click();
    await roster.locator('.notice', { hasText: 'enregistrée' }).waitFor();
    await form.waitFor({ state: 'detached' });
    await desk.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [`.week-row[data-doctor="${dr.id}"] .shift`, day + 1]);
  }
  await shot(desk, '43-roster-week');
  // A day shift starting before his night ends: refused, saying when he is on call.
  const box = await line.boundingBox();
  await desk.mouse.click(box.x + (box.width * (1 + 10 / 24)) / 7, box.y + box.height / 2);
  const form = roster.getByRole('form', { name: 'Nouvelle garde' });
  await form.getByLabel('Heure de début').fill('07:00');
  await save.click();
  await form.getByText(/Ce médecin est déjà de garde/).waitFor();
  await shot(desk, '44-roster-overlap');
  await form.getByRole('button', { name: 'Fermer' }).click();
  // The whole week copied onto the next in one click.
  await roster.getByRole('button', { name: 'Copier sur la semaine suivante' }).click();
  await roster.locator('.notice', { hasText: '7 garde(s) copiée(s)' }).waitFor();
  // The copied week, and the night of the Sunday before that ends on its Monday morning.
  await desk.waitForFunction((sel) => document.querySelectorAll(sel).length === 8, `.week-row[data-doctor="${dr.id}"] .shift`);
  await shot(desk, '44b-roster-copied');
  await desk.context().close();
});

test('a re-triage made by one dispatcher is seen live by the other; a visit is reassigned in one step', async () => {
  const api = await apiAs(hub.url, 'dispatcher');
  const motive = `Toux fébrile ${stamp()}`;
  const visit = await api('POST', '/calls', {
    patient: { birth_name: 'Triage', first_names: 'Re' },
    address: { line: '12 rue Félix Poulat', postcode: '38000', city: 'Grenoble', lat: 45.1887, lon: 5.7245 },
    motive,
    urgency: 3,
  });
  const a = await seat(browser, hub.url, 'dispatcher', { width: 1920, height: 1080 });
  const b = await seat(browser, hub.url, 'dispatcher2', { width: 1366, height: 768 });
  const cardA = a.locator(`li.visit[data-visit="${visit.id}"]`);
  const cardB = b.locator(`li.visit[data-visit="${visit.id}"]`);
  await cardB.waitFor();
  assert.match(await cardB.locator('.urgency').innerText(), /P3/);
  await cardA.getByRole('button', { name: 'Modifier' }).click();
  const edit = cardA.getByRole('form', { name: "Modifier l'appel" });
  await edit.locator('.segmented label', { hasText: 'P1' }).click();
  await edit.getByLabel('Motif').fill(`${motive}, dyspnée`);
  await edit.getByLabel('Notes').fill('rappel de la fille : respire mal');
  await edit.getByRole('button', { name: 'Enregistrer' }).click();
  await a.locator('.notice', { hasText: 'Appel modifié' }).waitFor();
  // The other board follows at once: P1, first in the queue, the new motive.
  await b.waitForFunction((id) => document.querySelector(`li.visit[data-visit="${id}"] .urgency`)?.textContent === 'P1', visit.id);
  await cardB.locator('.motive', { hasText: 'dyspnée' }).waitFor();
  await shot(b, '45-retriage-seen-live-1366');
  // Given to one doctor, then to another in one step.
  const first = cardA.getByLabel('Attribuer à un autre médecin');
  await first.selectOption(await first.locator('option', { hasText: 'Claire Martin' }).getAttribute('value'));
  await a.locator(`li.visit[data-visit="${visit.id}"][data-status="assigned"]`).waitFor();
  const other = cardA.getByLabel('Réattribuer à un autre médecin');
  const target = await other.locator('option:not([value=""])').first().getAttribute('value');
  const targetName = (await other.locator(`option[value="${target}"]`).innerText()).replace(/ \(.*$/, '');
  await other.selectOption(target);
  await cardB.locator('.doctor-name', { hasText: targetName }).waitFor();
  // Cancelled with a reason chosen in one click.
  await cardA.getByRole('button', { name: 'Annuler' }).click();
  await cardA.getByRole('button', { name: 'Parti aux urgences' }).click();
  await cardB.waitFor({ state: 'detached' });
  const detail = await api('GET', `/visits/${visit.id}`);
  assert.equal(detail.history.at(-1).reason, 'Parti aux urgences');
  await a.context().close();
  await b.context().close();
});

test('the board shows the map beside the queue on a 1920×1080 screen and at 1366×768', async () => {
  for (const [width, height] of [[1920, 1080], [1366, 768]]) {
    const desk = await seat(browser, hub.url, 'dispatcher', { width, height });
    const map = desk.getByTestId('map');
    await map.waitFor();
    const m = await map.boundingBox();
    const q = await desk.getByRole('region', { name: "File des appels" }).boundingBox();
    assert.ok(m.x >= q.x + q.width - 1, `the map is beside the queue (${JSON.stringify({ m, q })})`);
    assert.ok(m.y + m.height <= height + 1 && m.height >= 250, `the map is in sight (${JSON.stringify(m)})`);
    await shot(desk, `46-board-${width}x${height}`);
    await desk.context().close();
  }
});

test("the statistics screen shows the demo's day: calls and visits per hour, waits per priority, outcomes, sectors and doctors", async () => {
  const desk = await seat(browser, hub.url, 'dispatcher', { width: 1920, height: 1080 });
  await desk.getByRole('button', { name: 'Statistiques' }).click();
  const stats = desk.getByRole('region', { name: 'Statistiques' });
  // The demo's last 24 hours straddle two Paris days: the week holds them all.
  await stats.locator('label', { hasText: 'Semaine' }).click();
  const calls = stats.locator('.kpi', { hasText: 'Appels' }).locator('strong');
  await desk.waitForFunction((el) => Number(el.textContent) > 50, await calls.elementHandle());
  for (const chart of ['chart-hours', 'chart-days', 'chart-waits', 'chart-outcomes']) await stats.getByTestId(chart).locator('canvas').waitFor();
  const waits = stats.getByRole('table', { name: 'Délais par priorité' });
  assert.equal(await waits.locator('tbody tr').count(), 3);
  assert.match(await waits.locator('tbody tr').first().innerText(), /\d+ min/);
  assert.ok((await stats.getByRole('table', { name: 'Par secteur' }).locator('tbody tr').count()) >= 3);
  assert.ok((await stats.getByRole('table', { name: 'Par médecin' }).locator('tbody tr').count()) >= 5);
  await shot(desk, '47-statistics-week');
  await stats.locator('label', { hasText: 'Jour' }).click();
  await stats.getByTestId('chart-days').waitFor({ state: 'detached' });
  await shot(desk, '48-statistics-day');
  await desk.context().close();
});
