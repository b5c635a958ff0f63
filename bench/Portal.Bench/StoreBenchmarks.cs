using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.Data.Sqlite;
using Portal.Storage;

namespace Portal.Bench;

/// <summary>
/// The SQLite document store's write paths against the cheapest correct write on the same kind of file:
/// a pooled connection and one <c>INSERT OR REPLACE</c> of a pre-serialised JSON string in a WAL database.
/// The ratio is what the store's transaction (BEGIN IMMEDIATE, read, write, commit), its per-connection
/// busy timeout, its expiry and version bookkeeping and its JSON mapping cost on top of that.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
// On Disk a write waits for an fsync of the WAL, whose time a virtual disk varies a lot: more iterations, and
// the median beside the mean, keep one slow flush from deciding the ratio; Memory shows the code's own cost.
[SimpleJob(RunStrategy.Throughput, warmupCount: 3, iterationCount: 15)]
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "BenchmarkDotNet never disposes a benchmark instance; [GlobalCleanup] releases the store.")]
public class StoreBenchmarks
{
    // A rate-limit window counter: the kind of small document the portal updates on every request.
    private const string DocumentText = """{"kind":"rateLimit","scope":"agent","subject":"00uagent0001","windowStart":"2026-11-23T09:00:00.0000000Z","count":0}""";

    private static readonly CollectionPath Counters = CollectionPath.ForTenant(Samples.Tenant, "counters");
    private static readonly DocumentKey CounterKey = new(Counters, "agent-00uagent0001");
    private static readonly DateTimeOffset ExpireAt = Samples.Start.AddYears(10);

    private TempStore _store = null!;
    private string _rawConnectionString = null!;
    private JsonObject _document = null!;
    private int _next;

    [Params(StorageMedium.Disk, StorageMedium.Memory)]
    public StorageMedium Medium { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = new TempStore(Medium, withAudit: false);
        _document = JsonNode.Parse(DocumentText)!.AsObject();
        _store.Store.SetAsync(CounterKey, _document, ExpireAt).GetAwaiter().GetResult();

        _rawConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_store.FolderPath, "raw.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
        using var connection = new SqliteConnection(_rawConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE documents (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID;
            """;
        command.ExecuteNonQuery();
    }

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

    [Benchmark(Baseline = true, Description = "Baseline: raw INSERT OR REPLACE")]
    public async Task<int> RawUpsert()
    {
        await using var connection = new SqliteConnection(_rawConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO documents (collection, id, data) VALUES ($collection, $id, $data)";
        command.Parameters.AddWithValue("$collection", Counters.Value);
        command.Parameters.AddWithValue("$id", CounterKey.Id);
        command.Parameters.AddWithValue("$data", DocumentText);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>The read-modify-write a counter in the portal does: typed record in, typed record out.</summary>
    [Benchmark(Description = "Store UpdateAsync (counter +1)")]
    public Task<long> UpdateCounter() =>
        _store.Store.UpdateAsync(CounterKey, static current =>
        {
            var counter = current is null ? DocumentJson.FromDocument<Counter>(JsonNode.Parse(DocumentText)!.AsObject()) : DocumentJson.FromDocument<Counter>(current.Data);
            var next = counter with { Count = counter.Count + 1 };
            return DocumentMutation<long>.Write(DocumentJson.ToDocument(next), ExpireAt, next.Count);
        });

    [Benchmark(Description = "Store CreateAsync (new document)")]
    public Task<bool> Create() =>
        _store.Store.CreateAsync(new DocumentKey(Counters, "doc-" + (_next++).ToString(CultureInfo.InvariantCulture)), _document, ExpireAt);
}

/// <summary>The counter document's shape (<see cref="StoreBenchmarks"/>).</summary>
internal sealed record Counter(string Kind, string Scope, string Subject, DateTimeOffset WindowStart, long Count);
