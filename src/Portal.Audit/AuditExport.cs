using System.Buffers;
using System.Text.Json;
using CsvHelper;
using Portal.Storage;

namespace Portal.Audit;

/// <summary>The file formats of an audit export.</summary>
public enum AuditExportFormat
{
    /// <summary>Comma-separated, one header row, spreadsheet formulas neutralised (docs/security-requirements.md D6).</summary>
    Csv,

    /// <summary>One JSON object per line, in the stored record's shape (camelCase, UTC timestamps).</summary>
    Ndjson,
}

/// <summary>What an export wrote.</summary>
public sealed record AuditExportResult(long Rows, int Pages);

/// <summary>
/// Streams one tenant's audit records matching a filter into a stream, page by page. It holds one page
/// of records at a time, whatever the number of records, so an export of a year of audit cannot exhaust
/// the instance's memory.
/// </summary>
public interface IAuditExporter
{
    Task<AuditExportResult> WriteAsync(string tenantId, AuditQuery filter, AuditExportFormat format, Stream output, CancellationToken cancellationToken = default);
}

internal sealed class AuditExporter(IAuditTrail trail) : IAuditExporter
{
    /// <summary>Records read (and written) per page; the trail's largest page.</summary>
    public const int PageSize = AuditTrail.MaxPageSize;

    /// <summary>The CSV columns, in order.</summary>
    internal static readonly string[] CsvColumns =
    [
        "id", "at", "action", "outcome", "reason", "agentSubjectId", "agentMaskedLogin", "callerIdHash", "callerMaskedLogin",
        "method", "ticketRef", "clientNet", "uaFamily", "requestId", "traceId", "completedAt", "expireAt",
    ];

    // Cells that a spreadsheet would evaluate (=, +, -, @) or that some spreadsheets strip before
    // evaluating (tab, CR) get a leading apostrophe, so an attacker-chosen value cannot become a formula
    // on an auditor's machine (docs/security-requirements.md D6, OWASP CSV injection).
    private static readonly CsvWriterOptions CsvSettings = CsvWriterOptions.Default with
    {
        Injection = CsvInjection.Escape,
        InjectionCharacters = "=+-@\t\r",
        InjectionEscape = '\'',
        WriteByteOrderMark = false,
    };

    private static readonly JsonWriterOptions JsonOptions = new() { Indented = false };

    public async Task<AuditExportResult> WriteAsync(string tenantId, AuditQuery filter, AuditExportFormat format, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(output);
        return format == AuditExportFormat.Csv
            ? await WriteCsvAsync(tenantId, filter, output, cancellationToken)
            : await WriteNdjsonAsync(tenantId, filter, output, cancellationToken);
    }

    private async Task<AuditExportResult> WriteCsvAsync(string tenantId, AuditQuery filter, Stream output, CancellationToken cancellationToken)
    {
        // The writer's buffer is bounded (64 KiB) and every write to the output is asynchronous: a response
        // body refuses synchronous writes, and a page is pushed out before the next one is read.
        await using var csv = CsvWriter.Create(output, CsvSettings, leaveOpen: true);
        csv.WriteHeader(CsvColumns);

        // The header goes out at once: the client sees the download start before the first page is read.
        await csv.FlushAsync(cancellationToken);
        var result = await PageThroughAsync(tenantId, filter, async records =>
        {
            foreach (var r in records)
            {
                await WriteCsvRowAsync(csv, r, cancellationToken);
            }

            await csv.FlushAsync(cancellationToken);
        }, cancellationToken);
        return result;
    }

    private const int FlushThreshold = 48 * 1024;

    private async Task<AuditExportResult> WriteNdjsonAsync(string tenantId, AuditQuery filter, Stream output, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        await using var json = new Utf8JsonWriter(buffer, JsonOptions);
        return await PageThroughAsync(tenantId, filter, async records =>
        {
            foreach (var r in records)
            {
                JsonSerializer.Serialize(json, r, DocumentJson.Options);
                json.Flush();
                buffer.Write("\n"u8);
                json.Reset(buffer);

                // A page (~120 KB) would outgrow the buffer onto the large-object heap: hand it on in pieces.
                if (buffer.WrittenCount >= FlushThreshold)
                {
                    await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
                    buffer.ResetWrittenCount();
                }
            }

            await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
            await output.FlushAsync(cancellationToken);
            buffer.ResetWrittenCount();
        }, cancellationToken);
    }

    private async Task<AuditExportResult> PageThroughAsync(string tenantId, AuditQuery filter, Func<IReadOnlyList<AuditRecord>, Task> writePage, CancellationToken cancellationToken)
    {
        long rows = 0;
        var pages = 0;
        var query = filter with { PageSize = PageSize };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await trail.QueryAsync(tenantId, query, cancellationToken);
            if (page.Records.Count > 0)
            {
                await writePage(page.Records);
                rows += page.Records.Count;
                pages++;
            }

            if (page.NextCursor is null)
            {
                break;
            }

            query = query with { Cursor = page.NextCursor };
        }

        return new AuditExportResult(rows, pages);
    }

    private static async Task WriteCsvRowAsync(CsvWriter csv, AuditRecord r, CancellationToken cancellationToken)
    {
        csv.WriteField(r.Id);
        csv.WriteField(DocumentJson.FormatTimestamp(r.At));
        csv.WriteField(r.Action);
        csv.WriteField(JsonNamingPolicy.CamelCase.ConvertName(r.Outcome.ToString()));
        csv.WriteField(r.Reason ?? "");
        csv.WriteField(r.Agent.SubjectId);
        csv.WriteField(r.Agent.MaskedLogin);
        csv.WriteField(r.Caller?.IdHash ?? "");
        csv.WriteField(r.Caller?.MaskedLogin ?? "");
        csv.WriteField(r.Method ?? "");
        csv.WriteField(r.TicketRef ?? "");
        csv.WriteField(r.ClientNet ?? "");
        csv.WriteField(r.UaFamily ?? "");
        csv.WriteField(r.RequestId ?? "");
        csv.WriteField(r.TraceId ?? "");
        csv.WriteField(r.CompletedAt is { } completed ? DocumentJson.FormatTimestamp(completed) : "");
        csv.WriteField(DocumentJson.FormatTimestamp(r.ExpireAt));
        await csv.EndRecordAsync(cancellationToken);
    }
}
