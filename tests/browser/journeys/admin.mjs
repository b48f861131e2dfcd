// The registry administrator: accounts (list, a refused then an accepted creation with its
// enrolment code, accreditations), establishments, the reconciliation queue (the demo's
// held line attached to its suggested worker, identity unchanged), the alerts overview,
// and the journal (search, then verification of the hash chain).

import assert from 'node:assert/strict';

export default async function admin({ newPage, loginAs, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'admin');

  // Accounts.
  await page.getByRole('link', { name: 'Comptes', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Comptes' }).waitFor();
  await page.getByRole('rowheader', { name: 'organisme', exact: true }).waitFor();
  await checkPage(page, 'admin-comptes');
  await page.getByLabel('Rôle').selectOption('ORGANISME');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Filtrer' }).click()]);
  assert.equal(await page.getByRole('rowheader', { name: 'employeur', exact: true }).count(), 0);

  // A creation refused (French errors on their fields), then accepted: the code, once.
  await page.goto('/admin/comptes/nouveau');
  await page.getByLabel(/^Identifiant de connexion/).fill('labo.nord');
  await page.getByLabel(/^Rôle/).selectOption('EMPLOYEUR');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Créer le compte' }).click()]);
  await page.getByText('Le rôle « Employeur » exige un SIREN.').waitFor();
  await checkPage(page, 'admin-compte-erreurs');
  await page.getByLabel(/^Rôle/).selectOption('ORGANISME');
  await page.getByLabel(/^SIREN/).fill('443061841');
  await page.getByLabel('EXTERNE').check({ force: true }); // the DSFR draws the box on the label
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Créer le compte' }).click()]);
  await page.getByRole('heading', { level: 1, name: 'Compte labo.nord créé' }).waitFor();
  assert.match(await page.locator('main code').first().innerText(), /\S{8,}/);
  await checkPage(page, 'admin-compte-cree');

  // The accreditations of the demo's accredited body.
  await page.goto('/admin/comptes?q=organisme');
  await page.getByRole('link', { name: 'Accréditations de organisme' }).click();
  await page.getByRole('heading', { level: 1, name: 'Accréditations de organisme' }).waitFor();
  await page.getByLabel('RADON').check({ force: true });
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Enregistrer les accréditations' }).click()]);
  await page.getByRole('heading', { name: 'Accréditations enregistrées' }).waitFor();
  assert.ok(await page.getByLabel('RADON').isChecked());
  await checkPage(page, 'admin-natures');

  // Establishments.
  await page.getByRole('link', { name: 'Établissements', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Établissements' }).waitFor();
  await checkPage(page, 'admin-etablissements');

  // The reconciliation queue: the demo's held line, attached to the suggested worker.
  await page.getByRole('link', { name: 'Lignes en attente', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Lignes en attente de rapprochement' }).waitFor();
  await page.getByRole('cell', { name: 'IDENTITE_INCOHERENTE' }).first().waitFor();
  await checkPage(page, 'admin-en-attente');
  const held = page.getByRole('link', { name: /^Examiner la ligne n° \d+$/ });
  assert.equal(await held.count(), 1, 'the demo holds one line');
  const label = await held.innerText();
  await Promise.all([page.waitForNavigation(), held.click()]);
  await page.getByRole('heading', { level: 1, name: /^Ligne en attente n° \d+$/ }).waitFor();
  await page.getByRole('heading', { level: 3, name: /^Même NIR : / }).waitFor();
  await page.getByText('Différent').first().waitFor();
  await checkPage(page, 'admin-ligne-en-attente');
  await Promise.all([
    page.waitForURL('**/admin/en-attente?traitee=*'),
    page.getByRole('button', { name: /sans modifier son identité$/ }).click(),
  ]);
  await page.getByRole('heading', { name: 'Ligne traitée' }).waitFor();
  await page.getByText(/traitée : acceptée/).waitFor();
  assert.equal(await page.getByRole('link', { name: label }).count(), 0, 'gone from the queue');
  await page.getByText('Aucune ligne en attente.').waitFor();

  // Alerts.
  await page.getByRole('link', { name: 'Alertes', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Alertes' }).waitFor();
  await page.getByRole('table').first().waitFor();
  await checkPage(page, 'admin-alertes');

  // The journal: a search, then the verification of the chain.
  await page.getByRole('link', { name: 'Journal', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Journal' }).waitFor();
  await page.getByLabel(/^Acteur/).fill('admin');
  await page.getByLabel(/^Nature des données/).fill('FILE_ATTENTE');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Rechercher', exact: true }).click()]);
  await page.getByRole('cell', { name: 'FILE_ATTENTE' }).first().waitFor();
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Vérifier le chaînage du journal' }).click()]);
  await page.getByRole('heading', { name: 'Journal intègre' }).waitFor();
  await checkPage(page, 'admin-journal');

  // Logout from the header (the `logout` helper finds two such buttons on /compte).
  await Promise.all([
    page.waitForNavigation(),
    page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click(),
  ]);
  assert.equal(new URL(page.url()).pathname, '/');
}
