using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage;

namespace Portal.Audit.Tests;

/// <summary>
/// Retention (docs/security-requirements.md D4) over the real SQLite store: an expired record is invisible to every read
/// (list, detail, export) to the second, before any purge, and the purge then removes it from disk.
/// </summary>
public sealed class AuditRetentionTests : IDisposable
{
    private const string Tenant = "acme";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-retention-tests-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _services;

    public AuditRetentionTests()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Sqlite:Path"] = DatabasePath })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddPortalStorage(configuration);
        services.AddPortalAudit();
        services.AddPortalAuditReporting();
        services.Configure<AuditOptions>(o => o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    private string DatabasePath => Path.Combine(_directory, "portal.db");

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
    public async Task ExpiredRecord_InvisibleBeforePurgeAndGoneAfterIt()
    {
        var trail = _services.GetRequiredService<IAuditTrail>();
        var reader = _services.GetRequiredService<IAuditRecordReader>();
        var exporter = _services.GetRequiredService<IAuditExporter>();
        var store = _services.GetRequiredService<IDocumentStore>();
        var collection = CollectionPath.ForTenant(Tenant, "audit");
        var old = await trail.RecordAsync(Entry());
        _clock.Advance(TimeSpan.FromDays(10));
        var recent = await trail.RecordAsync(Entry());
        Assert.Equal(old.At.AddDays(30), old.ExpireAt);

        // One second before the default 30 days: still there.
        _clock.SetUtcNow(old.ExpireAt.AddSeconds(-1));
        Assert.Equal(2, (await trail.QueryAsync(Tenant, new AuditQuery())).Records.Count);
        Assert.NotNull(await reader.GetAsync(Tenant, old.Id));

        // At expiry: no read shows it, though it is still on disk.
        _clock.SetUtcNow(old.ExpireAt);
        Assert.Equal([recent.Id], (await trail.QueryAsync(Tenant, new AuditQuery())).Records.Select(r => r.Id));
        Assert.Null(await reader.GetAsync(Tenant, old.Id));
        var export = await exporter.WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Ndjson, new MemoryStream());
        Assert.Equal(1, export.Rows);
        Assert.Equal(2, await RowsOnDiskAsync(collection));

        var purged = await store.PurgeExpiredAsync(collection, _clock.GetUtcNow());

        Assert.Equal(1, purged);
        Assert.Equal(1, await RowsOnDiskAsync(collection));
        Assert.NotNull(await reader.GetAsync(Tenant, recent.Id));
    }

    [Fact]
    public async Task GetAsync_MalformedOrForeignId_ReturnsNull()
    {
        var trail = _services.GetRequiredService<IAuditTrail>();
        var reader = _services.GetRequiredService<IAuditRecordReader>();
        var record = await trail.RecordAsync(Entry());

        Assert.NotNull(await reader.GetAsync(Tenant, record.Id));
        Assert.Null(await reader.GetAsync("other", record.Id));
        Assert.Null(await reader.GetAsync(Tenant, "../" + record.Id));
        Assert.Null(await reader.GetAsync(Tenant, record.Id.ToUpperInvariant() + "x"));
        Assert.Equal("tenantId", (await Assert.ThrowsAsync<ArgumentException>(() => reader.GetAsync("", record.Id))).ParamName);
    }

    private async Task<long> RowsOnDiskAsync(CollectionPath collection)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM documents WHERE collection = $c";
        command.Parameters.AddWithValue("$c", collection.Value);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static AuditEntry Entry() => new()
    {
        TenantId = Tenant,
        Action = "action.password_reset",
        Outcome = AuditOutcome.Succeeded,
        AgentSubjectId = "agent-1",
        AgentLogin = "agent@helpdesk.example",
        CallerId = "00u1alice",
        CallerLogin = "alice@example.com",
    };
}
