// The accredited dosimetry body sends a results file and finds it in its list.

import assert from 'node:assert/strict';
import path from 'node:path';

/** Two results of a hospital worker; the second's period is too long (PERIODE_TROP_LONGUE). */
const FILE = path.resolve('tests/browser/files/organisme-resultats.csv');

export default async function organisme({ newPage, loginAs, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'organisme');
  await Promise.all([page.waitForURL('**/transmissions'), page.getByRole('link', { name: 'Transmissions' }).click()]);
  await page.getByRole('heading', { level: 1, name: 'Transmissions' }).waitFor();
  const formats = await page.getByLabel('Format du fichier').locator('option').allTextContents();
  assert.deepEqual(formats, ['Résultats de dosimétrie (organisme accrédité)']);
  await checkPage(page, 'organisme-transmissions');

  await page.getByLabel(/Fichier à envoyer/).setInputFiles(FILE);
  await Promise.all([page.waitForURL(/\/transmissions\/\d+$/), page.getByRole('button', { name: 'Envoyer', exact: true }).click()]);
  await page
    .getByRole('heading', { level: 1, name: /^Rapport de la transmission n° \d+$/ })
    .waitFor({ timeout: 60_000 });
  const id = new URL(page.url()).pathname.split('/').pop();
  const lines = page.getByRole('table', { name: 'Lignes du fichier et leurs anomalies' });
  assert.match(await lines.getByRole('row').nth(1).innerText(), /^3\s+PAGE-2025-03-0002\s+Rejetée\s+PERIODE_TROP_LONGUE/i);
  await checkPage(page, 'organisme-rapport');

  // The list: the new transmission first, with its counts.
  await page.getByRole('link', { name: 'Retour à la liste des transmissions' }).click();
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `Rapport de la transmission n° ${id}` }) });
  await row.waitFor();
  assert.match(await row.innerText(), /Résultats de dosimétrie/);
  assert.match(await row.innerText(), /Avec anomalies/i);
  const firstRow = page.getByRole('table', { name: /Transmissions/ }).getByRole('row').nth(1);
  assert.match(await firstRow.innerText(), new RegExp(`^${id}\\b`), 'newest first');

  // Searching by its number finds it alone.
  await page.getByLabel(/Rechercher une transmission/).fill(id);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Rechercher' }).click()]);
  assert.equal(await page.getByRole('link', { name: /Rapport de la transmission n°/ }).count(), 1);
  await checkPage(page, 'organisme-liste');
  // The header's button (the account page has a second one).
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/'),
    page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click(),
  ]);
}
