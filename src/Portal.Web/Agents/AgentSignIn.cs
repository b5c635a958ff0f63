using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Portal.Audit;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;

namespace Portal.Web.Agents;

/// <summary>
/// Agent sign-in: one OIDC scheme per tenant (code flow + PKCE, state and nonce checked by the handler),
/// agent MFA required through <c>amr</c>, and a server-side agent session behind a cookie that carries
/// ids only. The tenant is the one whose issuer signed the token: never a value from the URL or a form.
/// </summary>
internal static class AgentSignIn
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;

    public static string SchemeFor(string tenantId) => "oidc-" + tenantId;

    /// <summary>
    /// The agent's ID token, encrypted, for the <c>id_token_hint</c> of RP-initiated logout only. It is never in the
    /// session cookie (S2) nor in the store; a token too large for one cookie is not kept (logout then sends client_id).
    /// </summary>
    internal const string IdTokenCookie = "portal-idt";

    /// <summary>
    /// Set on the response that finds the browser's session ended by the session cap, read (and removed) by the sign-in
    /// page so that the window says why it was signed out. Its value is only that reason: nothing about the session
    /// that took its place.
    /// </summary>
    internal const string EndedByCapCookie = "portal-ended";
    internal const string EndedByCapValue = "session_cap";

    private const string IdTokenPurpose = "Portal.AgentSignIn.IdTokenHint";
    private const int MaxIdTokenCookie = 3500;
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public static AuthenticationBuilder AddAgentSignIn(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var web = configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        var builder = services.AddAuthentication(o =>
        {
            o.DefaultScheme = CookieScheme;
            o.DefaultChallengeScheme = CookieScheme;
        });

        builder.AddCookie(CookieScheme, o => ConfigureSessionCookie(o, web));
        var tenants = configuration.GetSection("Portal").Get<TenantCatalogOptions>()?.Tenants ?? [];
        foreach (var tenant in tenants.Where(t => !string.IsNullOrWhiteSpace(t.Id)))
        {
            builder.AddOpenIdConnect(SchemeFor(tenant.Id), o => ConfigureTenantSignIn(o, tenant, web));
            ConfigureClientAuthentication(services, tenant, tenants.IndexOf(tenant), environment);
        }

        return builder;
    }

    /// <summary>The agent's session cookie: ids only, no sliding, 12 hours at most, checked against the server-side session on every request.</summary>
    private static void ConfigureSessionCookie(CookieAuthenticationOptions o, WebOptions web)
    {
        o.Cookie.Name = web.RequireHttps ? "__Host-portal" : "portal";
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Lax;
        o.Cookie.SecurePolicy = web.RequireHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        o.Cookie.Path = "/";
        o.ExpireTimeSpan = AgentSessionStore.AbsoluteLifetime;
        o.SlidingExpiration = false;
        o.LoginPath = "/account/signin";
        o.AccessDeniedPath = "/account/denied";
        o.Events.OnValidatePrincipal = ValidateAgentSessionAsync;

        // A refusal is a 403 (rendered by the error page), not a redirect that hides it from scripts and tests.
        o.Events.OnRedirectToAccessDenied = ctx =>
        {
            ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        };
    }

    /// <summary>A tenant's OIDC scheme: code flow with PKCE on its own callback paths, signing in to the session cookie.</summary>
    private static void ConfigureTenantSignIn(OpenIdConnectOptions o, TenantSettings tenant, WebOptions web)
    {
        var tenantId = tenant.Id;
        o.SignInScheme = CookieScheme;
        o.CallbackPath = "/signin-oidc/" + tenantId;
        o.SignedOutCallbackPath = "/signout-callback-oidc/" + tenantId;
        o.ResponseType = OpenIdConnectResponseType.Code;
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.UsePkce = true;
        o.SaveTokens = false;
        o.GetClaimsFromUserInfoEndpoint = false;
        o.MapInboundClaims = false;
        o.Scope.Clear();
        o.Scope.Add("openid");
        o.SignedOutRedirectUri = "/account/signin?signedout=1";
        o.NonceCookie.SecurePolicy = web.RequireHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        o.CorrelationCookie.SecurePolicy = o.NonceCookie.SecurePolicy;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.Events.OnTokenValidated = ctx => OnTokenValidatedAsync(ctx, tenantId);
        o.Events.OnRedirectToIdentityProvider = ctx => OnRedirectToIdentityProviderAsync(ctx, tenant);
        o.Events.OnRedirectToIdentityProviderForSignOut = OnRedirectToIdentityProviderForSignOut;
        o.Events.OnRemoteFailure = ctx => OnRemoteFailure(ctx, tenantId);
    }

    private static async Task OnRedirectToIdentityProviderAsync(RedirectContext ctx, TenantSettings tenant)
    {
        // The redirect URI is the public origin's, never the Host header's or the scheme the
        // container saw: the handler keeps this value for the code redemption too.
        ctx.ProtocolMessage.RedirectUri = ctx.HttpContext.RequestServices.GetRequiredService<PublicOrigin>().Absolute(ctx.HttpContext, ctx.Options.CallbackPath);

        // The scopes are decided per tenant, from the authority's discovery document (PAR sends the same message).
        ctx.ProtocolMessage.Scope = await ScopesAsync(ctx.Options, tenant.AgentSignIn, ctx.HttpContext.RequestAborted);

        // Ask for the tenant's Conditional Access authentication context, so that the IdP enforces
        // its MFA policy and says so in acrs (Entra's ID tokens carry no amr).
        var required = ctx.HttpContext.RequestServices.GetRequiredService<ITenantCatalog>().Find(tenant.Id)?.AgentSignIn.RequiredAcrs;
        if (required is { Count: > 0 })
        {
            var acrs = new System.Text.Json.Nodes.JsonObject { ["essential"] = true, ["values"] = new System.Text.Json.Nodes.JsonArray([.. required.Select(v => (System.Text.Json.Nodes.JsonNode?)v)]) };
            ctx.ProtocolMessage.SetParameter("claims", new System.Text.Json.Nodes.JsonObject { ["id_token"] = new System.Text.Json.Nodes.JsonObject { ["acrs"] = acrs } }.ToJsonString());
        }
    }

    private static Task OnRedirectToIdentityProviderForSignOut(RedirectContext ctx)
    {
        // RP-initiated logout: the ID token as hint when it was kept, else the client id (RP-Initiated Logout 1.0, 2).
        var hint = ReadIdTokenHint(ctx.HttpContext);
        if (hint is not null)
        {
            ctx.ProtocolMessage.IdTokenHint = hint;
        }
        else
        {
            ctx.ProtocolMessage.ClientId = ctx.Options.ClientId;
        }

        // The post-logout redirect URI is the public origin's, never the Host header's.
        if (!string.IsNullOrEmpty(ctx.ProtocolMessage.PostLogoutRedirectUri))
        {
            ctx.ProtocolMessage.PostLogoutRedirectUri = ctx.HttpContext.RequestServices.GetRequiredService<PublicOrigin>().Absolute(ctx.HttpContext, ctx.Options.SignedOutCallbackPath);
        }

        ctx.HttpContext.Response.Cookies.Delete(IdTokenCookie, new CookieOptions { Path = "/" });
        return Task.CompletedTask;
    }

    private static Task OnRemoteFailure(RemoteFailureContext ctx, string tenantId)
    {
        // Every callback error (the OP's error response, a refused code redemption, an invalid token) ends
        // on the sign-in failure page, named in the log by its type only.
        ctx.HandleResponse();
        var logger = ctx.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Portal.Web.AgentSignIn");
        PortalLog.SignInRefused(logger, tenantId, "remote_failure:" + (ctx.Failure?.GetType().Name ?? "unknown"));
        ctx.Response.Redirect("/account/signin?failed=1");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The tenant's authority and how the portal authenticates to it: a client secret, or private_key_jwt. Resolved when
    /// the options are first built (a named Configure runs before the handler's own post-configuration), so a missing
    /// secret fails naming its setting.
    /// </summary>
    private static void ConfigureClientAuthentication(IServiceCollection services, TenantSettings tenant, int index, IHostEnvironment environment)
    {
        services.AddOptions<OpenIdConnectOptions>(SchemeFor(tenant.Id)).Configure<ISecretResolver>((o, secrets) =>
        {
            var authority = new Uri(tenant.AgentSignIn.Authority);
            o.Authority = tenant.AgentSignIn.Authority.TrimEnd('/');
            o.ClientId = tenant.AgentSignIn.ClientId;
            if (string.IsNullOrWhiteSpace(tenant.AgentSignIn.ClientAssertionKeySecret))
            {
                o.ClientSecret = secrets.Resolve(tenant.AgentSignIn.ClientSecretSecret, $"Portal:Tenants:{index}:AgentSignIn:ClientSecretSecret");
            }
            else
            {
                var setting = $"Portal:Tenants:{index}:AgentSignIn:ClientAssertionKeySecret";
                UsePrivateKeyJwt(o, AssertionKey(secrets.Resolve(tenant.AgentSignIn.ClientAssertionKeySecret, setting), tenant.AgentSignIn.ClientAssertionKeyId, setting));
            }

            // Plain-http metadata only for the loopback emulator in Development (the validator refuses it elsewhere).
            o.RequireHttpsMetadata = !(authority.Scheme == Uri.UriSchemeHttp && authority.IsLoopback && environment.IsDevelopment());
            o.TokenValidationParameters.ValidIssuer = o.Authority;
        });
    }

    /// <summary>private_key_jwt (RFC 7523): no shared secret; each token (and PAR) request carries a fresh assertion.</summary>
    private static void UsePrivateKeyJwt(OpenIdConnectOptions o, RsaSecurityKey key)
    {
        o.ClientSecret = null;
        o.Events.OnAuthorizationCodeReceived = async ctx =>
        {
            var assertion = await ClientAssertionAsync(ctx.Options, key, ctx.HttpContext);
            ctx.TokenEndpointRequest!.ClientSecret = null;
            ctx.TokenEndpointRequest.ClientAssertionType = AssertionType;
            ctx.TokenEndpointRequest.ClientAssertion = assertion;
        };
        o.Events.OnPushAuthorization = async ctx =>
        {
            ctx.ProtocolMessage.ClientAssertionType = AssertionType;
            ctx.ProtocolMessage.ClientAssertion = await ClientAssertionAsync(ctx.Options, key, ctx.HttpContext);
            ctx.HandleClientAuthentication();
        };
    }

    /// <summary>
    /// The scopes of a tenant's sign-in: its own list when set, else <c>openid profile email</c>, plus <c>groups</c>
    /// only where the authority's discovery document lists it (an Okta custom authorization server answers an unknown
    /// scope with invalid_scope; Entra puts group ids and app roles in the token by the app's settings).
    /// </summary>
    internal static async Task<string> ScopesAsync(OpenIdConnectOptions options, AgentSignInSettings settings, CancellationToken ct)
    {
        if (settings.Scopes.Count > 0)
        {
            return string.Join(' ', settings.Scopes);
        }

        var configuration = await options.ConfigurationManager!.GetConfigurationAsync(ct);
        return configuration.ScopesSupported.Contains("groups") ? "openid profile email groups" : "openid profile email";
    }

    private static RsaSecurityKey AssertionKey(string pem, string? keyId, string setting)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                throw new InvalidOperationException($"{setting}: the RSA key must have at least 2048 bits.");
            }

            _ = rsa.ExportParameters(includePrivateParameters: true);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new InvalidOperationException($"{setting}: not a PEM-encoded RSA private key.");
        }

        return new RsaSecurityKey(rsa) { KeyId = string.IsNullOrWhiteSpace(keyId) ? null : keyId };
    }

    /// <summary>A client assertion for this authority's token endpoint: iss = sub = client id, single-use jti, two minutes.</summary>
    private static async Task<string> ClientAssertionAsync(OpenIdConnectOptions options, RsaSecurityKey key, HttpContext http)
    {
        var configuration = await options.ConfigurationManager!.GetConfigurationAsync(http.RequestAborted);
        var now = (http.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.ClientId,
            Audience = configuration.TokenEndpoint,
            Claims = new Dictionary<string, object> { ["sub"] = options.ClientId!, ["jti"] = Guid.NewGuid().ToString("N") },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(2),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    private static void KeepIdTokenHint(HttpContext http, string? idToken, bool secure)
    {
        if (string.IsNullOrEmpty(idToken))
        {
            return;
        }

        var protectedValue = http.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(IdTokenPurpose).Protect(idToken);
        if (protectedValue.Length <= MaxIdTokenCookie)
        {
            http.Response.Cookies.Append(IdTokenCookie, protectedValue, new CookieOptions { HttpOnly = true, Secure = secure, SameSite = SameSiteMode.Lax, Path = "/", IsEssential = true });
        }
    }

    private static string? ReadIdTokenHint(HttpContext http)
    {
        if (!http.Request.Cookies.TryGetValue(IdTokenCookie, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            return http.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(IdTokenPurpose).Unprotect(value);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// Claims the OP gives only from userinfo (e-mail, groups), read with the access token when the ID token lacks
    /// them. The answer counts only when its <c>sub</c> is the ID token's (OIDC Core 5.3.2); a failure adds nothing.
    /// </summary>
    private static async Task<List<Claim>> UserInfoClaimsAsync(TokenValidatedContext context, string subject, ILogger logger, string tenantId)
    {
        var accessToken = context.TokenEndpointResponse?.AccessToken;
        if (string.IsNullOrEmpty(accessToken))
        {
            return [];
        }

        try
        {
            var configuration = await context.Options.ConfigurationManager!.GetConfigurationAsync(context.HttpContext.RequestAborted);
            if (string.IsNullOrEmpty(configuration.UserInfoEndpoint))
            {
                return [];
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, configuration.UserInfoEndpoint);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
            using var response = await context.Options.Backchannel.SendAsync(request, context.HttpContext.RequestAborted);
            if (!response.IsSuccessStatusCode)
            {
                PortalLog.SignInRefused(logger, tenantId, "userinfo_http_" + (int)response.StatusCode);
                return [];
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(context.HttpContext.RequestAborted));
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String || sub.GetString() != subject)
            {
                PortalLog.SignInRefused(logger, tenantId, "userinfo_subject_mismatch");
                return [];
            }

            var claims = new List<Claim>();
            foreach (var name in new[] { "email", "preferred_username" })
            {
                if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    claims.Add(new Claim(name, value.GetString()!));
                }
            }

            if (root.TryGetProperty("groups", out var groups))
            {
                var values = groups.ValueKind switch
                {
                    JsonValueKind.Array => groups.EnumerateArray().Where(g => g.ValueKind == JsonValueKind.String).Select(g => g.GetString()!),
                    JsonValueKind.String => [groups.GetString()!],
                    _ => [],
                };
                claims.AddRange(values.Select(g => new Claim("groups", g)));
            }

            return claims;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or InvalidOperationException or TaskCanceledException)
        {
            PortalLog.SignInRefused(logger, tenantId, "userinfo_unavailable");
            return [];
        }
    }

    private static async Task ValidateAgentSessionAsync(CookieValidatePrincipalContext context)
    {
        var agent = context.Principal is null ? null : AgentContext.From(context.Principal);
        var services = context.HttpContext.RequestServices;
        var sessions = services.GetRequiredService<AgentSessionStore>();
        var ct = context.HttpContext.RequestAborted;
        if (agent is not null && services.GetRequiredService<ITenantCatalog>().Find(agent.TenantId) is null)
        {
            // The agent's organisation is no longer served by this portal (removed from its settings): whatever the
            // cookie says, its session ends here, so it cannot come back to life if the tenant is added again.
            await sessions.EndAsync(agent.TenantId, agent.SessionId, ct);
            agent = null;
        }

        var touch = agent is null ? null : await sessions.TouchOrSayWhyAsync(agent.TenantId, agent.SessionId, agent.Subject, ct);
        if (touch?.Live is null)
        {
            // Ended (sign-out on any instance, or the session cap), idle for 30 minutes, past 12 hours, or its tenant gone:
            // the cookie is worthless.
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
            if (touch?.EndedByCap == true)
            {
                // The window would otherwise land on the sign-in page without a word: the sign-in page says why.
                var web = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebOptions>>().Value;
                context.HttpContext.Response.Cookies.Append(EndedByCapCookie, EndedByCapValue, new CookieOptions
                {
                    HttpOnly = true,
                    Secure = web.RequireHttps,
                    SameSite = SameSiteMode.Lax,
                    Path = "/",
                    IsEssential = true,
                    MaxAge = TimeSpan.FromMinutes(10),
                });
            }
        }
    }

    private static async Task OnTokenValidatedAsync(TokenValidatedContext context, string tenantId)
    {
        var services = context.HttpContext.RequestServices;
        var tenant = services.GetRequiredService<ITenantCatalog>().Find(tenantId)
            ?? throw new InvalidOperationException("A sign-in arrived for a tenant that is not configured.");
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Portal.Web.AgentSignIn");
        var audit = services.GetRequiredService<IAuditTrail>();
        var claims = context.Principal?.Claims.ToList() ?? [];
        // Entra's sub is pairwise per app; its oid is the agent's stable object id in the directory.
        var subject = (tenant.Idp.Kind == Portal.Idp.IdpKind.Entra ? claims.FirstOrDefault(c => c.Type == "oid")?.Value : null)
            ?? claims.FirstOrDefault(c => c.Type == "sub")?.Value;
        if (tenant.Idp.Kind != Portal.Idp.IdpKind.Entra && subject is not null && (!claims.Any(c => c.Type == "email") || !claims.Any(c => c.Type == "groups")))
        {
            // Entra's userinfo has neither groups nor roles (they come in the token by the app's settings), so only
            // other OPs are asked; what the ID token already has is kept.
            var extra = await UserInfoClaimsAsync(context, subject, logger, tenantId);
            claims.AddRange(extra.Where(e => !claims.Any(c => c.Type == e.Type)));
        }

        var login = claims.FirstOrDefault(c => c.Type == "email")?.Value
            ?? claims.FirstOrDefault(c => c.Type == "preferred_username")?.Value ?? "";
        var maskedLogin = PiiMask.Email(login);
        var amr = claims.Where(c => c.Type == "amr").Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        // Tiers come from group names (Okta), group object ids (Entra) or app roles (Entra's roles claim).
        var groups = claims.Where(c => c.Type is "groups" or "roles").Select(c => c.Value).ToList();
        var agent = new AgentContext(tenantId, "-", subject ?? "unknown", maskedLogin, []);

        var acrs = claims.Where(c => c.Type == "acrs").Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        var provedMfa = tenant.AgentSignIn.EffectiveRequiredAmr.Any(amr.Contains) || tenant.AgentSignIn.RequiredAcrs.Any(acrs.Contains);
        if (string.IsNullOrEmpty(subject) || !provedMfa)
        {
            // S1: an agent who did not use MFA at their IdP never reaches the console.
            PortalLog.SignInRefused(logger, tenantId, "agent_mfa_missing");
            await audit.RecordAsync(AuditEntries.For(RequestContext.Of(context.HttpContext), agent, "agent.signin", AuditOutcome.Denied, "agent_mfa_missing"), context.HttpContext.RequestAborted);
            context.Fail("Agent MFA is required.");
            return;
        }

        var tiers = groups.Select(g => tenant.GroupTiers.GetValueOrDefault(g)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var sessions = services.GetRequiredService<AgentSessionStore>();
        var session = await sessions.StartAsync(tenantId, subject, maskedLogin, tiers, context.HttpContext.RequestAborted);
        var web = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebOptions>>().Value;
        foreach (var ended in await sessions.EndLeastRecentlyUsedBeyondAsync(tenantId, subject, session.Id, web.MaxSessionsPerAgent, context.HttpContext.RequestAborted))
        {
            // The session cap: the agent's least recently used session ends as a sign-out would, with its verifications.
            await services.GetRequiredService<VerificationStore>().EndSessionsOfAgentSessionAsync(tenantId, ended.Id, context.HttpContext.RequestAborted);
            await audit.RecordAsync(AuditEntries.For(RequestContext.Of(context.HttpContext), agent with { SessionId = ended.Id }, "agent.signout", AuditOutcome.Succeeded, AgentSessionStore.CapReason), context.HttpContext.RequestAborted);
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(AgentClaims.TenantId, tenantId),
                new Claim(AgentClaims.SessionId, session.Id),
                new Claim(AgentClaims.Subject, subject),
                new Claim(AgentClaims.MaskedLogin, maskedLogin),
                .. tiers.Select(t => new Claim(AgentClaims.Tier, t)),
            ],
            authenticationType: "portal",
            nameType: AgentClaims.MaskedLogin,
            roleType: AgentClaims.Tier);

        // The principal is rebuilt from ids only: the IdP's token, groups and e-mail stay out of the cookie (S2).
        context.Principal = new ClaimsPrincipal(identity);
        KeepIdTokenHint(context.HttpContext, context.TokenEndpointResponse?.IdToken ?? context.ProtocolMessage?.IdToken, web.RequireHttps);
        PortalLog.SignedIn(logger, tenantId);
        await audit.RecordAsync(AuditEntries.For(RequestContext.Of(context.HttpContext), agent with { SessionId = session.Id }, "agent.signin", AuditOutcome.Succeeded, tiers.Count == 0 ? "no_tier" : null), context.HttpContext.RequestAborted);
    }
}
