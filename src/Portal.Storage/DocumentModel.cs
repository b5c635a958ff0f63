using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portal.Storage;

/// <summary>
/// A collection path such as <c>tenants/acme/audit</c> or <c>agentSessions</c>: an odd number of
/// segments, as in Firestore. Tenant data lives under <c>tenants/{tenantId}/…</c>.
/// </summary>
public readonly partial record struct CollectionPath
{
    public CollectionPath(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        var segments = value.Split('/');
        if (segments.Length % 2 == 0 || segments.Any(s => !SegmentPattern().IsMatch(s)))
        {
            throw new ArgumentException($"'{value}' is not a collection path (segments of [A-Za-z0-9_.-], an odd number of them).", nameof(value));
        }

        Value = value;
    }

    public string Value { get; }

    /// <summary>The collection <c>tenants/{tenantId}/{name}</c>.</summary>
    public static CollectionPath ForTenant(string tenantId, string name) => new($"tenants/{tenantId}/{name}");

    public override string ToString() => Value;

    [GeneratedRegex("^[A-Za-z0-9_.\\-]{1,200}$")]
    internal static partial Regex SegmentPattern();
}

/// <summary>The address of one document: its collection and its id.</summary>
public readonly record struct DocumentKey
{
    public DocumentKey(CollectionPath collection, string id)
    {
        if (string.IsNullOrEmpty(id) || !CollectionPath.SegmentPattern().IsMatch(id) || id is "." or "..")
        {
            throw new ArgumentException("A document id is 1-200 characters of [A-Za-z0-9_.-].", nameof(id));
        }

        Collection = collection;
        Id = id;
    }

    public CollectionPath Collection { get; }

    public string Id { get; }

    public override string ToString() => $"{Collection.Value}/{Id}";
}

/// <summary>A document as stored: its data, its expiry and an opaque version used for optimistic checks.</summary>
public sealed record StoredDocument(DocumentKey Key, JsonObject Data, DateTimeOffset? ExpireAt, string Version);

/// <summary>One write of <see cref="IDocumentStore.SetManyAsync"/>: a document and its expiry.</summary>
public sealed record DocumentWrite(DocumentKey Key, JsonObject Data, DateTimeOffset? ExpireAt);

/// <summary>What an <see cref="IDocumentStore.UpdateAsync{TResult}"/> mutation decided.</summary>
public sealed record DocumentMutation<TResult>(DocumentMutationKind Kind, JsonObject? Data, DateTimeOffset? ExpireAt, TResult Result)
{
    /// <summary>Leave the document as it is and return <paramref name="result"/>.</summary>
    public static DocumentMutation<TResult> Keep(TResult result) => new(DocumentMutationKind.None, null, null, result);

    /// <summary>Write <paramref name="data"/> (create or replace) and return <paramref name="result"/>.</summary>
    public static DocumentMutation<TResult> Write(JsonObject data, DateTimeOffset? expireAt, TResult result) => new(DocumentMutationKind.Write, data, expireAt, result);

    /// <summary>Delete the document and return <paramref name="result"/>.</summary>
    public static DocumentMutation<TResult> Delete(TResult result) => new(DocumentMutationKind.Delete, null, null, result);
}

public enum DocumentMutationKind
{
    None,
    Write,
    Delete,
}

/// <summary>The comparison of a query filter.</summary>
public enum FilterOperator
{
    Equal,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

/// <summary>
/// One filter on a field path (dot-separated, e.g. <c>caller.idHash</c>). Values are strings, numbers,
/// booleans or timestamps (<see cref="DateTimeOffset"/>, stored as ISO-8601 UTC strings with a fixed
/// width so that they order correctly as text).
/// </summary>
public sealed record FieldFilter(string FieldPath, FilterOperator Operator, object Value);

/// <summary>The order of a query's results.</summary>
public sealed record FieldOrder(string FieldPath, bool Descending);

/// <summary>
/// A query over one collection. <see cref="StartAfter"/> is a cursor: the order-field value and the
/// document id of the last document of the previous page (ties broken by id, as Firestore does).
/// </summary>
public sealed record DocumentQuery(CollectionPath Collection)
{
    public IReadOnlyList<FieldFilter> Filters { get; init; } = [];

    public FieldOrder? OrderBy { get; init; }

    public int? Limit { get; init; }

    public QueryCursor? StartAfter { get; init; }
}

/// <summary>Where the previous page ended: the value of the order field and the document id.</summary>
public sealed record QueryCursor(object OrderValue, string DocumentId);
