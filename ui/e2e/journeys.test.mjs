// The three journeys of the demo, in real Chromium against a real hub.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillCall, launchBrowser, runChevet, seat, shot, startDemo, startHub } from './hub.mjs';

let hub;
let browser;
before(async () => {
  hub = await startDemo();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await hub?.stop();
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
  await card.getByRole('button', { name: 'Clôturer' }).click();
  await card.waitFor({ state: 'detached' });
  await row.waitFor({ state: 'detached' }); // leaves the dispatcher's queue
  await doctor.getByText('Terminées récemment').click();
  await doctor.locator('details.done li[data-status="closed"]', { hasText: 'LEFORT' }).waitFor();
  await shot(doctor, '5-doctor-closed');
  await desk.context().close();
  await doctor.context().close();
});

test('an EHPAD nurse requests a visit and follows its status live', async () => {
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
  assert.equal(await error.innerText(), 'La latitude est hors limites.');
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
  await form.getByRole('button', { name: 'Déléguer' }).click();
  await admin.locator('ul.delegations li', { hasText: 'Aurélie Roussel agit pour Dr Julien Bernard' }).waitFor();
  // Granting it twice is refused, in French.
  await form.getByRole('button', { name: 'Déléguer' }).click();
  await admin.getByText('Cette assistante a déjà une délégation de ce médecin.').waitFor();

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

test('intake flags an address outside the sectors, and red flags lead to the 15', async () => {
  const desk = await seat(browser, hub.url, 'dispatcher');
  const form = desk.getByRole('form', { name: 'Nouvel appel' });
  await fillCall(form, { birth_name: 'Hors', first_names: 'Secteur', line: '1 place du Marché', city: 'Voiron', lat: '45,364', lon: '5,589', motive: 'fièvre' });
  const banner = desk.getByTestId('out-of-sector');
  await banner.waitFor();
  assert.match(await banner.innerText(), /Téléconsultation/);
  await form.getByRole('button', { name: /Enregistrer l'appel/ }).click();
  await form.getByText(/Adresse hors secteur/).first().waitFor();
  await shot(desk, '13-out-of-sector');

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
