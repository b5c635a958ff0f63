using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Portal.Storage.Firestore;

namespace Portal.Storage.Tests;

/// <summary>Error mapping, authentication and the retry rules, against a scripted Firestore.</summary>
public sealed class FirestoreRestClientTests
{
    private static readonly FirestoreTarget Target = new("demo-portal", "(default)", "127.0.0.1:9");
    private static readonly DocumentKey Key = new(new CollectionPath("agentSessions"), "secret-session-id");

    [Fact]
    public void MapError_Aborted_IsContentionNotOutage()
    {
        var ex = FirestoreRestClient.MapError(HttpStatusCode.Conflict, """{"error":{"code":409,"message":"Transaction lock timeout.","status":"ABORTED"}}""", "commit");

        Assert.Equal("ABORTED", ex.Status);
        Assert.IsNotType<FirestoreUnavailableException>(ex);
    }

    [Fact]
    public void MapError_AlreadyExists_KeepsStatusAndNeverTheDocumentPath()
    {
        var ex = FirestoreRestClient.MapError(HttpStatusCode.Conflict, """{"error":{"code":409,"message":"entity already exists: path=/agentSessions/secret-session-id","status":"ALREADY_EXISTS"}}""", "commit");

        Assert.Equal("ALREADY_EXISTS", ex.Status);
        Assert.DoesNotContain("secret-session-id", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, """{"error":{"code":503,"message":"x","status":"UNAVAILABLE"}}""", "UNAVAILABLE")]
    [InlineData(HttpStatusCode.GatewayTimeout, "", "DEADLINE_EXCEEDED")]
    [InlineData(HttpStatusCode.BadGateway, "<html>bad gateway</html>", "UNAVAILABLE")]
    [InlineData(HttpStatusCode.TooManyRequests, """{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED"}}""", "RESOURCE_EXHAUSTED")]
    public void MapError_OutageStatuses_AreUnavailable(HttpStatusCode http, string body, string status)
    {
        var ex = FirestoreRestClient.MapError(http, body, "get");

        Assert.IsType<FirestoreUnavailableException>(ex);
        Assert.Equal(status, ex.Status);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, "PERMISSION_DENIED")]
    [InlineData(HttpStatusCode.Unauthorized, "UNAUTHENTICATED")]
    public void MapError_AccessRefused_NamesTheSettingAndTheRole(HttpStatusCode http, string status)
    {
        var ex = FirestoreRestClient.MapError(http, $$$"""{"error":{"code":{{{(int)http}}},"message":"no","status":"{{{status}}}"}}""", "get");

        Assert.IsType<FirestoreAccessDeniedException>(ex);
        Assert.Equal(status, ex.Status);
        Assert.Contains("Portal:Storage:Firestore:ProjectId", ex.Message, StringComparison.Ordinal);
        Assert.Contains("roles/datastore.user", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MapError_QueryErrorInArray_KeepsTheIndexHint()
    {
        var ex = FirestoreRestClient.MapError(HttpStatusCode.BadRequest, """[{"error":{"code":400,"message":"The query requires an index.","status":"FAILED_PRECONDITION"}}]""", "runQuery");

        Assert.Equal("FAILED_PRECONDITION", ex.Status);
        Assert.Contains("requires an index", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_NothingListening_ThrowsUnavailable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var target = new FirestoreTarget("demo-portal", "(default)", $"127.0.0.1:{port}");
        var store = new FirestoreDocumentStore(new FirestoreRestClient(new HttpClient(), target), TimeProvider.System);

        var ex = await Assert.ThrowsAsync<FirestoreUnavailableException>(() => store.GetAsync(Key));

        Assert.Equal("UNAVAILABLE", ex.Status);
    }

    [Fact]
    public async Task AuthHandler_Emulator_SendsOwnerTokenOverPlainLoopback()
    {
        var firestore = new ScriptedFirestore();
        firestore.On("GET", "/agentSessions/secret-session-id", _ => (HttpStatusCode.NotFound, """{"error":{"code":404,"message":"nope","status":"NOT_FOUND"}}"""));
        using var http = new HttpClient(new FirestoreAuthHandler(Target) { InnerHandler = firestore });
        var store = new FirestoreDocumentStore(new FirestoreRestClient(http, Target), TimeProvider.System);

        var read = await store.GetAsync(Key);

        Assert.Null(read);
        var request = Assert.Single(firestore.Requests);
        Assert.Equal("Bearer owner", request.Authorization);
        Assert.Equal("http://127.0.0.1:9/v1/projects/demo-portal/databases/(default)/documents/agentSessions/secret-session-id", request.Uri);
    }

    [Fact]
    public void FirestoreTarget_RealFirestore_UsesHttpsEndpoint()
    {
        var target = new FirestoreTarget("my-project", "portal-db", null);

        Assert.Equal(new Uri("https://firestore.googleapis.com/"), target.BaseAddress);
        Assert.False(target.IsEmulator);
        Assert.Equal("projects/my-project/databases/portal-db/documents/tenants/acme/audit/a1", target.DocumentName(new DocumentKey(CollectionPath.ForTenant("acme", "audit"), "a1")));
    }

    [Theory]
    [InlineData("../other", "(default)", null)]
    [InlineData("my-project", "db/../x", null)]
    [InlineData("my-project", "(default)", "evil.example/path")]
    public void FirestoreTarget_PathLikeIds_AreRefused(string project, string database, string? emulator)
    {
        Assert.Throws<ArgumentException>(() => new FirestoreTarget(project, database, emulator));
    }

    [Fact]
    public async Task UpdateAsync_CommitAborted_RerunsReadMutateCommit()
    {
        var firestore = new ScriptedFirestore();
        var counts = new[] { 1, 5 };
        var reads = 0;
        firestore.On("POST", ":beginTransaction", _ => (HttpStatusCode.OK, """{"transaction":"dHg="}"""));
        firestore.On("POST", ":batchGet", _ => (HttpStatusCode.OK, $$$"""[{"found":{"name":"{{{Target.DocumentName(Key)}}}","fields":{"count":{"integerValue":"{{{counts[reads++]}}}"}},"updateTime":"2026-11-23T08:00:00.000001Z"}}]"""));
        var commits = 0;
        firestore.On("POST", ":commit", _ => ++commits == 1
            ? (HttpStatusCode.Conflict, """{"error":{"code":409,"message":"Transaction lock timeout.","status":"ABORTED"}}""")
            : (HttpStatusCode.OK, """{"commitTime":"2026-11-23T08:00:01Z"}"""));
        firestore.On("POST", ":rollback", _ => (HttpStatusCode.OK, "{}"));
        var store = Store(firestore);
        var seen = new List<int>();

        var result = await store.UpdateAsync(Key, current =>
        {
            var count = current!.Data["count"]!.GetValue<int>();
            seen.Add(count);
            return DocumentMutation<int>.Write(new JsonObject { ["count"] = count + 1 }, null, count + 1);
        });

        Assert.Equal(6, result);
        Assert.Equal([1, 5], seen);
        Assert.Equal(2, firestore.Count(":beginTransaction"));
        Assert.Equal(2, firestore.Count(":commit"));
        Assert.Contains("\"integerValue\":\"6\"", firestore.Requests.Last(r => r.Uri.EndsWith(":commit", StringComparison.Ordinal)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateAsync_CommitUnavailable_IsNeverResent()
    {
        var firestore = new ScriptedFirestore();
        firestore.On("POST", ":beginTransaction", _ => (HttpStatusCode.OK, """{"transaction":"dHg="}"""));
        firestore.On("POST", ":batchGet", _ => (HttpStatusCode.OK, """[{"missing":"x"}]"""));
        firestore.On("POST", ":commit", _ => (HttpStatusCode.ServiceUnavailable, """{"error":{"code":503,"message":"x","status":"UNAVAILABLE"}}"""));
        firestore.On("POST", ":rollback", _ => (HttpStatusCode.OK, "{}"));
        var store = Store(firestore);

        await Assert.ThrowsAsync<FirestoreUnavailableException>(() =>
            store.UpdateAsync(Key, _ => DocumentMutation<bool>.Write(new JsonObject { ["used"] = true }, null, true)));

        Assert.Equal(1, firestore.Count(":commit"));
        Assert.Equal(1, firestore.Count(":rollback"));
    }

    [Fact]
    public async Task UpdateAsync_Keep_RollsBackWithoutCommitting()
    {
        var firestore = new ScriptedFirestore();
        firestore.On("POST", ":beginTransaction", _ => (HttpStatusCode.OK, """{"transaction":"dHg="}"""));
        firestore.On("POST", ":batchGet", _ => (HttpStatusCode.OK, """[{"missing":"x"}]"""));
        firestore.On("POST", ":rollback", _ => (HttpStatusCode.OK, "{}"));
        var store = Store(firestore);

        var result = await store.UpdateAsync(Key, current => DocumentMutation<string>.Keep(current is null ? "absent" : "present"));

        Assert.Equal("absent", result);
        Assert.Equal(0, firestore.Count(":commit"));
        Assert.Equal(1, firestore.Count(":rollback"));
    }

    [Fact]
    public async Task CreateAsync_CommitUnavailable_IsNeverResent()
    {
        var firestore = new ScriptedFirestore();
        firestore.On("POST", ":commit", _ => (HttpStatusCode.GatewayTimeout, ""));
        var store = Store(firestore);

        await Assert.ThrowsAsync<FirestoreUnavailableException>(() => store.CreateAsync(Key, new JsonObject { ["a"] = 1 }, null));

        Assert.Equal(1, firestore.Count(":commit"));
    }

    [Fact]
    public async Task CreateAsync_Request_HasExistsFalsePrecondition()
    {
        var firestore = new ScriptedFirestore();
        firestore.On("POST", ":commit", _ => (HttpStatusCode.OK, """{"commitTime":"2026-11-23T08:00:01Z"}"""));
        var store = Store(firestore);

        var created = await store.CreateAsync(Key, new JsonObject { ["a"] = 1 }, new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));

        Assert.True(created);
        var body = JsonNode.Parse(Assert.Single(firestore.Requests).Body)!;
        var write = body["writes"]![0]!;
        Assert.False(write["currentDocument"]!["exists"]!.GetValue<bool>());
        Assert.Equal("2026-11-24T00:00:00.000000Z", write["update"]!["fields"]![FirestoreDocumentStore.ExpiryField]!["timestampValue"]!.GetValue<string>());
        Assert.Null(body["transaction"]);
    }

    private static FirestoreDocumentStore Store(ScriptedFirestore firestore) =>
        new(new FirestoreRestClient(new HttpClient(firestore), Target), new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero)));

    private sealed record SeenRequest(string Method, string Uri, string? Authorization, string Body);

    private sealed class ScriptedFirestore : HttpMessageHandler
    {
        private readonly List<(string Method, string Suffix, Func<string, (HttpStatusCode, string)> Answer)> _routes = [];

        public List<SeenRequest> Requests { get; } = [];

        public void On(string method, string suffix, Func<string, (HttpStatusCode, string)> answer) => _routes.Add((method, suffix, answer));

        public int Count(string suffix) => Requests.Count(r => r.Uri.EndsWith(suffix, StringComparison.Ordinal));

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
            var uri = request.RequestUri!.GetLeftPart(UriPartial.Path);
            lock (Requests)
            {
                Requests.Add(new SeenRequest(request.Method.Method, uri, request.Headers.Authorization?.ToString(), body));
            }

            var route = _routes.FirstOrDefault(r => r.Method == request.Method.Method && uri.EndsWith(r.Suffix, StringComparison.Ordinal));
            var (status, text) = route.Answer is null ? (HttpStatusCode.NotImplemented, "{}") : route.Answer(body);
            return new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "application/json") };
        }
    }
}
