using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Idp.Okta;

namespace Portal.Idp.Tests.Okta;

/// <summary>A recorded request, with the body read before the request was disposed.</summary>
internal sealed record SentRequest(HttpMethod Method, Uri Uri, string? Authorization, string? UserAgent, string? ForwardedFor, string Body);

/// <summary>Answers every request with what the test scripts, and records what was sent.</summary>
internal sealed class FakeOktaHandler(Func<SentRequest, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private readonly List<SentRequest> _sent = [];

    public IReadOnlyList<SentRequest> Sent
    {
        get
        {
            lock (_sent)
            {
                return [.. _sent];
            }
        }
    }

    public int Calls => Sent.Count;

    public static HttpResponseMessage Json(int status, string json) =>
        new((HttpStatusCode)status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Error(int status, string code, params string[] causes) => Json(status, new JsonObject
    {
        ["errorCode"] = code,
        ["errorSummary"] = "summary",
        ["errorLink"] = code,
        ["errorId"] = "oaeTestErrorId",
        ["errorCauses"] = new JsonArray([.. causes.Select(c => (JsonNode)new JsonObject { ["errorSummary"] = c })]),
    }.ToJsonString());

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var sent = new SentRequest(
            request.Method,
            request.RequestUri!,
            request.Headers.Authorization?.ToString(),
            request.Headers.TryGetValues("User-Agent", out var ua) ? string.Join(' ', ua) : null,
            request.Headers.TryGetValues("X-Forwarded-For", out var xff) ? string.Join(',', xff) : null,
            body);
        int index;
        lock (_sent)
        {
            _sent.Add(sent);
            index = _sent.Count - 1;
        }

        var response = respond(sent, index);
        response.RequestMessage = request;
        return response;
    }
}

internal static class Directories
{
    public const string Token = "unit-test-ssws-token";
    public static readonly Uri BaseUrl = new("https://acme.okta.com/");

    /// <summary>The adapter over a fake handler, without the resilience pipeline (tested separately through DI).</summary>
    public static OktaCallerDirectory Over(FakeOktaHandler handler, TimeProvider? time = null) =>
        new(new HttpClient(handler) { BaseAddress = BaseUrl }, BaseUrl, Token, time ?? TimeProvider.System, NullLogger<OktaCallerDirectory>.Instance);
}
