// The radiation protection advisor (CRP) of the demo's nuclear plant sends its operational
// dosimetry: the transmissions page, a file checked first without storing anything, then
// sent, and its report read with the rejected line first.

import assert from 'node:assert/strict';
import path from 'node:path';

/** Three readings of the plant's workers; the third ends before it starts (PERIODE_INVERSEE). */
const FILE = path.resolve('tests/browser/files/crp-dosimetrie-operationnelle.csv');

async function choose(page) {
  await page.getByLabel('Format du fichier').selectOption('dosimetrie-operationnelle');
  await page.getByLabel(/Fichier à envoyer/).setInputFiles(FILE);
}

export default async function crp({ newPage, loginAs, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'crp');

  // The advisor's navigation leads to the transmissions page.
  await Promise.all([
    page.waitForURL('**/transmissions'),
    page.getByRole('link', { name: 'Dosimétrie opérationnelle' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Transmissions' }).waitFor();
  const formats = await page.getByLabel('Format du fichier').locator('option').allTextContents();
  assert.deepEqual(formats, ['Dosimétrie opérationnelle (INB)'], 'a CRP sends operational dosimetry only');
  await checkPage(page, 'transmissions');

  // Checked without storing anything: the report is shown at once, nothing is listed.
  const before = await page.getByRole('link', { name: /Rapport de la transmission n°/ }).count();
  await choose(page);
  await Promise.all([
    page.waitForURL('**/transmissions/envoi'),
    page.getByRole('button', { name: 'Vérifier sans enregistrer' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Rapport de vérification' }).waitFor();
  await page.getByText('Rien n’a été enregistré').waitFor();
  await page.getByText('PERIODE_INVERSEE').waitFor();
  await checkPage(page, 'crp-verification');
  await page.getByRole('link', { name: 'Retour à la liste des transmissions' }).click();
  await page.getByRole('heading', { level: 1, name: 'Transmissions' }).waitFor();
  assert.equal(
    await page.getByRole('link', { name: /Rapport de la transmission n°/ }).count(),
    before,
    'a dry run is not listed',
  );

  // Sent for real: the report (after the progress page, which refreshes itself, if the
  // import is still running).
  await choose(page);
  await Promise.all([
    page.waitForURL(/\/transmissions\/\d+$/),
    page.getByRole('button', { name: 'Envoyer', exact: true }).click(),
  ]);
  await page
    .getByRole('heading', { level: 1, name: /^Rapport de la transmission n° \d+$/ })
    .waitFor({ timeout: 60_000 });
  const id = new URL(page.url()).pathname.split('/').pop();

  // The summary, then the lines: the rejected one first, its code explained.
  const summary = page.getByRole('table', { name: 'Bilan des lignes' });
  const counts = await summary.getByRole('row').nth(1).getByRole('cell').allTextContents();
  assert.deepEqual(counts.slice(0, 4), ['3', '2', '0', '1'], `lines, accepted, warnings, rejected: ${counts}`);
  const lines = page.getByRole('table', { name: 'Lignes du fichier et leurs anomalies' });
  const first = lines.getByRole('row').nth(1);
  assert.match(await first.innerText(), /^4\s+Rejetée\s+PERIODE_INVERSEE/i);
  assert.match(await first.innerText(), /La date de fin précède la date de début/);
  assert.match(await first.innerText(), /DATE_FIN_PORT/);
  await page.getByRole('link', { name: `Télécharger le rapport CSV de la transmission n° ${id}` }).waitFor();
  await checkPage(page, 'rapport');

  // The CSV report, with the session: the rejected line to correct.
  const csv = await page.evaluate(async (path) => (await fetch(path)).text(), `/api/v1/transmissions/${id}/rapport.csv`);
  assert.match(csv, /STATUT_LIGNE;CODE_ERREUR;MESSAGE/);
  assert.match(csv, /REJETE;PERIODE_INVERSEE;/);

  // Filtering on the rejected lines keeps that one only.
  await page.getByLabel('Statut').selectOption('REJETE');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Filtrer les lignes' }).click()]);
  assert.equal(await lines.getByRole('row').count(), 2);

  // Listed with its state.
  await page.goto('/transmissions');
  await page.getByRole('link', { name: `Rapport de la transmission n° ${id}` }).waitFor();
  await page.getByText('Avec anomalies (1)').waitFor();
  // The header's button (the account page has a second one).
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/'),
    page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click(),
  ]);
}
