using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage;
using Portal.Testing;

namespace Portal.Audit.Tests;

/// <summary>
/// An export of a large audit, through the real store and the real exporter: every record exactly once, newest
/// first, while new records are written during the export and a batch of records expires half-way through it.
/// Correctness at scale, not speed (bench/ measures speed).
/// </summary>
public abstract class AuditExportAtScaleTests : IAsyncLifetime
{
    private const string Tenant = "scale";
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);
    private ServiceProvider? _services;

    /// <summary>How many records; the largest the backend's test budget allows (see docs/PERFORMANCE.md).</summary>
    protected abstract int RecordCount { get; }

    protected abstract Dictionary<string, string?> StorageSettings();

    public Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(StorageSettings()).Build();
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_clock)
            .AddLogging()
            .AddPortalStorage(configuration)
            .AddPortalAudit()
            .AddPortalAuditReporting()
            .Configure<AuditOptions>(o => o.PseudonymisationKey = Convert.ToBase64String(new byte[32]));
        _services = services.BuildServiceProvider();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    [Fact]
    public async Task Export_WhileRecordsAreAddedAndSomeExpire_ReturnsEveryLiveRecordOnceNewestFirst()
    {
        var store = _services!.GetRequiredService<IDocumentStore>();
        var trail = _services!.GetRequiredService<IAuditTrail>();
        var exporter = _services!.GetRequiredService<IAuditExporter>();
        var expiry = Start.AddHours(1);

        // Seeded through the store's bulk write: one record a second back from Start, every seventh expiring at
        // `expiry`, the rest in thirty days. Several records share a second, so pages end inside runs of ties.
        var seeded = new List<(string Id, DateTimeOffset At, bool Expiring)>(RecordCount);
        var writes = new List<DocumentWrite>(RecordCount);
        for (var i = 0; i < RecordCount; i++)
        {
            var at = Start.AddSeconds(-(i / 3)).AddMilliseconds(-1);
            var expiring = i % 7 == 3;
            var record = new AuditRecord
            {
                Id = AuditTrail.NewId(at),
                TenantId = Tenant,
                At = at,
                Action = "verification.push",
                Outcome = AuditOutcome.Succeeded,
                Agent = new AuditAgent("agent-" + (i % 13), "a***@d***.example"),
                Caller = new AuditCaller(Convert.ToHexStringLower(BitConverter.GetBytes(i)), "c***@d***.example"),
                ExpireAt = expiring ? expiry : Start.AddDays(30),
            };
            seeded.Add((record.Id, at, expiring));
            writes.Add(new DocumentWrite(new DocumentKey(CollectionPath.ForTenant(Tenant, "audit"), record.Id), DocumentJson.ToDocument(record), record.ExpireAt));
        }

        foreach (var chunk in writes.Chunk(10_000))
        {
            await store.SetManyAsync(chunk);
        }

        var expected = seeded.OrderByDescending(s => s.At).ThenByDescending(s => s.Id, StringComparer.Ordinal).ToList();
        var position = expected.Select((s, i) => (s.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);
        var added = new List<string>();
        var expiredAtLine = -1;

        // At every write of the exporter a new record is written (as live traffic would); half-way the clock passes `expiry`.
        var output = new LineStream(async lines =>
        {
            if (expiredAtLine < 0 && lines >= RecordCount / 2)
            {
                _clock.SetUtcNow(expiry.AddSeconds(1));
                expiredAtLine = lines;
            }

            var record = await trail.RecordAsync(new AuditEntry { TenantId = Tenant, Action = "during.export", Outcome = AuditOutcome.Succeeded, AgentSubjectId = "agent-x", AgentLogin = "agent.x@example.com" });
            added.Add(record.Id);
        });

        var result = await exporter.WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Ndjson, output);

        var exported = output.Ids;
        Assert.True(expiredAtLine > 0 && added.Count > 10, $"the export never reached its half-way point ({expiredAtLine}, {added.Count} added)");
        Assert.Equal(exported.Count, result.Rows);
        Assert.Equal(exported.Count, exported.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(exported.Where(id => !position.ContainsKey(id)).Take(5));

        // Newest first, exactly the seeded order.
        var positions = exported.Select(id => position[id]).ToList();
        Assert.True(positions.Zip(positions.Skip(1)).All(p => p.First < p.Second), "the export is out of order");

        // Every record that does not expire is there; an expiring one is there only if it was read before the clock
        // passed its expiry (at most one page after the line where that happened).
        var exportedSet = exported.ToHashSet(StringComparer.Ordinal);
        Assert.Empty(expected.Where(s => !s.Expiring && !exportedSet.Contains(s.Id)).Take(5));
        Assert.Empty(expected.Where((s, i) => s.Expiring && i < expiredAtLine - AuditExporter.PageSize && !exportedSet.Contains(s.Id)).Take(5));
        Assert.Empty(expected.Where((s, i) => s.Expiring && i >= expiredAtLine + AuditExporter.PageSize && exportedSet.Contains(s.Id)).Take(5));
    }

    /// <summary>Collects the id of each NDJSON line, and runs an action after each write (the exporter awaits it before reading on).</summary>
    private sealed class LineStream(Func<int, Task> everyWrite) : Stream
    {
        private readonly StringBuilder _partial = new();

        public List<string> Ids { get; } = [];

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _partial.Append(Encoding.UTF8.GetString(buffer.Span));
            var text = _partial.ToString();
            var end = text.LastIndexOf('\n');
            if (end >= 0)
            {
                foreach (var line in text[..end].Split('\n'))
                {
                    using var json = JsonDocument.Parse(line);
                    Ids.Add(json.RootElement.GetProperty("id").GetString()!);
                }

                _partial.Clear().Append(text[(end + 1)..]);
            }

            await everyWrite(Ids.Count);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("An export writes asynchronously.");
    }
}

/// <summary>250 000 records in a SQLite file.</summary>
public sealed class SqliteAuditExportAtScaleTests : AuditExportAtScaleTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("portal-scale-").FullName;

    protected override int RecordCount => 250_000;

    protected override Dictionary<string, string?> StorageSettings() => new() { ["Portal:Storage:Sqlite:Path"] = Path.Combine(_directory, "portal.db") };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>
/// The Firestore emulator answers every query by scanning the collection, so an export of N records costs it
/// N/200 scans of N: 250 000 records would take hours there. 5 000 is the largest that fits the test budget on
/// two cores (docs/PERFORMANCE.md has the measurement); the store's paging is the same code at any size.
/// </summary>
public sealed class FirestoreAuditExportAtScaleTests : AuditExportAtScaleTests, IClassFixture<FirestoreEmulatorProcess>
{
    private readonly FirestoreEmulatorProcess _emulator;

    public FirestoreAuditExportAtScaleTests(FirestoreEmulatorProcess emulator)
    {
        _emulator = emulator;
    }

    protected override int RecordCount => 5_000;

    protected override Dictionary<string, string?> StorageSettings() => new()
    {
        ["Portal:Storage:Provider"] = "Firestore",
        ["Portal:Storage:Firestore:ProjectId"] = FirestoreEmulatorProcess.NewProjectId(),
        ["Portal:Storage:Firestore:EmulatorHost"] = _emulator.Host,
    };
}
