// An OpenID Provider this project did not write: panva's oidc-provider (OpenID Certified), configured as a
// customer's authorization server would be, for the portal's agent sign-in tests
// (tests/Portal.Web.Tests/IndependentOpSignInTests.cs). Every protocol rule is the library's own: discovery, PAR,
// PKCE, private_key_jwt client authentication, ID token and userinfo claims, RP-initiated logout.
//
// The only thing written here is the agent's side of the sign-in page: an interaction that signs the one
// configured agent in with multi-factor (amr pwd, mfa) and grants what the portal asked for. GET /test/logins says
// how many times the agent had to sign in at this OP (a sign-in that reuses the OP's session does not count).
//
// Settings (environment): OP_PORT, OP_CLIENT_ID, OP_CLIENT_JWKS (the portal's public key set, JSON),
// OP_REDIRECT_URI, OP_POST_LOGOUT_URI, OP_AGENT_EMAIL, OP_AGENT_GROUPS (JSON array).
// Install: npm ci --ignore-scripts (test.sh does it).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const setting = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
};

const port = Number(setting('OP_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const agent = {
  sub: 'independent-op-agent-1',
  email: setting('OP_AGENT_EMAIL'),
  email_verified: true,
  name: 'Independent Agent',
  groups: JSON.parse(setting('OP_AGENT_GROUPS')),
};

const signingKey = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'op-signing-1', use: 'sig', alg: 'RS256' };
let logins = 0;

const provider = new Provider(issuer, {
  clients: [{
    client_id: setting('OP_CLIENT_ID'),
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: JSON.parse(setting('OP_CLIENT_JWKS')),
    redirect_uris: [setting('OP_REDIRECT_URI')],
    post_logout_redirect_uris: [setting('OP_POST_LOGOUT_URI')],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  // The standard claims of each scope; with an access token issued, the ID token carries none of them
  // (conformIdTokenClaims, the library's default): the portal must read them from userinfo. amr is released with
  // openid (this library does not release it by default), as the portal requires multi-factor sign-in of agents.
  claims: { openid: ['sub', 'amr'], profile: ['name'], email: ['email', 'email_verified'], groups: ['groups'] },
  findAccount: (ctx, id) => (id === agent.sub ? { accountId: id, claims: () => ({ ...agent }) } : undefined),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    logins += 1;
    await provider.interactionFinished(req, res, { login: { accountId: agent.sub, amr: ['pwd', 'mfa'] } }, { mergeWithLastSubmission: false });
    return;
  }

  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const handle = provider.callback();
http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/test/logins') {
    res.setHeader('content-type', 'text/plain');
    res.end(String(logins));
    return;
  }

  if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(`interaction failed: ${error.message}`);
    });
    return;
  }

  handle(req, res);
}).listen(port, '127.0.0.1', () => console.log(`independent OP listening on ${issuer}`));
