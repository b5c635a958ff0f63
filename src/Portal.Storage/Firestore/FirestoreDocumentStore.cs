using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portal.Storage.Firestore;

/// <summary>
/// The production backend: each portal document is a Firestore document at the same path. The data's
/// fields are the document's fields; the store adds one field of its own, <c>_expireAt</c>, a Firestore
/// timestamp that the TTL policy deletes by. Reads and queries ignore expired documents themselves,
/// because TTL deletion lags by up to a day (and the emulator never deletes). Every read-modify-write is a
/// Firestore transaction that is re-run from the read on contention, never a blind re-send of a write.
/// </summary>
internal sealed partial class FirestoreDocumentStore : IDocumentStore, IExpiredDocumentPurge
{
    /// <summary>The store's own expiry field; the TTL policy in deploy/cloudrun/firestore.indexes.json names it.</summary>
    internal const string ExpiryField = "_expireAt";

    private const int PageSize = 300;

    /// <summary>Firestore's limit of writes in one commit.</summary>
    private const int MaxWritesPerCommit = 500;
    private const int MaxTransactionAttempts = 40;
    private static readonly TimeSpan BaseBackoff = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RollbackTimeout = TimeSpan.FromSeconds(5);

    private readonly FirestoreRestClient _client;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim[] _gates = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public FirestoreDocumentStore(FirestoreRestClient client, TimeProvider clock)
    {
        _client = client;
        _clock = clock;
    }

    public async Task<StoredDocument?> GetAsync(DocumentKey key, CancellationToken cancellationToken = default)
    {
        var raw = await _client.GetDocumentAsync(_client.Target.DocumentName(key), cancellationToken);
        return raw is null ? null : Live(key, raw);
    }

    public async Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var write = UpdateWrite(key, data, expireAt);
        write["currentDocument"] = new JsonObject { ["exists"] = false };
        try
        {
            await _client.CommitAsync([write], null, cancellationToken);
            return true;
        }
        catch (FirestoreException ex) when (ex.Status is "ALREADY_EXISTS" or "FAILED_PRECONDITION")
        {
            // Something is there; an expired document is as good as absent, which only a transaction can decide.
            return await UpdateAsync(
                key,
                current => current is null ? DocumentMutation<bool>.Write(data, expireAt, true) : DocumentMutation<bool>.Keep(false),
                cancellationToken);
        }
    }

    public async Task SetAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        await _client.CommitAsync([UpdateWrite(key, data, expireAt)], null, cancellationToken);
    }

    public async Task SetManyAsync(IReadOnlyList<DocumentWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        // A commit takes at most 500 writes; each commit is atomic, and unlike batchWrite it reports a failure
        // for the whole chunk instead of per write, so nothing is silently half-written within a chunk.
        foreach (var chunk in writes.Chunk(MaxWritesPerCommit))
        {
            await _client.CommitAsync(chunk.Select(w => UpdateWrite(w.Key, w.Data, w.ExpireAt)), null, cancellationToken);
        }
    }

    public async Task<TResult> UpdateAsync<TResult>(DocumentKey key, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mutate);
        var name = _client.Target.DocumentName(key);
        // Updates of one document from this instance queue here instead of in Firestore: concurrent
        // transactions on one document deadlock on their read locks until Firestore aborts one of them.
        var gate = _gates[(int)((uint)StringComparer.Ordinal.GetHashCode(name) % (uint)_gates.Length)];
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await UpdateInTransactionAsync(key, name, mutate, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task DeleteAsync(DocumentKey key, CancellationToken cancellationToken = default) =>
        await _client.CommitAsync([new JsonObject { ["delete"] = _client.Target.DocumentName(key) }], null, cancellationToken);

    private async Task<TResult> UpdateInTransactionAsync<TResult>(DocumentKey key, string name, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var transaction = await _client.BeginTransactionAsync(cancellationToken);
            try
            {
                var raw = await _client.GetInTransactionAsync(name, transaction, cancellationToken);
                var mutation = mutate(raw is null ? null : Live(key, raw));
                switch (mutation.Kind)
                {
                    case DocumentMutationKind.Write:
                        var data = mutation.Data ?? throw new InvalidOperationException("A Write mutation needs data.");
                        await _client.CommitAsync([UpdateWrite(key, data, mutation.ExpireAt)], transaction, cancellationToken);
                        return mutation.Result;
                    case DocumentMutationKind.Delete when raw is not null:
                        await _client.CommitAsync([new JsonObject { ["delete"] = name }], transaction, cancellationToken);
                        return mutation.Result;
                    default:
                        // Nothing to write: release the transaction's locks at once instead of at its timeout.
                        await TryRollbackAsync(transaction);
                        return mutation.Result;
                }
            }
            catch (FirestoreException ex) when (ex.Status == "ABORTED" && attempt < MaxTransactionAttempts)
            {
                // Contention: another transaction won. The whole read-mutate-commit runs again on fresh data.
                await TryRollbackAsync(transaction);
                await Task.Delay(Backoff(attempt), cancellationToken);
            }
            catch
            {
                await TryRollbackAsync(transaction);
                throw;
            }
        }
    }

    public async IAsyncEnumerable<StoredDocument> QueryAsync(DocumentQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(query), "A query limit is at least 1.");
        }

        var (parent, collectionId) = Split(query.Collection);
        var pageSize = Math.Min(query.Limit ?? PageSize, PageSize);
        var remaining = query.Limit ?? int.MaxValue;
        var orderPath = query.OrderBy is { } order ? FieldPath(order.FieldPath) : null;
        var descending = query.OrderBy?.Descending ?? false;
        JsonArray? cursor = query.StartAfter is { } start ? InitialCursor(query, start, orderPath) : null;

        while (true)
        {
            var structured = new JsonObject { ["from"] = new JsonArray(new JsonObject { ["collectionId"] = collectionId }) };
            if (Where(query.Filters) is { } where)
            {
                structured["where"] = where;
            }

            structured["orderBy"] = OrderBy(orderPath, descending);
            if (cursor is not null)
            {
                structured["startAt"] = new JsonObject { ["values"] = cursor, ["before"] = false };
            }

            structured["limit"] = pageSize;
            var page = await _client.RunQueryAsync(parent, structured, cancellationToken);
            foreach (var raw in page)
            {
                var key = new DocumentKey(query.Collection, raw.Name[(raw.Name.LastIndexOf('/') + 1)..]);
                // Expired documents are skipped here, and the page is refilled from the last one read, so a
                // limit still yields that many live documents whatever TTL has not yet deleted.
                if (Live(key, raw) is { } document)
                {
                    yield return document;
                    if (--remaining == 0)
                    {
                        yield break;
                    }
                }
            }

            if (page.Count < pageSize)
            {
                yield break;
            }

            cursor = CursorAfter(page[^1], orderPath);
        }
    }

    public Task<int> PurgeExpiredAsync(CollectionPath collection, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var (parent, collectionId) = Split(collection);
        return PurgeAsync(parent, collectionId, allDescendants: false, now, cancellationToken);
    }

    /// <summary>
    /// Deletes expired documents in every collection the portal uses: the top-level collections and those
    /// under each <c>tenants/{id}</c>, found by listing them, each purged with a collection-group query.
    /// </summary>
    public async Task<int> PurgeAllExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var collectionIds = new SortedSet<string>(await _client.ListCollectionIdsAsync(string.Empty, cancellationToken), StringComparer.Ordinal);
        if (collectionIds.Contains("tenants"))
        {
            foreach (var tenant in await _client.ListDocumentIdsAsync("tenants", cancellationToken))
            {
                collectionIds.UnionWith(await _client.ListCollectionIdsAsync("tenants/" + tenant, cancellationToken));
            }
        }

        var deleted = 0;
        foreach (var collectionId in collectionIds)
        {
            deleted += await PurgeAsync(string.Empty, collectionId, allDescendants: true, now, cancellationToken);
        }

        return deleted;
    }

    /// <summary>A field path of the query API: dotted names only, as in the SQLite backend.</summary>
    internal static string FieldPath(string fieldPath)
    {
        if (string.IsNullOrEmpty(fieldPath) || !FieldPathPattern().IsMatch(fieldPath))
        {
            throw new ArgumentException($"'{fieldPath}' is not a field path (dot-separated names of [A-Za-z0-9_], each starting with a letter).", nameof(fieldPath));
        }

        return fieldPath;
    }

    private async Task<int> PurgeAsync(string parent, string collectionId, bool allDescendants, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var deleted = 0;
        JsonArray? cursor = null;
        while (true)
        {
            var from = new JsonObject { ["collectionId"] = collectionId };
            if (allDescendants)
            {
                from["allDescendants"] = true;
            }

            var structured = new JsonObject
            {
                ["from"] = new JsonArray(from),
                ["where"] = FieldFilter(ExpiryField, "LESS_THAN_OR_EQUAL", FirestoreValues.Timestamp(now)),
                ["orderBy"] = new JsonArray(Order(ExpiryField, false), Order("__name__", false)),
                ["limit"] = PageSize,
            };
            if (cursor is not null)
            {
                structured["startAt"] = new JsonObject { ["values"] = cursor, ["before"] = false };
            }

            var page = await _client.RunQueryAsync(parent, structured, cancellationToken);
            if (page.Count > 0)
            {
                // Each delete holds only if the document is still the expired version read here: one renewed
                // meanwhile (a session extended, a key re-created) is left alone.
                var writes = page.Select(raw => new JsonObject
                {
                    ["delete"] = raw.Name,
                    ["currentDocument"] = new JsonObject { ["updateTime"] = raw.UpdateTime },
                }).ToList();
                var statuses = await _client.BatchWriteAsync(writes, cancellationToken);
                deleted += statuses.Count(s => s.Applied);
            }

            if (page.Count < PageSize)
            {
                return deleted;
            }

            var last = page[^1];
            cursor = new JsonArray(last.Fields[ExpiryField]!.DeepClone(), Reference(last.Name));
        }
    }

    private StoredDocument? Live(DocumentKey key, FirestoreDocument raw)
    {
        var fields = raw.Fields.DeepClone().AsObject();
        DateTimeOffset? expireAt = null;
        if (fields[ExpiryField] is JsonObject expiry)
        {
            fields.Remove(ExpiryField);
            expireAt = FirestoreValues.ParseTimestamp(expiry["timestampValue"]?.GetValue<string>() ?? throw new FormatException($"{ExpiryField} is not a timestamp."));
            if (expireAt <= _clock.GetUtcNow())
            {
                return null;
            }
        }

        return new StoredDocument(key, FirestoreValues.FromFields(fields), expireAt, raw.UpdateTime);
    }

    private JsonObject UpdateWrite(DocumentKey key, JsonObject data, DateTimeOffset? expireAt)
    {
        // The store owns this field; a document of the same name would be lost or, worse, set the expiry.
        if (data.ContainsKey(ExpiryField))
        {
            throw new ArgumentException($"A document may not have a top-level field named {ExpiryField}: the Firestore store keeps the expiry there.", nameof(data));
        }

        var fields = FirestoreValues.ToFields(data);
        if (expireAt is { } expiry)
        {
            fields[ExpiryField] = FirestoreValues.Timestamp(expiry);
        }

        return new JsonObject { ["update"] = new JsonObject { ["name"] = _client.Target.DocumentName(key), ["fields"] = fields } };
    }

    private JsonArray InitialCursor(DocumentQuery query, QueryCursor start, string? orderPath)
    {
        var name = _client.Target.DocumentName(new DocumentKey(query.Collection, start.DocumentId));
        return orderPath is null
            ? new JsonArray(Reference(name))
            : new JsonArray(FirestoreValues.FilterValue(start.OrderValue), Reference(name));
    }

    private static JsonArray CursorAfter(FirestoreDocument last, string? orderPath)
    {
        if (orderPath is null)
        {
            return new JsonArray(Reference(last.Name));
        }

        JsonNode? value = null;
        var fields = last.Fields;
        foreach (var segment in orderPath.Split('.'))
        {
            value = fields?[segment];
            fields = value?["mapValue"]?["fields"] as JsonObject;
        }

        return new JsonArray(value?.DeepClone() ?? throw new FormatException("An ordered query returned a document without the order field."), Reference(last.Name));
    }

    private static JsonObject? Where(IReadOnlyList<FieldFilter> filters)
    {
        var converted = filters.Select(filter => FieldFilter(FieldPath(filter.FieldPath), Operator(filter.Operator), FirestoreValues.FilterValue(filter.Value))).ToList();
        return converted.Count switch
        {
            0 => null,
            1 => converted[0],
            _ => new JsonObject { ["compositeFilter"] = new JsonObject { ["op"] = "AND", ["filters"] = new JsonArray([.. converted]) } },
        };
    }

    private static JsonArray OrderBy(string? orderPath, bool descending)
    {
        // Ties are broken by document id in the same direction, as Firestore itself does, so that a cursor of
        // (value, id) resumes exactly after the last document of a page.
        return orderPath is null
            ? new JsonArray(Order("__name__", false))
            : new JsonArray(Order(orderPath, descending), Order("__name__", descending));
    }

    private static JsonObject Order(string fieldPath, bool descending) =>
        new() { ["field"] = new JsonObject { ["fieldPath"] = fieldPath }, ["direction"] = descending ? "DESCENDING" : "ASCENDING" };

    private static JsonObject FieldFilter(string fieldPath, string op, JsonObject value) =>
        new() { ["fieldFilter"] = new JsonObject { ["field"] = new JsonObject { ["fieldPath"] = fieldPath }, ["op"] = op, ["value"] = value } };

    private static string Operator(FilterOperator op) => op switch
    {
        FilterOperator.Equal => "EQUAL",
        FilterOperator.LessThan => "LESS_THAN",
        FilterOperator.LessThanOrEqual => "LESS_THAN_OR_EQUAL",
        FilterOperator.GreaterThan => "GREATER_THAN",
        FilterOperator.GreaterThanOrEqual => "GREATER_THAN_OR_EQUAL",
        _ => throw new ArgumentException($"Unknown filter operator {op}.", nameof(op)),
    };

    private static JsonObject Reference(string name) => new() { ["referenceValue"] = name };

    private static (string Parent, string CollectionId) Split(CollectionPath collection)
    {
        var slash = collection.Value.LastIndexOf('/');
        return slash < 0 ? (string.Empty, collection.Value) : (collection.Value[..slash], collection.Value[(slash + 1)..]);
    }

    /// <summary>Full jitter: contending instances spread out instead of colliding again in step.</summary>
    private static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(MaxBackoff.TotalMilliseconds, BaseBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 10)));
        return TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(1, (int)ceiling + 1));
    }

    private async Task TryRollbackAsync(string transaction)
    {
        using var timeout = new CancellationTokenSource(RollbackTimeout);
        try
        {
            await _client.RollbackAsync(transaction, timeout.Token);
        }
        catch (Exception ex) when (ex is FirestoreException or OperationCanceledException)
        {
            // The transaction is already over (committed, aborted or expired); Firestore releases it anyway.
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z][A-Za-z0-9_]*)*$")]
    private static partial Regex FieldPathPattern();
}
