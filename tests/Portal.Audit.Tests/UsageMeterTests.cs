using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage;

namespace Portal.Audit.Tests;

/// <summary>Billing usage over the real SQLite store: exact counts, no caller identity, kept three years.</summary>
public sealed class UsageMeterTests : IDisposable
{
    private const string Tenant = "acme";
    private const string Alice = "00u1alice";
    private const string Bob = "00u2bob";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-usage-tests-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _services;

    public UsageMeterTests()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory, "portal.db") })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddPortalStorage(configuration);
        services.AddPortalAudit();
        services.AddPortalAuditReporting();
        services.Configure<AuditOptions>(o => o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    private IUsageMeter Meter => _services.GetRequiredService<IUsageMeter>();

    private IUsageReport Report => _services.GetRequiredService<IUsageReport>();

    private IDocumentStore Store => _services.GetRequiredService<IDocumentStore>();

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS temp cleaner.
        }
    }

    [Fact]
    public async Task Record_VerificationsAndActions_CountedByMethodOutcomeTypeAndDay()
    {
        await Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Alice);
        await Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Bob);
        await Meter.RecordVerificationAsync(Tenant, "okta.totp", AuditOutcome.Failed, Alice);
        _clock.Advance(TimeSpan.FromDays(1));
        await Meter.RecordVerificationAsync(Tenant, "okta.totp", AuditOutcome.Succeeded, Alice);
        await Meter.RecordActionAsync(Tenant, "password_reset", AuditOutcome.Succeeded);
        await Meter.RecordActionAsync(Tenant, "password_reset", AuditOutcome.Succeeded);
        await Meter.RecordActionAsync(Tenant, "tap_issue", AuditOutcome.Succeeded);

        var usage = await Report.GetMonthAsync(Tenant, 2026, 11);

        Assert.Equal("2026-11", usage.Month);
        Assert.Equal(2, usage.Verifications["okta.push"]["succeeded"]);
        Assert.Equal(1, usage.Verifications["okta.totp"]["failed"]);
        Assert.Equal(1, usage.Verifications["okta.totp"]["succeeded"]);
        Assert.Equal(4, usage.TotalVerifications);
        Assert.Equal(2, usage.Actions["password_reset"]["succeeded"]);
        Assert.Equal(1, usage.Actions["tap_issue"]["succeeded"]);
        Assert.Equal(3, usage.VerificationsPerDay["23"]);
        Assert.Equal(1, usage.VerificationsPerDay["24"]);
        Assert.Equal(2, usage.UniqueVerifiedCallers);
    }

    [Fact]
    public async Task RecordVerification_SameCallerConcurrently_CountsOneUniqueCallerAndEveryVerification()
    {
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Alice))));

        var usage = await Report.GetMonthAsync(Tenant, 2026, 11);

        Assert.Equal(1, usage.UniqueVerifiedCallers);
        Assert.Equal(20, usage.Verifications["okta.push"]["succeeded"]);
    }

    [Fact]
    public async Task RecordVerification_FailedOnly_DoesNotCountTheCallerAsVerified()
    {
        await Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Alarm, Alice);

        var usage = await Report.GetMonthAsync(Tenant, 2026, 11);

        Assert.Equal(0, usage.UniqueVerifiedCallers);
        Assert.Equal(1, usage.Verifications["okta.push"]["alarm"]);
    }

    [Fact]
    public async Task RecordVerification_NextMonth_CountsTheCallerAgainInItsOwnMonth()
    {
        await Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Alice);
        _clock.Advance(TimeSpan.FromDays(10));
        await Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Alice);

        Assert.Equal(1, (await Report.GetMonthAsync(Tenant, 2026, 11)).UniqueVerifiedCallers);
        Assert.Equal(1, (await Report.GetMonthAsync(Tenant, 2026, 12)).UniqueVerifiedCallers);
        Assert.Equal(1, (await Report.GetMonthAsync(Tenant, 2026, 12)).TotalVerifications);
    }

    [Fact]
    public async Task RecordVerification_StoresNoCallerIdNorItsAuditPseudonym()
    {
        await Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Alice);
        var auditPseudonym = _services.GetRequiredService<ICallerPseudonymizer>().HashCallerId(Tenant, Alice);

        var stored = new List<string>();
        foreach (var name in new[] { UsageMeter.UsageCollection, UsageMeter.CallersCollection })
        {
            await foreach (var d in Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(Tenant, name))))
            {
                stored.Add(d.Key.ToString() + d.Data.ToJsonString());
            }
        }

        Assert.Equal(2, stored.Count);
        Assert.All(stored, s =>
        {
            Assert.DoesNotContain(Alice, s, StringComparison.Ordinal);
            Assert.DoesNotContain(auditPseudonym, s, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Record_AnyUsage_ExpiresThreeYearsAfterItsMonthAndIsThenInvisible()
    {
        await Meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Alice);
        var month = await Store.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, UsageMeter.UsageCollection), "2026-11"));
        var expected = new DateTimeOffset(2029, 12, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(expected, month!.ExpireAt);
        await foreach (var marker in Store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(Tenant, UsageMeter.CallersCollection))))
        {
            Assert.Equal(expected, marker.ExpireAt);
        }

        _clock.SetUtcNow(expected.AddSeconds(-1));
        Assert.Equal(1, (await Report.GetMonthAsync(Tenant, 2026, 11)).TotalVerifications);
        _clock.SetUtcNow(expected);
        Assert.Equal(0, (await Report.GetMonthAsync(Tenant, 2026, 11)).TotalVerifications);
    }

    [Fact]
    public async Task Record_UnknownKeys_FoldedIntoOneBucket()
    {
        await Meter.RecordActionAsync(Tenant, "<script>alert(1)</script>", AuditOutcome.Succeeded);
        await Meter.RecordVerificationAsync(Tenant, new string('x', 500), AuditOutcome.Succeeded, null);

        var usage = await Report.GetMonthAsync(Tenant, 2026, 11);

        Assert.Equal(["other"], usage.Actions.Keys);
        Assert.Equal(["other"], usage.Verifications.Keys);
    }

    [Fact]
    public async Task Record_StoreFails_DoesNotThrow()
    {
        var meter = new UsageMeter(new FailingStore(), _services.GetRequiredService<ICallerPseudonymizer>(), _clock, NullLogger<UsageMeter>.Instance);

        await meter.RecordVerificationAsync(Tenant, "okta.push", AuditOutcome.Succeeded, Alice);
        await meter.RecordActionAsync(Tenant, "password_reset", AuditOutcome.Succeeded);

        await Assert.ThrowsAsync<IOException>(() => meter.GetMonthAsync(Tenant, 2026, 11));
    }

    private sealed class FailingStore : IDocumentStore
    {
        public Task<StoredDocument?> GetAsync(DocumentKey key, CancellationToken cancellationToken = default) => throw new IOException("down");

        public Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) => throw new IOException("down");

        public Task SetAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default) => throw new IOException("down");

        public Task SetManyAsync(IReadOnlyList<DocumentWrite> writes, CancellationToken cancellationToken = default) => throw new IOException("down");

        public Task<TResult> UpdateAsync<TResult>(DocumentKey key, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken = default) => throw new IOException("down");

        public Task DeleteAsync(DocumentKey key, CancellationToken cancellationToken = default) => throw new IOException("down");

        public IAsyncEnumerable<StoredDocument> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default) => throw new IOException("down");

        public Task<int> PurgeExpiredAsync(CollectionPath collection, DateTimeOffset now, CancellationToken cancellationToken = default) => throw new IOException("down");
    }
}
