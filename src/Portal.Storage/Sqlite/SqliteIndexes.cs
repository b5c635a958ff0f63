using System.Text;

namespace Portal.Storage.Sqlite;

/// <summary>
/// The SQLite counterpart of deploy/cloudrun/firestore.indexes.json: one expression index for every field
/// the portal's queries filter or order on, so that every query the portal builds is a range scan of an
/// index and never a sort of a whole collection (docs/storage.md). An index holds only the documents that
/// have its fields (a partial index), so a field of one kind of document costs nothing to the others.
/// </summary>
/// <remarks>
/// A query with equality filters and an order uses the index that starts with one of its equality fields
/// and continues with the order field; further equality filters are checked on the rows that index yields.
/// A new query shape needs its index here; <c>SqliteQueryPlanTests</c> fails until it has one.
/// </remarks>
internal static class SqliteIndexes
{
    /// <summary>(equality field or null, order field or null) of every index.</summary>
    internal static readonly IReadOnlyList<(string? Equality, string? Order)> All =
    [
        // Audit: the auditor's page, the caller timeline and the export (newest first, optionally from/to).
        (null, "at"),
        ("action", "at"),
        ("outcome", "at"),
        ("agent.subjectId", "at"),
        ("caller.idHash", "at"),

        // API keys, newest first; look-up by hash.
        (null, "createdAt"),
        ("hash", null),

        // Pending approvals; the verifications of an agent session (sign-out).
        ("state", null),
        ("agentSessionId", null),

        // The sessions of one agent (the session cap at sign-in).
        ("subject", null),
    ];

    /// <summary>The SQL expression of a field; the same text in the query and in the index, or SQLite will not use it.</summary>
    internal static string Field(string fieldPath) => $"json_extract(data, '{SqliteDocumentStore.JsonPath(fieldPath)}')";

    internal static string Name((string? Equality, string? Order) index) =>
        "documents_by_" + string.Join("_", new[] { index.Equality, index.Order }.OfType<string>().Select(f => f.Replace('.', '_')));

    internal static string CreateStatements()
    {
        var sql = new StringBuilder();
        foreach (var index in All)
        {
            var fields = new[] { index.Equality, index.Order }.OfType<string>().Select(Field).ToList();
            sql.Append("CREATE INDEX IF NOT EXISTS ").Append(Name(index))
                .Append(" ON documents (collection, ").Append(string.Join(", ", fields)).Append(", id) WHERE ")
                .Append(string.Join(" AND ", fields.Select(f => f + " IS NOT NULL"))).AppendLine(";");
        }

        return sql.ToString();
    }
}
