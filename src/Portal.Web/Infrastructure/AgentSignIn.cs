using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Portal.Audit;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Agent sign-in: one OIDC scheme per tenant (code flow + PKCE, state and nonce checked by the handler),
/// agent MFA required through <c>amr</c>, and a server-side agent session behind a cookie that carries
/// ids only. The tenant is the one whose issuer signed the token: never a value from the URL or a form.
/// </summary>
internal static class AgentSignIn
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;

    public static string SchemeFor(string tenantId) => "oidc-" + tenantId;

    public static AuthenticationBuilder AddAgentSignIn(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var web = configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        var builder = services.AddAuthentication(o =>
        {
            o.DefaultScheme = CookieScheme;
            o.DefaultChallengeScheme = CookieScheme;
        });

        builder.AddCookie(CookieScheme, o =>
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
        });

        var tenants = configuration.GetSection("Portal").Get<TenantCatalogOptions>()?.Tenants ?? [];
        foreach (var tenant in tenants.Where(t => !string.IsNullOrWhiteSpace(t.Id)))
        {
            var tenantId = tenant.Id;
            var index = tenants.IndexOf(tenant);
            builder.AddOpenIdConnect(SchemeFor(tenantId), o =>
            {
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
                o.Scope.Add("email");
                o.Scope.Add("profile");
                if (tenant.Idp.Kind != Portal.Idp.IdpKind.Entra)
                {
                    // Okta's groups claim needs its scope; Entra puts group ids (and app roles) in the token by the
                    // app registration's settings and would take an unknown scope for a resource.
                    o.Scope.Add("groups");
                }
                o.NonceCookie.SecurePolicy = web.RequireHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
                o.CorrelationCookie.SecurePolicy = o.NonceCookie.SecurePolicy;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.Events.OnTokenValidated = ctx => OnTokenValidatedAsync(ctx, tenantId);
                o.Events.OnRedirectToIdentityProvider = ctx =>
                {
                    // The redirect URI is the public origin's, never the Host header's or the scheme the
                    // container saw: the handler keeps this value for the code redemption too.
                    ctx.ProtocolMessage.RedirectUri = ctx.HttpContext.RequestServices.GetRequiredService<PublicOrigin>().Absolute(ctx.HttpContext, ctx.Options.CallbackPath);
                    // Ask for the tenant's Conditional Access authentication context, so that the IdP enforces
                    // its MFA policy and says so in acrs (Entra's ID tokens carry no amr).
                    var required = ctx.HttpContext.RequestServices.GetRequiredService<ITenantCatalog>().Find(tenantId)?.AgentSignIn.RequiredAcrs;
                    if (required is { Count: > 0 })
                    {
                        var acrs = new System.Text.Json.Nodes.JsonObject { ["essential"] = true, ["values"] = new System.Text.Json.Nodes.JsonArray([.. required.Select(v => (System.Text.Json.Nodes.JsonNode?)v)]) };
                        ctx.ProtocolMessage.SetParameter("claims", new System.Text.Json.Nodes.JsonObject { ["id_token"] = new System.Text.Json.Nodes.JsonObject { ["acrs"] = acrs } }.ToJsonString());
                    }

                    return Task.CompletedTask;
                };
                o.Events.OnRedirectToIdentityProviderForSignOut = ctx =>
                {
                    if (!string.IsNullOrEmpty(ctx.ProtocolMessage.PostLogoutRedirectUri))
                    {
                        ctx.ProtocolMessage.PostLogoutRedirectUri = ctx.HttpContext.RequestServices.GetRequiredService<PublicOrigin>().Absolute(ctx.HttpContext, ctx.Options.SignedOutCallbackPath);
                    }

                    return Task.CompletedTask;
                };
                o.Events.OnRemoteFailure = ctx =>
                {
                    ctx.HandleResponse();
                    ctx.Response.Redirect("/account/signin?failed=1");
                    return Task.CompletedTask;
                };
            });

            // The client secret is resolved when the options are first built (a named Configure runs before the
            // handler's own post-configuration), so a missing secret fails naming its setting.
            services.AddOptions<OpenIdConnectOptions>(SchemeFor(tenantId)).Configure<ISecretResolver>((o, secrets) =>
            {
                var authority = new Uri(tenant.AgentSignIn.Authority);
                o.Authority = tenant.AgentSignIn.Authority.TrimEnd('/');
                o.ClientId = tenant.AgentSignIn.ClientId;
                o.ClientSecret = secrets.Resolve(tenant.AgentSignIn.ClientSecretSecret, $"Portal:Tenants:{index}:AgentSignIn:ClientSecretSecret");

                // Plain-http metadata only for the loopback emulator in Development (the validator refuses it elsewhere).
                o.RequireHttpsMetadata = !(authority.Scheme == Uri.UriSchemeHttp && authority.IsLoopback && environment.IsDevelopment());
                o.TokenValidationParameters.ValidIssuer = o.Authority;
            });
        }

        return builder;
    }

    private static async Task ValidateAgentSessionAsync(CookieValidatePrincipalContext context)
    {
        var agent = context.Principal is null ? null : AgentContext.From(context.Principal);
        var sessions = context.HttpContext.RequestServices.GetRequiredService<AgentSessionStore>();
        var session = agent is null ? null : await sessions.TouchAsync(agent.TenantId, agent.SessionId, agent.Subject, context.HttpContext.RequestAborted);
        if (session is null)
        {
            // Ended (sign-out on any instance), idle for 30 minutes, or past 12 hours: the cookie is worthless.
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
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
            await audit.RecordAsync(AuditEntries.For(context.HttpContext, agent, "agent.signin", AuditOutcome.Denied, "agent_mfa_missing"), context.HttpContext.RequestAborted);
            context.Fail("Agent MFA is required.");
            return;
        }

        var tiers = groups.Select(g => tenant.GroupTiers.GetValueOrDefault(g)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var session = await services.GetRequiredService<AgentSessionStore>().StartAsync(tenantId, subject, maskedLogin, tiers, context.HttpContext.RequestAborted);
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
        PortalLog.SignedIn(logger, tenantId);
        await audit.RecordAsync(AuditEntries.For(context.HttpContext, agent with { SessionId = session.Id }, "agent.signin", AuditOutcome.Succeeded, tiers.Count == 0 ? "no_tier" : null), context.HttpContext.RequestAborted);
    }
}
