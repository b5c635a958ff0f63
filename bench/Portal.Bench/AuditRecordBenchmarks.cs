using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Portal.Audit;
using Portal.Storage;

namespace Portal.Bench;

/// <summary>
/// The audit write path: <see cref="IAuditTrail.RecordAsync"/> masks the logins, HMACs the caller id,
/// truncates the address, reduces the User-Agent, maps the record to JSON and creates it. The baseline is
/// the store's own <see cref="IDocumentStore.CreateAsync"/> of an equivalent document built beforehand, so
/// the ratio is what protecting identity data costs relative to the write that has to happen anyway.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
// On Disk a write waits for an fsync of the WAL, whose time a virtual disk varies a lot: more iterations, and
// the median beside the mean, keep one slow flush from deciding the ratio; Memory shows the code's own cost.
[SimpleJob(RunStrategy.Throughput, warmupCount: 3, iterationCount: 15)]
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "BenchmarkDotNet never disposes a benchmark instance; [GlobalCleanup] releases the store.")]
public class AuditRecordBenchmarks
{
    private static readonly CollectionPath Audit = CollectionPath.ForTenant(Samples.Tenant, "audit");

    private TempStore _store = null!;
    private IAuditTrail _trail = null!;
    private AuditEntry _entry = null!;
    private JsonObject _document = null!;
    private DateTimeOffset _expireAt;
    private long _next;

    [Params(StorageMedium.Disk, StorageMedium.Memory)]
    public StorageMedium Medium { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = new TempStore(Medium, withAudit: true);
        _trail = _store.Get<IAuditTrail>();
        _entry = Samples.Entry();

        // The very record the trail would write for this entry, so both sides store the same bytes.
        var record = _trail.RecordAsync(_entry).GetAwaiter().GetResult();
        _document = DocumentJson.ToDocument(record);
        _expireAt = record.ExpireAt;
    }

    [GlobalCleanup]
    public void Cleanup() => _store.Dispose();

    [Benchmark(Baseline = true, Description = "Baseline: store CreateAsync of a pre-built record")]
    public Task<bool> CreatePrebuilt()
    {
        // Same id shape as the trail's (19 digits, a dash, 16 hex digits), so keys compare and index alike.
        var id = Samples.Start.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + (_next++).ToString("x16", CultureInfo.InvariantCulture);
        return _store.Store.CreateAsync(new DocumentKey(Audit, id), _document, _expireAt);
    }

    [Benchmark(Description = "AuditTrail RecordAsync (mask + HMAC + write)")]
    public Task<AuditRecord> Record() => _trail.RecordAsync(_entry);
}
