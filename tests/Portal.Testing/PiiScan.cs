using System.Text;
using System.Text.RegularExpressions;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Testing;

/// <summary>
/// docs/security-requirements.md D1, over the whole suite: when any test's portal shuts down, everything it stored and every
/// line it logged is scanned for the identity data of the emulator's people (logins, e-mails, names, IdP
/// ids of callers), also base64- and URL-encoded, for callers' names on their own, for any unmasked e-mail
/// address and for phone numbers in international or national form. A leak anywhere fails the test that caused it.
/// </summary>
public static partial class PiiScan
{
    private static readonly string[] TenantCollections =
    [
        "audit", "agentSessions", "verificationSessions", "pendingVerifications", "callerCounters", "agentRequestWindows",
        "totpUses", "idvUses", "usage", "usageCallers", "apiKeys", "settingsChanges", "approvals",
    ];

    private static readonly string[] GlobalCollections = ["tenants", "stepUpLinks", "stepUpFlows", "recoveryNotices", "dataProtectionKeys"];

    /// <summary>
    /// Scans what the portal stored and logged. <paramref name="firestore"/> (the emulator's host and project) makes
    /// the scan list every collection Firestore holds, as the SQLite files are listed, not only the known ones.
    /// </summary>
    public static async Task AssertCleanAsync(IDocumentStore store, IEnumerable<string> tenantIds, string? dataDirectory, IEnumerable<string> logLines, EmulatorState people, (string Host, string ProjectId)? firestore = null)
    {
        var stored = await StoredTextAsync(store, tenantIds, dataDirectory, firestore);
        var logged = string.Join('\n', logLines);
        foreach (var (text, where) in new[] { (stored, "the store"), (logged, "the logs") })
        {
            foreach (var value in Identities(people))
            {
                Assert.False(text.Contains(value, StringComparison.OrdinalIgnoreCase), $"{where} holds a person's identity data: {Hint(value)}");

                // The same value encoded: a leak does not stop being one in base64 (standard or URL-safe) or URL encoding.
                foreach (var (encoded, how) in Encodings(value))
                {
                    Assert.False(text.Contains(encoded, StringComparison.Ordinal), $"{where} holds a person's identity data, {how}: {Hint(encoded)}");
                }
            }

            // A caller's first name alone (as a word, capitalised as a name is) identifies them in a small team's records.
            foreach (var name in CallerNames(people))
            {
                var found = Regex.Match(text, $@"\b{Regex.Escape(name)}\b");
                Assert.False(found.Success, $"{where} holds a caller's name on its own: {Hint(name)}");
            }

            var email = EmailPattern().Matches(text).FirstOrDefault();
            Assert.True(email is null, $"{where} holds an unmasked e-mail address: {Hint(email?.Value)}");
            var phone = PhonePattern().Match(text);
            Assert.False(phone.Success, $"{where} holds something shaped like a phone number: {Hint(phone.Value)}");
            var national = NationalPhonePattern().Match(text);
            Assert.False(national.Success, $"{where} holds something shaped like a national phone number: {Hint(national.Value)}");
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

            // The caller card's facts are shown, never kept.
            foreach (var fact in new[] { c.Title, c.Department, c.Manager, c.WorkPhone })
            {
                if (fact is not null)
                {
                    yield return fact;
                }
            }
        }

        foreach (var u in people.EntraUsers)
        {
            yield return u.UserPrincipalName;
            yield return u.Mail;
            yield return u.Id;
            yield return u.DisplayName;
            foreach (var fact in new[] { u.JobTitle, u.Department, u.ManagerName }.Concat(u.BusinessPhones))
            {
                if (fact is not null)
                {
                    yield return fact;
                }
            }
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

    private static IEnumerable<(string Encoded, string How)> Encodings(string value)
    {
        var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(value)).TrimEnd('=');
        yield return (base64, "base64");
        yield return (base64.Replace('+', '-').Replace('/', '_'), "base64url");
        var url = Uri.EscapeDataString(value);
        if (url != value)
        {
            yield return (url, "URL-encoded");
        }
    }

    /// <summary>
    /// The callers' given names (Okta first names, the first word of an Entra display name), less the words the
    /// portal itself speaks (a demo surname such as "Caller" or "Admin" is everywhere in its vocabulary).
    /// </summary>
    private static IEnumerable<string> CallerNames(EmulatorState people)
    {
        string[] vocabulary = ["Caller", "Admin", "Agent", "User", "Test"];
        return people.Callers.SelectMany(c => new[] { c.FirstName, c.LastName })
            .Concat(people.EntraUsers.SelectMany(u => u.DisplayName.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .Where(n => n.Length >= 3 && !vocabulary.Contains(n, StringComparer.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal);
    }

    private static async Task<string> StoredTextAsync(IDocumentStore store, IEnumerable<string> tenantIds, string? dataDirectory, (string Host, string ProjectId)? firestore)
    {
        var text = new StringBuilder();
        var tenants = tenantIds.ToList();
        var paths = tenants.SelectMany(t => TenantCollections.Select(c => CollectionPath.ForTenant(t, c)))
            .Concat(GlobalCollections.Select(c => new CollectionPath(c)))
            .Concat(SqliteCollections(dataDirectory).Select(c => new CollectionPath(c)))
            .Concat((firestore is { } emulator ? await FirestoreCollectionsAsync(emulator.Host, emulator.ProjectId, tenants) : []).Select(c => new CollectionPath(c)))
            .DistinctBy(p => p.ToString());
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
            text.AppendLine(await RawDatabaseFilesAsync(dataDirectory));
        }

        return text.ToString();
    }

    /// <summary>
    /// The raw bytes of every SQLite file in <paramref name="dataDirectory"/> (database, WAL, shared memory), as text.
    /// SQLite removes its <c>-wal</c> and <c>-shm</c> files when the last connection closes, which can happen between
    /// listing and opening: a file gone by then has nothing left to scan, and its pages are in the database file.
    /// </summary>
    public static async Task<string> RawDatabaseFilesAsync(string dataDirectory)
    {
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(dataDirectory, "*.db*"))
        {
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, Encoding.Latin1);
                text.AppendLine(await reader.ReadToEndAsync());
            }
            catch (FileNotFoundException)
            {
                // Checkpointed into the database file and removed after the listing: scanned there.
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// Every collection the SQLite store holds, read from its table rather than listed here, so that a collection
    /// added later is scanned (decoded, as well as in the raw file) without anyone remembering to add it.
    /// </summary>
    /// <summary>
    /// Every collection at the root of the emulator's project and under each tenant and each <c>tenants</c> document,
    /// read with Firestore's own <c>listCollectionIds</c>: a collection no one thought to list is scanned too.
    /// </summary>
    private static async Task<List<string>> FirestoreCollectionsAsync(string host, string projectId, IEnumerable<string> tenantIds)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host}/v1/projects/{projectId}/databases/(default)/documents") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "owner");
        var collections = new List<string>();
        foreach (var root in await ListAsync(http, ""))
        {
            collections.Add(root);
        }

        var parents = tenantIds.Concat(await DocumentIdsAsync(http, "tenants")).Distinct(StringComparer.Ordinal);
        foreach (var tenant in parents)
        {
            collections.AddRange((await ListAsync(http, "/tenants/" + tenant)).Select(c => $"tenants/{tenant}/{c}"));
        }

        return collections;

        static async Task<List<string>> ListAsync(HttpClient http, string parent)
        {
            var ids = new List<string>();
            string? pageToken = null;
            do
            {
                var request = new System.Text.Json.Nodes.JsonObject { ["pageSize"] = 300, ["pageToken"] = pageToken };
                using var response = await http.PostAsync(http.BaseAddress + parent + ":listCollectionIds", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
                response.EnsureSuccessStatusCode();
                var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                ids.AddRange((body["collectionIds"] as System.Text.Json.Nodes.JsonArray ?? []).Select(id => id!.GetValue<string>()));
                pageToken = body["nextPageToken"]?.GetValue<string>() is { Length: > 0 } next ? next : null;
            }
            while (pageToken is not null);
            return ids;
        }

        // The ids of the tenants collection's documents, including those that exist only as parents of collections.
        static async Task<List<string>> DocumentIdsAsync(HttpClient http, string collection)
        {
            var ids = new List<string>();
            string? pageToken = null;
            do
            {
                var query = $"/{collection}?pageSize=300&showMissing=true&mask.fieldPaths=__name__" + (pageToken is null ? "" : "&pageToken=" + Uri.EscapeDataString(pageToken));
                using var response = await http.GetAsync(http.BaseAddress + query);
                response.EnsureSuccessStatusCode();
                var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                ids.AddRange((body["documents"] as System.Text.Json.Nodes.JsonArray ?? []).Select(d => d!["name"]!.GetValue<string>().Split('/')[^1]));
                pageToken = body["nextPageToken"]?.GetValue<string>() is { Length: > 0 } next ? next : null;
            }
            while (pageToken is not null);
            return ids;
        }
    }

    private static List<string> SqliteCollections(string? dataDirectory)
    {
        var collections = new List<string>();
        if (dataDirectory is null || !Directory.Exists(dataDirectory))
        {
            return collections;
        }

        foreach (var file in Directory.GetFiles(dataDirectory, "*.db"))
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT DISTINCT collection FROM documents";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                collections.Add(reader.GetString(0));
            }
        }

        return collections;
    }

    /// <summary>Enough of a finding to find its source, without printing the whole value.</summary>
    private static string Hint(string? value) => value is null ? "" : value.Length <= 4 ? value : value[..4] + "…";

    // A masked address (a***@d***.example) has no address characters right before its @.
    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"\+\d[\d \-]{8,}\d")]
    private static partial Regex PhonePattern();

    // National forms without a country code: (415) 555-0132, 415-555-0132, 020 7946 0958, 0612 345 678.
    [GeneratedRegex(@"\(\d{3}\)\s?\d{3}[\s\-]\d{4}\b|\b\d{3}-\d{3}-\d{4}\b|\b0\d{2,4} \d{3,4} \d{3,4}\b")]
    private static partial Regex NationalPhonePattern();
}
