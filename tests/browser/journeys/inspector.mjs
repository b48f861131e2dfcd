// The inspector's journey: states a mission, searches the demo's industrial radiography
// company by SIRET, then opens a worker's record from the list. `inspecteur` has a
// second factor (TOTP), computed by the harness.

import assert from 'node:assert/strict';

/** The SIRET of "Contrôles Industriels du Rhône" in crates/siseri/src/demo.rs. */
const RADIOGRAPHY_SIRET = '41234568800177';

export default async function inspector({ newPage, loginAs, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'inspecteur');

  await page.getByRole('link', { name: 'Recherche' }).first().click();
  await page.waitForURL('**/controle');
  await page.getByRole('heading', { level: 1, name: /Recherche d’un travailleur/ }).waitFor();
  await checkPage(page, 'controle');

  // The mission first.
  await page.getByLabel('Référence de la mission').fill('DGT-2025-0042 contrôle radiographie');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Indiquer cette mission' }).click()]);
  await page.getByText('Mission en cours : DGT-2025-0042 contrôle radiographie').waitFor();

  // The establishment's workers.
  await page.getByLabel(/NIR d’un travailleur ou SIRET/).fill(RADIOGRAPHY_SIRET);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Rechercher', exact: true }).click()]);
  await page.getByRole('heading', { level: 2, name: /Travailleurs de Contrôles Industriels du Rhône/ }).waitFor();
  const table = page.getByRole('table', { name: 'Travailleurs rattachés à cet établissement' });
  await table.waitFor();
  assert.ok((await table.getByRole('row').count()) > 2, 'the radiographers are listed');
  await checkPage(page, 'controle-resultats');

  // A worker's record, from the list.
  const link = table.getByRole('link', { name: /^Dossier de / }).first();
  const href = await link.getAttribute('href');
  assert.match(href, /^\/travailleurs\/[0-9AB]{13}$/);
  const [response] = await Promise.all([page.waitForNavigation(), link.click()]);
  assert.equal(response.status(), 200, `${href} answered ${response.status()}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await checkPage(page, 'controle-dossier');

  // Back to the search, then log out.
  await page.goto('/controle');
  await logOut(page);
}

/** Logs out with the header's button. */
async function logOut(page) {
  await Promise.all([page.waitForNavigation(), page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click()]);
  assert.equal(new URL(page.url()).pathname, '/');
}
