using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portal.Storage.Firestore;

/// <summary>Where the documents live: a project, a database, and Firestore itself or a local emulator.</summary>
internal sealed partial record FirestoreTarget
{
    public FirestoreTarget(string projectId, string databaseId, string? emulatorHost)
    {
        // The ids become URL path segments: anything else could address another project's data.
        if (string.IsNullOrWhiteSpace(projectId) || !IdPattern().IsMatch(projectId))
        {
            throw new ArgumentException("Portal:Storage:Firestore:ProjectId must be a Google Cloud project id.", nameof(projectId));
        }

        if (databaseId != "(default)" && !IdPattern().IsMatch(databaseId))
        {
            throw new ArgumentException("Portal:Storage:Firestore:DatabaseId must be (default) or a Firestore database id.", nameof(databaseId));
        }

        if (emulatorHost is not null && !HostPortPattern().IsMatch(emulatorHost))
        {
            throw new ArgumentException("Portal:Storage:Firestore:EmulatorHost (or FIRESTORE_EMULATOR_HOST) must be host:port.", nameof(emulatorHost));
        }

        ProjectId = projectId;
        DatabaseId = databaseId;
        EmulatorHost = emulatorHost;
    }

    public string ProjectId { get; }

    public string DatabaseId { get; }

    public string? EmulatorHost { get; }

    public bool IsEmulator => EmulatorHost is not null;

    public Uri BaseAddress => IsEmulator ? new Uri($"http://{EmulatorHost}/") : new Uri("https://firestore.googleapis.com/");

    /// <summary><c>projects/{p}/databases/{d}</c>.</summary>
    public string DatabasePath => $"projects/{ProjectId}/databases/{DatabaseId}";

    /// <summary><c>projects/{p}/databases/{d}/documents</c>, the root of every document name.</summary>
    public string DocumentsPath => DatabasePath + "/documents";

    public string DocumentName(DocumentKey key) => $"{DocumentsPath}/{key.Collection.Value}/{key.Id}";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,98}[a-z0-9]$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z0-9.\\-]+:[0-9]{1,5}$|^\\[[0-9A-Fa-f:]+\\]:[0-9]{1,5}$")]
    private static partial Regex HostPortPattern();
}

/// <summary>A document as Firestore returns it: its full name, its fields and its update time.</summary>
internal sealed record FirestoreDocument(string Name, JsonObject Fields, string UpdateTime);

/// <summary>The result of one write of a <c>batchWrite</c>: applied, or refused with a status code.</summary>
internal sealed record FirestoreWriteStatus(int Code)
{
    public bool Applied => Code == 0;
}

/// <summary>
/// A small client for the Firestore REST v1 API: documents, transactions, commits and structured
/// queries. It never retries: a commit that may have been applied must not be sent twice blindly, so
/// retrying is left to <see cref="FirestoreDocumentStore"/>, which re-runs whole transactions on contention.
/// </summary>
internal sealed class FirestoreRestClient
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;

    public FirestoreRestClient(HttpClient http, FirestoreTarget target)
    {
        _http = http;
        Target = target;
        _http.BaseAddress ??= target.BaseAddress;
    }

    public FirestoreTarget Target { get; }

    public async Task<FirestoreDocument?> GetDocumentAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var body = await SendAsync(HttpMethod.Get, $"v1/{name}", null, "get", cancellationToken);
            return ReadDocument(body.AsObject());
        }
        catch (FirestoreException ex) when (ex.Status == "NOT_FOUND")
        {
            return null;
        }
    }

    /// <summary>Reads one document inside a transaction (batchGet: the emulator does not answer a transactional GET).</summary>
    public async Task<FirestoreDocument?> GetInTransactionAsync(string name, string transaction, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["documents"] = new JsonArray(name), ["transaction"] = transaction };
        var body = await SendAsync(HttpMethod.Post, $"v1/{Target.DocumentsPath}:batchGet", request, "batchGet", cancellationToken);
        foreach (var element in body.AsArray())
        {
            if (element?["found"] is JsonObject found)
            {
                return ReadDocument(found);
            }
        }

        return null;
    }

    public async Task<string> BeginTransactionAsync(CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["options"] = new JsonObject { ["readWrite"] = new JsonObject() } };
        var body = await SendAsync(HttpMethod.Post, $"v1/{Target.DocumentsPath}:beginTransaction", request, "beginTransaction", cancellationToken);
        return body["transaction"]?.GetValue<string>() ?? throw new FirestoreException("INTERNAL", "Firestore began a transaction without an id.");
    }

    public async Task RollbackAsync(string transaction, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Post, $"v1/{Target.DocumentsPath}:rollback", new JsonObject { ["transaction"] = transaction }, "rollback", cancellationToken);

    /// <summary>Applies <paramref name="writes"/> atomically, inside <paramref name="transaction"/> when given; returns the commit time.</summary>
    public async Task<string?> CommitAsync(IEnumerable<JsonObject> writes, string? transaction, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["writes"] = new JsonArray([.. writes]) };
        if (transaction is not null)
        {
            request["transaction"] = transaction;
        }

        var body = await SendAsync(HttpMethod.Post, $"v1/{Target.DocumentsPath}:commit", request, "commit", cancellationToken);
        return body["commitTime"]?.GetValue<string>();
    }

    /// <summary>Applies each write on its own (not atomically); each has its own outcome.</summary>
    public async Task<IReadOnlyList<FirestoreWriteStatus>> BatchWriteAsync(IReadOnlyList<JsonObject> writes, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["writes"] = new JsonArray([.. writes]) };
        var body = await SendAsync(HttpMethod.Post, $"v1/{Target.DocumentsPath}:batchWrite", request, "batchWrite", cancellationToken);
        var statuses = body["status"] as JsonArray ?? [];
        return [.. Enumerable.Range(0, writes.Count).Select(i => new FirestoreWriteStatus(i < statuses.Count ? statuses[i]?["code"]?.GetValue<int>() ?? 0 : 0))];
    }

    /// <summary>Runs a structured query under <paramref name="parent"/> (a document path, or empty for the root).</summary>
    public async Task<IReadOnlyList<FirestoreDocument>> RunQueryAsync(string parent, JsonObject structuredQuery, CancellationToken cancellationToken)
    {
        var path = string.IsNullOrEmpty(parent) ? Target.DocumentsPath : $"{Target.DocumentsPath}/{parent}";
        var request = new JsonObject { ["structuredQuery"] = structuredQuery };
        var body = await SendAsync(HttpMethod.Post, $"v1/{path}:runQuery", request, "runQuery", cancellationToken);
        var documents = new List<FirestoreDocument>();
        foreach (var element in body.AsArray())
        {
            if (element?["document"] is JsonObject document)
            {
                documents.Add(ReadDocument(document));
            }
        }

        return documents;
    }

    /// <summary>The ids of the collections directly under <paramref name="parent"/> (a document path, or empty for the root).</summary>
    public async Task<IReadOnlyList<string>> ListCollectionIdsAsync(string parent, CancellationToken cancellationToken)
    {
        var path = string.IsNullOrEmpty(parent) ? Target.DocumentsPath : $"{Target.DocumentsPath}/{parent}";
        var ids = new List<string>();
        string? pageToken = null;
        do
        {
            var request = new JsonObject { ["pageSize"] = 300 };
            if (pageToken is not null)
            {
                request["pageToken"] = pageToken;
            }

            var body = await SendAsync(HttpMethod.Post, $"v1/{path}:listCollectionIds", request, "listCollectionIds", cancellationToken);
            ids.AddRange((body["collectionIds"] as JsonArray ?? []).Select(id => id!.GetValue<string>()));
            pageToken = body["nextPageToken"]?.GetValue<string>();
        }
        while (!string.IsNullOrEmpty(pageToken));

        return ids;
    }

    /// <summary>
    /// The ids of the documents of <paramref name="collection"/>, including "missing" ones that exist only
    /// as parents of sub-collections (a tenant is usually just <c>tenants/{id}/…</c>, never a document).
    /// </summary>
    public async Task<IReadOnlyList<string>> ListDocumentIdsAsync(string collection, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        string? pageToken = null;
        do
        {
            var query = "showMissing=true&pageSize=300&mask.fieldPaths=_none";
            if (pageToken is not null)
            {
                query += "&pageToken=" + Uri.EscapeDataString(pageToken);
            }

            var body = await SendAsync(HttpMethod.Get, $"v1/{Target.DocumentsPath}/{collection}?{query}", null, "listDocuments", cancellationToken);
            ids.AddRange((body["documents"] as JsonArray ?? []).Select(d => d!["name"]!.GetValue<string>()).Select(name => name[(name.LastIndexOf('/') + 1)..]));
            pageToken = body["nextPageToken"]?.GetValue<string>();
        }
        while (!string.IsNullOrEmpty(pageToken));

        return ids;
    }

    /// <summary>Maps a Firestore error body to the typed outcome the store acts on.</summary>
    internal static FirestoreException MapError(HttpStatusCode httpStatus, string? body, string operation)
    {
        string? status = null;
        string? message = null;
        try
        {
            var node = string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body);
            // runQuery answers with an array of responses, the error inside the first.
            var error = node is JsonArray array ? array.FirstOrDefault()?["error"] : node?["error"];
            status = error?["status"]?.GetValue<string>();
            message = error?["message"]?.GetValue<string>();
        }
        catch (JsonException)
        {
            // Not a Firestore error body (a proxy or load balancer answered); the HTTP status decides.
        }

        status ??= httpStatus switch
        {
            HttpStatusCode.BadRequest => "INVALID_ARGUMENT",
            HttpStatusCode.Unauthorized => "UNAUTHENTICATED",
            HttpStatusCode.Forbidden => "PERMISSION_DENIED",
            HttpStatusCode.NotFound => "NOT_FOUND",
            HttpStatusCode.Conflict => "ABORTED",
            HttpStatusCode.PreconditionFailed => "FAILED_PRECONDITION",
            HttpStatusCode.TooManyRequests => "RESOURCE_EXHAUSTED",
            HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway => "UNAVAILABLE",
            HttpStatusCode.GatewayTimeout => "DEADLINE_EXCEEDED",
            _ => "UNKNOWN",
        };

        var code = ((int)httpStatus).ToString(CultureInfo.InvariantCulture);
        return status switch
        {
            "UNAVAILABLE" or "DEADLINE_EXCEEDED" or "RESOURCE_EXHAUSTED" =>
                new FirestoreUnavailableException(status, $"Firestore {operation} failed: {status} (HTTP {code}); the request may be retried later."),
            "PERMISSION_DENIED" or "UNAUTHENTICATED" =>
                new FirestoreAccessDeniedException(status, $"Firestore {operation} was refused: {status} (HTTP {code}). Check Portal:Storage:Firestore:ProjectId and DatabaseId, and that the portal's service account has roles/datastore.user on that project."),
            // A query's message says which index is missing; it names no document, so it is safe to keep.
            _ when operation == "runQuery" && message is not null =>
                new FirestoreException(status, $"Firestore {operation} failed: {status} (HTTP {code}): {message}"),
            _ => new FirestoreException(status, $"Firestore {operation} failed: {status} (HTTP {code})."),
        };
    }

    private static FirestoreDocument ReadDocument(JsonObject document) =>
        new(
            document["name"]?.GetValue<string>() ?? throw new FirestoreException("INTERNAL", "Firestore returned a document without a name."),
            document["fields"] as JsonObject ?? [],
            document["updateTime"]?.GetValue<string>() ?? throw new FirestoreException("INTERNAL", "Firestore returned a document without an update time."));

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonObject? body, string operation, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = JsonMediaType;
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new FirestoreUnavailableException("UNAVAILABLE", $"Firestore {operation} failed: the service could not be reached.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FirestoreUnavailableException("DEADLINE_EXCEEDED", $"Firestore {operation} failed: no answer in time.", ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw MapError(response.StatusCode, text, operation);
            }

            try
            {
                return JsonNode.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text) ?? new JsonObject();
            }
            catch (JsonException ex)
            {
                throw new FirestoreException("INTERNAL", $"Firestore {operation} answered with something that is not JSON.", ex);
            }
        }
    }
}
