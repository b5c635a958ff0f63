using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Portal.Storage.Sqlite;

/// <summary>
/// The embedded backend: every document is a row of one table in a SQLite file. Several instances (and
/// several processes) may share the file: WAL lets readers run beside a writer, and every
/// read-modify-write takes the write lock up front (BEGIN IMMEDIATE) so that two updates of the same
/// document are serialised instead of both reading the same version.
/// </summary>
internal sealed partial class SqliteDocumentStore : IDocumentStore, IExpiredDocumentPurge, IDisposable
{
    private const int BusyTimeoutMilliseconds = 30_000;

    /// <summary>Documents written per transaction by <see cref="SetManyAsync"/>.</summary>
    private const int SetManyChunk = 5_000;

    /// <summary>Expired documents deleted per write transaction by a purge.</summary>
    internal const int PurgeBatch = 1_000;

    /// <summary>The schema this version writes (<c>PRAGMA user_version</c>); 0 is the first, index-less one.</summary>
    internal const int SchemaVersion = 2;

    private static readonly TimeSpan PurgePause = TimeSpan.FromMilliseconds(5);

    private readonly string _connectionString;
    private readonly TimeProvider _clock;

    public SqliteDocumentStore(string databasePath, TimeProvider clock)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        _clock = clock;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMilliseconds / 1000,
        }.ToString();
        EnsureSchema();
    }

    public async Task<StoredDocument?> GetAsync(DocumentKey key, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data, expire_at, version FROM documents WHERE collection = $collection AND id = $id AND (expire_at IS NULL OR expire_at > $now)";
        AddKey(command, key);
        command.Parameters.AddWithValue("$now", Now());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDocument(key, reader, 0) : null;
    }

    public async Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // An expired row is as good as absent: it is replaced, so retention never blocks a new document.
        command.CommandText = """
            INSERT INTO documents (collection, id, data, expire_at, version) VALUES ($collection, $id, $data, $expireAt, 1)
            ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data, expire_at = excluded.expire_at, version = documents.version + 1
            WHERE documents.expire_at IS NOT NULL AND documents.expire_at <= $now
            """;
        AddKey(command, key);
        AddBody(command, data, expireAt);
        command.Parameters.AddWithValue("$now", Now());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task SetAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO documents (collection, id, data, expire_at, version) VALUES ($collection, $id, $data, $expireAt, 1)
            ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data, expire_at = excluded.expire_at, version = documents.version + 1
            """;
        AddKey(command, key);
        AddBody(command, data, expireAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SetManyAsync(IReadOnlyList<DocumentWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        // Chunks of a bounded size, each one transaction: a bulk load never holds the write lock for long.
        for (var start = 0; start < writes.Count; start += SetManyChunk)
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = connection.BeginTransaction(deferred: false);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO documents (collection, id, data, expire_at, version) VALUES ($collection, $id, $data, $expireAt, 1)
                ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data, expire_at = excluded.expire_at, version = documents.version + 1
                """;
            var collection = command.Parameters.Add("$collection", SqliteType.Text);
            var id = command.Parameters.Add("$id", SqliteType.Text);
            var data = command.Parameters.Add("$data", SqliteType.Text);
            var expireAt = command.Parameters.Add("$expireAt", SqliteType.Text);
            command.Prepare();
            foreach (var write in writes.Skip(start).Take(SetManyChunk))
            {
                ArgumentNullException.ThrowIfNull(write.Data);
                collection.Value = write.Key.Collection.Value;
                id.Value = write.Key.Id;
                data.Value = write.Data.ToJsonString();
                expireAt.Value = write.ExpireAt is { } e ? DocumentJson.FormatTimestamp(e) : DBNull.Value;
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }

    public async Task<TResult> UpdateAsync<TResult>(DocumentKey key, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mutate);
        await using var connection = await OpenAsync(cancellationToken);
        // BeginTransaction() is BEGIN IMMEDIATE: the write lock is taken before the read, so no other
        // connection (in this process or another) can read the same version and write after us.
        await using var transaction = connection.BeginTransaction(deferred: false);

        long? rowVersion = null;
        StoredDocument? current = null;
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT data, expire_at, version FROM documents WHERE collection = $collection AND id = $id";
            AddKey(read, key);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                rowVersion = reader.GetInt64(2);
                var document = ReadDocument(key, reader, 0);
                current = document.ExpireAt is { } expiry && expiry <= _clock.GetUtcNow() ? null : document;
            }
        }

        var mutation = mutate(current);
        switch (mutation.Kind)
        {
            case DocumentMutationKind.Write:
                var data = mutation.Data ?? throw new InvalidOperationException("A Write mutation needs data.");
                await using (var write = connection.CreateCommand())
                {
                    write.Transaction = transaction;
                    write.CommandText = """
                        INSERT INTO documents (collection, id, data, expire_at, version) VALUES ($collection, $id, $data, $expireAt, $version)
                        ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data, expire_at = excluded.expire_at, version = excluded.version
                        """;
                    AddKey(write, key);
                    AddBody(write, data, mutation.ExpireAt);
                    write.Parameters.AddWithValue("$version", (rowVersion ?? 0) + 1);
                    await write.ExecuteNonQueryAsync(cancellationToken);
                }

                break;
            case DocumentMutationKind.Delete when rowVersion is not null:
                await using (var delete = connection.CreateCommand())
                {
                    delete.Transaction = transaction;
                    delete.CommandText = "DELETE FROM documents WHERE collection = $collection AND id = $id";
                    AddKey(delete, key);
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                break;
            default:
                break;
        }

        await transaction.CommitAsync(cancellationToken);
        return mutation.Result;
    }

    public async Task DeleteAsync(DocumentKey key, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM documents WHERE collection = $collection AND id = $id";
        AddKey(command, key);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async IAsyncEnumerable<StoredDocument> QueryAsync(DocumentQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(query), "A query limit is at least 1.");
        }

        var results = new List<StoredDocument>();
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var command = connection.CreateCommand())
        {
            BuildQuery(command, query);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = new DocumentKey(query.Collection, reader.GetString(0));
                results.Add(ReadDocument(key, reader, 1));
            }
        }

        // The rows are read to the end before the first is handed out, so that a caller who writes while
        // iterating never holds a read snapshot open across its own writes.
        foreach (var document in results)
        {
            yield return document;
        }
    }

    public Task<int> PurgeExpiredAsync(CollectionPath collection, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        PurgeInBatchesAsync(
            "DELETE FROM documents WHERE (collection, id) IN (SELECT collection, id FROM documents WHERE collection = $collection AND expire_at <= $now LIMIT $batch)",
            collection.Value,
            now,
            cancellationToken);

    public Task<int> PurgeAllExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        PurgeInBatchesAsync(
            "DELETE FROM documents WHERE (collection, id) IN (SELECT collection, id FROM documents WHERE expire_at <= $now LIMIT $batch)",
            null,
            now,
            cancellationToken);

    /// <summary>
    /// The plan SQLite chooses for <paramref name="query"/> (<c>EXPLAIN QUERY PLAN</c>, one line per step),
    /// so a test can prove that every query the portal builds is an index range scan.
    /// </summary>
    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "A constant prefix on the query BuildQuery made.")]
    internal async Task<IReadOnlyList<string>> ExplainAsync(DocumentQuery query, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        BuildQuery(command, query);
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }

    /// <summary>The plan of the purge's batch (see <see cref="ExplainAsync(DocumentQuery, CancellationToken)"/>).</summary>
    internal async Task<IReadOnlyList<string>> ExplainPurgeAsync(bool oneCollection, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + (oneCollection
            ? "DELETE FROM documents WHERE (collection, id) IN (SELECT collection, id FROM documents WHERE collection = $collection AND expire_at <= $now LIMIT $batch)"
            : "DELETE FROM documents WHERE (collection, id) IN (SELECT collection, id FROM documents WHERE expire_at <= $now LIMIT $batch)");
        command.Parameters.AddWithValue("$collection", "c");
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$batch", PurgeBatch);
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }

    /// <summary>
    /// Deletes in batches of <see cref="PurgeBatch"/>, each its own short write transaction, so a purge of a
    /// million expired records never blocks the portal's writes for longer than one batch takes.
    /// </summary>
    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Called with the two constant purge statements only; values are bound.")]
    private async Task<int> PurgeInBatchesAsync(string sql, string? collection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var total = 0;
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (collection is not null)
        {
            command.Parameters.AddWithValue("$collection", collection);
        }

        command.Parameters.AddWithValue("$now", DocumentJson.FormatTimestamp(now));
        command.Parameters.AddWithValue("$batch", PurgeBatch);
        while (true)
        {
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < PurgeBatch)
            {
                return total;
            }

            // Let a waiting writer (another connection, another instance) take the lock between batches.
            await Task.Delay(PurgePause, cancellationToken);
        }
    }

    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>The JSON path of a field, after checking it is a plain dotted path: it is the only query input that is not a value.</summary>
    internal static string JsonPath(string fieldPath)
    {
        if (string.IsNullOrEmpty(fieldPath) || !FieldPathPattern().IsMatch(fieldPath))
        {
            throw new ArgumentException($"'{fieldPath}' is not a field path (dot-separated names of [A-Za-z0-9_], each starting with a letter).", nameof(fieldPath));
        }

        return "$." + fieldPath;
    }

    /// <summary>A filter or cursor value as SQLite compares it to what json_extract returns.</summary>
    internal static object SqlValue(object value) => value switch
    {
        string s => s,
        bool b => b ? 1L : 0L,
        int i => (long)i,
        long l => l,
        double d => d,
        float f => (double)f,
        decimal m => (double)m,
        DateTimeOffset t => DocumentJson.FormatTimestamp(t),
        DateTime t => DocumentJson.FormatTimestamp(new DateTimeOffset(DateTime.SpecifyKind(t, t.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : t.Kind))),
        _ => throw new ArgumentException($"A query value of type {value?.GetType().Name ?? "null"} is not supported (string, bool, number or DateTimeOffset).", nameof(value)),
    };

    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Field paths are written as literals only after JsonPath has checked them; every value is a bound parameter.")]
    private void BuildQuery(SqliteCommand command, DocumentQuery query)
    {
        // Field paths are written into the SQL as literals (after JsonPath has checked them), never bound as
        // parameters: SQLite only uses an expression index when the query's expression is the index's,
        // character for character (see SqliteIndexes).
        var sql = new StringBuilder("SELECT id, data, expire_at, version FROM documents WHERE collection = $collection AND (expire_at IS NULL OR expire_at > $now)");
        command.Parameters.AddWithValue("$collection", query.Collection.Value);
        command.Parameters.AddWithValue("$now", Now());

        for (var i = 0; i < query.Filters.Count; i++)
        {
            var filter = query.Filters[i];
            var op = filter.Operator switch
            {
                FilterOperator.Equal => "=",
                FilterOperator.LessThan => "<",
                FilterOperator.LessThanOrEqual => "<=",
                FilterOperator.GreaterThan => ">",
                FilterOperator.GreaterThanOrEqual => ">=",
                _ => throw new ArgumentException($"Unknown filter operator {filter.Operator}.", nameof(query)),
            };
            sql.Append(CultureInfo.InvariantCulture, $" AND {SqliteIndexes.Field(filter.FieldPath)} {op} $v{i}");
            command.Parameters.AddWithValue($"$v{i}", SqlValue(filter.Value));
        }

        if (query.OrderBy is { } order)
        {
            var direction = order.Descending ? "DESC" : "ASC";
            var field = SqliteIndexes.Field(order.FieldPath);

            // As in Firestore, a document without the order field is not part of an ordered query. The
            // portal never stores a JSON null (DocumentJson leaves nulls out), so IS NOT NULL is that test, and
            // it is also what lets SQLite use a partial index of the field.
            sql.Append(CultureInfo.InvariantCulture, $" AND {field} IS NOT NULL");
            if (query.StartAfter is { } cursor)
            {
                // A keyset cursor in two terms: the first is a range on the index (the page starts where the
                // last one ended, however deep), the second skips the ties already returned.
                var (bound, after) = order.Descending ? ("<=", "<") : (">=", ">");
                sql.Append(CultureInfo.InvariantCulture, $" AND {field} {bound} $cursorValue AND ({field} {after} $cursorValue OR id {after} $cursorId)");
                command.Parameters.AddWithValue("$cursorValue", SqlValue(cursor.OrderValue));
                command.Parameters.AddWithValue("$cursorId", cursor.DocumentId);
            }

            sql.Append(CultureInfo.InvariantCulture, $" ORDER BY {field} {direction}, id {direction}");
        }
        else
        {
            if (query.StartAfter is { } cursor)
            {
                sql.Append(" AND id > $cursorId");
                command.Parameters.AddWithValue("$cursorId", cursor.DocumentId);
            }

            sql.Append(" ORDER BY id ASC");
        }

        if (query.Limit is { } limit)
        {
            sql.Append(" LIMIT $limit");
            command.Parameters.AddWithValue("$limit", limit);
        }

        command.CommandText = sql.ToString();
    }

    private static StoredDocument ReadDocument(DocumentKey key, SqliteDataReader reader, int firstColumn)
    {
        // The column's UTF-8 bytes as SQLite holds them: no UTF-16 string of every document read.
        var data = JsonNode.Parse(reader.GetFieldValue<byte[]>(firstColumn)) as JsonObject
            ?? throw new InvalidOperationException($"The stored document {key} is not a JSON object.");
        DateTimeOffset? expireAt = reader.IsDBNull(firstColumn + 1)
            ? null
            : DateTimeOffset.ParseExact(reader.GetString(firstColumn + 1), DocumentJson.TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        var version = reader.GetInt64(firstColumn + 2).ToString(CultureInfo.InvariantCulture);
        return new StoredDocument(key, data, expireAt, version);
    }

    private static void AddKey(SqliteCommand command, DocumentKey key)
    {
        command.Parameters.AddWithValue("$collection", key.Collection.Value);
        command.Parameters.AddWithValue("$id", key.Id);
    }

    private static void AddBody(SqliteCommand command, JsonObject data, DateTimeOffset? expireAt)
    {
        command.Parameters.AddWithValue("$data", data.ToJsonString());
        command.Parameters.AddWithValue("$expireAt", expireAt is { } e ? DocumentJson.FormatTimestamp(e) : DBNull.Value);
    }

    private string Now() => DocumentJson.FormatTimestamp(_clock.GetUtcNow());

    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "A constant integer in a PRAGMA.")]
    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            // SQLite waits for another connection's write lock instead of failing at once.
            command.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds};";
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates the table, or brings a file of an earlier version up to this one: every step is idempotent
    /// (IF NOT EXISTS), so a file of any earlier version, or one another instance is upgrading at the same
    /// moment, ends up the same. A file of a later version is refused rather than half understood.
    /// </summary>
    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The schema, with the code's own constants.")]
    private void EnsureSchema()
    {
        using var connection = OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        using (var version = connection.CreateCommand())
        {
            version.CommandText = "PRAGMA user_version;";
            var found = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (found > SchemaVersion)
            {
                throw new InvalidOperationException($"The SQLite file (Portal:Storage:Sqlite) has schema version {found}, written by a later portal version; this version understands up to {SchemaVersion}.");
            }
        }

        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            CREATE TABLE IF NOT EXISTS documents (
                collection TEXT NOT NULL,
                id TEXT NOT NULL,
                data TEXT NOT NULL,
                expire_at TEXT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (collection, id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS documents_expiry ON documents (collection, expire_at);
            CREATE INDEX IF NOT EXISTS documents_expire_at ON documents (expire_at) WHERE expire_at IS NOT NULL;
            {SqliteIndexes.CreateStatements()}
            PRAGMA user_version = {SchemaVersion};
            """;
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z][A-Za-z0-9_]*)*$")]
    private static partial Regex FieldPathPattern();
}
