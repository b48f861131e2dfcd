// The pages every actor goes through: home, login (password + second factor), account,
// logout. Logs in as `admin`, a role with a second factor, so the TOTP step is covered.

import assert from 'node:assert/strict';

export default async function common({ newPage, loginAs, logout, checkPage }) {
  const page = await newPage();

  // Home page, anonymous.
  await page.goto('/');
  assert.match(await page.title(), /SISERI/);
  await page.getByRole('heading', { level: 1, name: /registre national des doses/i }).waitFor();
  await page.getByText('travailleurs suivis').waitFor();
  await checkPage(page, 'accueil');

  // On a phone the header's links stay reachable (in the menu bar, without JavaScript).
  await page.setViewportSize({ width: 320, height: 800 });
  await page.getByRole('link', { name: 'Se connecter' }).waitFor();
  await page.setViewportSize({ width: 1280, height: 900 });

  // "Se connecter" leads to the login page.
  await Promise.all([page.waitForURL('**/connexion'), page.getByRole('link', { name: 'Se connecter' }).click()]);
  await page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
  await checkPage(page, 'connexion');

  // A forgotten password: the same answer whatever was typed (issue 12).
  await Promise.all([
    page.waitForURL('**/mot-de-passe-oublie'),
    page.getByRole('link', { name: 'Mot de passe oublié ?' }).click(),
  ]);
  await page.getByRole('heading', { level: 1, name: 'Mot de passe oublié' }).waitFor();
  await checkPage(page, 'mot-de-passe-oublie');
  await page.getByLabel(/Identifiant ou adresse électronique/).fill('personne');
  await page.getByRole('button', { name: 'Recevoir un lien' }).click();
  await page.getByText(/Si un compte correspond/).waitFor();
  await page.goto('/connexion');

  // Password, then the TOTP code; ends on the account page.
  await loginAs(page, 'admin');
  await page.getByText('Identifiant : admin').waitFor();
  await page.getByRole('heading', { level: 1, name: 'Mon compte' }).waitFor();
  await checkPage(page, 'compte');

  // Logout: back home, and the account page asks to log in again.
  await logout(page);
  assert.equal(new URL(page.url()).pathname, '/');
  await page.goto('/compte');
  assert.equal(new URL(page.url()).pathname, '/connexion');
}
