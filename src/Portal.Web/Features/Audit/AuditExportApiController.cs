using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Agents;

namespace Portal.Web.Features.Audit;

/// <summary>
/// The audit export for SIEM pulls: a tenant API key (the API-key scheme, never an agent's session), GET only,
/// streamed NDJSON (or CSV) with the same filters as the audit page. Every pull is itself audited. Only a key of the
/// <c>audit:read</c> scope pulls (every key stored before scopes existed is one).
/// </summary>
[ApiController]
[Route("api/v1/tenants/{" + ApiKeyAuthentication.TenantRouteValue + "}/audit")]
[Authorize(AuthenticationSchemes = ApiKeyAuthentication.Scheme, Policy = ApiKeyAuthentication.Policy)]
[ApiKeyScope(ApiKeyScopes.AuditRead)]
[IgnoreAntiforgeryToken]
public sealed class AuditExportApiController(AuditExportRunner exports) : ControllerBase
{
    [HttpGet("")]
    public async Task<IActionResult> Get(string tenantId, [FromQuery] AuditFilterInput filter, [FromQuery] string? format)
    {
        // The policy has authenticated a live key of exactly this route's tenant.
        var key = ApiKeyContext.From(User)!;
        var (query, errors) = filter.ToQuery();
        if (errors.Count > 0 || !AuditController.TryFormat(format ?? "ndjson", out var exportFormat))
        {
            return BadRequest(new { error = "invalid_filter", messages = errors.Count > 0 ? errors : ["format is ndjson or csv."] });
        }

        var entry = ApiKeyAuthentication.EntryFor(HttpContext, key.TenantId, key.KeyId, "audit.export.api", AuditOutcome.Pending, null);
        await exports.RunAsync(HttpContext, key.TenantId, entry, query, exportFormat);
        return new EmptyResult();
    }
}
