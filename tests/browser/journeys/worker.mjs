// The worker's journey: his doses (chart, totals, results with their version history),
// the CSV export of his history, who read his record, and his designated doctor.
// `travailleur` is a worker: no second factor.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

export default async function worker({ newPage, loginAs, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'travailleur');

  // Mes doses: the chart, the totals, every result.
  await page.getByRole('link', { name: 'Mes doses' }).first().click();
  await page.waitForURL('**/mes-doses');
  await page.getByRole('heading', { level: 1, name: 'Mes doses' }).waitFor();
  await page.getByRole('img', { name: /Dose efficace sur 12 mois glissants/ }).waitFor();
  await page.getByRole('table', { name: 'Mes résultats de dosimétrie' }).waitFor();
  await checkPage(page, 'mes-doses');

  // The chart's values as a table, and one result's version history.
  await page.getByText('Afficher les valeurs du graphique sous forme de tableau').click();
  await page.getByRole('table', { name: /mois par mois/ }).waitFor();
  const history = page.locator('summary', { hasText: 'Historique' }).first();
  await history.click();
  assert.equal(await history.locator('xpath=..').getAttribute('open'), '', 'the history opens');
  await page.getByText(/Version 1 du \d\d\/\d\d\/\d{4}/).first().waitFor();

  // The CSV export, downloaded as a file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /Télécharger mon historique de doses/ }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'siseri-historique-doses.csv');
  const csv = await readFile(await download.path(), 'utf8');
  assert.ok(csv.startsWith('\uFEFFRéférence;Nature;Grandeur;Position;Date de début;Date de fin;Statut;Dose (µSv);Dose (mSv)'), csv.slice(0, 200));
  assert.match(csv.split('\r\n')[1], /;\d\d\/\d\d\/\d{4};\d\d\/\d\d\/\d{4};/);

  // Who read my record: at least his own reads of a moment ago.
  await page.getByRole('link', { name: 'Qui a consulté mon dossier' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Qui a consulté mon dossier' }).waitFor();
  await page.getByRole('cell', { name: /travailleur \(vous-même\)/ }).first().waitFor();
  await checkPage(page, 'consultations');

  // My designated doctor: a wrong RPPS number is refused with a message tied to the field.
  await page.getByRole('link', { name: 'Mon médecin désigné' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Mon médecin désigné' }).waitFor();
  await checkPage(page, 'medecin-designe');
  await page.getByLabel(/Numéro RPPS du médecin/).fill('12345');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Désigner ce médecin' }).click()]);
  await page.getByText('Le numéro RPPS comporte exactement 11 chiffres').waitFor();
  await checkPage(page, 'medecin-designe-erreur');
  // The demo's designated doctor (RPPS 10000004563) is listed: revoke, then designate again.
  await page.getByRole('cell', { name: 'medecin.designe', exact: true }).waitFor();
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /Révoquer/ }).click()]);
  await page.getByText('La désignation est révoquée').waitFor();
  await page.getByLabel(/Numéro RPPS du médecin/).fill('10000004563');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Désigner ce médecin' }).click()]);
  await page.getByText('Le médecin est désigné').waitFor();
  // The revoked designation stays listed beside the new one.
  assert.equal(await page.getByRole('cell', { name: 'medecin.designe', exact: true }).count(), 2);

  await logOut(page);
}

/** Logs out with the header's button. */
async function logOut(page) {
  await Promise.all([page.waitForNavigation(), page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click()]);
  assert.equal(new URL(page.url()).pathname, '/');
}
