using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portal.IdpEmulator;

/// <summary>
/// Two more OIDC authorities: an Okta-like one where callers sign in for the portal's step-up
/// (<c>/oauth2/callers</c>, <c>sub</c> = the Okta user id), and an Entra-like one (<c>/{tenantId}/v2.0</c>,
/// <c>oid</c>/<c>tid</c>/pairwise <c>sub</c>) that signs in Entra agents (a picker, for the agent client) and
/// Entra callers (a sign-in form, for the step-up client). The caller's form asks for a password and the code
/// of their authenticator app: the right code gives <c>amr</c> ["pwd","mfa","otp"], no code gives ["pwd"]
/// (an IdP whose policy did not demand MFA), so that the portal's checks meet both.
/// </summary>
internal sealed class CallerSignIn : IDisposable
{
    private const string OktaPrefix = "/oauth2/callers";
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);
    private static readonly string[] AuthorizeParameters =
        ["client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt", "max_age", "claims"];

    private readonly EmulatorState _state;
    private readonly EmulatorContext _context;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _key;
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);

    public CallerSignIn(EmulatorState state, EmulatorContext context)
    {
        _state = state;
        _context = context;
        _key = new RsaSecurityKey(_rsa) { KeyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12)) };
    }

    private enum Authority
    {
        Okta,
        Entra,
    }

    public string OktaIssuer => new Uri(_context.BaseUrl, "oauth2/callers").ToString();

    public string EntraIssuer(string tenantId) => new Uri(_context.BaseUrl, tenantId + "/v2.0").ToString();

    public void Dispose() => _rsa.Dispose();

    public void Map(WebApplication app)
    {
        app.MapGet(OktaPrefix + "/.well-known/openid-configuration", () => Discovery(OktaIssuer, OktaIssuer + "/v1/authorize", OktaIssuer + "/v1/token", OktaIssuer + "/v1/keys"));
        app.MapGet(OktaPrefix + "/v1/keys", Keys);
        app.MapGet(OktaPrefix + "/v1/authorize", (HttpContext http) => Authorize(http, Authority.Okta, null));
        app.MapPost(OktaPrefix + "/v1/authorize", (HttpContext http, CancellationToken ct) => SubmitAsync(http, Authority.Okta, null));
        app.MapPost(OktaPrefix + "/v1/token", async (HttpContext http) =>
        {
            var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
            return Token(http, Authority.Okta, null, form?.ToDictionary(f => f.Key, f => f.Value.ToString()) ?? []);
        });

        app.MapGet("/{tenant:guid}/v2.0/.well-known/openid-configuration", (string tenant) =>
        {
            var root = new Uri(_context.BaseUrl, tenant + "/").ToString();
            return Discovery(EntraIssuer(tenant), root + "oauth2/v2.0/authorize", root + "oauth2/v2.0/token", root + "discovery/v2.0/keys");
        });
        app.MapGet("/{tenant:guid}/discovery/v2.0/keys", Keys);
        app.MapGet("/{tenant:guid}/oauth2/v2.0/authorize", (HttpContext http, string tenant) => Authorize(http, Authority.Entra, tenant));
        app.MapPost("/{tenant:guid}/oauth2/v2.0/authorize", (HttpContext http, string tenant) => SubmitAsync(http, Authority.Entra, tenant));
    }

    /// <summary>The authorization-code grant at the Entra token endpoint (shared with Graph's client credentials).</summary>
    public IResult EntraToken(HttpContext http, string tenant, Dictionary<string, string> form) => Token(http, Authority.Entra, tenant, form);

    private static IResult Discovery(string issuer, string authorize, string token, string keys) => Results.Text(new JsonObject
    {
        ["issuer"] = issuer,
        ["authorization_endpoint"] = authorize,
        ["token_endpoint"] = token,
        ["jwks_uri"] = keys,
        ["response_types_supported"] = Array("code"),
        ["response_modes_supported"] = Array("query", "form_post"),
        ["grant_types_supported"] = Array("authorization_code"),
        ["subject_types_supported"] = Array("pairwise", "public"),
        ["scopes_supported"] = Array("openid", "profile", "email"),
        ["token_endpoint_auth_methods_supported"] = Array("client_secret_basic", "client_secret_post"),
        ["id_token_signing_alg_values_supported"] = Array("RS256"),
        ["code_challenge_methods_supported"] = Array("S256"),
        ["claims_parameter_supported"] = true,
        ["claims_supported"] = Array("iss", "aud", "sub", "oid", "tid", "iat", "exp", "auth_time", "nonce", "amr", "acrs", "groups", "roles"),
    }.ToJsonString(), "application/json", Encoding.UTF8);

    private IResult Keys()
    {
        var parameters = _rsa.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = _key.KeyId,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
        return Results.Text(new JsonObject { ["keys"] = new JsonArray(jwk) }.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private IResult Authorize(HttpContext http, Authority authority, string? tenant)
    {
        var query = http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
        if (CheckRequest(query, authority) is { } refusal)
        {
            return refusal;
        }

        _state.RecordCallerAuthorize(new CallerAuthorizeRequest(authority == Authority.Okta ? OktaIssuer : EntraIssuer(tenant!), query));
        return IsAgentClient(authority, query["client_id"]) ? AgentPicker(query, tenant!) : CallerForm(query, authority, tenant, null);
    }

    private async Task<IResult> SubmitAsync(HttpContext http, Authority authority, string? tenant)
    {
        var form = (await http.Request.ReadFormAsync(http.RequestAborted)).ToDictionary(f => f.Key, f => f.Value.ToString());

        // The form's fields come back from the browser: everything is checked again, nothing trusted.
        if (CheckRequest(form, authority) is { } refusal)
        {
            return refusal;
        }

        var now = _state.Now;
        var issuer = authority == Authority.Okta ? OktaIssuer : EntraIssuer(tenant!);
        Dictionary<string, object> claims;
        if (IsAgentClient(authority, form["client_id"]))
        {
            var agent = _state.EntraAgents.FirstOrDefault(a => form.TryGetValue("agent", out var oid) && a.ObjectId == oid);
            if (agent is null)
            {
                return Html.Result(Html.Page("Sign-in error", "<h1>Unknown agent</h1>"), 400);
            }

            claims = EntraSubject(agent.ObjectId, tenant!, form["client_id"]);
            claims["preferred_username"] = agent.UserPrincipalName;
            claims["email"] = agent.UserPrincipalName;
            claims["name"] = agent.Name;
            claims["amr"] = agent.Amr.ToArray();
            if (agent.Amr.Contains("mfa") && RequestedAcrs(form.GetValueOrDefault("claims")) is { Length: > 0 } agentAcrs)
            {
                // As for callers: an authentication context is granted only to a sign-in that did MFA.
                claims["acrs"] = agentAcrs;
            }

            if (agent.GroupIds.Count > 0)
            {
                claims["groups"] = agent.GroupIds.ToArray();
            }

            if (agent.Roles.Count > 0)
            {
                claims["roles"] = agent.Roles.ToArray();
            }
        }
        else
        {
            var username = form.GetValueOrDefault("username")?.Trim() ?? "";
            var password = form.GetValueOrDefault("password") ?? "";
            var otp = form.GetValueOrDefault("otp")?.Trim() ?? "";
            string? subjectId = null;
            var check = TotpCheck.Invalid;
            if (authority == Authority.Okta && _state.FindCaller(username) is { } caller)
            {
                subjectId = caller.Id;
                var factor = caller.Factors.FirstOrDefault(f => f.FactorType == EmulatorState.TotpType && f.Status == "ACTIVE" && f.Secret is not null);
                check = otp.Length == 0 || factor is null ? TotpCheck.Invalid : _state.VerifyTotp(factor, otp);
            }
            else if (authority == Authority.Entra && _state.FindEntraUser(username) is { } user)
            {
                subjectId = user.Id;
                check = otp.Length == 0 ? TotpCheck.Invalid : _state.VerifyEntraTotp(user, otp);
            }

            if (subjectId is null || password.Length == 0 || (otp.Length > 0 && check != TotpCheck.Success))
            {
                return CallerForm(form, authority, tenant, "The user name, password or code is not right.");
            }

            claims = authority == Authority.Okta ? new Dictionary<string, object> { ["sub"] = subjectId } : EntraSubject(subjectId, tenant!, form["client_id"]);

            // Without a code the sign-in is password-only: a tenant whose IdP policy does not demand MFA.
            var mfa = otp.Length > 0;
            claims["amr"] = mfa ? new[] { "pwd", "mfa", "otp" } : new[] { "pwd" };
            if (mfa && RequestedAcrs(form.GetValueOrDefault("claims")) is { Length: > 0 } acrs)
            {
                // A Conditional Access authentication context is satisfied only by a sign-in that did MFA.
                claims["acrs"] = acrs;
            }
        }

        // prompt=login and max_age=0 are honoured by always showing the form: the authentication is now.
        claims["auth_time"] = now.ToUnixTimeSeconds();
        if (!IsAgentClient(authority, form["client_id"]) && _state.TakeCallerOverrides() is { } overrides)
        {
            Apply(claims, overrides, authority);
        }

        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        _codes[code] = new IssuedCode(authority, issuer, form["client_id"], form["redirect_uri"], form["code_challenge"], form.GetValueOrDefault("nonce"), claims, now + CodeLifetime);
        return Respond(form, new Dictionary<string, string?> { ["code"] = code, ["state"] = form.GetValueOrDefault("state") });
    }

    private static void Apply(Dictionary<string, object> claims, CallerTokenOverrides overrides, Authority authority)
    {
        if (overrides.Subject is not null)
        {
            claims[authority == Authority.Okta ? "sub" : "oid"] = overrides.Subject;
        }

        if (overrides.Amr is not null)
        {
            claims["amr"] = overrides.Amr.ToArray();
        }

        if (overrides.Acrs is not null)
        {
            claims["acrs"] = overrides.Acrs.ToArray();
        }

        if (overrides.AuthTime is { } authTime)
        {
            claims["auth_time"] = authTime.ToUnixTimeSeconds();
        }

        if (overrides.OmitAmr)
        {
            claims.Remove("amr");
        }

        if (overrides.OmitAuthTime)
        {
            claims.Remove("auth_time");
        }
    }

    private static Dictionary<string, object> EntraSubject(string objectId, string tenant, string clientId) => new()
    {
        // Entra's sub is pairwise (per app); the stable id of the user across apps is oid.
        ["sub"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(objectId + "/" + clientId))),
        ["oid"] = objectId,
        ["tid"] = tenant,
        ["ver"] = "2.0",
    };

    /// <summary>The <c>acrs</c> values the request's <c>claims</c> parameter asks for ({"id_token":{"acrs":{"essential":true,"value(s)":…}}}).</summary>
    private static string[] RequestedAcrs(string? claimsParameter)
    {
        if (string.IsNullOrEmpty(claimsParameter))
        {
            return [];
        }

        try
        {
            var acrs = JsonNode.Parse(claimsParameter)?["id_token"]?["acrs"];
            if (acrs?["values"] is JsonArray values)
            {
                return [.. values.Select(v => v?.GetValue<string>()).OfType<string>()];
            }

            return acrs?["value"]?.GetValue<string>() is { } one ? [one] : [];
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return [];
        }
    }

    private bool IsAgentClient(Authority authority, string clientId) =>
        authority == Authority.Entra && _context.Options.EntraAgentClients.Any(c => c.ClientId == clientId);

    private IEnumerable<EmulatorClient> ClientsOf(Authority authority) =>
        authority == Authority.Okta ? _context.Options.StepUpClients : _context.Options.StepUpClients.Concat(_context.Options.EntraAgentClients);

    private IResult AgentPicker(Dictionary<string, string> query, string tenant)
    {
        var body = new StringBuilder("<h1>Emulated Microsoft Entra sign-in</h1><p class=\"muted\">Pick the demo agent to sign in as.</p><ul>");
        foreach (var agent in _state.EntraAgents)
        {
            body.Append("<li class=\"card\"><form method=\"post\" action=\"").Append(Html.E("/" + tenant + "/oauth2/v2.0/authorize")).Append("\">");
            AppendHidden(body, query);
            body.Append(Html.Hidden("agent", agent.ObjectId));
            body.Append("<button type=\"submit\">Sign in as ").Append(Html.E(agent.Name)).Append("</button>");
            body.Append("<div>").Append(Html.E(agent.UserPrincipalName)).Append("</div>");
            body.Append("<div class=\"muted\">Groups: ").Append(Html.E(string.Join(", ", agent.GroupIds)))
                .Append(" · roles: ").Append(Html.E(string.Join(", ", agent.Roles)))
                .Append(" · amr: ").Append(Html.E(string.Join(", ", agent.Amr))).Append("</div>");
            body.Append("</form></li>");
        }

        body.Append("</ul>");
        return Html.Result(Html.Page("Emulated Entra sign-in", body.ToString()));
    }

    private static IResult CallerForm(Dictionary<string, string> request, Authority authority, string? tenant, string? error)
    {
        var action = authority == Authority.Okta ? OktaPrefix + "/v1/authorize" : "/" + tenant + "/oauth2/v2.0/authorize";
        var title = authority == Authority.Okta ? "Emulated Okta sign-in" : "Emulated Microsoft Entra sign-in";
        var body = new StringBuilder();
        body.Append("<h1>").Append(Html.E(title)).Append("</h1>");
        body.Append("<p class=\"muted\">Sign in with your own account. The code is on your phone's authenticator app (the caller's phone page).</p>");
        if (error is not null)
        {
            body.Append("<p class=\"card\" role=\"alert\">").Append(Html.E(error)).Append("</p>");
        }

        body.Append("<form method=\"post\" action=\"").Append(Html.E(action)).Append("\" class=\"card\">");
        AppendHidden(body, request);
        body.Append("<p><label for=\"username\">User name</label><br><input id=\"username\" name=\"username\" autocomplete=\"username\" required></p>");
        body.Append("<p><label for=\"password\">Password (any, in the demo)</label><br><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>");
        body.Append("<p><label for=\"otp\">Code from the authenticator app</label><br><input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\"></p>");
        body.Append("<p class=\"muted\">Leave the code empty to sign in with the password only (as an IdP that does not demand MFA would).</p>");
        body.Append("<button type=\"submit\">Sign in</button></form>");
        return Html.Result(Html.Page(title, body.ToString()), error is null ? 200 : 400);
    }

    private static void AppendHidden(StringBuilder body, Dictionary<string, string> request)
    {
        foreach (var name in AuthorizeParameters)
        {
            if (request.TryGetValue(name, out var value))
            {
                body.Append(Html.Hidden(name, value));
            }
        }
    }

    private IResult? CheckRequest(Dictionary<string, string> request, Authority authority)
    {
        // Client and redirect target first: an unknown client or a foreign URL gets an error page, never a redirect.
        request.TryGetValue("client_id", out var clientId);
        if (!ClientsOf(authority).Any(c => c.ClientId == clientId))
        {
            return Html.Result(Html.Page("Sign-in error", "<h1>Unknown client</h1><p>The client_id is not registered with the emulator.</p>"), 400);
        }

        if (!request.TryGetValue("redirect_uri", out var redirect) || !OidcProvider.IsLoopbackRedirect(redirect))
        {
            return Html.Result(Html.Page("Sign-in error", "<h1>Invalid redirect_uri</h1><p>The emulator only redirects to loopback http(s) addresses.</p>"), 400);
        }

        if (request.GetValueOrDefault("response_mode") is not (null or "" or "query" or "form_post"))
        {
            request.Remove("response_mode");
            return Respond(request, Error(request, "invalid_request", "response_mode must be query or form_post."));
        }

        if (request.GetValueOrDefault("response_type") != "code")
        {
            return Respond(request, Error(request, "unsupported_response_type", "Only response_type=code is supported."));
        }

        if (!(request.GetValueOrDefault("scope") ?? "").Split(' ').Contains("openid"))
        {
            return Respond(request, Error(request, "invalid_scope", "The openid scope is required."));
        }

        var challenge = request.GetValueOrDefault("code_challenge");
        if (string.IsNullOrEmpty(challenge) || request.GetValueOrDefault("code_challenge_method") != "S256" || challenge.Length is < 43 or > 128)
        {
            return Respond(request, Error(request, "invalid_request", "PKCE with code_challenge_method=S256 is required."));
        }

        return null;
    }

    private static Dictionary<string, string?> Error(Dictionary<string, string> request, string error, string description) =>
        new() { ["error"] = error, ["error_description"] = description, ["state"] = request.GetValueOrDefault("state") };

    private static IResult Respond(Dictionary<string, string> request, Dictionary<string, string?> parameters)
    {
        var redirect = request["redirect_uri"];
        var present = parameters.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
        if (request.GetValueOrDefault("response_mode") == "form_post")
        {
            var body = new StringBuilder("<h1>Returning to the application</h1>");
            body.Append("<form method=\"post\" action=\"").Append(Html.E(redirect)).Append("\">");
            foreach (var (name, value) in present)
            {
                body.Append(Html.Hidden(name, value));
            }

            body.Append("<button type=\"submit\">Continue</button></form>");
            return Html.Result(Html.Page("Returning to the application", body.ToString()));
        }

        return Results.Redirect(QueryHelpers.AddQueryString(redirect, present));
    }

    private IResult Token(HttpContext http, Authority authority, string? tenant, Dictionary<string, string> form)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        var (clientId, secret) = ClientCredentials(http.Request.Headers.Authorization.ToString(), form);
        var client = ClientsOf(authority).FirstOrDefault(c => c.ClientId == clientId);
        if (client is null || secret is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(client.ClientSecret), Encoding.UTF8.GetBytes(secret)))
        {
            return TokenError(401, "invalid_client", "Client authentication failed.");
        }

        if (form.GetValueOrDefault("grant_type") != "authorization_code")
        {
            return TokenError(400, "unsupported_grant_type", "Only authorization_code is supported.");
        }

        // Spent by its first redemption attempt, right or wrong.
        if (!_codes.TryRemove(form.GetValueOrDefault("code") ?? "", out var issued))
        {
            return TokenError(400, "invalid_grant", "The authorization code is invalid or has been used.");
        }

        var now = _state.Now;
        var issuer = authority == Authority.Okta ? OktaIssuer : EntraIssuer(tenant!);
        if (now >= issued.ExpiresAt || issued.Issuer != issuer || issued.ClientId != client.ClientId || issued.RedirectUri != form.GetValueOrDefault("redirect_uri"))
        {
            return TokenError(400, "invalid_grant", "The authorization code is invalid, expired, or was issued to another client or redirect_uri.");
        }

        var verifier = form.GetValueOrDefault("code_verifier") ?? "";
        var computed = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (verifier.Length is < 43 or > 128 || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(issued.CodeChallenge)))
        {
            return TokenError(400, "invalid_grant", "PKCE verification failed.");
        }

        var claims = new Dictionary<string, object>(issued.Claims)
        {
            ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
        };
        if (!string.IsNullOrEmpty(issued.Nonce))
        {
            claims["nonce"] = issued.Nonce;
        }

        var idToken = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = client.ClientId,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + TokenLifetime).UtcDateTime,
            Claims = claims,
            TokenType = "JWT",
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
        return Results.Text(new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
            ["access_token"] = "emulator-at." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24)),
            ["scope"] = "openid",
            ["id_token"] = idToken,
        }.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private static (string? ClientId, string? Secret) ClientCredentials(string authorization, Dictionary<string, string> form)
    {
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return (form.GetValueOrDefault("client_id"), form.GetValueOrDefault("client_secret"));
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? (WebUtility.UrlDecode(decoded[..colon]), WebUtility.UrlDecode(decoded[(colon + 1)..])) : (null, null);
        }
        catch (FormatException)
        {
            return (null, null);
        }
    }

    private static IResult TokenError(int status, string error, string description) =>
        Results.Text(new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString(), "application/json", Encoding.UTF8, status);

    private static JsonArray Array(params string[] values) => new([.. values.Select(v => (JsonNode)v)]);

    private sealed record IssuedCode(
        Authority Authority, string Issuer, string ClientId, string RedirectUri, string CodeChallenge, string? Nonce, Dictionary<string, object> Claims, DateTimeOffset ExpiresAt);
}
