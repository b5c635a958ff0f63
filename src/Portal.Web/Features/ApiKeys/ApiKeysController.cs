using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Agents;
using Portal.Web.Tenancy;

namespace Portal.Web.Features.ApiKeys;

/// <summary>The keys page; <see cref="Scope"/> is the scope the form has chosen (audit read unless the admin chose another).</summary>
public sealed record ApiKeysPage(IReadOnlyList<ApiKeyRecord> Keys, string TenantId, string? Error = null, string Scope = ApiKeyScopes.AuditRead);

/// <summary>A key just created: <see cref="PlainKey"/> is null when the page is seen again after it was shown once.</summary>
public sealed record ApiKeyCreatedPage(string Name, string? PlainKey, string TenantId, string Scope = ApiKeyScopes.AuditRead);

/// <summary>
/// Tenant admins create and revoke the tenant's API keys: each of one scope, chosen at creation (docs/audit.md, "Keys"):
/// a SIEM's to pull the audit, or a SOAR's to switch heightened-threat mode.
/// </summary>
[Route("admin/api-keys")]
[Authorize(Policy = Permissions.AdminSettings)]
public sealed class ApiKeysController(ApiKeyStore keys, IAuditTrail audit, BrowserHandover handover, TimeProvider clock) : AgentController
{
    private const string CreatedPurpose = "apikey-created";
    private static readonly TimeSpan CreatedLifetime = TimeSpan.FromMinutes(5);

    [HttpGet("")]
    public async Task<IActionResult> Index()
    {
        var agent = Current.Agent;
        return View(new ApiKeysPage(await keys.ListAsync(agent.TenantId, HttpContext.RequestAborted), agent.TenantId));
    }

    /// <summary>
    /// Creates a key and shows it this once, on the page the POST redirects to (Post/Redirect/Get, so F5 never creates a
    /// second key): handed over through the admin's browser, never in a URL, never stored in plain, never shown again.
    /// </summary>
    [HttpPost("")]
    public async Task<IActionResult> Create([FromForm] string? name, [FromForm] string? scope)
    {
        var agent = Current.Agent;
        var label = name?.Trim();

        // A form without a scope (a script written before scopes) creates what every key was then: audit read.
        var chosen = string.IsNullOrEmpty(scope) ? ApiKeyScopes.AuditRead : scope;
        var error = !ApiKeyStore.IsValidName(label) ? "Name the key with 1-60 letters, digits, spaces, '.', '_' or '-'."
            : !ApiKeyScopes.IsScope(chosen) ? "Choose what the key may do from the list."
            : null;
        if (error is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            var shown = ApiKeyScopes.IsScope(chosen) ? chosen : ApiKeyScopes.AuditRead;
            return View(nameof(Index), new ApiKeysPage(await keys.ListAsync(agent.TenantId, HttpContext.RequestAborted), agent.TenantId, error, shown));
        }

        // Audited first: if the record cannot be written, no key exists.
        var pending = await audit.BeginAsync(AuditEntries.For(Current, "apikey.create", AuditOutcome.Pending), HttpContext.RequestAborted);
        var (record, plain) = await keys.CreateAsync(agent.TenantId, label!, chosen, agent, HttpContext.RequestAborted);
        await audit.CompleteAsync(pending, AuditOutcome.Succeeded, "key:" + record.Id + " scope:" + chosen, HttpContext.RequestAborted);
        var page = CreatedPath(record.Id);
        handover.Keep(Response, CreatedPurpose, agent, page, new CreatedKey(record.Name, plain, chosen), clock.GetUtcNow() + CreatedLifetime);
        return this.SeeOther(page);
    }

    [HttpGet("created/{id}")]
    public IActionResult Created(string id)
    {
        var agent = Current.Agent;
        if (!ApiKeyStore.IsWellFormedId(id))
        {
            return NotFound();
        }

        var page = CreatedPath(id);
        var created = handover.Take<CreatedKey>(Request, Response, CreatedPurpose, agent, page);
        Response.Headers.CacheControl = "no-store";
        if (created is null)
        {
            return View("Created", new ApiKeyCreatedPage("", null, agent.TenantId));
        }

        return View("Created", new ApiKeyCreatedPage(created.Name, created.PlainKey, agent.TenantId, created.Scope ?? ApiKeyScopes.AuditRead));
    }

    [HttpPost("{id}/revoke")]
    public async Task<IActionResult> Revoke(string id)
    {
        var agent = Current.Agent;
        var revoked = await keys.RevokeAsync(agent.TenantId, id, agent, HttpContext.RequestAborted);
        var reason = "key:" + (ApiKeyStore.IsWellFormedId(id) ? id : "invalid");
        await audit.RecordAsync(AuditEntries.For(Current, "apikey.revoke", revoked ? AuditOutcome.Succeeded : AuditOutcome.Failed, reason), HttpContext.RequestAborted);
        return revoked ? Redirect("/admin/api-keys") : NotFound();
    }

    private static string CreatedPath(string id) => "/admin/api-keys/created/" + id;

    private sealed record CreatedKey(string Name, string PlainKey, string? Scope)
    {
        public override string ToString() => $"CreatedKey {{ Name = {Name}, PlainKey = [redacted], Scope = {Scope} }}";
    }
}
