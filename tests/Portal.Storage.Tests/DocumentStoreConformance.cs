using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Portal.Storage.Tests;

/// <summary>
/// What every <see cref="IDocumentStore"/> backend must do, the same way. A backend's test class derives
/// from this and says how to make a store. Every test uses collection names unique to the test, so
/// stores may share one backend (e.g. one Firestore emulator) without seeing each other's data.
/// </summary>
public abstract class DocumentStoreConformance
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private readonly string _unique = "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A new store, isolated from every other test's data, reading time from <paramref name="clock"/>.</summary>
    protected abstract Task<IDocumentStore> CreateStoreAsync(TimeProvider clock);

    /// <summary>
    /// Another instance over the same data as the last <see cref="CreateStoreAsync"/> store (as a second
    /// portal instance would be). The default suits backends where every store already shares one backend.
    /// </summary>
    protected virtual Task<IDocumentStore> CreateSecondInstanceAsync(TimeProvider clock) => CreateStoreAsync(clock);

    private CollectionPath Collection(string name = "docs") => new($"{_unique}_{name}");

    private DocumentKey Key(string id, string collection = "docs") => new(Collection(collection), id);

    private static JsonObject Doc(string name, int count = 0) => new() { ["name"] = name, ["count"] = count };

    [Fact]
    public async Task CreateAsync_NewKey_ReturnsTrueAndIsReadable()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));

        var created = await store.CreateAsync(Key("a"), Doc("first"), null);
        var read = await store.GetAsync(Key("a"));

        Assert.True(created);
        Assert.NotNull(read);
        Assert.Equal("first", read.Data["name"]!.GetValue<string>());
        Assert.Equal(Key("a"), read.Key);
        Assert.Null(read.ExpireAt);
    }

    [Fact]
    public async Task CreateAsync_ExistingKey_ReturnsFalseAndKeepsOriginal()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.CreateAsync(Key("a"), Doc("first"), null);

        var created = await store.CreateAsync(Key("a"), Doc("second"), null);

        Assert.False(created);
        Assert.Equal("first", (await store.GetAsync(Key("a")))!.Data["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateAsync_OverExpiredDocument_ReturnsTrueAndReplacesIt()
    {
        var clock = new FakeTimeProvider(Start);
        var store = await CreateStoreAsync(clock);
        await store.CreateAsync(Key("a"), Doc("old"), Start.AddMinutes(1));
        clock.Advance(TimeSpan.FromMinutes(2));

        var created = await store.CreateAsync(Key("a"), Doc("new"), null);

        Assert.True(created);
        var read = await store.GetAsync(Key("a"));
        Assert.Equal("new", read!.Data["name"]!.GetValue<string>());
        Assert.Null(read.ExpireAt);
    }

    [Fact]
    public async Task GetAsync_MissingKey_ReturnsNull()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));

        Assert.Null(await store.GetAsync(Key("missing")));
    }

    [Fact]
    public async Task SetAsync_ExistingKey_OverwritesDataExpiryAndVersion()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("a"), Doc("first"), null);
        var before = await store.GetAsync(Key("a"));

        await store.SetAsync(Key("a"), Doc("second"), Start.AddDays(1));
        var after = await store.GetAsync(Key("a"));

        Assert.Equal("second", after!.Data["name"]!.GetValue<string>());
        Assert.Equal(Start.AddDays(1), after.ExpireAt);
        Assert.NotEqual(before!.Version, after.Version);
    }

    [Fact]
    public async Task DeleteAsync_ExistingKey_RemovesOnlyThatDocument()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("a"), Doc("a"), null);
        await store.SetAsync(Key("b"), Doc("b"), null);

        await store.DeleteAsync(Key("a"));
        await store.DeleteAsync(Key("never-there"));

        Assert.Null(await store.GetAsync(Key("a")));
        Assert.NotNull(await store.GetAsync(Key("b")));
    }

    [Fact]
    public async Task GetAsync_AtExpiry_ReturnsNullBeforeAnyPurge()
    {
        var clock = new FakeTimeProvider(Start);
        var store = await CreateStoreAsync(clock);
        await store.SetAsync(Key("a"), Doc("a"), Start.AddMinutes(5));

        clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(10));
        var justBefore = await store.GetAsync(Key("a"));
        clock.Advance(TimeSpan.FromTicks(10));
        var atExpiry = await store.GetAsync(Key("a"));

        Assert.NotNull(justBefore);
        Assert.Null(atExpiry);
    }

    [Fact]
    public async Task QueryAsync_ExpiredDocument_IsNotReturned()
    {
        var clock = new FakeTimeProvider(Start);
        var store = await CreateStoreAsync(clock);
        await store.SetAsync(Key("short"), Doc("short", 1), Start.AddMinutes(1));
        await store.SetAsync(Key("long"), Doc("long", 1), Start.AddDays(1));
        clock.Advance(TimeSpan.FromMinutes(2));

        var ids = await Ids(store, new DocumentQuery(Collection()) { Filters = [new("count", FilterOperator.Equal, 1)] });

        Assert.Equal(["long"], ids);
    }

    [Fact]
    public async Task PurgeExpiredAsync_ExpiredDocuments_AreDeletedAndLiveOnesKept()
    {
        var clock = new FakeTimeProvider(Start);
        var store = await CreateStoreAsync(clock);
        // A second instance whose clock stays at the start still sees an expired document until it is purged.
        var earlier = await CreateSecondInstanceAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("expired1"), Doc("x"), Start.AddMinutes(1));
        await store.SetAsync(Key("expired2"), Doc("x"), Start.AddMinutes(2));
        await store.SetAsync(Key("live"), Doc("x"), Start.AddDays(1));
        await store.SetAsync(Key("forever"), Doc("x"), null);
        await store.SetAsync(Key("other", "other"), Doc("x"), Start.AddMinutes(1));
        clock.Advance(TimeSpan.FromMinutes(3));
        Assert.NotNull(await earlier.GetAsync(Key("expired1")));

        var purged = await store.PurgeExpiredAsync(Collection(), clock.GetUtcNow());

        Assert.Equal(2, purged);
        Assert.Null(await earlier.GetAsync(Key("expired1")));
        Assert.Null(await earlier.GetAsync(Key("expired2")));
        Assert.NotNull(await store.GetAsync(Key("live")));
        Assert.NotNull(await store.GetAsync(Key("forever")));
        Assert.NotNull(await earlier.GetAsync(Key("other", "other")));
        Assert.Equal(0, await store.PurgeExpiredAsync(Collection(), clock.GetUtcNow()));
    }

    [Fact]
    public async Task UpdateAsync_MissingDocument_SeesNullAndCanCreate()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        StoredDocument? seen = new(Key("sentinel"), Doc("sentinel"), null, "0");

        var result = await store.UpdateAsync(Key("a"), current =>
        {
            seen = current;
            return DocumentMutation<string>.Write(Doc("created", 1), Start.AddHours(1), "done");
        });

        Assert.Null(seen);
        Assert.Equal("done", result);
        var read = await store.GetAsync(Key("a"));
        Assert.Equal(1, read!.Data["count"]!.GetValue<int>());
        Assert.Equal(Start.AddHours(1), read.ExpireAt);
    }

    [Fact]
    public async Task UpdateAsync_Keep_LeavesDocumentAndVersionUnchanged()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("a"), Doc("a", 5), null);
        var before = await store.GetAsync(Key("a"));

        var result = await store.UpdateAsync(Key("a"), current => DocumentMutation<int>.Keep(current!.Data["count"]!.GetValue<int>()));

        var after = await store.GetAsync(Key("a"));
        Assert.Equal(5, result);
        Assert.Equal(before!.Version, after!.Version);
        Assert.Equal(5, after.Data["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task UpdateAsync_Write_ReplacesDataAndChangesVersion()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("a"), Doc("a", 5), null);
        var before = await store.GetAsync(Key("a"));

        await store.UpdateAsync(Key("a"), current =>
            DocumentMutation<bool>.Write(Doc("a", current!.Data["count"]!.GetValue<int>() + 1), null, true));

        var after = await store.GetAsync(Key("a"));
        Assert.Equal(6, after!.Data["count"]!.GetValue<int>());
        Assert.NotEqual(before!.Version, after.Version);
    }

    [Fact]
    public async Task UpdateAsync_Delete_RemovesDocument()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("a"), Doc("a"), null);

        var result = await store.UpdateAsync(Key("a"), _ => DocumentMutation<string>.Delete("gone"));

        Assert.Equal("gone", result);
        Assert.Null(await store.GetAsync(Key("a")));
    }

    [Fact]
    public async Task UpdateAsync_ExpiredDocument_SeesNull()
    {
        var clock = new FakeTimeProvider(Start);
        var store = await CreateStoreAsync(clock);
        await store.SetAsync(Key("a"), Doc("a"), Start.AddMinutes(1));
        clock.Advance(TimeSpan.FromMinutes(1));

        var sawDocument = await store.UpdateAsync(Key("a"), current => DocumentMutation<bool>.Keep(current is not null));

        Assert.False(sawDocument);
    }

    [Fact]
    public async Task UpdateAsync_MutationThrows_WritesNothing()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("a"), Doc("a", 1), null);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.UpdateAsync<bool>(Key("a"), _ => throw new InvalidOperationException("refused")));

        Assert.Equal(1, (await store.GetAsync(Key("a")))!.Data["count"]!.GetValue<int>());
        // The store is still usable: no lock or transaction was left behind.
        await store.UpdateAsync(Key("a"), _ => DocumentMutation<bool>.Write(Doc("a", 2), null, true));
        Assert.Equal(2, (await store.GetAsync(Key("a")))!.Data["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task UpdateAsync_ParallelIncrementsFromTwoInstances_LoseNoIncrement()
    {
        var clock = new FakeTimeProvider(Start);
        var first = await CreateStoreAsync(clock);
        var second = await CreateSecondInstanceAsync(clock);
        const int Increments = 20;

        await RunInParallel(Increments, i =>
            (i % 2 == 0 ? first : second).UpdateAsync(Key("counter"), current =>
            {
                var count = current?.Data["count"]?.GetValue<int>() ?? 0;
                WidenRaceWindow();
                return DocumentMutation<int>.Write(Doc("counter", count + 1), null, count + 1);
            }));

        Assert.Equal(Increments, (await first.GetAsync(Key("counter")))!.Data["count"]!.GetValue<int>());
        Assert.Equal(Increments, (await second.GetAsync(Key("counter")))!.Data["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task UpdateAsync_ConsumeOnceRace_ExactlyOneWins()
    {
        var clock = new FakeTimeProvider(Start);
        var first = await CreateStoreAsync(clock);
        var second = await CreateSecondInstanceAsync(clock);
        await first.SetAsync(Key("verification"), new JsonObject { ["used"] = false }, Start.AddMinutes(5));

        var results = await RunInParallel(16, i =>
            (i % 2 == 0 ? first : second).UpdateAsync(Key("verification"), current =>
            {
                var unused = current is not null && !current.Data["used"]!.GetValue<bool>();
                WidenRaceWindow();
                return unused
                    ? DocumentMutation<bool>.Write(new JsonObject { ["used"] = true }, current!.ExpireAt, true)
                    : DocumentMutation<bool>.Keep(false);
            }));

        Assert.Single(results, won => won);
        Assert.True((await first.GetAsync(Key("verification")))!.Data["used"]!.GetValue<bool>());
    }

    [Fact]
    public async Task QueryAsync_EqualityOnNestedField_ReturnsOnlyMatches()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await store.SetAsync(Key("a"), new JsonObject { ["caller"] = new JsonObject { ["idHash"] = "h1" }, ["ok"] = true }, null);
        await store.SetAsync(Key("b"), new JsonObject { ["caller"] = new JsonObject { ["idHash"] = "h2" }, ["ok"] = true }, null);
        await store.SetAsync(Key("c"), new JsonObject { ["caller"] = new JsonObject { ["idHash"] = "h1" }, ["ok"] = false }, null);
        await store.SetAsync(Key("d"), new JsonObject { ["ok"] = true }, null);

        var byHash = await Ids(store, new DocumentQuery(Collection()) { Filters = [new("caller.idHash", FilterOperator.Equal, "h1")] });
        var byHashAndBool = await Ids(store, new DocumentQuery(Collection())
        {
            Filters = [new("caller.idHash", FilterOperator.Equal, "h1"), new("ok", FilterOperator.Equal, true)],
        });

        Assert.Equal(["a", "c"], byHash.Order(StringComparer.Ordinal));
        Assert.Equal(["a"], byHashAndBool);
    }

    [Fact]
    public async Task QueryAsync_RangeOnTimestamps_HonoursEachBound()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        for (var i = 0; i < 6; i++)
        {
            var record = new JsonObject { ["at"] = DocumentJson.FormatTimestamp(Start.AddHours(i)), ["kind"] = i % 2 == 0 ? "even" : "odd" };
            await store.SetAsync(Key($"r{i}"), record, null);
        }

        var ordered = new FieldOrder("at", Descending: false);
        var closed = await Ids(store, new DocumentQuery(Collection())
        {
            Filters = [new("at", FilterOperator.GreaterThanOrEqual, Start.AddHours(1)), new("at", FilterOperator.LessThanOrEqual, Start.AddHours(3))],
            OrderBy = ordered,
        });
        var open = await Ids(store, new DocumentQuery(Collection())
        {
            Filters = [new("at", FilterOperator.GreaterThan, Start.AddHours(1)), new("at", FilterOperator.LessThan, Start.AddHours(3))],
            OrderBy = ordered,
        });
        var withEquality = await Ids(store, new DocumentQuery(Collection())
        {
            Filters = [new("kind", FilterOperator.Equal, "even"), new("at", FilterOperator.GreaterThan, Start.AddHours(1))],
            OrderBy = ordered,
        });

        Assert.Equal(["r1", "r2", "r3"], closed);
        Assert.Equal(["r2"], open);
        Assert.Equal(["r2", "r4"], withEquality);
    }

    [Fact]
    public async Task QueryAsync_RangeOnNumbers_ComparesNumerically()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        foreach (var n in new[] { 2, 9, 10, 100 })
        {
            await store.SetAsync(Key($"n{n}"), Doc("n", n), null);
        }

        var ids = await Ids(store, new DocumentQuery(Collection())
        {
            Filters = [new("count", FilterOperator.GreaterThanOrEqual, 9L), new("count", FilterOperator.LessThan, 100)],
            OrderBy = new FieldOrder("count", Descending: false),
        });

        Assert.Equal(["n9", "n10"], ids);
    }

    [Fact]
    public async Task QueryAsync_OrderAscending_BreaksTiesById()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await SeedRanks(store);

        var ids = await Ids(store, new DocumentQuery(Collection()) { OrderBy = new FieldOrder("rank", Descending: false) });

        Assert.Equal(["d", "a", "c", "b", "e"], ids);
    }

    [Fact]
    public async Task QueryAsync_OrderDescending_BreaksTiesByIdDescending()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await SeedRanks(store);

        var ids = await Ids(store, new DocumentQuery(Collection()) { OrderBy = new FieldOrder("rank", Descending: true) });

        Assert.Equal(["e", "b", "c", "a", "d"], ids);
    }

    [Fact]
    public async Task QueryAsync_Limit_ReturnsFirstDocumentsInOrder()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        await SeedRanks(store);

        var ids = await Ids(store, new DocumentQuery(Collection()) { OrderBy = new FieldOrder("rank", Descending: false), Limit = 2 });

        Assert.Equal(["d", "a"], ids);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QueryAsync_CursorPaging_VisitsEveryDocumentExactlyOnce(bool descending)
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        var expected = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            // Only five distinct values: most pages end inside a run of ties.
            var id = $"doc{i:D2}";
            expected.Add(id);
            await store.SetAsync(Key(id), new JsonObject { ["at"] = DocumentJson.FormatTimestamp(Start.AddMinutes(i % 5)) }, null);
        }

        var seen = new List<string>();
        QueryCursor? cursor = null;
        for (var page = 0; page < 20; page++)
        {
            var query = new DocumentQuery(Collection()) { OrderBy = new FieldOrder("at", descending), Limit = 4, StartAfter = cursor };
            var documents = new List<StoredDocument>();
            await foreach (var document in store.QueryAsync(query))
            {
                documents.Add(document);
            }

            if (documents.Count == 0)
            {
                break;
            }

            seen.AddRange(documents.Select(d => d.Key.Id));
            var last = documents[^1];
            cursor = new QueryCursor(DocumentJson.FromDocument<AtOnly>(last.Data).At, last.Key.Id);
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.Equal(seen.Count, seen.Distinct(StringComparer.Ordinal).Count());
        var times = seen.Select(id => Start.AddMinutes(int.Parse(id[3..], System.Globalization.CultureInfo.InvariantCulture) % 5)).ToList();
        Assert.Equal(descending ? times.OrderDescending() : times.Order(), times);
    }

    [Fact]
    public async Task SetManyAsync_ManyDocuments_AreEachWrittenWithTheirExpiry()
    {
        var clock = new FakeTimeProvider(Start);
        var store = await CreateStoreAsync(clock);
        await store.SetAsync(Key("d0007"), Doc("before"), null);
        // More than one chunk of every backend (500 a Firestore commit), so chunking is exercised too.
        var writes = Enumerable.Range(0, 1_234)
            .Select(i => new DocumentWrite(Key($"d{i:D4}"), Doc($"n{i}", i), i % 2 == 0 ? Start.AddMinutes(1) : null))
            .ToList();

        await store.SetManyAsync(writes);

        var all = new List<StoredDocument>();
        await foreach (var document in store.QueryAsync(new DocumentQuery(Collection())))
        {
            all.Add(document);
        }

        Assert.Equal(writes.Select(w => w.Key.Id), all.Select(d => d.Key.Id));
        Assert.Equal("n7", all[7].Data["name"]!.GetValue<string>());
        Assert.Equal(Start.AddMinutes(1), all[1_000].ExpireAt);
        Assert.Null(all[1_001].ExpireAt);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await store.GetAsync(Key("d0000")));
        Assert.NotNull(await store.GetAsync(Key("d0001")));
    }

    [Fact]
    public async Task QueryAsync_CursorWithoutOrder_PagesById()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        foreach (var id in new[] { "c", "a", "b", "d" })
        {
            await store.SetAsync(Key(id), Doc(id), null);
        }

        var ids = await Ids(store, new DocumentQuery(Collection()) { StartAfter = new QueryCursor("b", "b") });

        Assert.Equal(["c", "d"], ids);
    }

    [Fact]
    public async Task Stores_TenantCollections_NeverMix()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        var tenantA = CollectionPath.ForTenant(_unique + "a", "audit");
        var tenantB = CollectionPath.ForTenant(_unique + "b", "audit");
        await store.SetAsync(new DocumentKey(tenantA, "same-id"), Doc("from-a", 1), null);
        await store.SetAsync(new DocumentKey(tenantB, "same-id"), Doc("from-b", 1), null);
        await store.SetAsync(new DocumentKey(tenantB, "only-b"), Doc("from-b", 1), null);

        var inA = await Ids(store, new DocumentQuery(tenantA) { Filters = [new("count", FilterOperator.Equal, 1)] });
        var readA = await store.GetAsync(new DocumentKey(tenantA, "same-id"));
        var onlyBFromA = await store.GetAsync(new DocumentKey(tenantA, "only-b"));
        await store.DeleteAsync(new DocumentKey(tenantA, "same-id"));

        Assert.Equal(["same-id"], inA);
        Assert.Equal("from-a", readA!.Data["name"]!.GetValue<string>());
        Assert.Null(onlyBFromA);
        Assert.NotNull(await store.GetAsync(new DocumentKey(tenantB, "same-id")));
    }

    [Fact]
    public async Task SetAsync_DifficultStrings_RoundTripExactly()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        const string Difficult = "quote \" apostrophe ' backslash \\ newline \n tab \t ünïcödé 日本語 emoji 🔐 nul-free $.path";
        var data = new JsonObject
        {
            ["text"] = Difficult,
            ["nested"] = new JsonObject { ["list"] = new JsonArray("a\"b", 1, true, null) },
            ["big"] = long.MaxValue,
            ["real"] = 0.1,
        };

        await store.SetAsync(Key("a"), data, null);
        var read = await store.GetAsync(Key("a"));
        var byValue = await Ids(store, new DocumentQuery(Collection()) { Filters = [new("text", FilterOperator.Equal, Difficult)] });

        Assert.Equal(Difficult, read!.Data["text"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(data, read.Data));
        Assert.Equal(["a"], byValue);
    }

    [Fact]
    public async Task SetAsync_TypedRecord_RoundTripsThroughDocumentJson()
    {
        var store = await CreateStoreAsync(new FakeTimeProvider(Start));
        var record = new Sample("x\"y", Start.AddTicks(1234567), SampleKind.SecondKind, null);

        await store.SetAsync(Key("a"), DocumentJson.ToDocument(record), null);
        var read = DocumentJson.FromDocument<Sample>((await store.GetAsync(Key("a")))!.Data);
        var byTime = await Ids(store, new DocumentQuery(Collection()) { Filters = [new("at", FilterOperator.Equal, Start.AddTicks(1234567))] });

        Assert.Equal(record, read);
        Assert.Equal(["a"], byTime);
    }

    /// <summary>Runs the calls on threads of their own, released together, so that they really overlap (the thread pool of a small machine would run them one after another).</summary>
    private static async Task<T[]> RunInParallel<T>(int count, Func<int, Task<T>> call)
    {
        using var gate = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, count)
            .Select(i => Task.Factory.StartNew(
                () =>
                {
                    gate.Wait();
                    return call(i).GetAwaiter().GetResult();
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default))
            .ToArray();
        gate.Set();
        return await Task.WhenAll(tasks);
    }

    /// <summary>Holds the read-modify-write open a moment, so that a store without real isolation would let another caller read the same version.</summary>
    private static void WidenRaceWindow() => Thread.Sleep(5);

    private async Task SeedRanks(IDocumentStore store)
    {
        foreach (var (id, rank) in new[] { ("b", 3), ("e", 4), ("c", 2), ("a", 2), ("d", 1) })
        {
            await store.SetAsync(Key(id), new JsonObject { ["rank"] = rank }, null);
        }

        // As in Firestore, a document without the order field is left out of an ordered query.
        await store.SetAsync(Key("unranked"), new JsonObject { ["name"] = "unranked" }, null);
    }

    private static async Task<List<string>> Ids(IDocumentStore store, DocumentQuery query)
    {
        var ids = new List<string>();
        await foreach (var document in store.QueryAsync(query))
        {
            Assert.Equal(query.Collection, document.Key.Collection);
            ids.Add(document.Key.Id);
        }

        return ids;
    }

    private sealed record AtOnly(DateTimeOffset At);

    private sealed record Sample(string Name, DateTimeOffset At, SampleKind Kind, string? Missing);

    private enum SampleKind
    {
        FirstKind,
        SecondKind,
    }
}
