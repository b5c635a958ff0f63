using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Portal.Bench;

/// <summary>
/// Allocated bytes divided by the benchmark's <c>N</c> parameter: the figure whose flatness across N
/// shows that an export streams (a constant per record) rather than buffers (per record and growing).
/// </summary>
internal sealed class AllocatedPerRecordColumn : IColumn
{
    public string Id => nameof(AllocatedPerRecordColumn);

    public string ColumnName => "Alloc/record";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Metric;

    public int PriorityInCategory => 10;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Size;

    public string Legend => "Allocated bytes per operation divided by N (bytes per exported record)";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        var n = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "N")?.Value;
        if (report is null || n is not int records || records <= 0)
        {
            return "-";
        }

        var bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
        return bytes is { } allocated
            ? ((double)allocated / records).ToString("N1", System.Globalization.CultureInfo.InvariantCulture) + " B"
            : "-";
    }
}
