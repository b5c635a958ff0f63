using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Audit;
using Portal.Storage;

namespace Portal.Web.Tests.Core;

/// <summary>
/// The real SQLite document store in a folder of its own, on a fake clock, without a web host: the security
/// core's rules are tested here in milliseconds, so that mutation testing can run them against every mutant
/// (docs/TESTING.md, "Mutation testing").
/// </summary>
public sealed class CoreStore : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "portal-core-tests-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services;

    public CoreStore()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory, "portal.db") })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddPortalStorage(configuration);
        services.AddPortalAudit();
        services.Configure<AuditOptions>(o => o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        _services = services.BuildServiceProvider();
        Documents = _services.GetRequiredService<IDocumentStore>();
        Audit = _services.GetRequiredService<IAuditTrail>();
        Pseudonyms = _services.GetRequiredService<ICallerPseudonymizer>();
    }

    public FakeTimeProvider Clock { get; } = new(Start);

    public IDocumentStore Documents { get; }

    public IAuditTrail Audit { get; }

    public ICallerPseudonymizer Pseudonyms { get; }

    /// <summary>Every audit record of a tenant (records of one clock instant come in no particular order).</summary>
    public async Task<IReadOnlyList<AuditRecord>> AuditRecordsAsync(string tenantId) =>
        (await Audit.QueryAsync(tenantId, new AuditQuery { PageSize = 200 })).Records;

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
}
