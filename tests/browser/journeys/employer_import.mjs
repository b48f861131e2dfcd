// The employer imports a SISERI 2 worker file for its hospital and reads the report.

import assert from 'node:assert/strict';
import path from 'node:path';

/** Two new workers of the hospital's north site; the last line has a wrong NIR key and class C. */
const FILE = path.resolve('tests/browser/files/employeur-travailleurs.csv');

export default async function employerImport({ newPage, loginAs, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'employeur');
  await Promise.all([
    page.waitForURL('**/transmissions'),
    page.getByRole('link', { name: 'Import des travailleurs' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Transmissions' }).waitFor();
  const formats = await page.getByLabel('Format du fichier').locator('option').allTextContents();
  assert.deepEqual(formats, ['Travailleurs (modèle d’import SISERI 2)', 'Dosimétrie opérationnelle (INB)']);

  await page.getByLabel('Format du fichier').selectOption('travailleurs');
  await page.getByLabel(/Fichier à envoyer/).setInputFiles(FILE);
  await Promise.all([page.waitForURL(/\/transmissions\/\d+$/), page.getByRole('button', { name: 'Envoyer', exact: true }).click()]);
  await page
    .getByRole('heading', { level: 1, name: /^Rapport de la transmission n° \d+$/ })
    .waitFor({ timeout: 60_000 });
  await page.getByText('Format : Travailleurs (modèle d’import SISERI 2)').waitFor();

  // Two workers declared, one line rejected with both of its codes explained.
  const counts = await page.getByRole('table', { name: 'Bilan des lignes' }).getByRole('row').nth(1).getByRole('cell').allTextContents();
  assert.deepEqual(counts.slice(0, 4), ['3', '2', '0', '1'], `lines, accepted, warnings, rejected: ${counts}`);
  const lines = page.getByRole('table', { name: 'Lignes du fichier et leurs anomalies' });
  const text = await lines.innerText();
  assert.match(text, /NIR_CLE/);
  assert.match(text, /La clé du NIR \(2 chiffres\) ne correspond pas au NIR/);
  assert.match(text, /la clé du NIR devrait être 62/);
  assert.match(text, /CODE_INCONNU/);
  assert.match(text, /CLASSEMENT/);
  await checkPage(page, 'import-travailleurs');
  // The header's button (the account page has a second one).
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/'),
    page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click(),
  ]);
}
