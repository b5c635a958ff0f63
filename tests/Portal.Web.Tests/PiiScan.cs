using System.Text;
using System.Text.RegularExpressions;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>
/// docs/security-requirements.md D1, over the whole suite: when any test's portal shuts down, everything it stored and every
/// line it logged is scanned for the identity data of the emulator's people (logins, e-mails, names, IdP
/// ids of callers), for any unmasked e-mail address and for phone numbers. A leak anywhere fails the test
/// that caused it.
/// </summary>
internal static partial class PiiScan
{
    private static readonly string[] TenantCollections =
    [
        "audit", "agentSessions", "verificationSessions", "pendingVerifications", "callerCounters", "totpUses",
        "usage", "usageCallers", "apiKeys", "settingsChanges", "approvals",
    ];

    private static readonly string[] GlobalCollections = ["tenants", "stepUpLinks", "stepUpFlows", "dataProtectionKeys"];

    public static async Task AssertCleanAsync(IDocumentStore store, IEnumerable<string> tenantIds, string? dataDirectory, IEnumerable<string> logLines, EmulatorState people)
    {
        var stored = await StoredTextAsync(store, tenantIds, dataDirectory);
        var logged = string.Join('\n', logLines);
        foreach (var (text, where) in new[] { (stored, "the store"), (logged, "the logs") })
        {
            foreach (var value in Identities(people))
            {
                Assert.False(text.Contains(value, StringComparison.OrdinalIgnoreCase), $"{where} holds a person's identity data: {Hint(value)}");
            }

            var email = EmailPattern().Matches(text).FirstOrDefault();
            Assert.True(email is null, $"{where} holds an unmasked e-mail address: {Hint(email?.Value)}");
            var phone = PhonePattern().Match(text);
            Assert.False(phone.Success, $"{where} holds something shaped like a phone number: {Hint(phone.Value)}");
        }
    }

    private static IEnumerable<string> Identities(EmulatorState people)
    {
        foreach (var c in people.Callers)
        {
            yield return c.Login;
            yield return c.Email;
            yield return c.Id;
            yield return c.FirstName + " " + c.LastName;
        }

        foreach (var u in people.EntraUsers)
        {
            yield return u.UserPrincipalName;
            yield return u.Mail;
            yield return u.Id;
            yield return u.DisplayName;
        }

        foreach (var a in people.Agents)
        {
            yield return a.Email;
            yield return a.Name;
        }

        foreach (var a in people.EntraAgents)
        {
            yield return a.UserPrincipalName;
            yield return a.Name;
        }
    }

    private static async Task<string> StoredTextAsync(IDocumentStore store, IEnumerable<string> tenantIds, string? dataDirectory)
    {
        var text = new StringBuilder();
        var paths = tenantIds.SelectMany(t => TenantCollections.Select(c => CollectionPath.ForTenant(t, c)))
            .Concat(GlobalCollections.Select(c => new CollectionPath(c)));
        foreach (var path in paths)
        {
            await foreach (var doc in store.QueryAsync(new DocumentQuery(path)))
            {
                text.AppendLine(doc.Data.ToJsonString());
            }
        }

        // With SQLite, also the raw database files: nothing written outside those collections escapes.
        if (dataDirectory is not null && Directory.Exists(dataDirectory))
        {
            foreach (var file in Directory.GetFiles(dataDirectory, "*.db*"))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, Encoding.Latin1);
                text.AppendLine(await reader.ReadToEndAsync());
            }
        }

        return text.ToString();
    }

    /// <summary>Enough of a finding to find its source, without printing the whole value.</summary>
    private static string Hint(string? value) => value is null ? "" : value.Length <= 4 ? value : value[..4] + "…";

    // A masked address (a***@d***.example) has no address characters right before its @.
    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"\+\d[\d \-]{8,}\d")]
    private static partial Regex PhonePattern();
}
