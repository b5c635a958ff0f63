using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Portal.Audit;
using Portal.Web.Agents;
using Portal.Web.Tenancy;

namespace Portal.Web.Features.Audit;

public sealed record AuditListPage(
    IReadOnlyList<AuditRecord> Records,
    string? NextCursor,
    AuditFilterInput Filter,
    IReadOnlyList<string> Errors,
    bool CanExport,
    string? Notice = null)
{
    /// <summary>The agents of <see cref="Records"/> by subject id, named by the IdP when the page is drawn.</summary>
    public IReadOnlyDictionary<string, AgentName> Agents { get; init; } = new Dictionary<string, AgentName>();

    public string OlderLink => NextCursor is null ? "" : QueryHelpers.AddQueryString("/audit", [.. Filter.Pairs().Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)), new("cursor", NextCursor)]);
}

public sealed record AuditDetailPage(AuditRecord Record, AgentName? Agent);

/// <summary>Everything recorded about one caller, by pseudonym: their verifications and the actions on them.</summary>
public sealed record AuditCallerPage(string CallerIdHash, string? MaskedLogin, IReadOnlyList<AuditRecord> Records, string? NextCursor)
{
    /// <summary>The agents of <see cref="Records"/> by subject id, named by the IdP when the page is drawn.</summary>
    public IReadOnlyDictionary<string, AgentName> Agents { get; init; } = new Dictionary<string, AgentName>();

    public int Verifications => Records.Count(r => r.Action.StartsWith("verification.", StringComparison.Ordinal));

    public int Actions => Records.Count(r => r.Action.StartsWith("action.", StringComparison.Ordinal));

    public int Alarms => Records.Count(r => r.Outcome == AuditOutcome.Alarm);

    public string OlderLink => NextCursor is null ? "" : $"/audit/callers/{CallerIdHash}?cursor={Uri.EscapeDataString(NextCursor)}";
}

/// <summary>
/// The audit review: who did what to whom, when, from where, and whether the caller was verified. The
/// tenant comes from the session, never from the request; the caller is named by pseudonym only.
/// </summary>
[Route("audit")]
[Authorize(Policy = Permissions.AuditRead)]
public sealed class AuditController(
    IAuditTrail audit,
    IAuditRecordReader records,
    AuditExportRunner exports,
    ICallerPseudonymizer pseudonyms,
    TenantDirectories directories,
    IAuthorizationService authorization,
    AgentNames agentNames) : AgentController
{
    private const int PageSize = 50;

    [HttpGet("")]
    public async Task<IActionResult> Index([FromQuery] AuditFilterInput filter, [FromQuery] string? cursor)
    {
        var agent = Current.Agent;
        var (query, errors) = filter.ToQuery();
        var canExport = await CanExportAsync();
        if (errors.Count > 0)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return View(new AuditListPage([], null, filter, errors, canExport));
        }

        AuditPage page;
        try
        {
            page = await audit.QueryAsync(agent.TenantId, query with { Cursor = cursor, PageSize = PageSize }, HttpContext.RequestAborted);
        }
        catch (ArgumentException)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return View(new AuditListPage([], null, filter, ["That page link is not valid. Start again from the first page."], canExport));
        }

        return View(new AuditListPage(page.Records, page.NextCursor, filter, [], canExport) { Agents = await NamesAsync(page.Records) });
    }

    [HttpGet("records/{id}")]
    public async Task<IActionResult> Detail(string id)
    {
        var agent = Current.Agent;
        var record = await records.GetAsync(agent.TenantId, id, HttpContext.RequestAborted);
        return record is null ? NotFound() : View(new AuditDetailPage(record, (await NamesAsync([record])).GetValueOrDefault(record.Agent.SubjectId)));
    }

    /// <summary>One caller's timeline, newest first.</summary>
    [HttpGet("callers/{idHash}")]
    public async Task<IActionResult> Caller(string idHash, [FromQuery] string? cursor)
    {
        var agent = Current.Agent;
        var (query, errors) = new AuditFilterInput { Caller = idHash }.ToQuery();
        if (errors.Count > 0 || query.CallerIdHash is null)
        {
            return NotFound();
        }

        AuditPage page;
        try
        {
            page = await audit.QueryAsync(agent.TenantId, query with { Cursor = cursor, PageSize = 100 }, HttpContext.RequestAborted);
        }
        catch (ArgumentException)
        {
            return BadRequest();
        }

        var masked = page.Records.Select(r => r.Caller?.MaskedLogin).FirstOrDefault(m => !string.IsNullOrEmpty(m));
        return View(new AuditCallerPage(query.CallerIdHash, masked, page.Records, page.NextCursor) { Agents = await NamesAsync(page.Records) });
    }

    /// <summary>
    /// Finds a caller's timeline by login. A POST, so the login never lands in a URL, a log line or the
    /// history; the login is resolved to the IdP id and hashed as the trail hashes it, and is not kept.
    /// The search itself is audited: looking at a person's history is an access to their data.
    /// </summary>
    [HttpPost("callers/find")]
    public async Task<IActionResult> FindCaller([FromForm] string? login)
    {
        var agent = Current.Agent;
        var text = login?.Trim() ?? "";
        if (text.Length is 0 or > 256)
        {
            return await ListWithNoticeAsync("Enter the caller's login, e-mail address or pseudonym.");
        }

        var (asHash, _) = new AuditFilterInput { Caller = text }.ToQuery();
        if (asHash.CallerIdHash is { } hash)
        {
            return Redirect("/audit/callers/" + hash);
        }

        var tenant = Current.Tenant;
        var found = await directories.For(tenant).FindCallerAsync(text, HttpContext.RequestAborted);
        if (!found.IsSuccess)
        {
            await audit.RecordAsync(AuditEntries.For(Current, "audit.caller_search", AuditOutcome.Failed, found.Error.Code) with { CallerLogin = text }, HttpContext.RequestAborted);
            return await ListWithNoticeAsync("No caller with that login was found in the directory. Search by pseudonym for callers that no longer exist there.");
        }

        await audit.RecordAsync(AuditEntries.For(Current, "audit.caller_search", AuditOutcome.Succeeded) with { CallerId = found.Value.Id, CallerLogin = found.Value.Login }, HttpContext.RequestAborted);
        return Redirect("/audit/callers/" + pseudonyms.HashCallerId(tenant.Id, found.Value.Id));
    }

    /// <summary>
    /// Streams the filtered records as CSV or NDJSON. A POST with the antiforgery token: an export is a
    /// bulk read of personal data, which a forged link must not trigger.
    /// </summary>
    [HttpPost("export")]
    [Authorize(Policy = Permissions.AuditExport)]
    public async Task<IActionResult> Export([FromForm] AuditFilterInput filter, [FromForm] string? format)
    {
        var agent = Current.Agent;
        var (query, errors) = filter.ToQuery();
        if (errors.Count > 0 || !TryFormat(format, out var exportFormat))
        {
            return BadRequest();
        }

        await exports.RunAsync(HttpContext, agent.TenantId, AuditEntries.For(Current, "audit.export", AuditOutcome.Pending), query, exportFormat);
        return new EmptyResult();
    }

    internal static bool TryFormat(string? value, out AuditExportFormat format)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "csv":
                format = AuditExportFormat.Csv;
                return true;
            case "ndjson":
                format = AuditExportFormat.Ndjson;
                return true;
            default:
                format = default;
                return false;
        }
    }

    private async Task<IActionResult> ListWithNoticeAsync(string notice)
    {
        var agent = Current.Agent;
        var page = await audit.QueryAsync(agent.TenantId, new AuditQuery { PageSize = PageSize }, HttpContext.RequestAborted);
        return View(nameof(Index), new AuditListPage(page.Records, page.NextCursor, new AuditFilterInput(), [], await CanExportAsync(), notice) { Agents = await NamesAsync(page.Records) });
    }

    private Task<IReadOnlyDictionary<string, AgentName>> NamesAsync(IEnumerable<AuditRecord> shown)
    {
        var agent = Current.Agent;
        return agentNames.ResolveAsync(Current.Tenant, shown.Select(r => r.Agent.SubjectId), HttpContext.RequestAborted);
    }

    private async Task<bool> CanExportAsync() => (await authorization.AuthorizeAsync(User, Permissions.AuditExport)).Succeeded;
}
