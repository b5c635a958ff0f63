using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Audit;
using Portal.Storage;
using Portal.Storage.Sqlite;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Actions;

namespace Portal.Web.Tests.Storage;

/// <summary>
/// Every query the portal's code can build, each driven through the code that builds it (every filter
/// combination of the audit page and export, with and without a cursor, and every other store's list or
/// look-up), recorded on the way to the store; then each recorded shape is checked against both stores'
/// indexes: SQLite's plan must be a search of an index with no sort, and deploy/cloudrun/firestore.indexes.json
/// must hold the composite index real Firestore would demand (the emulator answers without one; Firestore
/// answers FAILED_PRECONDITION).
/// </summary>
public sealed class QueryShapeTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("portal-shapes-").FullName;
    private readonly SqliteDocumentStore _sqlite;

    public QueryShapeTests()
    {
        _sqlite = new SqliteDocumentStore(Path.Combine(_directory, "portal.db"), new FakeTimeProvider(Now));
    }

    public void Dispose()
    {
        _sqlite.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task EveryQueryShape_OnSqlite_IsAnIndexSearchWithoutASort()
    {
        var shapes = await RecordShapesAsync();

        var failures = new List<string>();
        foreach (var query in shapes)
        {
            var plan = await _sqlite.ExplainAsync(query);
            if (!IsIndexSearch(plan))
            {
                failures.Add(Describe(query) + " => " + string.Join(" | ", plan));
            }
        }

        Assert.True(shapes.Count > 100, $"only {shapes.Count} shapes were recorded");
        Assert.Empty(failures);
    }

    [Fact]
    public async Task PurgeBatch_OnSqlite_SearchesTheExpiryIndex()
    {
        foreach (var oneCollection in new[] { true, false })
        {
            var plan = await _sqlite.ExplainPurgeAsync(oneCollection);
            Assert.True(IsIndexSearch(plan), string.Join(" | ", plan));
        }
    }

    [Fact]
    public void IsIndexSearch_FullScanOrSort_IsRefused()
    {
        // The check itself must be able to fail: the plans SQLite prints for the shapes it must reject.
        Assert.False(IsIndexSearch(["SCAN documents"]));
        Assert.False(IsIndexSearch(["SEARCH documents USING PRIMARY KEY (collection=?)", "USE TEMP B-TREE FOR ORDER BY"]));
        Assert.True(IsIndexSearch(["SEARCH documents USING INDEX documents_by_at (collection=? AND <expr><?)"]));
    }

    [Fact]
    public async Task EveryQueryShape_HasItsFirestoreIndex()
    {
        var shapes = await RecordShapesAsync();
        var indexes = FirestoreIndexFile.Load();

        var missing = shapes.Select(FirestoreIndexFile.Requirement).Where(r => r is not null && !indexes.Covers(r)).Select(r => r!.ToString()).Distinct().ToList();

        Assert.True(shapes.Count > 100, $"only {shapes.Count} shapes were recorded");
        Assert.Empty(missing);
    }

    [Fact]
    public void FirestoreIndexFile_WithoutTheIndex_DoesNotCover()
    {
        var indexes = FirestoreIndexFile.Load();
        var query = new DocumentQuery(CollectionPath.ForTenant("t", "audit"))
        {
            Filters = [new("action", FilterOperator.Equal, "a"), new("method", FilterOperator.Equal, "m")],
            OrderBy = new("at", true),
        };
        var descendingOnly = new DocumentQuery(CollectionPath.ForTenant("t", "audit")) { Filters = [new("action", FilterOperator.Equal, "a")], OrderBy = new("at", false) };

        Assert.False(indexes.Covers(FirestoreIndexFile.Requirement(query)!));
        Assert.False(indexes.Covers(FirestoreIndexFile.Requirement(descendingOnly)!));
    }

    /// <summary>
    /// The purge queries every collection group the database holds by <c>_expireAt</c> (a collection-group
    /// query), which needs a collection-group index of that field for each: Firestore builds none by itself.
    /// The collections are the ones the source names.
    /// </summary>
    [Fact]
    public void EveryCollection_HasTheCollectionGroupExpiryIndexThePurgeNeeds()
    {
        var collections = CollectionNamesInSource();
        var indexes = FirestoreIndexFile.Load();

        Assert.True(collections.Count >= 12, "the source scan found only: " + string.Join(", ", collections));
        Assert.DoesNotContain(collections, c => !indexes.HasCollectionGroupExpiryIndex(c));
    }

    private static bool IsIndexSearch(IReadOnlyList<string> plan) =>
        plan.Count > 0
        && plan.All(step => !step.StartsWith("SCAN", StringComparison.Ordinal) && !step.Contains("TEMP B-TREE", StringComparison.Ordinal))
        && plan.Any(step => step.StartsWith("SEARCH documents USING", StringComparison.Ordinal));

    private static string Describe(DocumentQuery q) =>
        $"{q.Collection} where [{string.Join(", ", q.Filters.Select(f => $"{f.FieldPath} {f.Operator}"))}] order {q.OrderBy?.FieldPath} {(q.OrderBy?.Descending == true ? "desc" : "asc")} cursor={q.StartAfter is not null}";

    /// <summary>Drives every query-building method of the portal against a store that records what it is asked.</summary>
    private async Task<List<DocumentQuery>> RecordShapesAsync()
    {
        var recorder = new RecordingStore(_sqlite);
        var clock = new FakeTimeProvider(Now);
        var services = new ServiceCollection()
            .AddSingleton<IDocumentStore>(recorder)
            .AddSingleton<TimeProvider>(clock)
            .AddPortalAudit()
            .Configure<AuditOptions>(o => o.PseudonymisationKey = Convert.ToBase64String(new byte[32]));
        await using var provider = services.BuildServiceProvider();
        var audit = provider.GetRequiredService<IAuditTrail>();

        // One record, so a first page has a cursor to follow.
        await audit.RecordAsync(new AuditEntry { TenantId = "t", Action = "a", Outcome = AuditOutcome.Succeeded, AgentSubjectId = "s", AgentLogin = "agent@example.com", CallerId = "c" });
        await audit.RecordAsync(new AuditEntry { TenantId = "t", Action = "a", Outcome = AuditOutcome.Succeeded, AgentSubjectId = "s", AgentLogin = "agent@example.com", CallerId = "c" });
        for (var mask = 0; mask < 64; mask++)
        {
            var query = new AuditQuery
            {
                From = (mask & 1) != 0 ? Now.AddDays(-1) : null,
                To = (mask & 2) != 0 ? Now.AddDays(1) : null,
                Action = (mask & 4) != 0 ? "a" : null,
                Outcome = (mask & 8) != 0 ? AuditOutcome.Succeeded : null,
                AgentSubjectId = (mask & 16) != 0 ? "s" : null,
                CallerIdHash = (mask & 32) != 0 ? provider.GetRequiredService<ICallerPseudonymizer>().HashCallerId("t", "c") : null,
                PageSize = 1,
            };
            var first = await audit.QueryAsync("t", query);
            Assert.NotNull(first.NextCursor);
            await audit.QueryAsync("t", query with { Cursor = first.NextCursor });
        }

        await new ApiKeyStore(recorder, clock).ListAsync("t", CancellationToken.None);
        await new ApiKeyStore(recorder, clock).AuthenticateAsync("t", "pk_" + new string('a', 43), CancellationToken.None);
        await new ApprovalStore(recorder, clock).PendingAsync("t", CancellationToken.None);
        await new VerificationStore(recorder, clock).EndSessionsOfAgentSessionAsync("t", "session", CancellationToken.None);
        await new AgentSessionStore(recorder, clock).EndLeastRecentlyUsedBeyondAsync("t", "agent-subject", "session", WebOptions.DefaultMaxSessionsPerAgent, CancellationToken.None);
        await new TenantAdministration(null!, recorder, audit, provider.GetRequiredService<IAuditRetention>(), null!, clock).RecentChangesAsync("t", 20, CancellationToken.None);
        return recorder.Queries;
    }

    private static SortedSet<string> CollectionNamesInSource()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        var names = new SortedSet<string>(StringComparer.Ordinal);
        var patterns = new[]
        {
            new Regex("ForTenant\\([^,()]+,\\s*\"([A-Za-z0-9_]+)\"\\)"),
            new Regex("CollectionPath\\s+\\w+\\s*=\\s*new\\(\"([A-Za-z0-9_]+)\"\\)"),
            new Regex("CollectionPath\\(\"([A-Za-z0-9_]+)\"\\)"),
            new Regex("const string \\w*Collection\\w*\\s*=\\s*\"([A-Za-z0-9_]+)\""),
        };
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            foreach (var pattern in patterns)
            {
                foreach (Match m in pattern.Matches(text))
                {
                    names.Add(m.Groups[1].Value);
                }
            }
        }

        return names;
    }

    /// <summary>The folder holding Portal.sln, found upwards from the calling source file.</summary>
    internal static string RepositoryRoot([CallerFilePath] string path = "")
    {
        for (var directory = Path.GetDirectoryName(path); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "Portal.sln")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException($"No Portal.sln above {path}.");
    }

    private sealed class RecordingStore(IDocumentStore inner) : IDocumentStore
    {
        public List<DocumentQuery> Queries { get; } = [];

        public Task<StoredDocument?> GetAsync(DocumentKey key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) => inner.CreateAsync(key, data, expireAt, cancellationToken);

        public Task SetAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) => inner.SetAsync(key, data, expireAt, cancellationToken);

        public Task SetManyAsync(IReadOnlyList<DocumentWrite> writes, CancellationToken cancellationToken = default) => inner.SetManyAsync(writes, cancellationToken);

        public Task<TResult> UpdateAsync<TResult>(DocumentKey key, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken = default) => inner.UpdateAsync(key, mutate, cancellationToken);

        public Task DeleteAsync(DocumentKey key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public IAsyncEnumerable<StoredDocument> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default)
        {
            Queries.Add(query);
            return inner.QueryAsync(query, cancellationToken);
        }

        public Task<int> PurgeExpiredAsync(CollectionPath collection, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.PurgeExpiredAsync(collection, now, cancellationToken);
    }
}
