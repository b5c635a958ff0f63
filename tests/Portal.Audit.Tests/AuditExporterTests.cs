using System.Globalization;
using System.Text;
using System.Text.Json;
using Portal.Storage;

namespace Portal.Audit.Tests;

/// <summary>
/// Exports stream: one page in memory at a time, pushed out before the next is read, whatever the number of
/// records; CSV cells cannot become formulas; NDJSON is one parseable record per line.
/// </summary>
public sealed class AuditExporterTests
{
    private const string Tenant = "acme";

    // A page of 200 records is well under this; 100 000 records are a hundred times more.
    private const int MaxBytesBetweenFlushes = 256 * 1024;

    [Theory]
    [InlineData(AuditExportFormat.Csv)]
    [InlineData(AuditExportFormat.Ndjson)]
    public async Task WriteAsync_HundredThousandRecords_StreamsPageByPageWithBoundedBuffering(AuditExportFormat format)
    {
        const int total = 100_000;
        var output = new CountingStream(MaxBytesBetweenFlushes);
        var headerLines = format == AuditExportFormat.Csv ? 1 : 0;
        var trail = new GeneratedTrail(total, beforePage: handedOut =>
        {
            // The exporter must have written out every record it was given before it asks for more:
            // nothing accumulates in memory between pages.
            if (output.Lines - headerLines != handedOut)
            {
                throw new InvalidOperationException($"{handedOut} records handed out but only {output.Lines - headerLines} written before the next page was read.");
            }
        });

        var result = await new AuditExporter(trail).WriteAsync(Tenant, new AuditQuery(), format, output);

        Assert.Equal(total, result.Rows);
        Assert.Equal(total / AuditExporter.PageSize, result.Pages);
        Assert.Equal(total + headerLines, output.Lines);
        Assert.Equal(total / AuditExporter.PageSize, trail.Calls);
        Assert.True(output.MaxBytesBetweenFlushes <= MaxBytesBetweenFlushes);
        Assert.True(output.TotalBytes > 50L * MaxBytesBetweenFlushes, "The export is far larger than what is ever buffered.");
        Assert.True(output.Flushes >= total / AuditExporter.PageSize, "Every page is flushed to the client.");
    }

    [Fact]
    public async Task WriteAsync_FilterGiven_PassesItToEveryPageWithTheLargestPageSize()
    {
        var from = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var trail = new GeneratedTrail(450);
        var filter = new AuditQuery { From = from, Action = "action.password_reset", Outcome = AuditOutcome.Succeeded, CallerIdHash = "ab", AgentSubjectId = "agent-1", PageSize = 5 };

        await new AuditExporter(trail).WriteAsync(Tenant, filter, AuditExportFormat.Ndjson, new CountingStream(MaxBytesBetweenFlushes));

        Assert.Equal(3, trail.Queries.Count);
        Assert.All(trail.Queries, q =>
        {
            Assert.Equal(from, q.From);
            Assert.Equal("action.password_reset", q.Action);
            Assert.Equal(AuditOutcome.Succeeded, q.Outcome);
            Assert.Equal("ab", q.CallerIdHash);
            Assert.Equal("agent-1", q.AgentSubjectId);
            Assert.Equal(AuditExporter.PageSize, q.PageSize);
        });
        Assert.Null(trail.Queries[0].Cursor);
        Assert.Equal("200", trail.Queries[1].Cursor);
    }

    [Fact]
    public async Task WriteAsync_CsvWithFormulaCells_NeutralisesEveryOne()
    {
        string[] attacks = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1", "\r=1"];
        var records = attacks.Select((a, i) => Record(i) with { Reason = a, TicketRef = a, Method = a, UaFamily = a }).ToList();
        var output = new MemoryStream();

        await new AuditExporter(new ListTrail(records)).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Csv, output);

        var rows = ParseCsv(Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal(AuditExporter.CsvColumns, rows[0]);
        Assert.Equal(attacks.Length + 1, rows.Count);
        var reason = Array.IndexOf(AuditExporter.CsvColumns, "reason");
        for (var i = 0; i < attacks.Length; i++)
        {
            // The value survives for the reader, behind an apostrophe that makes a spreadsheet show it as text.
            Assert.Equal("'" + attacks[i], rows[i + 1][reason]);
        }

        foreach (var cell in rows.Skip(1).SelectMany(r => r))
        {
            Assert.False(cell.Length > 0 && "=+-@\t\r".Contains(cell[0], StringComparison.Ordinal), $"A cell starts like a formula: {cell}");
        }
    }

    [Fact]
    public async Task WriteAsync_Csv_WritesOneRowPerRecordWithItsFields()
    {
        var record = Record(7);
        var output = new MemoryStream();

        var result = await new AuditExporter(new ListTrail([record])).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Csv, output);

        var rows = ParseCsv(Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal(1, result.Rows);
        var row = rows[1];
        string Cell(string column) => row[Array.IndexOf(AuditExporter.CsvColumns, column)];
        Assert.Equal(record.Id, Cell("id"));
        Assert.Equal(DocumentJson.FormatTimestamp(record.At), Cell("at"));
        Assert.Equal("succeeded", Cell("outcome"));
        Assert.Equal(record.Caller!.IdHash, Cell("callerIdHash"));
        Assert.Equal("j***@e***.com", Cell("callerMaskedLogin"));
        Assert.Equal("203.0.113.0/24", Cell("clientNet"));
    }

    [Fact]
    public async Task WriteAsync_Csv_HeaderIsTheDocumentedColumns_EveryCellOfAFullRecordWritten()
    {
        // The columns an auditor's tooling reads (docs/audit.md), spelt out rather than taken from the exporter.
        const string Header = "id,at,action,outcome,reason,agentSubjectId,agentMaskedLogin,callerIdHash,callerMaskedLogin,"
            + "method,ticketRef,clientNet,uaFamily,requestId,traceId,completedAt,expireAt";
        var record = Record(7) with { Reason = "link_sent", Outcome = AuditOutcome.Partial };
        var output = new MemoryStream();

        await new AuditExporter(new ListTrail([record])).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Csv, output);

        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.StartsWith(Header + "\r\n", text, StringComparison.Ordinal);
        var rows = ParseCsv(text);
        Assert.Equal(2, rows.Count);
        Assert.Equal(
        [
            record.Id, "2026-11-23T08:59:53.0000000Z", "action.password_reset", "partial", "link_sent", "agent-sub-7", "a***@h***.example",
            new string('a', 64), "j***@e***.com", "okta.push", "INC-7", "203.0.113.0/24", "Firefox", "req-7", "trace-7",
            "2026-11-23T09:00:01.0000000Z", "2026-12-23T09:00:00.0000000Z",
        ], rows[1]);
    }

    [Fact]
    public async Task WriteAsync_Csv_RecordWithoutOptionalFields_WritesEmptyCells()
    {
        var record = Record(1) with { Reason = null, Caller = null, Method = null, TicketRef = null, ClientNet = null, UaFamily = null, RequestId = null, TraceId = null, CompletedAt = null };
        var output = new MemoryStream();

        await new AuditExporter(new ListTrail([record])).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Csv, output);

        var rows = ParseCsv(Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal(
        [
            record.Id, "2026-11-23T08:59:59.0000000Z", "action.password_reset", "succeeded", "", "agent-sub-1", "a***@h***.example",
            "", "", "", "", "", "", "", "", "", "2026-12-23T09:00:00.0000000Z",
        ], rows[1]);
    }

    [Fact]
    public async Task WriteAsync_Ndjson_HandsAPageOnInPiecesOfAboutFortyEightKilobytes_NotRecordByRecord()
    {
        var records = Enumerable.Range(0, 200).Select(Record).ToList();
        var output = new WriteSizeStream();

        var result = await new AuditExporter(new ListTrail(records)).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Ndjson, output);

        Assert.Equal((200, 1), (result.Rows, result.Pages));
        Assert.InRange(output.Writes.Count, 2, 10);
        Assert.All(output.Writes.SkipLast(1), size => Assert.InRange(size, 48 * 1024, 56 * 1024));
        Assert.Equal(1, output.Flushes);
    }

    [Fact]
    public async Task WriteAsync_NoRecords_CsvIsHeaderOnlyAndNdjsonEmpty()
    {
        var csv = new MemoryStream();
        var ndjson = new MemoryStream();

        var csvResult = await new AuditExporter(new ListTrail([])).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Csv, csv);
        await new AuditExporter(new ListTrail([])).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Ndjson, ndjson);

        Assert.Equal(0, csvResult.Rows);
        Assert.Equal(0, csvResult.Pages);
        Assert.Equal(string.Join(',', AuditExporter.CsvColumns) + "\r\n", Encoding.UTF8.GetString(csv.ToArray()));
        Assert.Equal(0, ndjson.Length);
    }

    [Fact]
    public async Task WriteAsync_Ndjson_EveryLineParsesToItsRecord()
    {
        var records = Enumerable.Range(0, 450).Select(Record).ToList();
        records[3] = records[3] with { Reason = "line\nbreak \"quoted\" <b>" };
        var output = new MemoryStream();

        await new AuditExporter(new ListTrail(records)).WriteAsync(Tenant, new AuditQuery(), AuditExportFormat.Ndjson, output);

        output.Position = 0;
        using var reader = new StreamReader(output, Encoding.UTF8);
        var parsed = new List<AuditRecord>();
        while (await reader.ReadLineAsync() is { } line)
        {
            using var json = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
            parsed.Add(json.RootElement.Deserialize<AuditRecord>(DocumentJson.Options)!);
        }

        Assert.Equal(records.Select(r => r.Id), parsed.Select(r => r.Id));
        Assert.Equal("line\nbreak \"quoted\" <b>", parsed[3].Reason);
        Assert.Equal(records[0], parsed[0] with { Agent = records[0].Agent, Caller = records[0].Caller });
        Assert.Equal(records[0].Caller, parsed[0].Caller);
    }

    internal static AuditRecord Record(int i) => new()
    {
        Id = (1_000_000_000_000_000_000L - i).ToString("D19", CultureInfo.InvariantCulture) + "-00112233aabbccdd",
        TenantId = Tenant,
        At = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero).AddSeconds(-i),
        Action = "action.password_reset",
        Outcome = AuditOutcome.Succeeded,
        Reason = null,
        Agent = new AuditAgent("agent-sub-" + i, "a***@h***.example"),
        Caller = new AuditCaller(new string('a', 64), "j***@e***.com"),
        Method = "okta.push",
        TicketRef = "INC-" + i,
        RequestId = "req-" + i,
        TraceId = "trace-" + i,
        ClientNet = "203.0.113.0/24",
        UaFamily = "Firefox",
        CompletedAt = new DateTimeOffset(2026, 11, 23, 9, 0, 1, TimeSpan.Zero),
        ExpireAt = new DateTimeOffset(2026, 12, 23, 9, 0, 0, TimeSpan.Zero),
    };

    /// <summary>A strict RFC 4180 reader, enough to see the cells as a spreadsheet would.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add([.. row]);
                row.Clear();
                i++;
            }
            else
            {
                cell.Append(c);
            }
        }

        Assert.False(quoted, "The CSV ends inside a quoted field.");
        Assert.Equal(0, cell.Length + row.Count);
        return rows;
    }

    /// <summary>
    /// Yields <c>total</c> records page by page without ever holding them all, and lets the test check the
    /// exporter's state each time a page is asked for.
    /// </summary>
    private sealed class GeneratedTrail(int total, Action<long>? beforePage = null) : IAuditTrail
    {
        private long _handedOut;

        public int Calls { get; private set; }

        public List<AuditQuery> Queries { get; } = [];

        public Task<AuditPage> QueryAsync(string tenantId, AuditQuery query, CancellationToken cancellationToken = default)
        {
            Assert.Equal(Tenant, tenantId);
            Calls++;
            Queries.Add(query);
            beforePage?.Invoke(_handedOut);
            var start = query.Cursor is null ? 0 : int.Parse(query.Cursor, CultureInfo.InvariantCulture);
            var count = Math.Min(query.PageSize, total - start);
            var records = Enumerable.Range(start, count).Select(Record).ToList();
            _handedOut += count;
            var next = start + count;
            return Task.FromResult(new AuditPage(records, next < total ? next.ToString(CultureInfo.InvariantCulture) : null));
        }

        public Task<AuditRecord> RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<AuditRecord?> RecordOnceAsync(AuditEntry entry, string occurrenceKey, DateTimeOffset occurredAt, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<PendingAudit> BeginAsync(AuditEntry entry, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CompleteAsync(PendingAudit pending, AuditOutcome outcome, string? reason, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }

    private sealed class ListTrail(IReadOnlyList<AuditRecord> records) : IAuditTrail
    {
        public Task<AuditPage> QueryAsync(string tenantId, AuditQuery query, CancellationToken cancellationToken = default)
        {
            var start = query.Cursor is null ? 0 : int.Parse(query.Cursor, CultureInfo.InvariantCulture);
            var page = records.Skip(start).Take(query.PageSize).ToList();
            var next = start + page.Count;
            return Task.FromResult(new AuditPage(page, next < records.Count ? next.ToString(CultureInfo.InvariantCulture) : null));
        }

        public Task<AuditRecord> RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<AuditRecord?> RecordOnceAsync(AuditEntry entry, string occurrenceKey, DateTimeOffset occurredAt, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<PendingAudit> BeginAsync(AuditEntry entry, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CompleteAsync(PendingAudit pending, AuditOutcome outcome, string? reason, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}

/// <summary>
/// A write-only stream that keeps nothing: it counts bytes and lines, refuses synchronous writes (as a
/// response body does) and throws when more than a bound is written between two flushes.
/// </summary>
internal sealed class CountingStream(long maxBytesBetweenFlushes) : Stream
{
    private long _sinceFlush;

    public long TotalBytes { get; private set; }

    public long Lines { get; private set; }

    public long Flushes { get; private set; }

    public long MaxBytesBetweenFlushes { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => TotalBytes;

    public override long Position { get => TotalBytes; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous writes are not allowed on a response body.");

    public override void Flush() => throw new InvalidOperationException("Synchronous flushes are not allowed on a response body.");

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var span = buffer.Span;
        TotalBytes += span.Length;
        Lines += span.Count((byte)'\n');
        _sinceFlush += span.Length;
        MaxBytesBetweenFlushes = Math.Max(MaxBytesBetweenFlushes, _sinceFlush);
        if (_sinceFlush > maxBytesBetweenFlushes)
        {
            throw new InvalidOperationException($"{_sinceFlush} bytes were buffered without a flush.");
        }

        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flushes++;
        _sinceFlush = 0;
        return Task.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Keeps the size of every write and counts flushes.</summary>
internal sealed class WriteSizeStream : Stream
{
    public List<int> Writes { get; } = [];

    public int Flushes { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Writes.Sum();

    public override long Position { get => Length; set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Writes.Add(buffer.Length);
        return ValueTask.CompletedTask;
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flushes++;
        return Task.CompletedTask;
    }

    public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous writes are not allowed on a response body.");

    public override void Flush() => throw new InvalidOperationException("Synchronous flushes are not allowed on a response body.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
