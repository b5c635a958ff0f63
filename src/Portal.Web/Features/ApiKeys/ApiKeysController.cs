using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Authorization;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.ApiKeys;

public sealed record ApiKeysPage(IReadOnlyList<ApiKeyRecord> Keys, string TenantId, string? Error = null);

public sealed record ApiKeyCreatedPage(ApiKeyRecord Key, string PlainKey, string TenantId);

/// <summary>Tenant admins create and revoke the API keys a SIEM uses to pull the tenant's audit.</summary>
[Route("admin/api-keys")]
[Authorize(Policy = Permissions.AdminSettings)]
public sealed class ApiKeysController(ApiKeyStore keys, IAuditTrail audit) : Controller
{
    [HttpGet("")]
    public async Task<IActionResult> Index()
    {
        var agent = AgentContext.From(User)!;
        return View(new ApiKeysPage(await keys.ListAsync(agent.TenantId, HttpContext.RequestAborted), agent.TenantId));
    }

    /// <summary>Creates a key and shows it this once, in the response to the POST: never in a URL, never again.</summary>
    [HttpPost("")]
    public async Task<IActionResult> Create([FromForm] string? name)
    {
        var agent = AgentContext.From(User)!;
        var label = name?.Trim();
        if (!ApiKeyStore.IsValidName(label))
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return View(nameof(Index), new ApiKeysPage(await keys.ListAsync(agent.TenantId, HttpContext.RequestAborted), agent.TenantId, "Name the key with 1-60 letters, digits, spaces, '.', '_' or '-'."));
        }

        // Audited first: if the record cannot be written, no key exists.
        var pending = await audit.BeginAsync(AuditEntries.For(HttpContext, agent, "apikey.create", AuditOutcome.Pending), HttpContext.RequestAborted);
        var (record, plain) = await keys.CreateAsync(agent.TenantId, label!, agent, HttpContext.RequestAborted);
        await audit.CompleteAsync(pending, AuditOutcome.Succeeded, "key:" + record.Id, HttpContext.RequestAborted);
        Response.Headers.CacheControl = "no-store";
        return View("Created", new ApiKeyCreatedPage(record, plain, agent.TenantId));
    }

    [HttpPost("{id}/revoke")]
    public async Task<IActionResult> Revoke(string id)
    {
        var agent = AgentContext.From(User)!;
        var revoked = await keys.RevokeAsync(agent.TenantId, id, agent, HttpContext.RequestAborted);
        var reason = "key:" + (ApiKeyStore.IsWellFormedId(id) ? id : "invalid");
        await audit.RecordAsync(AuditEntries.For(HttpContext, agent, "apikey.revoke", revoked ? AuditOutcome.Succeeded : AuditOutcome.Failed, reason), HttpContext.RequestAborted);
        return revoked ? Redirect("/admin/api-keys") : NotFound();
    }
}
