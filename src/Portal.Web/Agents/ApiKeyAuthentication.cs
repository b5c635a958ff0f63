using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Portal.Audit;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Agents;

/// <summary>
/// Authenticates a SIEM's pull with a tenant API key, in place of an agent's session: the key comes from
/// <c>Authorization: Bearer</c> or <c>X-Api-Key</c> only (a key in a URL ends up in proxy logs and browser
/// history, so one there is refused outright), and it must be a live key of the tenant the route names.
/// Every refusal for a known tenant is audited.
/// </summary>
public sealed class ApiKeyAuthorizationFilter(ApiKeyStore keys, ITenantCatalog tenants, IAuditTrail audit, ILogger<ApiKeyAuthorizationFilter> logger) : IAsyncAuthorizationFilter
{
    public const string HeaderName = "X-Api-Key";

    private static readonly string[] QueryNames = ["api_key", "apikey", "api-key", "key", "access_token", "token", "x-api-key"];

    /// <summary>The authenticated key, for the action.</summary>
    public static ApiKeyRecord? KeyOf(HttpContext http) => http.Items[typeof(ApiKeyRecord)] as ApiKeyRecord;

    public async Task OnAuthorizationAsync(AuthorizationFilterContext context)
    {
        var http = context.HttpContext;
        http.Response.Headers.CacheControl = "no-store";
        if (http.Request.Query.Keys.Any(k => QueryNames.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            context.Result = Refuse(StatusCodes.Status400BadRequest, "key_in_url", "API keys are accepted in the Authorization or X-Api-Key header only. A key sent in a URL should be revoked.");
            return;
        }

        var tenant = context.RouteData.Values["tenantId"] is string tenantId ? tenants.Find(tenantId) : null;
        var presented = Presented(http.Request.Headers);
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"portal-audit\"";
        if (tenant is null)
        {
            context.Result = Unauthorized();
            return;
        }

        var (key, refusal) = await keys.AuthenticateAsync(tenant.Id, presented, http.RequestAborted);
        if (refusal == ApiKeyRefusal.None && key is not null)
        {
            http.Items[typeof(ApiKeyRecord)] = key;
            return;
        }

        await AuditRefusalAsync(http, tenant.Id, key, refusal);
        context.Result = Unauthorized();
    }

    /// <summary>The audit entry of a request made with <paramref name="key"/>: the key stands where an agent would.</summary>
    public static AuditEntry EntryFor(HttpContext http, string tenantId, ApiKeyRecord? key, string action, AuditOutcome outcome, string? reason) => new()
    {
        TenantId = tenantId,
        Action = action,
        Outcome = outcome,
        Reason = reason,
        AgentSubjectId = key is null ? "apikey:unknown" : "apikey:" + key.Id,
        AgentLogin = "apikey",
        RequestId = http.TraceIdentifier,
        TraceId = System.Diagnostics.Activity.Current?.TraceId.ToString(),
        ClientAddress = http.Connection.RemoteIpAddress?.ToString(),
        UserAgent = http.Request.Headers.UserAgent.ToString(),
    };

    private static string? Presented(IHeaderDictionary headers)
    {
        if (AuthenticationHeaderValue.TryParse(headers.Authorization.ToString(), out var authorization)
            && string.Equals(authorization.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return authorization.Parameter?.Trim();
        }

        var header = headers[HeaderName].ToString().Trim();
        return header.Length == 0 ? null : header;
    }

    private async Task AuditRefusalAsync(HttpContext http, string tenantId, ApiKeyRecord? key, ApiKeyRefusal refusal)
    {
        try
        {
            var reason = "api_key_" + refusal.ToString().ToLowerInvariant();
            await audit.RecordAsync(EntryFor(http, tenantId, key, "api.access", AuditOutcome.Denied, reason), http.RequestAborted);
        }
        catch (AuditUnavailableException ex)
        {
            // The refusal stands either way; only its record is missing, which operators must see.
            PortalLog.AuditWriteFailed(logger, ex.GetType().Name);
        }
    }

    private static ObjectResult Unauthorized() =>
        Refuse(StatusCodes.Status401Unauthorized, "invalid_api_key", "A valid API key of this tenant is required.");

    private static ObjectResult Refuse(int status, string code, string message) =>
        new(new { error = code, message }) { StatusCode = status };
}
