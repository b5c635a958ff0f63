using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Portal.Audit;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Agents;

/// <summary>
/// The tenant API key as the SIEM API's own authentication scheme (docs/audit.md, "SIEM export API"), beside the
/// agent's cookie and OIDC schemes and apart from them: a route opens to a key only through <see cref="Policy"/>, which
/// names this scheme alone, so an agent's cookie is no credential there; and no agent page names this scheme, so a key
/// signs nobody in to the console. A refusal is the API's own answer (400, 401 or 403 with a JSON body), never a
/// redirect to the agent sign-in. Each route also names the scopes that open it (<see cref="ApiKeyScopeAttribute"/>):
/// a live key of another scope is refused with 403 <c>insufficient_scope</c>.
/// </summary>
public static class ApiKeyAuthentication
{
    public const string Scheme = "ApiKey";

    /// <summary>A live key of the tenant the route names (<see cref="TenantRouteValue"/>), authenticated by <see cref="Scheme"/> only.</summary>
    public const string Policy = "ApiKeyOfTheRouteTenant";

    public const string HeaderName = "X-Api-Key";

    /// <summary>The route value that names the tenant whose key is asked for.</summary>
    public const string TenantRouteValue = "tenantId";

    /// <summary>Registers the scheme, its key store and <see cref="Policy"/>.</summary>
    public static AuthenticationBuilder AddApiKeys(this AuthenticationBuilder builder)
    {
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<IAuthorizationHandler, RouteTenantKeyHandler>();
        builder.Services.AddSingleton<IAuthorizationHandler, ApiKeyScopeHandler>();
        builder.Services.Configure<AuthorizationOptions>(o => o.AddPolicy(Policy, p => p
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .AddRequirements(new RouteTenantKeyRequirement())));
        return builder.AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Scheme, displayName: null, configureOptions: null);
    }

    /// <summary>The audit entry of a request made with a key (<paramref name="keyId"/> null when none was recognised): the key stands where an agent would.</summary>
    public static AuditEntry EntryFor(HttpContext http, string tenantId, string? keyId, string action, AuditOutcome outcome, string? reason) => new()
    {
        TenantId = tenantId,
        Action = action,
        Outcome = outcome,
        Reason = reason,
        AgentSubjectId = SubjectOf(keyId),
        AgentLogin = ActorLogin,
        RequestId = http.TraceIdentifier,
        TraceId = System.Diagnostics.Activity.Current?.TraceId.ToString(),
        ClientAddress = http.Connection.RemoteIpAddress?.ToString(),
        UserAgent = http.Request.Headers.UserAgent.ToString(),
    };

    /// <summary>The audit entry of a change made with a key, from the request's origin as the services take it.</summary>
    public static AuditEntry EntryFor(RequestContext origin, string tenantId, string keyId, string action, AuditOutcome outcome, string? reason) => new()
    {
        TenantId = tenantId,
        Action = action,
        Outcome = outcome,
        Reason = reason,
        AgentSubjectId = SubjectOf(keyId),
        AgentLogin = ActorLogin,
        RequestId = origin.RequestId,
        TraceId = origin.TraceId,
        ClientAddress = origin.ClientAddress,
        UserAgent = origin.UserAgent,
    };

    /// <summary>How the audit and the webhook name a key where they would name an agent (docs/audit.md).</summary>
    public static string SubjectOf(string? keyId) => keyId is null ? "apikey:unknown" : "apikey:" + keyId;

    /// <summary>What the audit and the webhook hold where an agent's masked login would be, for a key.</summary>
    public const string ActorLogin = "apikey";
}

/// <summary>The claims of a principal authenticated by a key: ids only, none of them an agent's (<see cref="AgentClaims"/>).</summary>
public static class ApiKeyClaims
{
    public const string TenantId = "apikey_tid";
    public const string KeyId = "apikey_id";

    /// <summary>The key's scope (<see cref="ApiKeyScopes"/>); a key stored without one is given audit read.</summary>
    public const string Scope = "apikey_scope";
}

/// <summary>The key the current request was authenticated with, read from its principal.</summary>
public sealed record ApiKeyContext(string TenantId, string KeyId, string Scope)
{
    public static ApiKeyContext? From(ClaimsPrincipal user)
    {
        var identity = user.Identities.FirstOrDefault(i => i.IsAuthenticated && i.AuthenticationType == ApiKeyAuthentication.Scheme);
        var tenant = identity?.FindFirst(ApiKeyClaims.TenantId)?.Value;
        var key = identity?.FindFirst(ApiKeyClaims.KeyId)?.Value;
        var scope = identity?.FindFirst(ApiKeyClaims.Scope)?.Value;
        return tenant is null || key is null || scope is null ? null : new ApiKeyContext(tenant, key, scope);
    }
}

/// <summary>
/// The scopes of which a key opens this action (any one of them). Applied with <see cref="ApiKeyAuthentication.Policy"/>,
/// whose requirements it adds to; a key of another scope is forbidden, answered 403 <c>insufficient_scope</c> and audited.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class ApiKeyScopeAttribute(params string[] scopes) : Attribute, IAuthorizationRequirementData
{
    public IReadOnlyList<string> Scopes { get; } = scopes;

    public IEnumerable<IAuthorizationRequirement> GetRequirements() => [new ApiKeyScopeRequirement(Scopes)];
}

internal sealed record ApiKeyScopeRequirement(IReadOnlyList<string> Scopes) : IAuthorizationRequirement;

internal sealed class ApiKeyScopeHandler : AuthorizationHandler<ApiKeyScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyScopeRequirement requirement)
    {
        if (ApiKeyContext.From(context.User) is { } key && requirement.Scopes.Contains(key.Scope, StringComparer.Ordinal))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Authenticates a SIEM's pull with a tenant API key: the key comes from <c>Authorization: Bearer</c> or
/// <c>X-Api-Key</c> only (a key in a URL ends up in proxy logs and browser history, so one there is refused outright
/// with 400), and it must be a live key of the tenant the route names. Every refusal for a known tenant is audited as
/// <c>api.access</c> / denied with its reason when the request is refused. No answer of a route that takes a key is
/// kept by a browser or a proxy, served or refused; every answer but the key-in-URL 400 names the Bearer challenge.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyStore keys,
    ITenantCatalog tenants,
    IAuditTrail audit)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private const string ChallengeHeader = "Bearer realm=\"portal-audit\"";

    private static readonly string[] QueryNames = ["api_key", "apikey", "api-key", "key", "access_token", "token", "x-api-key"];

    /// <summary>Why this request's key was refused, for the challenge to answer and audit; null until authenticated, or when served.</summary>
    private Refused? _refused;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        Response.Headers.CacheControl = "no-store";
        if (Request.Query.Keys.Any(k => QueryNames.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            _refused = new Refused(KeyInUrl: true, null, null, ApiKeyRefusal.None);
            return AuthenticateResult.Fail("key_in_url");
        }

        // Named on every answer past the URL check, served or refused, so a client always reads how to authenticate.
        Response.Headers.WWWAuthenticate = ChallengeHeader;
        var tenant = Context.GetRouteValue(ApiKeyAuthentication.TenantRouteValue) is string tenantId ? tenants.Find(tenantId) : null;
        if (tenant is null)
        {
            // No tenant to record the refusal under.
            _refused = new Refused(KeyInUrl: false, null, null, ApiKeyRefusal.Unknown);
            return AuthenticateResult.Fail("unknown_tenant");
        }

        var (key, refusal) = await keys.AuthenticateAsync(tenant.Id, Presented(Request.Headers), Context.RequestAborted);
        if (refusal == ApiKeyRefusal.None && key is not null)
        {
            var identity = new ClaimsIdentity(
                [new Claim(ApiKeyClaims.TenantId, tenant.Id), new Claim(ApiKeyClaims.KeyId, key.Id), new Claim(ApiKeyClaims.Scope, key.EffectiveScope())],
                Scheme.Name);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
        }

        _refused = new Refused(KeyInUrl: false, tenant.Id, key?.Id, refusal);
        return AuthenticateResult.Fail(ReasonOf(refusal));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await HandleAuthenticateOnceSafeAsync();
        if (_refused is { KeyInUrl: true })
        {
            await RefuseAsync(StatusCodes.Status400BadRequest, "key_in_url", "API keys are accepted in the Authorization or X-Api-Key header only. A key sent in a URL should be revoked.");
            return;
        }

        if (_refused is { TenantId: { } tenantId } refused)
        {
            await AuditRefusalAsync(tenantId, refused.KeyId, refused.Refusal);
        }

        await RefuseInvalidKeyAsync();
    }

    /// <summary>
    /// A live key of the route's tenant whose scope does not open the route: 403 <c>insufficient_scope</c> naming the
    /// scopes that would (RFC 6750, section 3.1), audited as <c>api.access</c> / denied, <c>api_key_scope</c>. A live key
    /// whose tenant is not the route's: the handler looks keys up only among the route tenant's, so this is answered and
    /// audited as a key unknown there, like any other tenant's key.
    /// </summary>
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var tenant = Context.GetRouteValue(ApiKeyAuthentication.TenantRouteValue) is string tenantId ? tenants.Find(tenantId) : null;
        var authenticated = await HandleAuthenticateOnceSafeAsync();
        if (tenant is not null && authenticated.Succeeded && ApiKeyContext.From(authenticated.Principal!) is { } key && key.TenantId == tenant.Id)
        {
            await AuditAsync(tenant.Id, key.KeyId, "api_key_scope");
            var scopes = Context.GetEndpoint()?.Metadata.GetMetadata<ApiKeyScopeAttribute>()?.Scopes ?? [];
            Response.Headers.WWWAuthenticate = $"{ChallengeHeader}, error=\"insufficient_scope\", scope=\"{string.Join(' ', scopes)}\"";
            await RefuseAsync(StatusCodes.Status403Forbidden, "insufficient_scope", $"This key's scope ({key.Scope}) does not open this route; a key of scope {string.Join(" or ", scopes)} does.");
            return;
        }

        if (tenant is not null)
        {
            await AuditRefusalAsync(tenant.Id, null, ApiKeyRefusal.Unknown);
        }

        await RefuseInvalidKeyAsync();
    }

    private static string? Presented(IHeaderDictionary headers)
    {
        if (AuthenticationHeaderValue.TryParse(headers.Authorization.ToString(), out var authorization)
            && string.Equals(authorization.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return authorization.Parameter?.Trim();
        }

        var header = headers[ApiKeyAuthentication.HeaderName].ToString().Trim();
        return header.Length == 0 ? null : header;
    }

    private static string ReasonOf(ApiKeyRefusal refusal) => "api_key_" + refusal.ToString().ToLowerInvariant();

    private Task AuditRefusalAsync(string tenantId, string? keyId, ApiKeyRefusal refusal) => AuditAsync(tenantId, keyId, ReasonOf(refusal));

    private async Task AuditAsync(string tenantId, string? keyId, string reason)
    {
        try
        {
            await audit.RecordAsync(ApiKeyAuthentication.EntryFor(Context, tenantId, keyId, "api.access", AuditOutcome.Denied, reason), Context.RequestAborted);
        }
        catch (AuditUnavailableException ex)
        {
            // The refusal stands either way; only its record is missing, which operators must see.
            PortalLog.AuditWriteFailed(Logger, ex.GetType().Name);
        }
    }

    private Task RefuseInvalidKeyAsync()
    {
        Response.Headers.WWWAuthenticate = ChallengeHeader;
        return RefuseAsync(StatusCodes.Status401Unauthorized, "invalid_api_key", "A valid API key of this tenant is required.");
    }

    private Task RefuseAsync(int status, string error, string message)
    {
        Response.Headers.CacheControl = "no-store";
        Response.StatusCode = status;
        return Response.WriteAsJsonAsync(new ApiKeyError(error, message), Context.RequestAborted);
    }

    private sealed record Refused(bool KeyInUrl, string? TenantId, string? KeyId, ApiKeyRefusal Refusal);

    private sealed record ApiKeyError(string Error, string Message);
}

/// <summary>The request's key belongs to the tenant its route names.</summary>
internal sealed class RouteTenantKeyRequirement : IAuthorizationRequirement;

internal sealed class RouteTenantKeyHandler : AuthorizationHandler<RouteTenantKeyRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RouteTenantKeyRequirement requirement)
    {
        if (context.Resource is HttpContext http
            && ApiKeyContext.From(context.User) is { } key
            && http.GetRouteValue(ApiKeyAuthentication.TenantRouteValue) is string tenantId
            && string.Equals(tenantId, key.TenantId, StringComparison.Ordinal))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
