// The occupational physician's journey: the workers he follows, filtered to those with an
// open alert; the record of the radiographer who went over 20 mSv; a correction of one of
// her results (refused first without its justification), seen in the version history;
// her alert moved to its next status; the alerts list; the delegations; the establishment
// switcher; the alert's notice in his messages.

import assert from 'node:assert/strict';

export default async function mdt({ newPage, loginAs, checkPage }) {
  const page = await newPage();
  await loginAs(page, 'mdt');

  // The followed workers, with what is left of each limit.
  await page.goto('/suivi');
  await page.getByRole('heading', { level: 1, name: 'Travailleurs suivis' }).waitFor();
  await page.getByRole('table', { name: /Travailleurs suivis/ }).waitFor();
  await checkPage(page, 'suivi');

  // Only those with an open alert: the demo's radiographer.
  // The DSFR draws the box over the field: a person clicks its label.
  await page.getByText('Avec une alerte ouverte', { exact: true }).click();
  assert.ok(await page.getByLabel('Avec une alerte ouverte').isChecked());
  await Promise.all([
    page.waitForURL(/\/suivi\?.*alerte=oui/),
    page.getByRole('button', { name: 'Filtrer' }).click(),
  ]);
  const table = page.getByRole('table', { name: /Travailleurs suivis/ });
  assert.equal(await table.locator('tbody tr').count(), 1, 'one worker has an open alert');
  await table.getByText(/dépassée de/).first().waitFor();

  // Her record.
  const link = table.locator('tbody tr').first().getByRole('link');
  const name = (await link.textContent()).trim();
  await Promise.all([page.waitForURL(/\/travailleurs\/[0-9A-Z]{13}$/), link.click()]);
  await page.getByRole('heading', { level: 1, name: `Dossier de ${name}` }).waitFor();
  await page.getByRole('heading', { level: 2, name: /Totaux au/ }).waitFor();
  await checkPage(page, 'dossier');

  // Correct her latest result: without a justification it is refused, field by field.
  const results = page.getByRole('table', { name: /Résultats/ });
  await Promise.all([
    page.waitForURL(/\/resultats\/\d+\/version$/),
    results.getByRole('link', { name: /^Corriger/ }).first().click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Corriger ou annuler un résultat' }).waitFor();
  await page.getByRole('heading', { level: 2, name: /Version actuelle/ }).waitFor();
  await checkPage(page, 'correction');
  await page.getByLabel('Dose en mSv').fill('0,3');
  await page.getByRole('button', { name: 'Enregistrer la nouvelle version' }).click();
  await page.getByRole('alert').getByText('La justification est obligatoire', { exact: false }).waitFor();
  assert.equal(await page.getByLabel('Dose en mSv').inputValue(), '0,3', 'what was typed is kept');
  await checkPage(page, 'correction-erreurs');
  const why = 'Dosimètre porté par un collègue pendant une semaine : dose réévaluée.';
  await page.getByLabel('Justification').fill(why);
  await Promise.all([
    page.waitForURL(/\/travailleurs\/[0-9A-Z]{13}\?ok=version/),
    page.getByRole('button', { name: 'Enregistrer la nouvelle version' }).click(),
  ]);
  await page.getByText('La nouvelle version du résultat a été enregistrée', { exact: false }).waitFor();
  // The history, opened without JavaScript (<details>), keeps both versions.
  const corrected = page.getByRole('table', { name: /Résultats/ }).locator('tbody tr').first();
  await corrected.getByText(/Version \d+ — voir l’historique/).click();
  await corrected.getByText(why, { exact: false }).first().waitFor();
  await corrected.getByText(/Version 1 du .* par organisme/).waitFor();

  // Her alert, moved to its next status with a comment.
  await Promise.all([
    page.waitForURL(/\/alertes\/\d+$/),
    page.getByRole('link', { name: /Voir et traiter l’alerte/ }).first().click(),
  ]);
  await page.getByRole('heading', { level: 1, name: /Alerte n° \d+/ }).waitFor();
  await checkPage(page, 'alerte');
  const next = page.getByLabel('Nouveau statut');
  const choice = (await next.locator('option').first().textContent()).trim();
  await page.getByLabel('Commentaire').fill('Entretien avec la salariée ; enquête sur le poste de travail.');
  await Promise.all([
    page.waitForURL(/\/alertes\/\d+\?ok=etape$/),
    page.getByRole('button', { name: 'Enregistrer l’étape' }).click(),
  ]);
  await page.getByText('L’alerte a changé de statut', { exact: false }).waitFor();
  await page.getByRole('listitem').filter({ hasText: `${choice} — mdt` }).first().waitFor();

  // Every alert of the followed workers.
  await page.getByRole('link', { name: 'Revenir à la liste des alertes' }).click();
  await page.getByRole('heading', { level: 1, name: 'Alertes' }).waitFor();
  await page.getByRole('table', { name: /Alertes des travailleurs suivis/ }).waitFor();
  await checkPage(page, 'alertes');

  // Delegations: the demo's to the nurse is listed; give another, read and write.
  await page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', { name: 'Délégations' }).click();
  await page.getByRole('heading', { level: 1, name: 'Délégations' }).waitFor();
  await page.getByLabel('Identifiant du professionnel de santé').fill('infirmier');
  await page.getByLabel('Lecture et écriture', { exact: true }).check({ force: true });
  await Promise.all([
    page.waitForURL(/\/delegations\?ok=delegation$/),
    page.getByRole('button', { name: 'Déléguer' }).click(),
  ]);
  await page.getByRole('table', { name: 'Délégations données' }).getByText('infirmier').first().waitFor();
  await checkPage(page, 'delegations');

  // The header's establishment switcher narrows the followed workers to one establishment.
  await page.goto('/suivi');
  const count = async () => Number((await page.getByText(/élément\(s\) — page/).textContent()).match(/\d+/)[0]);
  const all = await count();
  await page.getByLabel('Établissement affiché').selectOption({ index: 1 });
  await Promise.all([
    page.waitForURL('**/suivi'),
    page.getByRole('button', { name: 'Changer d’établissement' }).click(),
  ]);
  const one = await count();
  assert.ok(one > 0 && one < all, `one establishment: ${one} of ${all} workers`);
  await page.getByLabel('Établissement affiché').selectOption({ index: 0 });
  await Promise.all([
    page.waitForURL('**/suivi'),
    page.getByRole('button', { name: 'Changer d’établissement' }).click(),
  ]);
  assert.equal(await count(), all);

  // The alert's notice is in his messages; he marks it read.
  await Promise.all([
    page.waitForURL('**/boite'),
    page.getByRole('banner').getByRole('link', { name: /Messages \(1 non lu\)/ }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Mes messages' }).waitFor();
  await checkPage(page, 'messages');
  await Promise.all([
    page.waitForURL('**/boite'),
    page.getByRole('button', { name: 'Marquer comme lu' }).first().click(),
  ]);
  await page.getByText('Lu', { exact: true }).first().waitFor();
  assert.equal(await page.getByRole('banner').getByRole('link', { name: /non lu/ }).count(), 0);

  // Logout with the header's button.
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/'),
    page.getByRole('banner').getByRole('button', { name: 'Se déconnecter' }).click(),
  ]);
}
