using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage.Sqlite;

namespace Portal.Storage.Tests;

/// <summary>What only the SQLite backend has to prove: its SQL inputs, its schema, its whole-store purge.</summary>
public sealed class SqliteDocumentStoreSpecificTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly List<SqliteDocumentStore> _stores = [];

    public void Dispose()
    {
        _stores.ForEach(s => s.Dispose());
        _directory.Dispose();
    }

    private SqliteDocumentStore Open()
    {
        var store = new SqliteDocumentStore(Path.Combine(_directory.Path, "portal.db"), _clock);
        _stores.Add(store);
        return store;
    }

    [Theory]
    [InlineData("a') OR 1=1 --")]
    [InlineData("caller.")]
    [InlineData(".caller")]
    [InlineData("caller..idHash")]
    [InlineData("1field")]
    [InlineData("caller[0]")]
    [InlineData("$.caller")]
    [InlineData("")]
    public async Task QueryAsync_FieldPathNotPlainDotted_IsRejected(string fieldPath)
    {
        var store = Open();
        var query = new DocumentQuery(new CollectionPath("docs")) { Filters = [new(fieldPath, FilterOperator.Equal, "x")] };

        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var unused in store.QueryAsync(query))
            {
                _ = unused;
            }
        });
    }

    [Fact]
    public async Task QueryAsync_UnsupportedValueType_IsRejected()
    {
        var store = Open();
        var query = new DocumentQuery(new CollectionPath("docs")) { Filters = [new("a", FilterOperator.Equal, new object())] };

        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var unused in store.QueryAsync(query))
            {
                _ = unused;
            }
        });
    }

    [Fact]
    public async Task Constructor_ExistingFile_KeepsData()
    {
        var first = Open();
        await first.SetAsync(new DocumentKey(new CollectionPath("docs"), "a"), new JsonObject { ["v"] = 1 }, null);

        var second = Open();

        Assert.NotNull(await second.GetAsync(new DocumentKey(new CollectionPath("docs"), "a")));
    }

    [Fact]
    public async Task PurgeAllExpiredAsync_DeletesExpiredRowsInEveryCollection()
    {
        var store = Open();
        var audit = CollectionPath.ForTenant("a", "audit");
        var otherAudit = CollectionPath.ForTenant("b", "audit");
        var sessions = new CollectionPath("agentSessions");
        await store.SetAsync(new DocumentKey(audit, "old"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(otherAudit, "old"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(sessions, "old"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(audit, "new"), new JsonObject(), Start.AddDays(1));
        await store.SetAsync(new DocumentKey(sessions, "forever"), new JsonObject(), null);

        var purged = await store.PurgeAllExpiredAsync(Start.AddMinutes(1));

        Assert.Equal(3, purged);
        var earlier = new SqliteDocumentStore(Path.Combine(_directory.Path, "portal.db"), new FakeTimeProvider(Start));
        _stores.Add(earlier);
        Assert.Null(await earlier.GetAsync(new DocumentKey(otherAudit, "old")));
        Assert.NotNull(await earlier.GetAsync(new DocumentKey(audit, "new")));
        Assert.NotNull(await earlier.GetAsync(new DocumentKey(sessions, "forever")));
    }

    [Fact]
    public async Task ExpiredDocumentPurger_OnStartAndEachInterval_Purges()
    {
        var store = Open();
        var collection = CollectionPath.ForTenant("a", "audit");
        await store.SetAsync(new DocumentKey(collection, "one"), new JsonObject(), Start.AddMinutes(1));
        await store.SetAsync(new DocumentKey(collection, "two"), new JsonObject(), Start.AddMinutes(20));
        var options = Options.Create(new StorageOptions { PurgeInterval = TimeSpan.FromMinutes(15) });
        using var purger = new ExpiredDocumentPurger([store], options, _clock, NullLogger<ExpiredDocumentPurger>.Instance);
        _clock.Advance(TimeSpan.FromMinutes(2));

        var firstRun = await purger.PurgeOnceAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(20));
        var secondRun = await purger.PurgeOnceAsync(CancellationToken.None);
        var thirdRun = await purger.PurgeOnceAsync(CancellationToken.None);

        Assert.Equal(1, firstRun);
        Assert.Equal(1, secondRun);
        Assert.Equal(0, thirdRun);
    }

    [Fact]
    public async Task ExpiredDocumentPurger_Running_PurgesWhenTheIntervalElapses()
    {
        var store = Open();
        var key = new DocumentKey(CollectionPath.ForTenant("a", "audit"), "one");
        var earlier = new SqliteDocumentStore(Path.Combine(_directory.Path, "portal.db"), new FakeTimeProvider(Start));
        _stores.Add(earlier);
        // Expires after the last moment the first (start-up) run can happen, and before the first tick.
        await store.SetAsync(key, new JsonObject(), Start.AddMinutes(12));
        var options = Options.Create(new StorageOptions { PurgeInterval = TimeSpan.FromMinutes(15) });
        using var purger = new ExpiredDocumentPurger([store], options, _clock, NullLogger<ExpiredDocumentPurger>.Instance);

        await purger.StartAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(10));
        var beforeTick = await earlier.GetAsync(key);
        _clock.Advance(TimeSpan.FromMinutes(5));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await earlier.GetAsync(key) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var afterTick = await earlier.GetAsync(key);
        await purger.StopAsync(CancellationToken.None);

        Assert.NotNull(beforeTick);
        Assert.Null(afterTick);
    }
}
