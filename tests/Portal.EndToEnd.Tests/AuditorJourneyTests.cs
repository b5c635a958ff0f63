using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The auditor's journey in Chromium, after an agent's: the audit page filtered by action and outcome, the
/// caller's timeline, and both downloads (CSV and NDJSON) caught as the browser saves them, opened and read:
/// a header, the record of the journey just done, masked identities only and no raw e-mail address.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed partial class AuditorJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    private const string Ticket = "INC-3001";

    /// <summary>The documented CSV columns (docs/audit.md), written out here rather than read from the exporter.</summary>
    private const string CsvHeader = "id,at,action,outcome,reason,agentSubjectId,agentMaskedLogin,callerIdHash,callerMaskedLogin,method,ticketRef,clientNet,uaFamily,requestId,traceId,completedAt,expireAt";

    [Fact]
    public async Task Auditor_FiltersOpensTimelineAndDownloadsCsvAndNdjson_OnlyMaskedIdentities()
    {
        // The journey the auditor will look for: a push verification, then every session of the caller ended.
        var login = portal.Emulator.State.AddCaller("olga.audited@demo.example", "olga.audited@demo.example", "Olga", "Audited", push: true).Login;
        await using (var agent = await AgentBrowser.OpenAsync(chromium, portal))
        {
            await agent.SignInAsync("Tier Three Agent");

            // The console keeps its own focus (the lookup field, autofocus); focus.js moves nothing there.
            await Expect(agent.Page.GetByLabel("Caller's login or e-mail")).ToBeFocusedAsync();
            await agent.LookUpAsync(login);
            await agent.SendPushAsync();
            var push = Assert.Single(portal.Emulator.State.PendingPushes(login));
            Assert.True(portal.Emulator.State.AnswerPush(push.TransactionId, push.CorrectAnswer));
            await Expect(agent.Page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
            var revoke = agent.Page.Locator("form[data-action='sessions_revoke']");
            await revoke.GetByRole(AriaRole.Checkbox).CheckAsync();
            await revoke.GetByLabel("Ticket").FillAsync(Ticket);
            await revoke.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }).ClickAsync();
            await Expect(agent.Page.Locator("[data-outcome='succeeded']")).ToBeVisibleAsync();
            await Expect(agent.Page.Locator("main h1")).ToBeFocusedAsync();
            agent.AssertPagesRanCleanly();
        }

        Assert.Equal(1, portal.Emulator.State.FindCaller(login)!.SessionsRevoked);

        await using var auditor = await AgentBrowser.OpenAsync(chromium, portal);
        var page = auditor.Page;
        await auditor.SignInAsync("Audit Reviewer", "/audit");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit", Exact = true })).ToBeVisibleAsync();

        // After each navigation the keyboard focus is on the page's heading, so a screen reader says where the agent is.
        await Expect(page.Locator("main h1")).ToBeFocusedAsync();
        Assert.Equal("H1 Audit", await page.EvaluateAsync<string>("document.activeElement.tagName + ' ' + document.activeElement.textContent.trim()"));
        Assert.Equal("none", await page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineStyle")); // not a control: no ring
        await auditor.CheckPageAsync("audit");
        await auditor.ScreenshotAsync("audit");

        // Filter by action and outcome: only that action with that outcome, and the journey's record among them.
        await page.GetByLabel("Action").FillAsync("action.sessions_revoke");
        await page.GetByLabel("Outcome").SelectOptionAsync("Succeeded");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/audit\?.*action=action\.sessions_revoke.*outcome=Succeeded"));
        await Expect(page.Locator("main h1")).ToBeFocusedAsync();
        var rows = page.Locator("table.audit tbody tr");
        await Expect(rows).Not.ToHaveCountAsync(0);
        Assert.Equal(await rows.CountAsync(), await page.Locator("table.audit tbody tr[data-action='action.sessions_revoke'][data-outcome='Succeeded']").CountAsync());
        var ours = rows.Filter(new() { HasText = Ticket });
        await Expect(ours).ToHaveCountAsync(1);
        await Expect(ours).ToContainTextAsync("o***@d***.example");
        await Expect(ours.Locator("[data-field='agent']")).ToHaveTextAsync("Tier Three Agent");
        await Expect(page.Locator("[data-field='agent-name']")).ToHaveTextAsync("Audit Reviewer");
        await auditor.CheckPageAsync("audit filtered by action and outcome");

        // The same action with another outcome: the journey's record is not among them.
        await page.GetByLabel("Outcome").SelectOptionAsync("Denied");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"outcome=Denied"));
        await Expect(page.Locator("table.audit tbody tr").Filter(new() { HasText = Ticket })).ToHaveCountAsync(0);
        await Expect(page.GetByText("No records match.")).ToBeVisibleAsync();

        // The caller's timeline, from the journey's record: every step on this caller, by pseudonym.
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"outcome=Succeeded"));
        await ours.GetByRole(AriaRole.Link, new() { Name = "o***@d***.example" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/audit/callers/[0-9a-f]{64}$"));
        var pseudonym = page.Url[^64..];
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Caller timeline" })).ToBeFocusedAsync();
        var timeline = page.Locator("ol.timeline");
        foreach (var step in new[] { "caller.lookup", "verification.push.start", "action.sessions_revoke" })
        {
            await Expect(timeline.Locator($"li[data-action='{step}']")).Not.ToHaveCountAsync(0);
        }

        await Expect(timeline.Locator("li[data-action='action.sessions_revoke']")).ToContainTextAsync("ticket " + Ticket);
        await Expect(page.Locator("[data-field='actions']")).ToHaveTextAsync("1");
        await auditor.CheckPageAsync("caller timeline");

        // Back to the audit, filtered by this caller, and both exports of it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Filter the audit by this caller" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/audit\\?caller=" + pseudonym + "$"));
        await auditor.CheckPageAsync("audit filtered by caller");

        var csv = await DownloadAsync(auditor, "csv", ".csv");
        Assert.StartsWith(CsvHeader + "\r\n", csv, StringComparison.Ordinal);
        var csvRecords = ParseCsv(csv).Skip(1).ToList();
        Assert.NotEmpty(csvRecords);
        Assert.All(csvRecords, cells => Assert.Equal(pseudonym, cells[7]));
        var csvRevoke = Assert.Single(csvRecords, cells => cells[2] == "action.sessions_revoke");
        Assert.Equal(("succeeded", "o***@d***.example", Ticket), (csvRevoke[3], csvRevoke[8], csvRevoke[10]));
        Assert.Matches(@"^[a-z0-9*]+@[a-z0-9*]+\.example$", csvRevoke[6]);
        AssertNoRawIdentity(csv, login);
        await Expect(page.Locator("#export-progress")).ToHaveTextAsync($"Done: {csvRecords.Count} records exported.");

        var ndjson = await DownloadAsync(auditor, "ndjson", ".ndjson");
        var records = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(csvRecords.Count, records.Count);
        Assert.All(records, r => Assert.Equal(pseudonym, r.GetProperty("caller").GetProperty("idHash").GetString()));
        var jsonRevoke = Assert.Single(records, r => r.GetProperty("action").GetString() == "action.sessions_revoke");
        Assert.Equal("o***@d***.example", jsonRevoke.GetProperty("caller").GetProperty("maskedLogin").GetString());
        Assert.Equal(Ticket, jsonRevoke.GetProperty("ticketRef").GetString());
        Assert.Equal(csvRevoke[0], jsonRevoke.GetProperty("id").GetString());
        AssertNoRawIdentity(ndjson, login);

        auditor.AssertPagesRanCleanly();
    }

    /// <summary>Chooses the format, exports, and returns the file the browser saved (by its suggested name's extension).</summary>
    private static async Task<string> DownloadAsync(AgentBrowser auditor, string format, string extension)
    {
        var page = auditor.Page;
        await page.GetByLabel("Format").SelectOptionAsync(format);
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Export the filtered records" }).ClickAsync());
        Assert.Matches(new Regex("^audit-" + Regex.Escape(PortalServer.TenantId) + @"-\d{8}T\d{6}Z" + Regex.Escape(extension) + "$"), download.SuggestedFilename);
        var path = Path.Combine(Path.GetTempPath(), "portal-e2e-" + Guid.NewGuid().ToString("N") + extension);
        await download.SaveAsAsync(path);
        try
        {
            return await File.ReadAllTextAsync(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>RFC 4180: fields separated by commas, records by CRLF, quoted fields with doubled quotes.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n')
            {
                fields.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                records.Add([.. fields]);
                fields.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        Assert.True(field.Length == 0 && fields.Count == 0, "The CSV does not end with a line break.");
        Assert.All(records, r => Assert.Equal(17, r.Length));
        return records;
    }

    /// <summary>No login, e-mail or name of the caller, and no e-mail address that is not masked.</summary>
    private static void AssertNoRawIdentity(string file, string login)
    {
        Assert.DoesNotContain(login, file, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("olga", file, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("tier3.agent", file, StringComparison.OrdinalIgnoreCase);
        var unmasked = RawEmail().Matches(file).Select(m => m.Value).ToList();
        Assert.True(unmasked.Count == 0, "Unmasked e-mail addresses in the export: " + string.Join(", ", unmasked));
    }

    /// <summary>An address with a local part and a domain label free of the mask's asterisks.</summary>
    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")]
    private static partial Regex RawEmail();
}
