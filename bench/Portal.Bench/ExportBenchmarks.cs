using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;

namespace Portal.Bench;

/// <summary>
/// Audit export: <see cref="IAuditExporter.WriteAsync"/> streams page by page, so its allocation per
/// record must not grow with the number of records. The baseline is what a naive export does: read every
/// page into one list and serialise the list in one go to a string, which holds the whole export in memory.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, warmupCount: 2, iterationCount: 5)]
[Config(typeof(Config))]
public class ExportBenchmarks
{
    private static readonly AuditQuery AllRecords = new();

    private ServiceProvider _services = null!;
    private InMemoryAuditTrail _trail = null!;
    private IAuditExporter _exporter = null!;

    [Params(1_000, 10_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _trail = new InMemoryAuditTrail(Samples.Records(N));
        var services = new ServiceCollection();
        services.AddSingleton<IAuditTrail>(_trail);
        services.AddPortalAuditReporting();
        _services = services.BuildServiceProvider();
        _exporter = _services.GetRequiredService<IAuditExporter>();
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "Baseline: all pages to a list, one JSON string")]
    public async Task<int> MaterialiseAndSerialise()
    {
        var all = new List<AuditRecord>();
        var query = AllRecords with { PageSize = InMemoryAuditTrail.MaxPageSize };
        while (true)
        {
            var page = await _trail.QueryAsync(Samples.Tenant, query);
            all.AddRange(page.Records);
            if (page.NextCursor is null)
            {
                break;
            }

            query = query with { Cursor = page.NextCursor };
        }

        return JsonSerializer.Serialize(all, DocumentJson.Options).Length;
    }

    [Benchmark(Description = "Exporter CSV to Stream.Null")]
    public async Task<long> ExportCsv() =>
        (await _exporter.WriteAsync(Samples.Tenant, AllRecords, AuditExportFormat.Csv, Stream.Null)).Rows;

    [Benchmark(Description = "Exporter NDJSON to Stream.Null")]
    public async Task<long> ExportNdjson() =>
        (await _exporter.WriteAsync(Samples.Tenant, AllRecords, AuditExportFormat.Ndjson, Stream.Null)).Rows;

    /// <summary>Adds the bytes-per-record column to this class's summary only.</summary>
    internal sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new AllocatedPerRecordColumn());
    }
}
