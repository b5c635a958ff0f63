using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>The audit review over real HTTP: filters, detail, the caller's timeline, and audited, streamed exports.</summary>
public sealed class AuditReviewTests : IAsyncLifetime
{
    private const string Alice = "alice.caller@demo.example";
    private const string Tier3 = "tier3.agent@demo.example";
    private const string Auditor = "auditor@demo.example";

    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Index_FilterByActionAndOutcome_ShowsOnlyMatchingRecords()
    {
        await VerifyAndResetAsync();
        var auditor = new ConsoleDriver(_host, await _host.SignInAsync(Auditor));

        var page = await auditor.GetPageAsync("/audit?action=action.password_reset&outcome=Succeeded");

        var actions = RowActions(page);
        Assert.Equal(["action.password_reset"], actions);
        var all = RowActions(await auditor.GetPageAsync("/audit"));
        Assert.Contains("verification.push.result", all);
        Assert.Contains("caller.lookup", all);
    }

    [Fact]
    public async Task Index_InvalidFilter_RefusedWithReason()
    {
        var auditor = await _host.SignInAsync(Auditor);

        var response = await auditor.GetAsync("/audit?from=yesterday&caller=alice");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("From is a UTC date", page, StringComparison.Ordinal);
        Assert.Contains("Caller is a pseudonym", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detail_RecordOfTheTenant_ShowsWhoWhatWhereAndMethod()
    {
        await VerifyAndResetAsync();
        var reset = Assert.Single(await AuditAsync(), r => r.Action == "action.password_reset");
        var auditor = new ConsoleDriver(_host, await _host.SignInAsync(Auditor));

        var page = await auditor.GetPageAsync("/audit/records/" + reset.Id);

        Assert.Contains(reset.Caller!.IdHash, page, StringComparison.Ordinal);
        Assert.Contains("Okta Verify push with number matching", page, StringComparison.Ordinal);
        Assert.Contains("INC-7", page, StringComparison.Ordinal);
        Assert.Contains(">Tier Three Agent</a> <span class=\"mono\">tier3.agent@demo.example</span>", page, StringComparison.Ordinal);
        var missing = await auditor.Browser.GetAsync("/audit/records/0000000000000000001-0011223344556677");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task FindCaller_ByLogin_RedirectsToTheTimelineByPseudonymWithoutTheLogin()
    {
        await VerifyAndResetAsync();
        var auditor = new ConsoleDriver(_host, await _host.SignInAsync(Auditor));
        var token = PortalTestHost.FormToken(await auditor.GetPageAsync("/audit"));

        var found = await PortalTestHost.PostFormAsync(auditor.Browser, "/audit/callers/find", token, ("login", Alice));

        Assert.Equal(HttpStatusCode.Redirect, found.StatusCode);
        var callerId = _host.Emulator.State.FindCaller(Alice)!.Id;
        var hash = _host.Factory.Services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(PortalTestHost.TenantId, callerId);
        Assert.Equal("/audit/callers/" + hash, found.Headers.Location!.OriginalString);
        var timeline = await auditor.GetPageAsync(found.Headers.Location.OriginalString);
        Assert.Contains("data-action=\"verification.push.result\"", timeline, StringComparison.Ordinal);
        Assert.Contains("data-action=\"action.password_reset\"", timeline, StringComparison.Ordinal);
        Assert.Contains("verified by Okta Verify push with number matching", timeline, StringComparison.Ordinal); // the action
        Assert.Contains("method: Okta Verify push with number matching", timeline, StringComparison.Ordinal); // a step, before anyone is verified
        foreach (var field in new[] { "actions", "alarms" })
        {
            var count = System.Text.RegularExpressions.Regex.Match(timeline, $"data-field=\"{field}\">(\\d+)</span> (\\w+)");
            Assert.Equal(count.Groups[1].Value == "1" ? field[..^1] : field, count.Groups[2].Value);
        }

        Assert.DoesNotContain(Alice, timeline, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(callerId, timeline, StringComparison.Ordinal);

        // Looking at a person's history is itself on the record.
        Assert.Contains(await AuditAsync(), r => r.Action == "audit.caller_search" && r.Outcome == AuditOutcome.Succeeded && r.Caller?.IdHash == hash);
    }

    [Fact]
    public async Task Export_Csv_StreamsMatchingRowsAndIsAuditedWithFilterAndRowCount()
    {
        await VerifyAndResetAsync();
        var auditor = new ConsoleDriver(_host, await _host.SignInAsync(Auditor));
        var token = PortalTestHost.FormToken(await auditor.GetPageAsync("/audit"));
        var expected = (await AuditAsync()).Count(r => r.Action.StartsWith("verification.", StringComparison.Ordinal));
        Assert.True(expected >= 2);

        var response = await PortalTestHost.PostFormAsync(auditor.Browser, "/audit/export", token, ("format", "csv"), ("action", "verification.push.result"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,at,action,outcome", lines[0], StringComparison.Ordinal);
        Assert.Single(lines.Skip(1));
        Assert.Contains(",verification.push.result,succeeded,", lines[1], StringComparison.Ordinal);
        var record = Assert.Single(await AuditAsync(), r => r.Action == "audit.export");
        Assert.Equal(AuditOutcome.Succeeded, record.Outcome);
        Assert.Equal("rows=1 format=csv action=verification.push.result", record.Reason);
    }

    [Fact]
    public async Task Export_Ndjson_EveryLineParses()
    {
        await VerifyAndResetAsync();
        var auditor = new ConsoleDriver(_host, await _host.SignInAsync(Auditor));
        var token = PortalTestHost.FormToken(await auditor.GetPageAsync("/audit"));
        var stored = await AuditAsync();

        var response = await PortalTestHost.PostFormAsync(auditor.Browser, "/audit/export", token, ("format", "ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ids = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            var record = JsonSerializer.Deserialize<AuditRecord>(line, DocumentJson.Options)!;
            Assert.Equal(PortalTestHost.TenantId, record.TenantId);
            ids.Add(record.Id);
        }

        // Everything stored, plus the export's own record, written before its first byte.
        var exportRecord = Assert.Single(await AuditAsync(), r => r.Action == "audit.export");
        Assert.Equal(stored.Select(r => r.Id).Append(exportRecord.Id).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Export_AgentWithoutExportPermission_Forbidden()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(Tier3));
        var token = PortalTestHost.FormToken(await agent.GetPageAsync("/console"));

        var response = await PortalTestHost.PostFormAsync(agent.Browser, "/audit/export", token, ("format", "csv"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(await AuditAsync(), r => r.Action == "audit.export");
    }

    [Fact]
    public async Task Export_WithoutAntiforgeryToken_Refused()
    {
        var auditor = await _host.SignInAsync(Auditor);

        var response = await auditor.PostAsync("/audit/export", new FormUrlEncodedContent([new("format", "csv")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(await AuditAsync(), r => r.Action == "audit.export");
    }

    private async Task VerifyAndResetAsync()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(Tier3));
        var session = await agent.VerifyByPushAsync(Alice);
        var reset = await agent.ActAsync("password-reset", ConsoleDriver.VerificationId(session), ("kind", "OneTimeLink"), ("ticketRef", "INC-7"));
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
    }

    private async Task<List<AuditRecord>> AuditAsync()
    {
        var records = new List<AuditRecord>();
        await foreach (var d in _host.Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"))))
        {
            records.Add(DocumentJson.FromDocument<AuditRecord>(d.Data));
        }

        return records;
    }

    private static List<string> RowActions(string page) =>
        [.. System.Text.RegularExpressions.Regex.Matches(page, "<tr data-action=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Distinct()];
}
