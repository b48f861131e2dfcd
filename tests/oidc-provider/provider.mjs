// A real OpenID Connect provider (panva/oidc-provider) for the federated-login
// integration tests of siseri-server. Not for production: one client, one account,
// keys generated at start, everything in memory.
//
// Environment:
//   PORT          port on 127.0.0.1 (0 or unset: any free port)
//   CLIENT_ID     the one registered client
//   CLIENT_SECRET its secret (unset or empty: public client, auth method "none")
//   REDIRECT_URI  its one redirect URI
//   TEST_SUBJECT  the subject of the one test account (claims: email, email_verified)
//
// Once listening it prints one line on stdout: `READY http://127.0.0.1:<port>` (the issuer).
//
// Interaction, drivable over plain HTTP without a browser: the authorization endpoint
// redirects to GET /interaction/<uid>, which answers a small HTML form; a form POST to
// /interaction/<uid> (any body) logs the test account in and grants every requested
// scope in one step, then redirects back to the authorization endpoint, which redirects
// to REDIRECT_URI with `code` and `state`.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const clientId = required('CLIENT_ID');
const redirectUri = required('REDIRECT_URI');
const testSubject = required('TEST_SUBJECT');
const clientSecret = process.env.CLIENT_SECRET || undefined;
const port = Number(process.env.PORT || 0);

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  .export({ format: 'jwk' });

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const server = createServer();

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        ...(clientSecret
          ? { client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_basic' }
          : { token_endpoint_auth_method: 'none' }),
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...signingKey, kid: 'test-rs256', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // Put the scope claims into the ID token too (the client reads only the ID token).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      if (sub !== testSubject) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: 'agent.test@siseri.invalid', email_verified: true };
        },
      };
    },
  });
  // Log server-side errors on stderr so failing tests can show them.
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));

  const callback = provider.callback();

  server.on('request', async (req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(req.url.split('?')[0]);
    if (!match) {
      callback(req, res);
      return;
    }
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        const body = `<!doctype html><title>Connexion de test</title>
<form method="post" action="/interaction/${escapeHtml(details.uid)}">
<p>Prompt: ${escapeHtml(details.prompt.name)}</p>
<button type="submit">Se connecter comme ${escapeHtml(testSubject)}</button>
</form>`;
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(body);
        return;
      }
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      req.resume(); // the form's body carries nothing needed
      const grant = new provider.Grant({ accountId: testSubject, clientId: details.params.client_id });
      grant.addOIDCScope(String(details.params.scope || 'openid'));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: testSubject }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
    } catch (err) {
      console.error('interaction error', err);
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(`interaction error: ${err.message}`);
    }
  });

  console.log(`READY ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
