using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Agents;

namespace Portal.Web.Features.Audit;

/// <summary>
/// The audit export for SIEM pulls: a tenant API key instead of an agent session, GET only, streamed
/// NDJSON (or CSV) with the same filters as the audit page. Every pull is itself audited.
/// </summary>
[ApiController]
[Route("api/v1/tenants/{tenantId}/audit")]
[AllowAnonymous]
[IgnoreAntiforgeryToken]
[ServiceFilter(typeof(ApiKeyAuthorizationFilter))]
public sealed class AuditExportApiController(AuditExportRunner exports) : ControllerBase
{
    [HttpGet("")]
    public async Task<IActionResult> Get(string tenantId, [FromQuery] AuditFilterInput filter, [FromQuery] string? format)
    {
        // The filter has authenticated a key of exactly this tenant.
        var key = ApiKeyAuthorizationFilter.KeyOf(HttpContext)!;
        var (query, errors) = filter.ToQuery();
        if (errors.Count > 0 || !AuditController.TryFormat(format ?? "ndjson", out var exportFormat))
        {
            return BadRequest(new { error = "invalid_filter", messages = errors.Count > 0 ? errors : ["format is ndjson or csv."] });
        }

        var entry = ApiKeyAuthorizationFilter.EntryFor(HttpContext, key.TenantId, key, "audit.export.api", AuditOutcome.Pending, null);
        await exports.RunAsync(HttpContext, key.TenantId, entry, query, exportFormat);
        return new EmptyResult();
    }
}
