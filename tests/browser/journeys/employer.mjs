// The employer's journey: its establishments, its workers, declaring a worker (the form,
// its errors, then a valid declaration), his record, the end of his attachment, the
// designations and the yearly summary; then a new employer's public registration form.

import assert from 'node:assert/strict';

/// The NIR key: 97 − (NIR mod 97), on two digits.
function nirKey(nir) {
  return String(97n - (BigInt(nir) % 97n)).padStart(2, '0');
}

export default async function employer({ newPage, loginAs, logout, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'employeur');

  // Its establishments, with their attached workers.
  await page.goto('/employeur/etablissements');
  await page.getByRole('heading', { level: 1, name: 'Mes établissements' }).waitFor();
  await page.getByRole('table', { name: /Établissements de mon entreprise/ }).waitFor();
  await checkPage(page, 'employeur-etablissements');

  // Its workers; never a dose.
  await page.goto('/employeur/travailleurs');
  await page.getByRole('heading', { level: 1, name: 'Mes travailleurs' }).waitFor();
  await page.getByRole('table', { name: /Travailleurs rattachés/ }).waitFor();
  assert.ok(!(await page.content()).includes('mSv'), 'no dose on the workers list');
  await checkPage(page, 'employeur-travailleurs');

  // The declaration form, sent empty: the errors, linked to their fields.
  await Promise.all([
    page.waitForURL('**/employeur/travailleurs/nouveau'),
    page.getByRole('link', { name: 'Déclarer un travailleur' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Déclarer un travailleur' }).waitFor();
  await checkPage(page, 'nouveau-travailleur');
  await page.getByRole('button', { name: 'Déclarer le travailleur' }).click();
  await page.getByRole('heading', { level: 2, name: /erreurs? à corriger/ }).waitFor();
  await checkPage(page, 'nouveau-travailleur-erreurs');

  // A valid declaration.
  const nir = '1040375012345';
  await page.getByLabel('NIR (ou NIA)').fill(nir);
  await page.getByLabel('Clé du NIR').fill(nirKey(nir));
  await page.getByLabel('Nom de naissance').fill('Martin');
  await page.getByLabel('Prénom').fill('Jean-Luc');
  await page.getByLabel('Date de naissance').fill('2004-03-15');
  await page.getByLabel('Sexe').selectOption('M');
  await page.getByLabel('Établissement', { exact: true }).selectOption({ index: 1 });
  await page.getByLabel('Classement').selectOption('B');
  await page.getByLabel('Domaine d’activité').selectOption('100000');
  await page.getByLabel('Secteur d’activité').selectOption('101000');
  await page.getByLabel('Métier').selectOption('AS');
  await page.getByLabel('Quotité de travail').fill('0,8');
  await page.getByLabel('Date de début du rattachement').fill('2025-01-01');
  await Promise.all([
    page.waitForURL(`**/employeur/travailleurs/${nir}`),
    page.getByRole('button', { name: 'Déclarer le travailleur' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Martin Jean-Luc' }).waitFor();
  assert.ok(!(await page.content()).includes('mSv'), 'no dose on the record');
  await checkPage(page, 'employeur-travailleur');

  // The end of his attachment: a new version, the attachment ended.
  await page.getByLabel(/Date de fin du rattachement à/).fill('2025-06-30');
  await Promise.all([
    page.waitForURL(`**/employeur/travailleurs/${nir}`),
    page.getByRole('button', { name: 'Terminer le rattachement' }).click(),
  ]);
  await page.getByText('du 01/01/2025 au 30/06/2025').waitFor();
  await page.getByText('Terminé', { exact: true }).waitFor();

  // Designations and the yearly summary.
  await page.goto('/employeur/designations');
  await page.getByRole('heading', { level: 1, name: /Désignations/ }).waitFor();
  await checkPage(page, 'designations');
  await page.goto('/employeur/bilan');
  await page.getByRole('heading', { level: 1, name: /Bilan annuel/ }).waitFor();
  await page.getByRole('table', { name: /Travailleurs suivis en/ }).waitFor();
  assert.ok(!(await page.content()).includes('mSv'), 'no dose figure on the summary');
  await checkPage(page, 'bilan');
  await logout(page);

  // A new employer registers, without an account.
  const visitor = await newPage();
  await visitor.goto('/inscription');
  await visitor.getByRole('heading', { level: 1, name: 'Inscrire un employeur' }).waitFor();
  await checkPage(visitor, 'inscription');
  await visitor.getByLabel(/^SIREN/).fill('732829320');
  await visitor.getByLabel('Raison sociale').fill('Clinique du Parc');
  const first = visitor.getByRole('group', { name: 'Établissement 1' });
  await first.getByLabel(/^SIRET/).fill('73282932000074');
  await first.getByLabel('Nom de l’établissement').fill('Clinique du Parc — imagerie');
  await visitor.getByLabel('Nom', { exact: true }).fill('Durand');
  await visitor.getByLabel('Prénom', { exact: true }).fill('Élise');
  await visitor.getByLabel('Adresse électronique').fill('elise.durand@clinique-du-parc.fr');
  await visitor.getByLabel('Téléphone').fill('01 23 45 67 89');
  await visitor.getByLabel('Identifiant souhaité').fill('clinique.parc');
  await visitor.getByRole('button', { name: 'Envoyer la demande' }).click();
  await visitor.getByRole('heading', { level: 1, name: 'Demande d’inscription envoyée' }).waitFor();
  await checkPage(visitor, 'inscription-envoyee');
}
