using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage.Firestore;

namespace Portal.Storage.Tests;

/// <summary>What only the Firestore backend has to get right: its document layout, refilled pages, the store-wide purge and its wiring.</summary>
[Collection(FirestoreEmulatorCollection.Name)]
public sealed class FirestoreEmulatorStoreTests(FirestoreEmulatorFixture emulator)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private readonly string _projectId = FirestoreEmulatorFixture.NewProjectId();

    [Fact]
    public async Task SetAsync_DataWithOwnExpireAt_KeepsItAndStoresExpiryAsTtlTimestamp()
    {
        var store = emulator.CreateStore(_projectId, new FakeTimeProvider(Start));
        var key = new DocumentKey(CollectionPath.ForTenant("acme", "audit"), "r1");
        var data = new JsonObject { ["expireAt"] = DocumentJson.FormatTimestamp(Start.AddDays(400)), ["count"] = 3, ["ratio"] = 0.25 };

        await store.SetAsync(key, data, Start.AddDays(400));
        var raw = await emulator.CreateClient(_projectId).GetDocumentAsync(emulator.CreateClient(_projectId).Target.DocumentName(key), default);
        var read = await store.GetAsync(key);

        Assert.Equal(Start.AddDays(400), FirestoreValues.ParseTimestamp(raw!.Fields[FirestoreDocumentStore.ExpiryField]!["timestampValue"]!.GetValue<string>()));
        Assert.Equal(DocumentJson.FormatTimestamp(Start.AddDays(400)), raw.Fields["expireAt"]!["stringValue"]!.GetValue<string>());
        Assert.Equal("3", raw.Fields["count"]!["integerValue"]!.GetValue<string>());
        Assert.Equal(0.25, raw.Fields["ratio"]!["doubleValue"]!.GetValue<double>());
        Assert.True(JsonNode.DeepEquals(data, read!.Data), read.Data.ToJsonString());
        Assert.Equal(Start.AddDays(400), read.ExpireAt);
        Assert.Equal(raw.UpdateTime, read.Version);
    }

    [Fact]
    public async Task SetAsync_DataWithReservedExpiryField_IsRefused()
    {
        var store = emulator.CreateStore(_projectId, new FakeTimeProvider(Start));
        var key = new DocumentKey(new CollectionPath("docs"), "a");

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(key, new JsonObject { [FirestoreDocumentStore.ExpiryField] = "x" }, null));

        Assert.Contains(FirestoreDocumentStore.ExpiryField, ex.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(key));
    }

    [Fact]
    public async Task QueryAsync_LimitBehindExpiredDocuments_RefillsWithLiveOnes()
    {
        var clock = new FakeTimeProvider(Start);
        var store = emulator.CreateStore(_projectId, clock);
        var collection = new CollectionPath("ranked");
        for (var rank = 1; rank <= 7; rank++)
        {
            // The first five in order expire; the emulator, like Firestore before its TTL runs, still returns them.
            await store.SetAsync(new DocumentKey(collection, $"r{rank}"), new JsonObject { ["rank"] = rank }, rank <= 5 ? Start.AddMinutes(1) : null);
        }

        clock.Advance(TimeSpan.FromMinutes(2));
        var ids = new List<string>();
        await foreach (var document in store.QueryAsync(new DocumentQuery(collection) { OrderBy = new FieldOrder("rank", false), Limit = 2 }))
        {
            ids.Add(document.Key.Id);
        }

        Assert.Equal(["r6", "r7"], ids);
    }

    [Fact]
    public async Task PurgeAllExpiredAsync_TopLevelAndTenantCollections_DeletesOnlyExpired()
    {
        var clock = new FakeTimeProvider(Start);
        var store = emulator.CreateStore(_projectId, clock);
        var client = emulator.CreateClient(_projectId);
        var expired = new[]
        {
            new DocumentKey(new CollectionPath("agentSessions"), "s1"),
            new DocumentKey(CollectionPath.ForTenant("acme", "audit"), "a1"),
            new DocumentKey(CollectionPath.ForTenant("beta", "pendingVerifications"), "p1"),
        };
        var live = new[]
        {
            new DocumentKey(new CollectionPath("agentSessions"), "s2"),
            new DocumentKey(CollectionPath.ForTenant("acme", "audit"), "a2"),
            new DocumentKey(CollectionPath.ForTenant("beta", "pendingVerifications"), "p2"),
        };
        foreach (var key in expired)
        {
            await store.SetAsync(key, new JsonObject { ["x"] = 1 }, Start.AddMinutes(1));
        }

        await store.SetAsync(live[0], new JsonObject { ["x"] = 1 }, null);
        await store.SetAsync(live[1], new JsonObject { ["x"] = 1 }, Start.AddDays(1));
        await store.SetAsync(live[2], new JsonObject { ["x"] = 1 }, Start.AddMinutes(10));
        clock.Advance(TimeSpan.FromMinutes(5));

        var purged = await store.PurgeAllExpiredAsync(clock.GetUtcNow());

        Assert.Equal(3, purged);
        foreach (var key in expired)
        {
            Assert.Null(await client.GetDocumentAsync(client.Target.DocumentName(key), default));
        }

        foreach (var key in live)
        {
            Assert.NotNull(await client.GetDocumentAsync(client.Target.DocumentName(key), default));
        }

        Assert.Equal(0, await store.PurgeAllExpiredAsync(clock.GetUtcNow()));
    }

    [Fact]
    public async Task AddPortalStorage_Firestore_RegistersOneWorkingStoreAndPurge()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Portal:Storage:Provider"] = "Firestore",
            ["Portal:Storage:Firestore:ProjectId"] = _projectId,
            ["Portal:Storage:Firestore:EmulatorHost"] = emulator.Host,
        }).Build();
        using var services = new ServiceCollection().AddPortalStorage(configuration).BuildServiceProvider();
        var key = new DocumentKey(new CollectionPath("things"), "a");

        var store = services.GetRequiredService<IDocumentStore>();
        await store.SetAsync(key, new JsonObject { ["x"] = 1 }, null);

        Assert.IsType<FirestoreDocumentStore>(store);
        Assert.Same(store, services.GetServices<IExpiredDocumentPurge>().Single());
        Assert.Equal(1, (await emulator.CreateStore(_projectId, TimeProvider.System).GetAsync(key))!.Data["x"]!.GetValue<int>());
    }

    [Fact]
    public void AddPortalStorage_FirestoreWithoutProject_FailsNamingTheSetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Portal:Storage:Provider"] = "Firestore",
        }).Build();
        using var services = new ServiceCollection().AddPortalStorage(configuration).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IDocumentStore>());

        Assert.Contains("Portal:Storage:Firestore:ProjectId must be set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveTarget_NoEmulatorSetting_FallsBackToEnvironmentVariable()
    {
        var options = new FirestoreStorageOptions { ProjectId = "demo-portal" };

        var fromEnvironment = FirestoreStorageRegistration.ResolveTarget(options, name => name == "FIRESTORE_EMULATOR_HOST" ? "127.0.0.1:8085" : null);
        var real = FirestoreStorageRegistration.ResolveTarget(options, _ => null);

        Assert.Equal("127.0.0.1:8085", fromEnvironment.EmulatorHost);
        Assert.Equal(new Uri("http://127.0.0.1:8085/"), fromEnvironment.BaseAddress);
        Assert.False(real.IsEmulator);
    }
}
